"""The course's LSTM examples: 6, 7, 8 -> 9 (arithmetic) and 2, 4, 8 -> 16 (geometric).

One LSTM learns both kinds of continuation from random sequences. Each window is divided by
its largest absolute value before it enters the network (and the prediction multiplied back),
so the same weights serve 6, 7, 8 and 600, 700, 800. The naive baseline repeats the last value
("se baser sur 8 ne suffit pas").
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from visiongym.sims.errors import UsageError
from visiongym.vision.runs import RunOptions
from visiongym.vision.sequence.model import SequenceLSTM

__all__ = [
    "SEQUENCE_KINDS",
    "ArithmeticConfig",
    "make_sequences",
    "predict_next",
    "train_continuation",
    "run_arithmetic",
    "print_arithmetic",
]

SEQUENCE_KINDS = ("arithmetic", "geometric", "both")
COURSE_EXAMPLES = ((6.0, 7.0, 8.0), (2.0, 4.0, 8.0))


def make_sequences(
    count: int, length: int, kind: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random ``(count, length)`` windows and the value that follows each.

    Arithmetic: start in [-20, 20], step in [-5, 5] (integers). Geometric: start in [1, 5],
    ratio in [1.2, 3] or its inverse (so sequences grow or shrink), all positive.
    """
    if kind not in SEQUENCE_KINDS:
        raise UsageError(
            f"sequence kind {kind!r} unknown; choose one of: {', '.join(SEQUENCE_KINDS)}"
        )
    steps = np.arange(length + 1)
    if kind == "both":
        half = count // 2
        a = make_sequences(half, length, "arithmetic", rng)
        g = make_sequences(count - half, length, "geometric", rng)
        return np.concatenate([a[0], g[0]]), np.concatenate([a[1], g[1]])
    if kind == "arithmetic":
        start = rng.integers(-20, 21, count)[:, None].astype(np.float64)
        step = rng.integers(-5, 6, count)[:, None].astype(np.float64)
        full = start + step * steps
    else:
        start = rng.uniform(1.0, 5.0, count)[:, None]
        ratio = rng.uniform(1.2, 3.0, count)[:, None]
        ratio = np.where(rng.random((count, 1)) < 0.3, 1.0 / ratio, ratio)
        full = start * ratio**steps
    return full[:, :length].astype(np.float32), full[:, length].astype(np.float32)


def _scale(windows: torch.Tensor) -> torch.Tensor:
    return windows.abs().amax(dim=1, keepdim=True).clamp_min(1.0)


@torch.no_grad()
def predict_next(model: SequenceLSTM, windows: np.ndarray | torch.Tensor) -> np.ndarray:
    """Predict the value after each window (rows of ``windows``), in the windows' own units."""
    model.eval()
    device = next(model.parameters()).device
    windows = torch.as_tensor(np.asarray(windows, dtype=np.float32)).to(device)
    scale = _scale(windows)
    prediction = model((windows / scale)[..., None])[:, 0, 0] * scale[:, 0]
    return prediction.cpu().numpy()


def train_continuation(
    kind: str = "both",
    length: int = 3,
    steps: int = 1500,
    batch_size: int = 256,
    hidden: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    device: torch.device | str = "cpu",
    writer=None,
    progress: bool = True,
) -> tuple[SequenceLSTM, list[float]]:
    """Train an LSTM on fresh random windows every step; return it and its loss curve."""
    from tqdm.auto import tqdm

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model = SequenceLSTM(dim=1, hidden=hidden).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    losses = []
    for step in tqdm(range(steps), desc=f"lstm {kind}", disable=not progress, leave=False):
        windows, targets = make_sequences(batch_size, length, kind, rng)
        windows, targets = (
            torch.from_numpy(windows).to(device),
            torch.from_numpy(targets).to(device),
        )
        scale = _scale(windows)
        prediction = model((windows / scale)[..., None])[:, 0, 0]
        loss = F.mse_loss(prediction, targets / scale[:, 0])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if writer is not None and step % 20 == 0:
            writer.add_scalar(f"{kind}/train_mse_scaled", loss.item(), step)
    return model, losses


@dataclass
class ArithmeticConfig(RunOptions):
    """Train an LSTM to continue arithmetic and geometric sequences (6,7,8 -> 9; 2,4,8 -> 16)."""

    kind: Literal["arithmetic", "geometric", "both"] = "both"
    """Which sequences to train on."""
    length: int = 3
    """Values the LSTM sees before predicting the next one."""
    steps: int = 1500
    """Optimisation steps (each on a fresh random batch)."""
    batch_size: int = 256
    """Windows per step."""
    hidden: int = 64
    """LSTM hidden units."""
    lr: float = 3e-3
    """Adam learning rate (cosine-annealed)."""
    test_size: int = 2000
    """Held-out random windows per kind for the RMSE table."""
    seed: int = 0
    """Seed of the data and the initialisation (the test set uses seed + 1)."""
    out: Path = Path("runs/sequence/arithmetic")
    """Output folder (loss curve, results, TensorBoard)."""


def run_arithmetic(config: ArithmeticConfig) -> dict:
    """Train, then compare the LSTM with the repeat-last baseline on held-out windows."""
    import json

    from torch.utils.tensorboard import SummaryWriter

    from visiongym.vision.classify.training import torch_threads
    from visiongym.vision.runtime import pick_device

    device = pick_device(config.device)
    config.out.mkdir(parents=True, exist_ok=True)
    writer = SummaryWriter(str(config.out / "tensorboard"))
    with torch_threads(config.threads):
        start = time.perf_counter()
        model, losses = train_continuation(
            config.kind,
            config.length,
            config.steps,
            config.batch_size,
            config.hidden,
            config.lr,
            config.seed,
            device,
            writer,
            config.progress,
        )
        seconds = time.perf_counter() - start
        writer.close()
        rng = np.random.default_rng(config.seed + 1)
        kinds = ("arithmetic", "geometric") if config.kind == "both" else (config.kind,)
        table = {}
        for kind in kinds:
            windows, targets = make_sequences(config.test_size, config.length, kind, rng)
            lstm = predict_next(model, windows)
            table[kind] = {
                "lstm_rmse": float(np.sqrt(np.mean((lstm - targets) ** 2))),
                "repeat_last_rmse": float(np.sqrt(np.mean((windows[:, -1] - targets) ** 2))),
            }
        examples = {}
        if config.length == 3:
            for example in COURSE_EXAMPLES:
                examples[", ".join(f"{v:g}" for v in example)] = float(
                    predict_next(model, [example])[0]
                )
    results = {
        "table": table,
        "examples": examples,
        "train_seconds": seconds,
        "final_train_loss": float(np.mean(losses[-50:])),
        "device": str(device),
    }
    _plot_losses(losses, config.out / "loss.png")
    (config.out / "results.json").write_text(json.dumps(results, indent=2))
    results["figure"] = str(config.out / "loss.png")
    return results


def _plot_losses(losses: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.5))
    axis.plot(losses, lw=0.8)
    axis.set(
        xlabel="step", ylabel="MSE (scaled units)", yscale="log", title="LSTM sequence continuation"
    )
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def print_arithmetic(results: dict) -> None:
    """Print the RMSE table and the course's two examples."""
    print("| sequences | LSTM RMSE | repeat-last RMSE |\n| --- | --- | --- |")
    for kind, row in results["table"].items():
        print(f"| {kind} | {row['lstm_rmse']:.3f} | {row['repeat_last_rmse']:.3f} |")
    for example, value in results["examples"].items():
        print(f"{example} -> {value:.2f}")
    print(
        f"trained in {results['train_seconds']:.1f} s on {results['device']}; loss curve: {results['figure']}"
    )
