"""Player re-identification with a triplet-loss embedding: training, verification, clustering, plot."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from visiongym.sims.errors import UsageError
from visiongym.vision.metric.players import render_player_crops
from visiongym.vision.metric.triplet import EmbeddingNet, pairwise_squared_distances, triplet_loss
from visiongym.vision.runs import RunOptions

__all__ = [
    "MetricConfig",
    "pk_batches",
    "embed",
    "verification_pairs",
    "verification_accuracy",
    "run_metric",
    "print_metric",
]


def pk_batches(identities: torch.Tensor, p: int, k: int, generator: torch.Generator):
    """Endless batches of ``p`` identities x ``k`` crops each (with replacement inside an identity)."""
    groups = [torch.nonzero(identities == i).flatten() for i in identities.unique()]
    groups = [g for g in groups if len(g) >= 2]
    if len(groups) < 2:
        raise UsageError("need at least two identities with two crops each to form triplets")
    while True:
        chosen = torch.randperm(len(groups), generator=generator)[:p]
        yield torch.cat(
            [groups[i][torch.randint(len(groups[i]), (k,), generator=generator)] for i in chosen]
        )


@torch.no_grad()
def embed(model: EmbeddingNet, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Embeddings of ``images`` (eval mode), on the CPU."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat(
        [
            model(images[i : i + batch_size].to(device)).cpu()
            for i in range(0, len(images), batch_size)
        ]
    )


def verification_pairs(
    identities: torch.Tensor, count: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``count`` same-identity and ``count`` different-identity index pairs, drawn at random."""
    generator = torch.Generator().manual_seed(seed)
    n = len(identities)
    first, second, same = [], [], []
    want = {True: count, False: count}
    while want[True] or want[False]:
        i, j = torch.randint(n, (2, 4096), generator=generator)
        for a, b in zip(i.tolist(), j.tolist(), strict=True):
            if a == b:
                continue
            kind = bool(identities[a] == identities[b])
            if want[kind]:
                want[kind] -= 1
                first.append(a)
                second.append(b)
                same.append(kind)
    return torch.tensor(first), torch.tensor(second), torch.tensor(same)


def verification_accuracy(
    distances: torch.Tensor, same: torch.Tensor, threshold: float | None = None
) -> tuple[float, float]:
    """Accuracy of "same identity iff distance < threshold"; the best threshold when none is given."""
    if threshold is None:
        candidates = torch.unique(distances)
        accuracies = torch.stack(
            [
                ((distances < t) == same).float().mean()
                for t in candidates[:: max(1, len(candidates) // 400)]
            ]
        )
        threshold = float(candidates[:: max(1, len(candidates) // 400)][accuracies.argmax()])
    return float(((distances < threshold) == same).float().mean()), threshold


@dataclass
class MetricConfig(RunOptions):
    """Triplet-loss embeddings for player re-identification on rendered crops."""

    train_draws: int = 12
    """Appearance draws (new team colours) for training; each gives 2 x team_size identities."""
    val_draws: int = 2
    """Draws whose identities choose the verification threshold."""
    test_draws: int = 4
    """Draws whose identities are held out for the reported figures."""
    frames: int = 8
    """Rendered frames per draw."""
    team_size: int = 5
    """Players per team (shirt numbers 1..team_size)."""
    crop_size: int = 32
    """Side of the crops."""
    dim: int = 128
    """Embedding size."""
    margin: float = 0.2
    """Triplet margin alpha (FaceNet: 0.2)."""
    p: int = 16
    """Identities per batch."""
    k: int = 4
    """Crops per identity per batch."""
    steps: int = 800
    """Training steps."""
    lr: float = 2e-3
    """Adam learning rate (cosine-annealed)."""
    pairs: int = 2000
    """Same and different pairs each for verification."""
    seed: int = 0
    """Seed of rendering, initialisation and batches."""
    out: Path = Path("runs/metric")
    """Output folder (2-D plot, results, TensorBoard)."""


def run_metric(config: MetricConfig) -> dict:
    """Render, train, evaluate on held-out identities; save the 2-D plot and results."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
    from torch.utils.tensorboard import SummaryWriter
    from tqdm.auto import tqdm

    from visiongym.vision.classify.training import torch_threads
    from visiongym.vision.runtime import pick_device, seed_everything

    seed_everything(config.seed)
    device = pick_device(config.device)
    rng = np.random.default_rng(config.seed)
    per_draw = 2 * config.team_size
    start = time.perf_counter()
    splits = {}
    offset = 0
    for name, draws in (
        ("train", config.train_draws),
        ("val", config.val_draws),
        ("test", config.test_draws),
    ):
        if draws < 1:
            raise UsageError(f"{name}_draws={draws} must be at least 1")
        splits[name] = render_player_crops(
            draws,
            config.frames,
            rng,
            config.team_size,
            crop_size=config.crop_size,
            first_identity=offset,
        )
        offset += draws * per_draw
    render_seconds = time.perf_counter() - start
    train_x, train_id, _ = splits["train"]
    config.out.mkdir(parents=True, exist_ok=True)
    writer = SummaryWriter(str(config.out / "tensorboard"))
    model = EmbeddingNet(dim=config.dim).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.steps)
    batches = pk_batches(train_id, config.p, config.k, torch.Generator().manual_seed(config.seed))
    start = time.perf_counter()
    with torch_threads(config.threads):
        model.train()
        for step in tqdm(
            range(config.steps), desc="triplet", disable=not config.progress, leave=False
        ):
            index = next(batches)
            images = train_x[index].to(device)
            if torch.rand(()) < 0.5:
                images = images.flip(-1)
            loss, stats = triplet_loss(model(images), train_id[index].to(device), config.margin)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            if step % 20 == 0:
                writer.add_scalar("triplet/loss", loss.item(), step)
                writer.add_scalar("triplet/active_fraction", stats["active"], step)
        train_seconds = time.perf_counter() - start
        embeddings = {name: embed(model, split[0]) for name, split in splits.items()}
    writer.close()

    def pair_distances(name: str, seed: int):
        ids = splits[name][1]
        a, b, same = verification_pairs(ids, config.pairs, seed)
        return (embeddings[name][a] - embeddings[name][b]).pow(2).sum(1), same

    val_d, val_same = pair_distances("val", config.seed + 1)
    _, threshold = verification_accuracy(val_d, val_same)
    test_d, test_same = pair_distances("test", config.seed + 2)
    accuracy, _ = verification_accuracy(test_d, test_same, threshold)
    test_id = splits["test"][1].numpy()
    clusters = KMeans(
        n_clusters=len(np.unique(test_id)), n_init=10, random_state=config.seed
    ).fit_predict(embeddings["test"].numpy())
    distances = pairwise_squared_distances(embeddings["test"])
    distances.fill_diagonal_(float("inf"))
    nearest = distances.argmin(1)
    results = {
        "verification_accuracy": accuracy,
        "threshold": threshold,
        "ari": float(adjusted_rand_score(test_id, clusters)),
        "nmi": float(normalized_mutual_info_score(test_id, clusters)),
        "rank1": float((splits["test"][1][nearest] == splits["test"][1]).float().mean()),
        "crops": {name: len(split[1]) for name, split in splits.items()},
        "identities": {name: int(len(split[1].unique())) for name, split in splits.items()},
        "render_seconds": render_seconds,
        "train_seconds": train_seconds,
        "device": str(device),
        "seed": config.seed,
    }
    _plot(
        embeddings["test"].numpy(), splits["test"][2], config.seed, config.out / "embeddings_2d.png"
    )
    (config.out / "results.json").write_text(json.dumps(results, indent=2))
    results["figure"] = str(config.out / "embeddings_2d.png")
    return results


def _plot(embeddings: np.ndarray, meta: np.ndarray, seed: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.manifold import TSNE

    points = TSNE(
        n_components=2, init="pca", random_state=seed, perplexity=min(30, len(embeddings) - 1)
    ).fit_transform(embeddings)
    identity = meta[:, 0] * 1000 + meta[:, 1] * 100 + meta[:, 2]
    _, colour = np.unique(identity, return_inverse=True)
    figure, axis = plt.subplots(figsize=(7, 6))
    for team, marker in ((0, "o"), (1, "^")):
        chosen = meta[:, 1] == team
        axis.scatter(
            points[chosen, 0],
            points[chosen, 1],
            c=colour[chosen],
            cmap="tab20",
            marker=marker,
            s=18,
            vmin=0,
            vmax=max(1, colour.max()),
        )
    axis.set(
        title="t-SNE of held-out player embeddings (colour: identity; o team A, ^ team B)",
        xticks=[],
        yticks=[],
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def print_metric(results: dict) -> None:
    """Print the re-identification figures."""
    print(
        f"held-out identities: {results['identities']['test']} ({results['crops']['test']} crops); "
        f"trained on {results['identities']['train']} identities ({results['crops']['train']} crops)"
    )
    print("| metric | value |\n| --- | --- |")
    print(
        f"| verification accuracy (threshold {results['threshold']:.3f} from validation identities) | "
        f"{results['verification_accuracy']:.4f} |"
    )
    print(f"| rank-1 nearest neighbour | {results['rank1']:.4f} |")
    print(f"| k-means ARI | {results['ari']:.4f} |\n| k-means NMI | {results['nmi']:.4f} |")
    print(
        f"rendered in {results['render_seconds']:.0f} s, trained in {results['train_seconds']:.0f} s on "
        f"{results['device']}; 2-D plot: {results['figure']}"
    )
