"""Train a DCGAN on rendered frames: ``python -m visiongym.vision.gan.train``.

Example::

    python -m visiongym.vision.gan.train --data data/soccer --image-size 64 --epochs 40 --train-limit 500

Standard DCGAN recipe (Adam 2e-4, betas 0.5/0.999, non-saturating loss). Logs losses and sample
grids to TensorBoard, writes the checkpoint atomically each epoch (the same ``--run-dir``
resumes), and prints a table: losses, the discriminator's accuracy on held-out real and on fresh
generated frames, and the gap between per-channel colour mean/std of generated and real frames.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn import functional as F

from visiongym.envs.cli import run_command
from visiongym.vision.data.dataset import load_frames
from visiongym.vision.gan.models import Discriminator, Generator, init_weights
from visiongym.vision.metrics import print_table
from visiongym.vision.runs import RunOptions, load_state, log_losses, prepare_run, set_threads
from visiongym.vision.runtime import (
    CheckpointError,
    load_checkpoint,
    pick_device,
    save_checkpoint,
    seed_everything,
)

__all__ = ["CHECKPOINT_KIND", "GanTrainConfig", "train_gan", "load_generator", "colour_moment_gap"]

CHECKPOINT_KIND = "dcgan"


@dataclass
class GanTrainConfig(RunOptions):
    """Train a DCGAN on the frames of a rendered dataset."""

    data: Path = Path("data/soccer")
    """Dataset folder written by visiongym.vision.data.render_soccer."""
    image_size: int = 64
    """Square frame size (power of two >= 16); frames are resized to it."""
    epochs: int = 40
    """Passes over the training frames."""
    batch_size: int = 64
    """Frames per step."""
    lr: float = 2e-4
    """Adam learning rate of both networks."""
    latent_dim: int = 64
    """Noise vector size."""
    width: int = 32
    """Channels of the widest-resolution layer (doubles per stage)."""
    train_limit: int | None = None
    """Use only the first frames of the train split."""
    seed: int = 0
    """Seed for torch, NumPy and Python."""
    run_dir: Path | None = None
    """Run folder (default runs/<data>__dcgan__<seed>__<time>); an existing checkpoint there resumes."""


def colour_moment_gap(generated: torch.Tensor, real: torch.Tensor) -> float:
    """Mean over RGB of |mean_gen - mean_real| + |std_gen - std_real|, in 0-255 units."""
    g, r = generated.float().transpose(0, 1).flatten(1), real.float().transpose(0, 1).flatten(1)
    return float(((g.mean(1) - r.mean(1)).abs() + (g.std(1) - r.std(1)).abs()).mean())


def load_generator(path: str | Path, device: str | torch.device = "cpu") -> tuple[Generator, dict]:
    """Load the generator of a DCGAN checkpoint; return ``(generator in eval mode, meta)``."""
    payload = load_checkpoint(path, kind=CHECKPOINT_KIND)
    meta = payload["meta"]
    if (
        not {"latent_dim", "image_size", "width"} <= set(meta)
        or "generator" not in payload["state"]
    ):
        raise CheckpointError(f"checkpoint {str(path)!r} is not a complete DCGAN checkpoint")
    generator = Generator(meta["latent_dim"], meta["image_size"], meta["width"])
    load_state(generator, payload["state"]["generator"], path, "dcgan", "visiongym.vision.gan.train")
    return generator.to(pick_device(device)).eval(), meta


def train_gan(config: GanTrainConfig) -> dict[str, float]:
    """Train (or resume) the DCGAN, print the table and return its scores."""
    set_threads(config.threads)
    seed_everything(config.seed)
    device = pick_device(config.device)
    real = load_frames(config.data, "train", size=config.image_size, limit=config.train_limit)
    held_out = load_frames(config.data, "val", size=config.image_size, limit=256)
    run_dir, writer = prepare_run(config, config.data, "dcgan", config.run_dir)
    checkpoint_path = run_dir / "dcgan.pt"
    generator = Generator(config.latent_dim, config.image_size, config.width).to(device)
    discriminator = Discriminator(config.image_size, config.width).to(device)
    generator.apply(init_weights)
    discriminator.apply(init_weights)
    optim_g = torch.optim.Adam(generator.parameters(), lr=config.lr, betas=(0.5, 0.999))
    optim_d = torch.optim.Adam(discriminator.parameters(), lr=config.lr, betas=(0.5, 0.999))
    meta = {"image_size": config.image_size, "latent_dim": config.latent_dim, "width": config.width}
    start_epoch = 0
    if checkpoint_path.exists():
        payload = load_checkpoint(checkpoint_path, kind=CHECKPOINT_KIND, **meta)
        for module, key in (
            (generator, "generator"),
            (discriminator, "discriminator"),
            (optim_g, "optim_g"),
            (optim_d, "optim_d"),
        ):
            module.load_state_dict(payload["state"][key])
        start_epoch = int(payload["meta"]["epoch"])
        print(f"resuming {checkpoint_path} at epoch {start_epoch}")

    from tqdm import tqdm

    shuffle = torch.Generator().manual_seed(config.seed)
    fixed_noise = torch.Generator().manual_seed(config.seed + 1)
    steps_per_epoch = max(1, len(real) // config.batch_size)
    step = start_epoch * steps_per_epoch
    started = time.perf_counter()
    loss_d = loss_g = torch.tensor(float("nan"))  # reported as nan when a finished run only re-scores
    for epoch in tqdm(range(start_epoch, config.epochs), desc="dcgan", disable=not config.progress):
        order = torch.randperm(len(real), generator=shuffle)
        for index in range(steps_per_epoch):
            batch = real[order[index * config.batch_size : (index + 1) * config.batch_size]]
            flip = torch.rand(len(batch), generator=shuffle) < 0.5
            batch[flip] = batch[flip].flip(-1)
            batch = batch.to(device)
            noise = torch.randn(len(batch), config.latent_dim, device=device)
            fake = generator(noise)
            ones, zeros = (
                torch.ones(len(batch), device=device),
                torch.zeros(len(batch), device=device),
            )
            loss_d = F.binary_cross_entropy_with_logits(
                discriminator(batch), ones * 0.9
            ) + F.binary_cross_entropy_with_logits(
                discriminator(fake.detach()), zeros
            )  # one-sided label smoothing (0.9) keeps the critic from saturating early
            optim_d.zero_grad(set_to_none=True)
            loss_d.backward()
            optim_d.step()
            loss_g = F.binary_cross_entropy_with_logits(discriminator(fake), ones)
            optim_g.zero_grad(set_to_none=True)
            loss_g.backward()
            optim_g.step()
            step += 1
            log_losses(writer, step, {"discriminator": loss_d, "generator": loss_g})
        writer.add_scalar(
            "charts/frames_per_s",
            (step - start_epoch * steps_per_epoch)
            * config.batch_size
            / (time.perf_counter() - started),
            step,
        )
        samples = generator.sample(16, torch.Generator().manual_seed(config.seed + 1))
        writer.add_images("samples", samples, step)
        state = {
            "generator": generator.state_dict(),
            "discriminator": discriminator.state_dict(),
            "optim_g": optim_g.state_dict(),
            "optim_d": optim_d.state_dict(),
        }
        save_checkpoint(checkpoint_path, CHECKPOINT_KIND, state, epoch=epoch + 1, **meta)

    generated = generator.sample(len(held_out), fixed_noise)
    discriminator.eval()
    with torch.no_grad():
        real_accuracy = float((discriminator(held_out.to(device)) > 0).float().mean())
        fake_accuracy = float((discriminator(generated.to(device)) < 0).float().mean())
    scores = {
        "loss_d": loss_d.item(),
        "loss_g": loss_g.item(),
        "d_acc_real_heldout": real_accuracy,
        "d_acc_generated": fake_accuracy,
        "colour_gap_generated": colour_moment_gap(generated, held_out),
        "colour_gap_train_vs_heldout": colour_moment_gap(real[: len(held_out)], held_out),
    }
    from visiongym.vision.autoencoders.evaluate import save_grid

    save_grid(
        run_dir / "samples.png",
        [generated[:8].float() / 255, generated[8:16].float() / 255, held_out[:8].float() / 255],
    )
    writer.close()
    print_table(
        f"DCGAN {config.image_size}x{config.image_size} trained on {len(real)} frames",
        {"dcgan": scores},
    )
    print(
        f"checkpoint {checkpoint_path}; samples (2 generated rows, 1 real row) {run_dir / 'samples.png'}"
    )
    return scores


def main(argv: list[str] | None = None) -> None:
    import tyro

    train_gan(tyro.cli(GanTrainConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
