"""Train a layout-to-frame generator on a rendered dataset: ``visiongym layout train``.

Example (the benchmark's setting: 200 real frames)::

    visiongym layout train --data data/soccer --train-limit 200 --epochs 40 --threads 1

pix2pix's recipe (Adam with betas 0.5/0.999, L1 plus adversarial loss) with a hinge loss on a
spectrally normalised PatchGAN critic, and BicycleGAN's look encoder: each training frame's look
code is encoded from the frame itself (with a KL term towards N(0, I)), so the L1 term asks for
*this* frame's light and colours rather than their average. The L1 term weighs the pixels of the
objects (dilated by one pixel) ``--object-weight`` times more than the background: a ball is
about ten pixels of 16,384.

Each epoch logs the losses and the validation L1 to TensorBoard (a sample grid about ten times a
run) and writes the checkpoint atomically (the same ``--run-dir`` resumes). At the end it prints a table on held-out
frames: L1 (0-1 scale) and PSNR of the frame drawn with the frame's own encoded look, the L1 of
the object pixels alone, the L1 with the mean look (z = 0), the spread between random looks, and
for reference the L1 of the mean training frame; ``samples.png`` shows, per column, the layout,
the real frame, the frame with its encoded look and two with random looks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError
from visiongym.vision.layout2img.layout import (
    LayoutFrames,
    colour_layout,
    layout_tensor,
    load_layout_frames,
)
from visiongym.vision.layout2img.models import LAYOUT_GANS, LayoutGAN
from visiongym.vision.metrics import print_table, psnr
from visiongym.vision.runs import RunOptions, load_state, log_losses, prepare_run, set_threads
from visiongym.vision.runtime import (
    CheckpointError,
    load_checkpoint,
    pick_device,
    save_checkpoint,
    seed_everything,
)

__all__ = [
    "CHECKPOINT_KIND",
    "LayoutTrainConfig",
    "train_layout2img",
    "load_layout_gan",
    "reconstruction_l1",
    "score_generator",
]

CHECKPOINT_KIND = "layout2img"
CHECKPOINT_NAME = "layout2img.pt"
DATA_KEYS = ("source", "camera", "size", "team_colours", "appearance", "seed")
"""The training dataset's settings kept in the checkpoint: new layouts are drawn with them."""

LayoutGanName = LAYOUT_GANS.choices()


@dataclass
class LayoutTrainConfig(RunOptions):
    """Train a pix2pix-style generator from class and instance masks to frames."""

    data: Path = Path("data/soccer")
    """Dataset folder written by visiongym render-data (it stores the exact masks used as layouts)."""
    model: LayoutGanName = "pix2pix_small"
    """Generator (builders in visiongym.vision.layout2img.models)."""
    epochs: int = 40
    """Passes over the training frames."""
    batch_size: int = 8
    """Frames per step."""
    lr: float = 5e-4
    """Adam learning rate of both networks (pix2pix's 2e-4 is for 200 epochs; this default is for 40)."""
    l1_weight: float = 20.0
    """Weight of the L1 term (frames in [-1, 1]); the adversarial term has weight 1."""
    object_weight: float = 5.0
    """How much more an object pixel counts in the L1 term than a background pixel."""
    kl_weight: float = 0.05
    """Weight of the look code's KL term towards N(0, I)."""
    look_dim: int = 8
    """Size of the look code."""
    train_limit: int | None = 200
    """Use only the first frames of the train split (None: all of them)."""
    eval_limit: int = 64
    """Validation frames scored each epoch and at the end."""
    seed: int = 0
    """Seed for torch, NumPy and Python."""
    run_dir: Path | None = None
    """Run folder (default runs/<data>__<model>__<seed>__<time>); an existing checkpoint there resumes."""


def load_layout_gan(path: str | Path, device: str | torch.device = "cpu") -> tuple[LayoutGAN, dict[str, Any]]:
    """Load a ``visiongym layout train`` checkpoint; return ``(model in eval mode, meta)``.

    Raises:
        CheckpointError: missing, corrupt, another kind of model, or an unknown architecture.
    """
    payload = load_checkpoint(path, kind=CHECKPOINT_KIND)
    meta = payload["meta"]
    if meta.get("model") not in LAYOUT_GANS:
        raise CheckpointError(
            f"checkpoint {str(path)!r} holds layout generator {meta.get('model')!r}; known: "
            f"{', '.join(LAYOUT_GANS.names())}"
        )
    model = LAYOUT_GANS.build(meta["model"], image_size=int(meta["image_size"]), look_dim=int(meta["look_dim"]))
    load_state(model, payload["state"]["model"], path, meta["model"], "visiongym layout train")
    return model.to(pick_device(device)).eval(), meta


def _object_weights(instance_masks: torch.Tensor, object_weight: float) -> torch.Tensor:
    """(N, 1, H, W) L1 weights: ``object_weight`` on object pixels and their 1-pixel rim, else 1."""
    objects = F.max_pool2d((instance_masks[:, None] > 0).float(), 3, stride=1, padding=1)
    return 1.0 + (object_weight - 1.0) * objects


def _unit(images: torch.Tensor) -> torch.Tensor:
    return images.float() / 127.5 - 1.0


@torch.no_grad()
def reconstruction_l1(model: LayoutGAN, frames: LayoutFrames, batch_size: int = 32) -> float:
    """Mean L1 (0-1 scale) between each frame and the frame generated from its layout and its own look."""
    device = next(model.parameters()).device
    total = 0.0
    for start in range(0, len(frames), batch_size):
        real = frames.images[start : start + batch_size]
        part = slice(start, start + batch_size)
        fake = model.generate(layout_tensor(frames.class_masks[part], frames.instance_masks[part]),
                              model.encode_looks(real.to(device)))
        total += float(((fake.float() - real.float()).abs() / 255.0).mean(dim=(1, 2, 3)).sum())
    return total / len(frames)


@torch.no_grad()
def score_generator(model: LayoutGAN, frames: LayoutFrames, seed: int = 0, batch_size: int = 32) -> dict[str, float]:
    """Held-out scores of a generator on frames with layouts (see the module docstring)."""
    device = next(model.parameters()).device
    looks = torch.Generator().manual_seed(seed)
    totals = {"l1": 0.0, "l1_objects": 0.0, "l1_mean_look": 0.0, "look_spread": 0.0}
    object_pixels, generated = 0.0, []
    for start in range(0, len(frames), batch_size):
        real = frames.images[start : start + batch_size]
        layout = layout_tensor(frames.class_masks[start : start + batch_size], frames.instance_masks[start : start + batch_size])
        fake = model.generate(layout, model.encode_looks(real.to(device)))
        generated.append(fake)
        error = (fake.float() - real.float()).abs() / 255.0
        objects = (frames.instance_masks[start : start + batch_size] > 0)[:, None].float()
        totals["l1"] += float(error.mean(dim=(1, 2, 3)).sum())
        totals["l1_objects"] += float((error * objects).sum() / 3.0)
        object_pixels += float(objects.sum())
        mean_look = model.generate(layout, torch.zeros(len(real), model.look_dim))
        totals["l1_mean_look"] += float(((mean_look.float() - real.float()).abs() / 255.0).mean(dim=(1, 2, 3)).sum())
        variants = torch.stack([model.generate(layout, model.random_looks(len(real), looks)).float() / 255.0 for _ in range(4)])
        totals["look_spread"] += float(variants.std(dim=0).mean(dim=(1, 2, 3)).sum())
    fake = torch.cat(generated)
    scores = {
        "l1": totals["l1"] / len(frames),
        "psnr_db": psnr(fake.float() / 255.0, frames.images.float() / 255.0),
        "l1_objects": totals["l1_objects"] / max(object_pixels, 1.0),
        "l1_mean_look": totals["l1_mean_look"] / len(frames),
        "look_spread": totals["look_spread"] / len(frames),
    }
    return scores


def _sample_grid(model: LayoutGAN, frames: LayoutFrames, seed: int, count: int = 8) -> torch.Tensor:
    """Rows: layout, real frame, encoded look, two random looks; uint8 (5 * count, 3, H, W)."""
    count = min(count, len(frames))
    device = next(model.parameters()).device
    real = frames.images[:count]
    layout = layout_tensor(frames.class_masks[:count], frames.instance_masks[:count])
    looks = torch.Generator().manual_seed(seed)
    rows = [
        colour_layout(frames.class_masks[:count], frames.instance_masks[:count]),
        real,
        model.generate(layout, model.encode_looks(real.to(device))),
        model.generate(layout, model.random_looks(count, looks)),
        model.generate(layout, model.random_looks(count, looks)),
    ]
    return torch.cat(rows)


def train_layout2img(config: LayoutTrainConfig) -> dict[str, float]:
    """Train (or resume) the generator, print the held-out table and return its scores."""
    LAYOUT_GANS.check(config.model)
    for name in ("epochs", "batch_size", "eval_limit"):
        if getattr(config, name) < (0 if name == "epochs" else 1):
            raise UsageError(f"{name}={getattr(config, name)} is too small")
    set_threads(config.threads)
    seed_everything(config.seed)
    device = pick_device(config.device)
    train = load_layout_frames(config.data, "train", config.train_limit)
    held_out = load_layout_frames(config.data, "val", config.eval_limit)
    size = int(train.images.shape[-1])
    model = LAYOUT_GANS.build(config.model, image_size=size, look_dim=config.look_dim).to(device)
    run_dir, writer = prepare_run(config, config.data, config.model, config.run_dir)
    checkpoint_path = run_dir / CHECKPOINT_NAME
    meta = {
        "model": config.model,
        "image_size": size,
        "look_dim": config.look_dim,
        "data": {key: train.info.get(key) for key in DATA_KEYS},
        "train_frames": len(train),
    }
    generator_params = [*model.generator.parameters(), *model.look_encoder.parameters()]
    optim_g = torch.optim.Adam(generator_params, lr=config.lr, betas=(0.5, 0.999))
    optim_d = torch.optim.Adam(model.discriminator.parameters(), lr=config.lr, betas=(0.5, 0.999))
    start_epoch = 0
    if checkpoint_path.exists():
        payload = load_checkpoint(
            checkpoint_path, kind=CHECKPOINT_KIND, model=config.model, image_size=size, look_dim=config.look_dim
        )
        load_state(model, payload["state"]["model"], checkpoint_path, config.model, "visiongym layout train")
        optim_g.load_state_dict(payload["state"]["optim_g"])
        optim_d.load_state_dict(payload["state"]["optim_d"])
        start_epoch = int(payload["meta"]["epoch"])
        print(f"resuming {checkpoint_path} at epoch {start_epoch}")

    from tqdm import tqdm

    steps_per_epoch = max(1, len(train) // config.batch_size)
    step = start_epoch * steps_per_epoch
    started = time.perf_counter()
    bar = tqdm(range(start_epoch, config.epochs), desc=config.model, disable=not config.progress)
    for epoch in bar:
        model.train()
        # One stream per epoch: a resumed run draws the shuffles, flips and noise it would have.
        draws = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)
        order = torch.randperm(len(train), generator=draws)
        for index in range(steps_per_epoch):
            rows = order[index * config.batch_size : (index + 1) * config.batch_size]
            flip = (torch.rand(len(rows), generator=draws) < 0.5)[:, None, None]
            instance_masks = torch.where(flip, train.instance_masks[rows].flip(-1), train.instance_masks[rows])
            class_masks = torch.where(flip, train.class_masks[rows].flip(-1), train.class_masks[rows])
            real = _unit(torch.where(flip[:, None], train.images[rows].flip(-1), train.images[rows])).to(device)
            layout = layout_tensor(class_masks, instance_masks).to(device)
            weights = _object_weights(instance_masks, config.object_weight).to(device)

            mean, log_var = model.look_encoder(real)
            noise = torch.randn(mean.shape, generator=draws).to(device)
            fake = model.generator(layout, mean + torch.exp(0.5 * log_var) * noise)
            loss_d = (
                F.relu(1.0 - model.discriminator(layout, real)).mean()
                + F.relu(1.0 + model.discriminator(layout, fake.detach())).mean()
            )
            optim_d.zero_grad(set_to_none=True)
            loss_d.backward()
            optim_d.step()

            adversarial = -model.discriminator(layout, fake).mean()
            l1 = ((fake - real).abs() * weights).sum() / (weights.sum() * 3.0)
            kl = -0.5 * torch.mean(torch.sum(1 + log_var - mean.pow(2) - log_var.exp(), dim=1))
            loss_g = adversarial + config.l1_weight * l1 + config.kl_weight * kl
            optim_g.zero_grad(set_to_none=True)
            loss_g.backward()
            optim_g.step()
            step += 1
            log_losses(writer, step, {"discriminator": loss_d, "adversarial": adversarial, "l1": l1, "kl": kl})
        writer.add_scalar(
            "charts/frames_per_s",
            (step - start_epoch * steps_per_epoch) * config.batch_size / (time.perf_counter() - started),
            step,
        )
        model.eval()
        val_l1 = reconstruction_l1(model, held_out)
        writer.add_scalar("val/l1", val_l1, step)
        if (epoch + 1) % max(1, config.epochs // 10) == 0 or epoch + 1 == config.epochs:  # ~10 grids a run
            writer.add_images("samples", _sample_grid(model, held_out, config.seed), step)
        bar.set_postfix(l1=f"{l1.item():.3f}", val_l1=f"{val_l1:.4f}")
        state = {"model": model.state_dict(), "optim_g": optim_g.state_dict(), "optim_d": optim_d.state_dict()}
        save_checkpoint(checkpoint_path, CHECKPOINT_KIND, state, epoch=epoch + 1, **meta)
    if not checkpoint_path.exists():  # --epochs 0: keep the untrained model, so it can be scored
        state = {"model": model.state_dict(), "optim_g": optim_g.state_dict(), "optim_d": optim_d.state_dict()}
        save_checkpoint(checkpoint_path, CHECKPOINT_KIND, state, epoch=0, **meta)

    model.eval()
    scores = score_generator(model, held_out, config.seed)
    scores["train_l1"] = reconstruction_l1(model, _head(train, config.eval_limit))
    scores["mean_frame_l1"] = float(
        (held_out.images.float() - train.images.float().mean(0, keepdim=True)).abs().mean() / 255.0
    )
    from torchvision.utils import save_image

    grid = _sample_grid(model, held_out, config.seed)
    save_image(grid.float() / 255.0, run_dir / "samples.png", nrow=min(8, len(held_out)), padding=2)
    writer.close()
    print_table(
        f"{config.model} on {len(held_out)} held-out layouts ({size}x{size}), trained on {len(train)} frames",
        {config.model: scores},
    )
    print(
        f"checkpoint {checkpoint_path}; samples (layout, real, own look, 2 random looks) {run_dir / 'samples.png'}"
    )
    return scores


def _head(frames: LayoutFrames, count: int) -> LayoutFrames:
    return LayoutFrames(
        frames.images[:count], frames.class_masks[:count], frames.instance_masks[:count], frames.records[:count], frames.info
    )


def main(argv: list[str] | None = None) -> None:
    import tyro

    train_layout2img(tyro.cli(LayoutTrainConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
