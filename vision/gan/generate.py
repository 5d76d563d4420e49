"""Load a trained GAN's generator and draw frames: ``visiongym gan sample``.

Example::

    visiongym gan sample --checkpoint runs/gan/sngan.pt --n 500 --out runs/gan_samples

writes ``000000.png``, ``000001.png``, ... (RGB, the generator's size), ``samples.npz`` (one array,
``images``: uint8, N x H x W x 3, the same frames) and ``grid.png`` (the first 64) to ``--out``.
``visiongym gan score`` reads either the folder or the ``.npz``. Frames come from the EMA
generator unless ``--weights raw``; the same ``--seed`` draws the same frames.

Checkpoints of kind ``dcgan`` and ``sngan`` load, including the first release's DCGAN
checkpoints (no EMA: their raw generator is used).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from visiongym.envs.cli import run_command
from visiongym.vision.gan.models import GANS, ImageGenerator
from visiongym.vision.runs import load_state, set_threads
from visiongym.vision.runtime import CheckpointError, load_checkpoint, pick_device

__all__ = [
    "CHECKPOINT_KINDS",
    "SampleConfig",
    "load_generator",
    "sample",
    "save_frame_grid",
    "write_samples",
]

CHECKPOINT_KINDS = GANS.names()
"""A GAN checkpoint's ``kind`` is its model's name (``dcgan``, ``sngan``)."""
_TRAINER = "visiongym gan train"


def load_generator(
    path: str | Path, device: str | torch.device = "cpu", weights: Literal["ema", "raw"] = "ema"
) -> tuple[ImageGenerator, dict]:
    """Load a GAN checkpoint's generator (eval mode) and its meta.

    Args:
        path: a checkpoint written by ``visiongym gan train``.
        device: where the generator goes.
        weights: ``ema`` (the averaged generator, the default) or ``raw`` (the last step's). A
            checkpoint without an EMA (the first release's DCGAN) gives its raw generator.

    Returns:
        ``(generator, meta)``; ``meta`` has ``model``, ``image_size``, ``latent_dim``, ``width``
        and ``weights`` (which copy was loaded), plus the training step.
    """
    if weights not in ("ema", "raw"):
        raise CheckpointError(f"weights {weights!r} unknown; choose one of: ema, raw")
    payload = load_checkpoint(path, kind=CHECKPOINT_KINDS)
    meta = {"model": payload["kind"], **payload["meta"]}
    state = payload["state"]
    if not {"latent_dim", "image_size", "width"} <= set(meta) or "generator" not in state:
        raise CheckpointError(
            f"checkpoint {str(path)!r} is not a complete {meta['model']} checkpoint"
        )
    key = "ema" if weights == "ema" and "ema" in state else "generator"
    spec = GANS.build(meta["model"])
    generator = spec.generator(
        latent_dim=meta["latent_dim"], image_size=meta["image_size"], width=meta["width"]
    )
    load_state(generator, state[key], path, meta["model"], _TRAINER)
    meta["weights"] = "ema" if key == "ema" else "raw"
    return generator.to(pick_device(device)).eval(), meta


@torch.no_grad()
def sample(generator: ImageGenerator, n: int, seed: int = 0, batch_size: int = 256) -> np.ndarray:
    """``n`` frames from ``generator`` as uint8 N x H x W x 3; the same seed, the same frames."""
    noise = torch.Generator().manual_seed(seed)
    chunks = [
        generator.sample(min(batch_size, n - start), noise) for start in range(0, n, batch_size)
    ]
    size = generator.image_size
    frames = torch.cat(chunks) if chunks else torch.zeros(0, 3, size, size, dtype=torch.uint8)
    return frames.permute(0, 2, 3, 1).contiguous().numpy()


@dataclass
class SampleConfig:
    """Draw frames from a trained GAN: PNGs, one .npz and a grid."""

    checkpoint: Path
    """Checkpoint written by visiongym gan train (kind dcgan or sngan)."""
    n: int = 64
    """Frames to draw."""
    out: Path = Path("runs/gan_samples")
    """Folder for the PNGs, samples.npz and grid.png."""
    seed: int = 0
    """Noise seed."""
    weights: Literal["ema", "raw"] = "ema"
    """ema: the averaged generator; raw: the last training step's."""
    device: str = "auto"
    """Where to run: auto (cuda > mps > cpu), cpu, cuda, cuda:N or mps."""
    threads: int = 0
    """torch CPU threads (0: torch's own choice)."""


def write_samples(config: SampleConfig) -> Path:
    """Write the frames; return the .npz path."""
    from visiongym.sims.errors import UsageError
    from visiongym.vision.data.format import write_image

    if config.n < 1:
        raise UsageError(f"--n {config.n} must be at least 1")
    set_threads(config.threads)
    generator, _ = load_generator(config.checkpoint, config.device, config.weights)
    frames = sample(generator, config.n, config.seed)
    config.out.mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(frames):
        write_image(config.out / f"{index:06d}.png", frame)
    npz = config.out / "samples.npz"
    np.savez_compressed(npz, images=frames)
    save_frame_grid(config.out / "grid.png", torch.from_numpy(frames[:64]).permute(0, 3, 1, 2))
    return npz


def save_frame_grid(path: Path, frames: torch.Tensor, columns: int = 8) -> Path:
    """Save uint8 N x 3 x H x W frames as one PNG grid, ``columns`` frames a row."""
    from visiongym.vision.autoencoders.evaluate import save_grid

    return save_grid(path, [row.float() / 255 for row in frames.split(columns)], count=columns)


def main(argv: list[str] | None = None) -> Path:
    import tyro

    config = tyro.cli(SampleConfig, args=argv)
    npz = write_samples(config)
    print(f"wrote {config.n} frames to {config.out} (PNGs, {npz.name}, grid.png)")
    return npz


if __name__ == "__main__":
    run_command(main)
