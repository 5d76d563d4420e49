"""Transfer learning on simulator tasks: pretrain on one, transfer to another three ways.

A small CNN is pretrained on the source task (by default counting the players). Then, for every
label budget of the target task (by default which team fields more players), three models are trained
for the same number of steps and tested on the same held-out frames:

- ``frozen``: the pretrained backbone is frozen (BatchNorm statistics too); only a new head learns,
  at ten times the learning rate (a linear probe).
- ``finetune``: the new head first learns alone (frozen warm-up), then every layer fine-tunes at
  a tenth of the learning rate.
- ``scratch``: the same network from random initialisation, every layer trained.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import nn

from visiongym.sims.errors import UsageError
from visiongym.vision.classify.training import evaluate, fit_classifier
from visiongym.vision.runs import RunOptions
from visiongym.vision.transfer.tasks import NUM_CLASSES, render_task

__all__ = [
    "SmallCNN",
    "TransferConfig",
    "REGIMES",
    "transfer_once",
    "run_transfer",
    "print_transfer",
]

REGIMES = ("frozen", "finetune", "scratch")
TaskName = Literal["ball_zone", "possession", "count", "majority"]


class SmallCNN(nn.Module):
    """Four conv-BN-ReLU blocks (stride 2 first) -> 4x4 average pool -> linear head.

    The pool keeps a coarse 4x4 map, not a single vector: the tasks ask *where* things are.
    Images enter as uint8 ``(N, 3, S, S)`` and are scaled to [0, 1] inside the model.
    """

    def __init__(self, num_classes: int, width: int = 16) -> None:
        super().__init__()

        def block(cin: int, cout: int, stride: int) -> list[nn.Module]:
            return [
                nn.Conv2d(cin, cout, 3, stride=stride, padding=1),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
            ]

        self.backbone = nn.Sequential(
            *block(3, width, 2),
            *block(width, width, 1),
            nn.MaxPool2d(2),
            *block(width, 2 * width, 1),
            nn.MaxPool2d(2),
            *block(2 * width, 2 * width, 1),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(2 * width, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(images.float() / 255.0))


class _FrozenBackbone(nn.Module):
    """Wrap a model so its backbone stays in eval mode (BatchNorm statistics frozen too)."""

    def __init__(self, model: SmallCNN) -> None:
        super().__init__()
        self.model = model

    def train(self, mode: bool = True):
        super().train(mode)
        self.model.backbone.eval()
        return self

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images)


def _epochs_for(steps: int, size: int, batch_size: int) -> int:
    return max(1, round(steps * batch_size / max(1, size)))


def transfer_once(
    regime: str,
    pretrained: SmallCNN | None,
    num_classes: int,
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    steps: int,
    batch_size: int,
    lr: float,
    device: torch.device,
    seed: int,
) -> float:
    """Train one model of ``regime`` on ``train`` for about ``steps`` updates; return test accuracy."""
    import copy

    if regime not in REGIMES:
        raise UsageError(f"regime {regime!r} unknown; choose one of: {', '.join(REGIMES)}")
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    size = len(train[0])
    batch_size = min(batch_size, size)
    if regime == "scratch":
        model = SmallCNN(num_classes)
        fit_classifier(
            model,
            train,
            epochs=_epochs_for(steps, size, batch_size),
            lr=lr,
            batch_size=batch_size,
            weight_decay=1e-4,
            device=device,
            progress=False,
            generator=generator,
        )
        return evaluate(model.cpu(), *test)[1]
    if pretrained is None:
        raise UsageError(f"regime {regime!r} needs a pretrained model")
    model = copy.deepcopy(pretrained).cpu()
    model.head = nn.Linear(model.head.in_features, num_classes)
    model.backbone.requires_grad_(False)
    warm_steps = steps if regime == "frozen" else steps // 3
    # A new head on fixed features is a linear probe: it needs a larger step than a whole network
    # (with the shared learning rate it had not converged in the step budget).
    head_lr_scale = 10.0
    frozen = _FrozenBackbone(model)
    fit_classifier(
        frozen,
        train,
        epochs=_epochs_for(warm_steps, size, batch_size),
        lr=head_lr_scale * lr,
        batch_size=batch_size,
        parameters=list(model.head.parameters()),
        device=device,
        progress=False,
        generator=generator,
    )
    if regime == "finetune":
        model.backbone.requires_grad_(True)
        fit_classifier(
            model,
            train,
            epochs=_epochs_for(steps - warm_steps, size, batch_size),
            lr=lr / 10,
            batch_size=batch_size,
            weight_decay=1e-4,
            device=device,
            progress=False,
            generator=generator,
        )
    return evaluate(model.cpu(), *test)[1]


@dataclass
class TransferConfig(RunOptions):
    """Pretrain a small CNN on one simulator task; transfer it three ways at several label budgets."""

    source: TaskName = "count"
    """Pretraining task (see visiongym.vision.transfer.tasks)."""
    target: TaskName = "majority"
    """Transfer task."""
    pretrain_images: int = 2000
    """Rendered frames for pretraining."""
    pretrain_epochs: int = 10
    """Pretraining epochs."""
    budgets: tuple[int, ...] = field(default_factory=lambda: (50, 200, 1000))
    """Labelled target frames in each transfer run."""
    test_images: int = 600
    """Held-out target frames."""
    steps: int = 250
    """Updates per transfer run, whatever the budget (same compute for every regime)."""
    batch_size: int = 32
    """Minibatch size."""
    lr: float = 2e-3
    """Adam learning rate (fine-tuning uses a tenth)."""
    image_size: int = 96
    """Side of the rendered top-camera frames."""
    seeds: tuple[int, ...] = field(default_factory=lambda: (0,))
    """One transfer run per seed, budget and regime."""
    out: Path = Path("runs/transfer")
    """Output folder (plot, table, pretrained checkpoint)."""


def run_transfer(config: TransferConfig) -> dict:
    """The whole experiment; saves ``transfer.png``, ``results.json``, ``table.md``, ``pretrained.pt``."""
    from tqdm.auto import tqdm

    from visiongym.vision.classify.training import torch_threads
    from visiongym.vision.runtime import pick_device, save_checkpoint, seed_everything

    if config.source == config.target:
        raise UsageError(f"source and target are both {config.source!r}; pick two different tasks")
    largest = max(config.budgets)
    seed_everything(config.seeds[0])
    device = pick_device(config.device)
    rng = np.random.default_rng(config.seeds[0])
    start = time.perf_counter()
    source = render_task(config.source, config.pretrain_images, rng, config.image_size)
    target_pool = render_task(config.target, largest + config.test_images, rng, config.image_size)
    render_seconds = time.perf_counter() - start
    test = (target_pool[0][largest:], target_pool[1][largest:])
    config.out.mkdir(parents=True, exist_ok=True)
    results: dict = {
        "source": config.source,
        "target": config.target,
        "device": str(device),
        "render_seconds": render_seconds,
        "steps": config.steps,
        "seeds": list(config.seeds),
        "test_images": config.test_images,
        "majority_baseline": float(torch.bincount(test[1]).max() / len(test[1])),
    }
    with torch_threads(config.threads):
        start = time.perf_counter()
        split = int(0.9 * len(source[0]))
        pretrained = SmallCNN(NUM_CLASSES[config.source])
        fit_classifier(
            pretrained,
            (source[0][:split], source[1][:split]),
            epochs=config.pretrain_epochs,
            lr=config.lr,
            batch_size=config.batch_size,
            weight_decay=1e-4,
            device=device,
            progress=config.progress,
            tag=f"pretrain {config.source}",
        )
        pretrained.cpu()
        results["source_accuracy"] = evaluate(pretrained, source[0][split:], source[1][split:])[1]
        results["pretrain_seconds"] = time.perf_counter() - start
        save_checkpoint(
            config.out / "pretrained.pt",
            "transfer_smallcnn",
            pretrained.state_dict(),
            task=config.source,
            accuracy=results["source_accuracy"],
        )
        runs = [(b, r, s) for b in config.budgets for r in REGIMES for s in config.seeds]
        table: dict[str, dict[str, list[float]]] = {
            r: {str(b): [] for b in config.budgets} for r in REGIMES
        }
        start = time.perf_counter()
        for budget, regime, seed in tqdm(runs, desc="transfer runs", disable=not config.progress):
            if budget > largest or budget < 2:
                raise UsageError(f"budget {budget} must lie in [2, {largest}]")
            train = (target_pool[0][:budget], target_pool[1][:budget])
            accuracy = transfer_once(
                regime,
                pretrained,
                NUM_CLASSES[config.target],
                train,
                test,
                config.steps,
                config.batch_size,
                config.lr,
                device,
                seed,
            )
            table[regime][str(budget)].append(accuracy)
        results["transfer_seconds"] = time.perf_counter() - start
    results["table"] = {
        r: {b: float(np.mean(v)) for b, v in row.items()} for r, row in table.items()
    }
    results["runs"] = table
    _plot(results, config.out / "transfer.png")
    (config.out / "results.json").write_text(json.dumps(results, indent=2))
    (config.out / "table.md").write_text(format_table(results) + "\n")
    results["figure"] = str(config.out / "transfer.png")
    return results


def format_table(results: dict) -> str:
    """Markdown table: regimes x label budgets, test accuracy."""
    budgets = list(next(iter(results["table"].values())))
    lines = [
        "| regime | " + " | ".join(f"{b} labels" for b in budgets) + " |",
        "|" + " --- |" * (len(budgets) + 1),
    ]
    for regime, row in results["table"].items():
        lines.append(f"| {regime} | " + " | ".join(f"{row[b]:.3f}" for b in budgets) + " |")
    return "\n".join(lines)


def _plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6.5, 4))
    for regime, row in results["table"].items():
        budgets = [int(b) for b in row]
        axis.plot(budgets, list(row.values()), "o-", label=regime)
    axis.axhline(results["majority_baseline"], color="grey", ls=":", label="majority class")
    axis.set(
        xscale="log",
        xlabel="labelled target frames",
        ylabel="test accuracy",
        title=f"{results['source']} -> {results['target']}",
    )
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def print_transfer(results: dict) -> None:
    """Print the table and timings."""
    print(f"pretrained on {results['source']}: held-out accuracy {results['source_accuracy']:.3f}")
    print(
        f"target {results['target']}: test accuracy on {results['test_images']} frames "
        f"(majority class {results['majority_baseline']:.3f}), {results['steps']} updates per run, seeds {results['seeds']}"
    )
    print(format_table(results))
    print(
        f"rendered {results['render_seconds']:.0f} s, pretrained {results['pretrain_seconds']:.0f} s, transfer runs "
        f"{results['transfer_seconds']:.0f} s on {results['device']}; plot: {results['figure']}"
    )
