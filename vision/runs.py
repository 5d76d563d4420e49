"""Run folders and run options for every trainer of the suite, vision and agents alike.

A run folder is ``runs/<data or env>__<model or algo>__<seed>__<YYYYmmdd-HHMMSS>/`` with the
run's full config in ``config.yaml`` beside its TensorBoard events and checkpoints. Folders
written before this format (the vision trainers' ``config.json``) are still read by
:func:`read_run_config`.

Every command that trains or evaluates takes the same two options, with one type and one default:

- ``device: str = "auto"``: ``auto`` (cuda > mps > cpu), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``,
  checked by :func:`visiongym.vision.runtime.pick_device`;
- ``threads: int = 0``: torch's CPU threads, 0 leaving torch's own choice (:func:`set_threads`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml

__all__ = [
    "RunOptions",
    "DEVICE_DEFAULT",
    "THREADS_DEFAULT",
    "RUN_TIME_FORMAT",
    "CONFIG_FILE",
    "run_name",
    "config_dict",
    "write_run_config",
    "read_run_config",
    "create_run_folder",
    "load_state",
    "prepare_run",
    "set_threads",
    "log_losses",
    "train_epoch",
]

DEVICE_DEFAULT = "auto"
THREADS_DEFAULT = 0
RUN_TIME_FORMAT = "%Y%m%d-%H%M%S"
"""The time stamp ending every run folder's default name."""
CONFIG_FILE = "config.yaml"
_LEGACY_CONFIG_FILE = "config.json"


@dataclass
class RunOptions:
    """Where and how a command runs; the trainers' and course modules' configs extend it."""

    device: str = DEVICE_DEFAULT
    """Where to run: auto (cuda > mps > cpu), cpu, cuda, cuda:N or mps."""
    threads: int = THREADS_DEFAULT
    """torch CPU threads (0: torch's own choice)."""
    progress: bool = True
    """Show progress bars."""


def set_threads(threads: int | None) -> None:
    """Limit torch CPU threads (0 or None leaves torch's default)."""
    if threads:
        torch.set_num_threads(threads)


def run_name(*parts: object) -> str:
    """``part__part__...__<time>``: the default name of a run folder."""
    return "__".join([*(str(part) for part in parts), time.strftime(RUN_TIME_FORMAT)])


def config_dict(config: Any) -> dict[str, Any]:
    """A dataclass config as plain YAML (paths as strings, tuples as lists), field by field."""
    out: dict[str, Any] = {}
    for item in dataclasses.fields(config):
        value = getattr(config, item.name)
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = [str(v) if isinstance(v, Path) else v for v in value]
        out[item.name] = value
    return out


def write_run_config(folder: Path, data: dict[str, Any]) -> Path:
    """Write ``folder/config.yaml`` atomically (temporary file, then one rename)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_FILE
    fd, tmp = tempfile.mkstemp(prefix=f".{CONFIG_FILE}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(yaml.safe_dump(data, sort_keys=False))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_run_config(folder: Path) -> dict[str, Any] | None:
    """The config saved in a run folder (``config.yaml``, else an older ``config.json``); None without."""
    folder = Path(folder)
    if (folder / CONFIG_FILE).is_file():
        return yaml.safe_load((folder / CONFIG_FILE).read_text())
    if (folder / _LEGACY_CONFIG_FILE).is_file():
        return json.loads((folder / _LEGACY_CONFIG_FILE).read_text())
    return None


def create_run_folder(parent: Path, name: str, data: dict[str, Any], exist_ok: bool = True) -> Path:
    """``parent/name`` with ``data`` saved as its ``config.yaml``.

    With ``exist_ok=False`` a folder that already holds a run's config is refused
    (:class:`FileExistsError`), so a new run never overwrites another one.
    """
    path = Path(parent) / name
    if not exist_ok and read_run_config(path) is not None:
        raise FileExistsError(f"run folder {str(path)!r} already holds a run")
    write_run_config(path, data)
    return path


def prepare_run(config: Any, data: Path, model_name: str, run_dir: Path | None):
    """Create the run folder (default ``runs/<data>__<model>__<seed>__<time>``), save the config
    there, and open a TensorBoard writer.

    Returns:
        ``(run_dir, writer)``.
    """
    from torch.utils.tensorboard import SummaryWriter

    if run_dir is None:
        run_dir = Path("runs") / run_name(Path(data).name, model_name, config.seed)
    run_dir = create_run_folder(Path(run_dir).parent, Path(run_dir).name, config_dict(config))
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


class NamedModel(torch.nn.Module):
    """A registered network by name, for square uint8 frames: what the detector and the segmenter
    share (building from the registry, the input size check, atomic self-describing checkpoints
    and loading them back).

    Subclasses set ``KIND`` (the checkpoint kind), ``REGISTRY`` (name -> builder taking
    ``num_classes`` and ``image_size``), ``TRAINER`` (the command that retrains a checkpoint that no
    longer fits) and ``WHAT`` (how errors call the model).
    """

    KIND: str
    REGISTRY: Any
    TRAINER: str
    WHAT: str

    def __init__(self, name: str, image_size: int, class_names) -> None:
        super().__init__()
        builder = self.REGISTRY.get(name)
        self.name = name
        self.image_size = int(image_size)
        self.class_names = tuple(class_names)
        self.net = builder(num_classes=len(self.class_names), image_size=(self.image_size, self.image_size))

    def _check(self, images: torch.Tensor) -> None:
        from visiongym.sims.errors import UsageError

        if tuple(images.shape[-2:]) != (self.image_size, self.image_size):
            raise UsageError(
                f"image size {tuple(images.shape[-2:])} does not match the {self.WHAT}'s "
                f"({self.image_size}, {self.image_size}); resize frames to {self.image_size}x{self.image_size}"
            )

    def save(self, path: str | Path, epoch: int = 0, **extra_state: Any) -> Path:
        """Write an atomic checkpoint of kind ``KIND``: model state plus ``extra_state``."""
        from visiongym.vision.runtime import save_checkpoint

        return save_checkpoint(path, self.KIND, {"model": self.net.state_dict(), **extra_state}, model=self.name,
                               image_size=self.image_size, class_names=list(self.class_names), epoch=epoch)

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu") -> tuple[NamedModel, dict[str, Any]]:
        """A checkpoint written by :meth:`save`: ``(model in eval mode on device, payload)``."""
        from visiongym.vision.runtime import CheckpointError, load_checkpoint, pick_device

        payload = load_checkpoint(path, kind=cls.KIND)
        meta = payload["meta"]
        if meta.get("model") not in cls.REGISTRY:
            raise CheckpointError(
                f"checkpoint {str(path)!r} holds model {meta.get('model')!r}; known: {', '.join(cls.REGISTRY.names())}"
            )
        model = cls(meta["model"], int(meta["image_size"]), meta["class_names"])
        load_state(model.net, payload["state"]["model"], path, meta["model"], cls.TRAINER)
        return model.to(pick_device(device)).eval(), payload


LOSS_LOG_INTERVAL = 10
"""Optimiser steps between two TensorBoard loss points of the vision trainers."""


def log_losses(writer, step: int, losses: dict[str, Any]) -> None:
    """Every ``LOSS_LOG_INTERVAL`` steps, write each loss (a tensor or a float) as ``losses/<name>``."""
    if step % LOSS_LOG_INTERVAL == 0:
        for name, value in losses.items():
            value = value.detach().item() if isinstance(value, torch.Tensor) else float(value)
            writer.add_scalar(f"losses/{name}", value, step)


def train_epoch(
    model: torch.nn.Module,
    batches,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    writer,
    step: int,
    total_steps: int,
    device: torch.device,
    clip_norm: float = 10.0,
    loss_kwargs: dict[str, Any] | None = None,
) -> tuple[int, torch.Tensor]:
    """One pass of ``(images, targets)`` batches through ``model.loss`` (the detector's and the
    segmenter's interface): clipped optimiser and scheduler steps, losses logged; stops at
    ``total_steps``; ``loss_kwargs`` go to every ``model.loss`` call. Returns ``(step, last loss)``."""
    model.train()
    loss = torch.tensor(float("nan"))
    for images, targets in batches:
        loss, terms = model.loss(images.to(device), targets, **(loss_kwargs or {}))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()
        scheduler.step()
        step += 1
        log_losses(writer, step, {"total": loss, **terms})
        if step >= total_steps:
            break
    return step, loss
