"""The run folder every trainer writes: config, TensorBoard events, evaluations, checkpoints, videos.

Layout::

    runs/<env>__<algo>__<seed>__<time>/
        config.yaml            the full config (what --resume reads; visiongym.vision.runs writes it)
        events.out.tfevents.*  TensorBoard: charts/SPS, charts/episodic_return, losses/*, ...
        evaluations.csv        one row per evaluation
        checkpoints/last.pt    latest training state (atomic write-then-rename)
        checkpoints/best.pt    policy with the best mean evaluation return
        checkpoints/replay.pt  replay memory (off-policy algorithms, for exact resume)
        videos/eval_<step>.mp4 first evaluation episode
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from visiongym.agents.common.envs import env_slug
from visiongym.agents.config import TrainConfig, check_options, config_to_dict, load_config
from visiongym.sims.errors import MissingFileError, UsageError
from visiongym.vision.runs import create_run_folder, run_name

if TYPE_CHECKING:
    import torch

__all__ = ["Run", "open_run", "resolve_checkpoint"]

EVAL_FIELDS = (
    "step",
    "mean_return",
    "return_ci95",
    "success_rate",
    "success_ci_low",
    "success_ci_high",
    "mean_length",
    "length_ci95",
    "episodes",
    "wall_time_s",
)


class Run:
    """A run folder: create a new one from a config, or reopen one for ``--resume``."""

    def __init__(self, path: Path, config: TrainConfig) -> None:
        self.path = Path(path)
        self.config = config
        self.checkpoints = self.path / "checkpoints"
        self.videos = self.path / "videos"
        self.evaluations = self.path / "evaluations.csv"
        self._writer = None

    @classmethod
    def create(cls, config: TrainConfig) -> Run:
        """A fresh folder ``runs_dir/<env>__<algo>__<seed>__<time>`` with the config saved in it."""
        name = config.run_name or run_name(env_slug(config.env), config.algo, config.seed)
        try:
            path = create_run_folder(config.runs_dir, name, config_to_dict(config), exist_ok=False)
        except FileExistsError as error:
            raise FileExistsError(f"{error}; pass --resume {Path(config.runs_dir) / name} to continue it "
                                  "or choose another --run-name") from None
        return cls(path, config)

    @classmethod
    def open(cls, path: Path) -> Run:
        """Reopen an existing run folder (its saved config)."""
        return cls(Path(path), load_config(path))

    @property
    def writer(self):
        """A TensorBoard ``SummaryWriter`` on the run folder (created on first use)."""
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.path))
        return self._writer

    def log(self, scalars: Mapping[str, float | torch.Tensor], step: int) -> None:
        """Write scalars (numbers or 0-dim tensors, read only now) to TensorBoard at ``step``."""
        for key, value in scalars.items():
            self.writer.add_scalar(key, float(value), step)

    def log_evaluation(self, step: int, summary: dict[str, Any], wall_time: float) -> None:
        """Append a row to ``evaluations.csv`` and the eval scalars to TensorBoard."""
        new = not self.evaluations.exists()
        row = {"step": step, "wall_time_s": round(wall_time, 2), **summary}
        if new:
            # Task metrics (forward speed, imitation score...) follow the fixed columns.
            fields = [*EVAL_FIELDS, *(key for key in summary if key not in EVAL_FIELDS)]
        else:
            with self.evaluations.open(newline="") as handle:
                fields = next(csv.reader(handle))
        with self.evaluations.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)
        extra = {f"eval/{key}": value for key, value in summary.items()
                 if key not in EVAL_FIELDS and isinstance(value, float)}
        self.log(
            {
                "eval/mean_return": summary["mean_return"],
                "eval/success_rate": summary["success_rate"],
                "eval/mean_length": summary["mean_length"],
                **extra,
            },
            step,
        )

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def open_run(config: TrainConfig) -> tuple[TrainConfig, Run | None, bool]:
    """``(config, run, resuming)``: a ``--resume`` reopens the run with its saved config.

    Only ``total_steps``, ``progress`` and (where the algorithm has it) ``max_minutes`` come from
    the new command line; a run trained with
    another algorithm is refused. Without ``--resume`` the options are checked
    (:func:`visiongym.agents.config.check_options`: one the algorithm cannot use is refused) and
    the run folder is created later, once the env and memory checks have passed.
    """
    if config.resume is None:
        check_options(config)
        return config, None, False
    run = Run.open(config.resume)
    saved = run.config
    if saved.algo != config.algo:
        raise UsageError(f"run {str(config.resume)!r} was trained with {saved.algo!r}, not {config.algo!r}")
    saved.total_steps, saved.progress, saved.resume = config.total_steps, config.progress, config.resume
    if hasattr(saved, "max_minutes"):
        saved.max_minutes = getattr(config, "max_minutes", saved.max_minutes)
    return saved, run, True


def resolve_checkpoint(path: str | Path) -> Path:
    """A run folder -> its best checkpoint (else last); a file stays itself."""
    path = Path(path)
    if path.is_dir():
        for name in ("best.pt", "last.pt"):
            if (path / "checkpoints" / name).is_file():
                return path / "checkpoints" / name
        raise MissingFileError(f"run folder {str(path)!r} has no checkpoints/best.pt or last.pt yet")
    return path
