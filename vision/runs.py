"""Run folders for the vision trainers: ``runs/<data>__<model>__<seed>__<time>/`` with config,
TensorBoard events and the checkpoint side by side."""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

__all__ = ["RunOptions", "load_state", "prepare_run", "set_threads"]


@dataclass
class RunOptions:
    """Where and how a command runs; the course modules' configs extend it."""

    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    """Where to run: auto picks cuda > mps > cpu."""
    threads: int = 1
    """CPU threads for torch (0 keeps torch's default; one is often fastest for these small models)."""
    progress: bool = True
    """Show progress bars."""


def set_threads(threads: int) -> None:
    """Limit torch CPU threads (0 leaves torch's default)."""
    if threads > 0:
        torch.set_num_threads(threads)


def prepare_run(config: Any, data: Path, model_name: str, run_dir: Path | None):
    """Create the run folder, save ``config.json`` there, and open a TensorBoard writer.

    Returns:
        ``(run_dir, writer)``.
    """
    from torch.utils.tensorboard import SummaryWriter

    if run_dir is None:
        run_dir = (
            Path("runs") / f"{Path(data).name}__{model_name}__{config.seed}__{int(time.time())}"
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(config).items()
    }
    (run_dir / "config.json").write_text(json.dumps(payload, indent=2, default=str))
    return run_dir, SummaryWriter(str(run_dir))


def load_state(
    module: torch.nn.Module, state: dict, path: Path | str, name: str, trainer: str
) -> None:
    """``module.load_state_dict(state)``; a mismatch becomes a :class:`CheckpointError` naming the fix."""
    from visiongym.vision.runtime import CheckpointError

    try:
        module.load_state_dict(state)
    except (KeyError, RuntimeError) as error:
        raise CheckpointError(
            f"checkpoint {str(path)!r} does not fit the current {name!r} architecture "
            f"({str(error).splitlines()[0]}); retrain it with {trainer}"
        ) from error
