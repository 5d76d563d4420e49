"""Train SRResNet or SRGAN on rendered frames: ``visiongym superres train``.

Examples::

    visiongym superres train --data data/sr128 --model srresnet --run-dir runs/sr_srresnet
    visiongym superres train --data data/sr128 --model srgan --init runs/sr_srresnet/superres.pt \\
        --feature-net runs/sr_ae/autoencoder.pt --run-dir runs/sr_srgan

``srresnet`` fits the generator with mean squared error. ``srgan`` trains it against a
discriminator: content loss on the features of our own network (``--feature-net``, an autoencoder
or grid-detector checkpoint, :mod:`visiongym.vision.superres.perceptual`) plus
``--adversarial-weight`` (1e-3, the paper's) times the non-saturating GAN loss; as in the paper it
starts from a trained SRResNet (``--init``). Training reads random HR crops of ``--patch-size``
pixels and their LR crops (random horizontal flips), the LR made by ``--lr-source``
(:mod:`visiongym.vision.superres.data`). Every epoch logs losses, validation PSNR/SSIM (Y channel)
next to bicubic's, and a sample grid to TensorBoard, and writes the checkpoint atomically; the
same ``--run-dir`` resumes. At the end the test split is scored and ``grid.png`` is written
(rows: LR, bicubic, SR, HR).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from torch.nn import functional as F

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError
from visiongym.vision.metrics import print_table
from visiongym.vision.runs import RunOptions, log_losses, prepare_run, set_threads
from visiongym.vision.runtime import (
    CheckpointError,
    load_checkpoint,
    pick_device,
    save_checkpoint,
    seed_everything,
)
from visiongym.vision.superres.data import SRPairs, load_pairs
from visiongym.vision.superres.evaluate import CHECKPOINT_KIND, load_superres, sample_rows, upscale
from visiongym.vision.superres.models import SR_ARCHS, SRDiscriminator, build_generator
from visiongym.vision.superres.quality import sr_scores

__all__ = ["MODELS", "SuperResTrainConfig", "train_superres"]

MODELS = ("srresnet", "srgan")
SRArchName = SR_ARCHS.choices()
"""The ``--arch`` choices: every registered generator size."""


@dataclass
class SuperResTrainConfig(RunOptions):
    """Train a super-resolution generator (SRResNet with MSE, or SRGAN) on rendered frames."""

    data: Path = Path("data/soccer")
    """Dataset folder (visiongym render-data); its frames are the HR truth, their size a multiple of scale."""
    model: Literal["srresnet", "srgan"] = "srresnet"
    """srresnet: mean squared error; srgan: perceptual loss on --feature-net plus an adversarial term."""
    arch: SRArchName = "small"
    """Generator size (visiongym.vision.superres.models): small (CPU default), paper (64 x 16 blocks), tiny (tests)."""
    scale: int = 4
    """Upscaling factor (2, 4 or 8): 32 -> 128 px for 128 px frames at 4."""
    lr_source: Literal["downsampled", "rendered"] = "downsampled"
    """Training LR frames: the HR frames downsampled (bicubic, antialiased), or the states rendered at the low size."""
    global_residual: bool = True
    """Predict the difference to the bicubic upscale (the last layer starts at zero, i.e. at bicubic)."""
    patch_size: int = 64
    """Side of the random HR training crops, a multiple of scale (0: whole frames)."""
    epochs: int = 30
    """Passes over the training frames (one random crop of each per pass)."""
    batch_size: int = 16
    """Crops per step."""
    lr: float | None = None
    """Adam learning rate, cosine-decayed to 5 % (default: 1e-3 for srresnet, 1e-4 for srgan)."""
    init: Path | None = None
    """Start the generator from this superres checkpoint (the paper starts SRGAN from SRResNet)."""
    feature_net: Path | None = None
    """srgan: the feature network of the perceptual loss, an autoencoder or grid-detector checkpoint."""
    feature_layer: int = -1
    """srgan: the feature network's stage whose output is compared (-1: the deepest)."""
    perceptual_weight: float = 1.0
    """srgan: weight of the (relative) perceptual loss."""
    pixel_weight: float = 0.0
    """srgan: weight of a pixel MSE term next to it (0, as in the paper)."""
    adversarial_weight: float = 1e-3
    """srgan: weight of the generator's adversarial loss (1e-3, as in the paper)."""
    train_limit: int | None = None
    """Use only the first frames of the train split."""
    eval_limit: int | None = None
    """Use only the first frames of the val/test splits."""
    seed: int = 0
    """Seed for torch, NumPy and Python (and the crops of each epoch)."""
    run_dir: Path | None = None
    """Run folder (default runs/<data>__<model>__<seed>__<time>); an existing checkpoint there resumes."""


def _check(config: SuperResTrainConfig) -> None:
    SR_ARCHS.check(config.arch)
    if config.scale not in (2, 4, 8):
        raise UsageError(f"scale {config.scale!r} unsupported; choose one of: 2, 4, 8")
    if config.patch_size < 0 or config.patch_size % config.scale:
        raise UsageError(
            f"patch_size {config.patch_size} must be 0 or a positive multiple of scale {config.scale}"
        )
    if config.model == "srgan" and config.feature_net is None:
        raise UsageError(
            "--model srgan needs --feature-net: an autoencoder (visiongym autoencoder train) or grid "
            "detector (visiongym detect train) checkpoint whose features the perceptual loss compares"
        )
    if config.model == "srresnet" and config.feature_net is not None:
        raise UsageError(
            "--feature-net is a srgan option; srresnet trains with mean squared error only"
        )


def _crops(
    pairs: SRPairs, indices: torch.Tensor, patch: int, rng: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Aligned random LR/HR crops (HR side ``patch``; 0 keeps whole frames), flipped at random."""
    scale = pairs.scale
    height, width = pairs.lr.shape[-2:]
    side = patch // scale
    lows, highs = [], []
    for index in indices.tolist():
        low, high = pairs.lr[index], pairs.hr[index]
        if side:
            y = int(torch.randint(0, height - side + 1, (1,), generator=rng))
            x = int(torch.randint(0, width - side + 1, (1,), generator=rng))
            low = low[:, y : y + side, x : x + side]
            high = high[:, y * scale : (y + side) * scale, x * scale : (x + side) * scale]
        if torch.rand(1, generator=rng) < 0.5:
            low, high = low.flip(-1), high.flip(-1)
        lows.append(low)
        highs.append(high)
    return torch.stack(lows), torch.stack(highs)


def train_superres(config: SuperResTrainConfig) -> dict[str, dict[str, float]]:
    """Train (or resume), score bicubic and the model on the test split; return both rows."""
    _check(config)
    set_threads(config.threads)
    seed_everything(config.seed)
    device = pick_device(config.device)
    train = load_pairs(
        config.data, "train", config.scale, config.lr_source, config.train_limit, config.progress
    )
    val = load_pairs(
        config.data, "val", config.scale, config.lr_source, config.eval_limit, config.progress
    )
    hr_size = int(train.hr.shape[-1])
    if config.patch_size > min(train.hr.shape[-2:]):
        raise UsageError(f"patch_size {config.patch_size} is larger than the {hr_size} px frames")
    payload = None
    if config.run_dir is not None and (config.run_dir / "superres.pt").exists():
        # Checked before the run folder's config is rewritten: another model's run stays untouched.
        payload = load_checkpoint(
            config.run_dir / "superres.pt",
            kind=CHECKPOINT_KIND,
            model=config.model,
            arch=config.arch,
            scale=config.scale,
        )
    run_dir, writer = prepare_run(config, config.data, config.model, config.run_dir)
    checkpoint_path = run_dir / "superres.pt"

    generator = build_generator(
        config.arch, scale=config.scale, global_residual=config.global_residual
    ).to(device)
    lr = config.lr if config.lr is not None else (1e-3 if config.model == "srresnet" else 1e-4)
    optimizer = torch.optim.Adam(generator.parameters(), lr=lr)
    steps_per_epoch = max(1, len(train) // config.batch_size)
    total = max(1, config.epochs * steps_per_epoch)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=total, eta_min=lr * 0.05
    )
    gan = config.model == "srgan"
    if gan:
        from visiongym.vision.superres.perceptual import FeatureNetwork, perceptual_loss

        features = FeatureNetwork(config.feature_net, config.feature_layer).to(device)
        discriminator = SRDiscriminator().to(device)
        optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=lr)
        scheduler_d = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer_d, T_max=total, eta_min=lr * 0.05
        )
    meta = {
        "model": config.model,
        "arch": config.arch,
        "scale": config.scale,
        "global_residual": config.global_residual,
        "hr_size": hr_size,
        "lr_source": config.lr_source,
    }
    modules = {"generator": generator, "optimizer": optimizer, "scheduler": scheduler}
    if gan:
        modules |= {
            "discriminator": discriminator,
            "optimizer_d": optimizer_d,
            "scheduler_d": scheduler_d,
        }
    start_epoch = 0
    if payload is not None:
        for key, module in modules.items():
            module.load_state_dict(payload["state"][key])
        start_epoch = int(payload["meta"]["epoch"])
        print(f"resuming {checkpoint_path} at epoch {start_epoch}")
    elif config.init is not None:
        initial, init_meta = load_superres(config.init, device, scale=config.scale)
        if (init_meta["arch"], init_meta["global_residual"]) != (
            config.arch,
            config.global_residual,
        ):
            raise CheckpointError(
                f"--init {str(config.init)!r} holds arch {init_meta['arch']!r} (global_residual="
                f"{init_meta['global_residual']}); this run trains arch {config.arch!r} (global_residual="
                f"{config.global_residual}): pass --arch {init_meta['arch']}"
            )
        generator.load_state_dict(initial.state_dict())

    from tqdm import tqdm

    bicubic_val = sr_scores(upscale(None, val.lr, config.scale), val.hr, config.scale)
    step = start_epoch * steps_per_epoch
    started = time.perf_counter()
    bar = tqdm(range(start_epoch, config.epochs), desc=config.model, disable=not config.progress)
    for epoch in bar:
        generator.train()
        rng = torch.Generator().manual_seed(
            config.seed * 100_003 + epoch
        )  # a resumed epoch sees the same crops
        order = torch.randperm(len(train), generator=rng)
        for batch_index in range(steps_per_epoch):
            indices = order[batch_index * config.batch_size : (batch_index + 1) * config.batch_size]
            low, high = _crops(train, indices, config.patch_size, rng)
            low, high = low.to(device), high.to(device).float() / 255.0
            upscaled = generator(low)
            if gan:
                real_logits, fake_logits = discriminator(high), discriminator(upscaled.detach())
                loss_d = F.binary_cross_entropy_with_logits(
                    real_logits, torch.ones_like(real_logits)
                ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
                optimizer_d.zero_grad(set_to_none=True)
                loss_d.backward()
                optimizer_d.step()
                scheduler_d.step()
                fooled = discriminator(upscaled)
                terms = {
                    "perceptual": perceptual_loss(features, upscaled, high),
                    "adversarial": F.binary_cross_entropy_with_logits(
                        fooled, torch.ones_like(fooled)
                    ),
                    "pixel_mse": F.mse_loss(upscaled, high),
                }
                loss = (
                    config.perceptual_weight * terms["perceptual"]
                    + config.pixel_weight * terms["pixel_mse"]
                    + config.adversarial_weight * terms["adversarial"]
                )
                terms["discriminator"] = loss_d
            else:
                loss = F.mse_loss(upscaled, high)
                terms = {"pixel_mse": loss}
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            log_losses(writer, step, {"total": loss, **terms})
        scores = sr_scores(upscale(generator, val.lr, config.scale), val.hr, config.scale)
        for name, value in scores.items():
            writer.add_scalar(f"val/{name}", value, step)
            writer.add_scalar(f"val/{name}_bicubic", bicubic_val[name], step)
        writer.add_scalar(
            "charts/frames_per_s",
            (step - start_epoch * steps_per_epoch)
            * config.batch_size
            / (time.perf_counter() - started),
            step,
        )
        from torchvision.utils import make_grid

        rows = sample_rows(
            val.lr[:4],
            [upscale(None, val.lr[:4], config.scale), upscale(generator, val.lr[:4], config.scale)],
            val.hr[:4],
        )
        writer.add_image("samples/lr_bicubic_sr_hr", make_grid(torch.cat(rows), nrow=4), step)
        bar.set_postfix(
            loss=f"{loss.item():.4f}",
            val_psnr_y=f"{scores['psnr_y']:.2f}",
            bicubic=f"{bicubic_val['psnr_y']:.2f}",
        )
        state = {key: module.state_dict() for key, module in modules.items()}
        save_checkpoint(checkpoint_path, CHECKPOINT_KIND, state, epoch=epoch + 1, **meta)

    test = load_pairs(
        config.data, "test", config.scale, config.lr_source, config.eval_limit, config.progress
    )
    sr = upscale(generator, test.lr, config.scale)
    bicubic = upscale(None, test.lr, config.scale)
    rows = {
        "bicubic": sr_scores(bicubic, test.hr, config.scale),
        config.model: sr_scores(sr, test.hr, config.scale),
    }
    for name, value in rows[config.model].items():
        writer.add_scalar(f"test/{name}", value, step)
    writer.close()
    from visiongym.vision.autoencoders.evaluate import save_grid

    save_grid(run_dir / "grid.png", sample_rows(test.lr[:8], [bicubic[:8], sr[:8]], test.hr[:8]))
    print_table(
        f"{config.model} ({config.arch}, {config.scale}x, LR {config.lr_source}) on {len(test)} test frames "
        f"(PSNR/SSIM on Y, {config.scale}-pixel border removed)",
        rows,
    )
    print(f"checkpoint {checkpoint_path}; grid (LR, bicubic, SR, HR) {run_dir / 'grid.png'}")
    return rows


def main(argv: list[str] | None = None) -> None:
    import tyro

    train_superres(tyro.cli(SuperResTrainConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
