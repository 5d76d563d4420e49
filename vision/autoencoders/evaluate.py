"""Score a trained autoencoder: ``python -m visiongym.vision.autoencoders.evaluate --checkpoint ...``.

Prints reconstruction PSNR/SSIM on held-out frames next to the mean-image baseline, and the
denoising gain: PSNR(model(noisy), clean) - PSNR(noisy, clean) at Gaussian sigma (default 25/255).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from visiongym.envs.cli import run_command
from visiongym.vision.autoencoders.models import VARIANTS, ConvAutoencoder, build_autoencoder
from visiongym.vision.metrics import mean_image_psnr, print_table, psnr, ssim
from visiongym.vision.runs import load_state
from visiongym.vision.runtime import CheckpointError, load_checkpoint, pick_device

__all__ = [
    "CHECKPOINT_KIND",
    "evaluate_autoencoder",
    "load_autoencoder",
    "save_grid",
    "EvaluateConfig",
]

CHECKPOINT_KIND = "autoencoder"


@torch.no_grad()
def reconstruct(
    model: ConvAutoencoder, frames: torch.Tensor, batch_size: int = 128
) -> torch.Tensor:
    """Reconstructions in [0, 1] of uint8 or [0, 1] frames, batch by batch."""
    device = next(model.parameters()).device
    model.eval()
    outputs = [
        model(frames[i : i + batch_size].to(device))[0].cpu()
        for i in range(0, len(frames), batch_size)
    ]
    return torch.cat(outputs)


def add_noise(
    clean: torch.Tensor, sigma: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Gaussian noise of std ``sigma`` on [0, 1] images, clipped back to [0, 1]."""
    noise = torch.randn(clean.shape, generator=generator) * sigma
    return (clean + noise.to(clean.device)).clamp_(0.0, 1.0)


@torch.no_grad()
def evaluate_autoencoder(
    model: ConvAutoencoder,
    test_frames: torch.Tensor,
    train_frames: torch.Tensor | None = None,
    noise_sigma: float = 25 / 255,
    seed: int = 0,
) -> dict[str, float]:
    """PSNR/SSIM of reconstructions, mean-image baseline, and denoising gain at ``noise_sigma``."""
    clean = test_frames.float() / 255.0
    recon = reconstruct(model, test_frames)
    noisy = add_noise(clean, noise_sigma, torch.Generator().manual_seed(seed))
    denoised = reconstruct(model, noisy)
    scores = {
        "psnr": psnr(recon, clean),
        "ssim": ssim(recon, clean),
        "noisy_psnr": psnr(noisy, clean),
        "denoised_psnr": psnr(denoised, clean),
    }
    scores["denoising_gain"] = scores["denoised_psnr"] - scores["noisy_psnr"]
    if train_frames is not None:
        scores["mean_image_psnr"] = mean_image_psnr(train_frames.float() / 255.0, clean)
    return scores


def load_autoencoder(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[ConvAutoencoder, dict]:
    """Load a checkpoint written by ``visiongym.vision.autoencoders.train``; return ``(model, meta)``."""
    payload = load_checkpoint(path, kind=CHECKPOINT_KIND, map_location="cpu")
    meta = payload["meta"]
    if meta.get("variant") not in VARIANTS:
        raise CheckpointError(
            f"checkpoint {str(path)!r} has unknown variant {meta.get('variant')!r}"
        )
    model = build_autoencoder(meta["arch"], image_size=tuple(meta["image_size"]))
    load_state(model, payload["state"]["model"], path, meta["arch"], "visiongym.vision.autoencoders.train")
    return model.to(pick_device(device)).eval(), meta


def save_grid(path: str | Path, rows: list[torch.Tensor], count: int = 8) -> Path:
    """Save an image grid: one row per tensor in ``rows`` ([0, 1] float), ``count`` images each."""
    from torchvision.utils import save_image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = torch.cat([row[:count].float().cpu().clamp(0, 1) for row in rows])
    save_image(images, path, nrow=min(count, len(rows[0])), padding=2)
    return path


@dataclass
class EvaluateConfig:
    """Score an autoencoder checkpoint on a dataset split."""

    checkpoint: Path
    """Checkpoint written by visiongym.vision.autoencoders.train."""
    data: Path = Path("data/soccer")
    """Dataset folder (visiongym.vision.data.render_soccer)."""
    split: str = "test"
    """Split to score."""
    limit: int | None = None
    """Use only the first frames of the split."""
    noise_sigma: float = 25 / 255
    """Gaussian noise std on the [0, 1] scale for the denoising score."""
    grid: Path | None = None
    """Save clean / reconstruction / noisy / denoised rows to this PNG."""
    device: str = "auto"
    """cpu, cuda, mps or auto."""


def main(argv: list[str] | None = None) -> None:
    import tyro

    from visiongym.vision.data.dataset import load_frames

    config = tyro.cli(EvaluateConfig, args=argv)
    model, meta = load_autoencoder(config.checkpoint, config.device)
    size = meta["image_size"][0]
    test = load_frames(config.data, config.split, size=size, limit=config.limit)
    train = load_frames(config.data, "train", size=size, limit=2000)
    scores = evaluate_autoencoder(model, test, train, config.noise_sigma)
    print_table(
        f"autoencoder {meta['variant']} on {config.data}/{config.split} ({len(test)} frames)",
        {meta["variant"]: scores},
    )
    if config.grid is not None:
        clean = test[:8].float() / 255
        noisy = add_noise(clean, config.noise_sigma, torch.Generator().manual_seed(0))
        save_grid(
            config.grid, [clean, reconstruct(model, test[:8]), noisy, reconstruct(model, noisy)]
        )
        print(f"grid saved to {config.grid}")


if __name__ == "__main__":
    run_command(main)
