"""Devices, seeding and checkpoints shared by every trainer in the suite (vision and agents).

Checkpoints are plain dicts of tensors and Python scalars written atomically (temporary file,
``fsync``, then ``os.replace``) and read back with ``torch.load(weights_only=True)``. Every
checkpoint carries a ``kind`` (``"dqn"``, ``"autoencoder"``...) and free ``meta`` so a loader can
refuse a file written by another model or env with a message naming both.
"""

from __future__ import annotations

import ctypes
import os
import platform
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from visiongym.sims.errors import UsageError

__all__ = [
    "CheckpointError",
    "init_from_checkpoint",
    "pick_device",
    "seed_everything",
    "save_checkpoint",
    "load_checkpoint",
    "resume_epoch",
    "tune_cpu_allocator",
]

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


class CheckpointError(UsageError):
    """A checkpoint is missing, corrupt, or was written for another model, env or algorithm."""


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """Resolve ``"auto"`` to cuda > mps > cpu; refuse a backend this machine lacks, clearly."""
    if isinstance(device, torch.device):
        return device
    name = str(device).lower()
    base = name.split(":")[0]
    if base not in DEVICE_CHOICES:
        raise UsageError(f"device {device!r} unknown; choose one of: {', '.join(DEVICE_CHOICES)}")
    if base == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if base == "cuda" and not torch.cuda.is_available():
        raise UsageError(
            f"device {device!r} requested but CUDA is not available here (torch "
            f"{torch.__version__}, built for CUDA {torch.version.cuda}); use device='cpu' or 'auto'"
        )
    if base == "mps" and not (
        getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    ):
        raise UsageError(
            f"device {device!r} requested but MPS is not available; use 'cpu' or 'auto'"
        )
    return torch.device(name)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


def tune_cpu_allocator(trim_threshold: int = 1 << 30, mmap_threshold: int = 32 << 20) -> bool:
    """Let glibc keep freed memory in the process instead of handing it back to the kernel.

    A training step allocates and frees the same few-megabyte tensors (float batches,
    activations, gradients) hundreds of times a second. With glibc's defaults each of them is
    mapped fresh from the kernel and page-faulted in, which on a 2-core CPU took about a quarter
    of a Nature-CNN DQN update (``benchmarks/dqn_vs_sb3.py``). Raising the trim threshold (and
    fixing the mmap threshold at 32 MiB, so only large buffers such as the replay memory are
    mapped separately) lets those blocks be reused; PyTorch's CPU performance guide gets the same
    effect from jemalloc or tcmalloc. The cost is that the process keeps up to
    ``trim_threshold`` bytes of freed heap. Process-wide and sticky; returns ``False`` where
    there is no glibc (macOS, Windows, musl), doing nothing.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # pragma: no cover - glibc without the usual soname
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold)
    )


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and torch (all devices) from one integer."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)


def save_checkpoint(path: str | os.PathLike, kind: str, state: dict[str, Any], **meta: Any) -> Path:
    """Write ``{"kind", "meta", "state"}`` to ``path`` atomically; return the path.

    A reader never sees a half-written file: the bytes go to a temporary file in the same folder,
    are flushed to disk, and replace the target in one rename.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": 1, "kind": kind, "meta": meta, "state": state}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(
    path: str | os.PathLike,
    kind: str | tuple[str, ...] | None = None,
    map_location: str | torch.device = "cpu",
    **expected_meta: Any,
) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` with ``weights_only=True``.

    Args:
        path: the file.
        kind: accepted kind(s); another kind raises :class:`CheckpointError` naming both.
        map_location: where tensors land.
        **expected_meta: meta fields that must match (for example ``env_id=...``).

    Returns:
        The payload dict with keys ``kind``, ``meta`` and ``state``.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unpickling failure means a bad file
        raise CheckpointError(
            f"checkpoint {str(path)!r} is corrupt or not a visiongym checkpoint "
            f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})"
        ) from error
    if not isinstance(payload, dict) or "kind" not in payload or "state" not in payload:
        raise CheckpointError(f"checkpoint {str(path)!r} is not a visiongym checkpoint")
    if kind is not None:
        accepted = (kind,) if isinstance(kind, str) else tuple(kind)
        if payload["kind"] not in accepted:
            raise CheckpointError(
                f"checkpoint {str(path)!r} holds a {payload['kind']!r} model; expected "
                f"{' or '.join(repr(k) for k in accepted)}"
            )
    for key, want in expected_meta.items():
        have = payload.get("meta", {}).get(key)
        if have != want:
            raise CheckpointError(
                f"checkpoint {str(path)!r} was written for {key}={have!r}, not {key}={want!r}"
            )
    return payload


def init_from_checkpoint(module: torch.nn.Module, path: str | os.PathLike, kind: str | tuple[str, ...],
                         key: str = "model", hint: str = "") -> int:
    """Copy into ``module`` every tensor of the checkpoint at ``path`` (``state[key]``, of ``kind``)
    whose name and shape fit; print and return how many of the module's tensors came from it.

    Fine-tuning starts here: the optimizer and schedule start fresh. No fitting tensor at all
    raises :class:`CheckpointError` ("... fits" + ``hint``, such as " 'unet'; start from ...").
    """
    source = load_checkpoint(path, kind=kind)["state"][key]
    own = module.state_dict()
    fitting = {name: value for name, value in source.items() if name in own and own[name].shape == value.shape}
    if not any(value.dim() > 0 for value in fitting.values()):  # scalars (BatchNorm counters) always fit
        fitting = {}
    if not fitting:
        raise CheckpointError(f"init_from {str(path)!r} has no tensor that fits{hint or ' the model'}")
    module.load_state_dict(fitting, strict=False)
    print(f"initialised {len(fitting)} of {len(own)} tensors from {path}")
    return len(fitting)


def resume_epoch(
    path: str | os.PathLike,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    kind: str,
    /,
    **expected_meta: Any,
) -> int:
    """Restore an epoch-based trainer from its checkpoint at ``path``; 0 when there is none yet.

    Loads the ``model``, ``optimizer`` and ``scheduler`` states a trainer saved (under those keys of
    ``state``, with ``epoch`` in its meta) after checking ``kind`` and ``expected_meta`` like
    :func:`load_checkpoint` (the first five arguments are positional, so a meta field may be
    called ``model``), prints where it resumes and returns the epoch to start from.
    """
    path = Path(path)
    if not path.exists():
        return 0
    payload = load_checkpoint(path, kind=kind, **expected_meta)
    model.load_state_dict(payload["state"]["model"])
    optimizer.load_state_dict(payload["state"]["optimizer"])
    scheduler.load_state_dict(payload["state"]["scheduler"])
    epoch = int(payload["meta"]["epoch"])
    print(f"resuming {path} at epoch {epoch}")
    return epoch
