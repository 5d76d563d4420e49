"""Train an autoencoder on rendered frames: ``python -m visiongym.vision.autoencoders.train``.

Examples::

    python -m visiongym.vision.autoencoders.train --data data/soccer_random    # restoring, spatial_context_norm
    python -m visiongym.vision.autoencoders.train --data data/soccer --variant conv --arch spatial
    python -m visiongym.vision.autoencoders.train --data data/soccer --variant denoising --epochs 30
    python -m visiongym.vision.autoencoders.train --data data/soccer --variant sparse --l1-weight 1e-3

Frames are loaded into memory (resized to ``--image-size``), flipped at random, and fitted with
mean squared error (plus the L1 code penalty for ``sparse``; noisy inputs for ``denoising``;
inputs degraded frame by frame for ``restoring``, see
:mod:`visiongym.vision.autoencoders.degradations`).
Every epoch logs losses and validation PSNR to TensorBoard and writes the checkpoint atomically;
rerunning with the same ``--run-dir`` resumes. At the end the test split is scored and a table
and an image grid (clean / reconstruction / noisy / denoised) are written.
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
from visiongym.vision.autoencoders.degradations import degrade
from visiongym.vision.autoencoders.evaluate import (
    CHECKPOINT_KIND,
    add_noise,
    evaluate_autoencoder,
    reconstruct,
    save_grid,
)
from visiongym.vision.autoencoders.models import (
    AUTOENCODERS,
    ConvAutoencoder,
    build_autoencoder,
    list_autoencoders,
)
from visiongym.vision.data.dataset import load_frames
from visiongym.vision.metrics import print_table, psnr
from visiongym.vision.runs import RunOptions, log_losses, prepare_run, set_threads
from visiongym.vision.runtime import (
    init_from_checkpoint,
    pick_device,
    resume_epoch,
    save_checkpoint,
    seed_everything,
)

__all__ = ["AutoencoderTrainConfig", "train_autoencoder"]

AutoencoderName = AUTOENCODERS.choices()
"""The ``--arch`` choices: every registered architecture."""


@dataclass
class AutoencoderTrainConfig(RunOptions):
    """Train a convolutional autoencoder (plain, denoising or sparse) on rendered frames."""

    data: Path = Path("data/soccer")
    """Dataset folder written by visiongym.vision.data.render_soccer."""
    variant: Literal["conv", "denoising", "sparse", "restoring"] = "restoring"
    """restoring: input degraded per frame (noise, blur, haze, specks, contrast, brightness,
    down-sampling, JPEG; visiongym.vision.autoencoders.degradations), clean target, the robust
    default; conv: plain; denoising: Gaussian-noised input, clean target; sparse: L1 penalty on the code."""
    arch: AutoencoderName = "spatial_context_norm"
    """Architecture (builders in visiongym.vision.autoencoders.models): spatial gives an 8 x 21 x 21
    code at 84 px and sharp reconstructions, spatial_context the same code with a global-context
    scale and shift per encoder stage, spatial_context_norm (the default) that network also reading
    each frame with its channels standardised, small a coarser 32 x 11 x 11 code for agents, tiny is
    for tests."""
    image_size: int = 84
    """Frames are resized to this square size."""
    epochs: int = 20
    """Passes over the training frames."""
    batch_size: int = 32
    """Frames per step."""
    lr: float = 2e-3
    """AdamW learning rate (cosine-decayed to 5 % over the run)."""
    noise_sigma: float = 25 / 255
    """Input noise std on the [0, 1] scale: used in training by denoising, in scoring by all."""
    l1_weight: float = 1e-3
    """Weight of mean |code| in the sparse variant's loss."""
    clean_p: float = 0.15
    """Share of frames the restoring variant leaves undegraded."""
    train_limit: int | None = None
    """Use only the first frames of the train split."""
    eval_limit: int | None = None
    """Use only the first frames of the val/test splits."""
    seed: int = 0
    """Seed for torch, NumPy and Python."""
    init_from: Path | None = None
    """Fine-tune: start from the weights of this autoencoder checkpoint (every tensor whose name
    and shape fit), with a fresh optimizer and schedule over --epochs. Ignored when the run folder
    already holds a checkpoint (that one resumes)."""
    run_dir: Path | None = None
    """Run folder (default runs/<data>__ae-<variant>__<seed>__<time>); an existing checkpoint there resumes."""


def _loss(
    model: ConvAutoencoder,
    clean: torch.Tensor,
    config: AutoencoderTrainConfig,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, dict]:
    if config.variant == "denoising":
        inputs = add_noise(clean, config.noise_sigma)
    elif config.variant == "restoring":
        inputs = degrade(clean, generator or torch.Generator().manual_seed(config.seed), config.clean_p)
    else:
        inputs = clean
    reconstruction, code = model(inputs)
    mse = F.mse_loss(reconstruction, clean)
    terms = {"mse": mse}
    if config.variant == "sparse":
        terms["l1"] = code.abs().mean()
        return mse + config.l1_weight * terms["l1"], terms
    return mse, terms


def train_autoencoder(config: AutoencoderTrainConfig) -> dict[str, float]:
    """Train (or resume), score on the test split, print the table; return the test scores."""
    if config.arch not in list_autoencoders():
        raise UsageError(
            f"arch {config.arch!r} unknown; choose one of: {', '.join(list_autoencoders())}"
        )
    set_threads(config.threads)
    seed_everything(config.seed)
    device = pick_device(config.device)
    size = config.image_size
    train = load_frames(config.data, "train", size=size, limit=config.train_limit)
    val = load_frames(config.data, "val", size=size, limit=config.eval_limit)
    run_dir, writer = prepare_run(config, config.data, f"ae-{config.variant}", config.run_dir)
    checkpoint_path = run_dir / "autoencoder.pt"

    model = build_autoencoder(config.arch, image_size=(size, size)).to(device)
    if config.init_from is not None and not checkpoint_path.exists():
        init_from_checkpoint(model, config.init_from, CHECKPOINT_KIND,
                             hint=f" arch {config.arch!r}; start from a checkpoint of the same arch")
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=1e-4)
    steps_per_epoch = max(1, len(train) // config.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=config.lr,
        total_steps=config.epochs * steps_per_epoch,
        pct_start=0.1,
        final_div_factor=20,
    )
    meta = {"variant": config.variant, "arch": config.arch, "image_size": [size, size]}
    start_epoch = resume_epoch(checkpoint_path, model, optimizer, scheduler, CHECKPOINT_KIND, **meta)

    from tqdm import tqdm

    generator = torch.Generator().manual_seed(config.seed)
    step = start_epoch * steps_per_epoch
    started = time.perf_counter()
    bar = tqdm(
        range(start_epoch, config.epochs), desc=f"ae-{config.variant}", disable=not config.progress
    )
    for epoch in bar:
        model.train()
        order = torch.randperm(len(train), generator=generator)
        for batch_index in range(steps_per_epoch):
            batch = train[
                order[batch_index * config.batch_size : (batch_index + 1) * config.batch_size]
            ]
            flip = torch.rand(len(batch), generator=generator) < 0.5
            batch[flip] = batch[flip].flip(-1)
            clean = batch.to(device).float() / 255.0
            loss, terms = _loss(model, clean, config, generator)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            log_losses(writer, step, {"total": loss, **terms})
        val_psnr = psnr(reconstruct(model, val), val.float() / 255.0)
        writer.add_scalar("val/psnr", val_psnr, step)
        writer.add_scalar(
            "charts/frames_per_s", step * config.batch_size / (time.perf_counter() - started), step
        )
        bar.set_postfix(loss=f"{loss.item():.4f}", val_psnr=f"{val_psnr:.2f}")
        state = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
        }
        save_checkpoint(checkpoint_path, CHECKPOINT_KIND, state, epoch=epoch + 1, **meta)

    test = load_frames(config.data, "test", size=size, limit=config.eval_limit)
    scores = evaluate_autoencoder(model, test, train, config.noise_sigma, seed=config.seed)
    for name, value in scores.items():
        writer.add_scalar(f"test/{name}", value, step)
    writer.close()
    clean = test[:8].float() / 255.0
    noisy = add_noise(clean, config.noise_sigma, torch.Generator().manual_seed(config.seed))
    rows = [clean, reconstruct(model, test[:8]), noisy, reconstruct(model, noisy)]
    if config.variant == "restoring":
        degraded = degrade(clean, torch.Generator().manual_seed(config.seed), clean_p=0.0)
        rows += [degraded, reconstruct(model, degraded)]
    save_grid(run_dir / "grid.png", rows)
    print_table(
        f"autoencoder {config.variant} ({config.arch}, {size}x{size}) on {len(test)} test frames",
        {config.variant: scores},
    )
    print(
        f"code {'x'.join(map(str, model.code_shape))} per {model.in_channels}x{size}x{size} frame "
        f"(compression {model.compression_ratio:.1f}x); "
        f"checkpoint {checkpoint_path}; image grid {run_dir / 'grid.png'}"
    )
    return scores


def main(argv: list[str] | None = None) -> None:
    import tyro

    train_autoencoder(tyro.cli(AutoencoderTrainConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
