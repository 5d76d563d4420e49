"""Train a GAN on rendered frames: ``visiongym gan train`` (``python -m visiongym.vision.gan.train``).

Examples::

    visiongym gan train --data data/soccer64 --model dcgan --threads 1     # CPU default, minutes
    visiongym gan train --data data/soccer64 --model sngan --threads 1
    visiongym gan train --data data/soccer --model sngan_resnet --width 64 --latent-dim 128 \\
        --batch-size 64 --steps 40000 --diffaug colour translation cutout   # GPU, hours

Models (:data:`visiongym.vision.gan.models.GANS`): ``dcgan``, the course's baseline (batch norm,
LeakyReLU critic without batch norm on its first layer, N(0, 0.02) weights, Adam 2e-4 / beta1
0.5, non-saturating loss with one-sided label smoothing); ``sngan``, the same generator against
a spectrally normalised critic with the hinge loss; ``sngan_resnet``, SNGAN's ResNets (a GPU
model). The CPU default (64 px, width 16, batches of 32, 1,200 steps) takes about 90 s of CPU. Every run keeps an EMA of the generator
(:mod:`visiongym.vision.gan.ema`) that draws the samples; ``--diffaug`` adds differentiable
augmentation (:mod:`visiongym.vision.gan.diffaug`), the standard fix for small-data collapse.

One step is one generator update after ``--n-dis`` discriminator updates. Every
``--save-every`` steps the run writes an 8 x 8 grid of EMA samples from fixed noise
(``samples/step_NNNNNN.png``, also in TensorBoard with the losses and the colour-histogram
distance to held-out frames) and its checkpoint ``<model>.pt`` atomically: generator,
discriminator, EMA, both optimisers, the random stream and the step. Rerunning with the same
``--run-dir`` resumes where it stopped and draws the same batches and noise as an uninterrupted
run. The final table compares generated with held-out frames: the discriminator's accuracy, the
colour mean/std gap, the colour-histogram distance and the spread between frames (a collapsed
generator draws near-identical frames).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError
from visiongym.vision.data.dataset import load_frames
from visiongym.vision.gan.diffaug import POLICIES, check_policies, diff_augment
from visiongym.vision.gan.ema import GeneratorEMA, recalibrate_batch_norm
from visiongym.vision.gan.generate import load_generator, save_frame_grid
from visiongym.vision.gan.losses import discriminator_loss, generator_loss
from visiongym.vision.gan.models import GANS, GanSpec, to_signed
from visiongym.vision.metrics import print_table
from visiongym.vision.runs import RunOptions, load_state, log_losses, prepare_run, set_threads
from visiongym.vision.runtime import (
    CheckpointError,
    load_checkpoint,
    pick_device,
    save_checkpoint,
    seed_everything,
)

__all__ = [
    "GanTrainConfig",
    "train_gan",
    "load_generator",
    "colour_moment_gap",
    "colour_histogram_distance",
    "frame_spread",
]

GanName = GANS.choices()
"""The ``--model`` choices."""
DiffAugPolicy = Literal[POLICIES]
_TRAINER = "visiongym gan train"


@dataclass
class GanTrainConfig(RunOptions):
    """Train a GAN (DCGAN or SNGAN) on the frames of a rendered dataset."""

    data: Path = Path("data/soccer")
    """Dataset folder written by visiongym render-data (train split for training, val for scores)."""
    model: GanName = "dcgan"
    """dcgan: the baseline; sngan: spectral-norm CNN critic, hinge loss; sngan_resnet: ResNets (GPU)."""
    image_size: int = 64
    """Square frame size (power of two >= 16); frames are resized to it."""
    steps: int = 1200
    """Generator updates (each after --n-dis discriminator updates)."""
    epochs: float | None = None
    """Instead of --steps: passes of the discriminator over the training frames."""
    batch_size: int = 32
    """Frames per discriminator and generator update."""
    latent_dim: int = 64
    """Noise vector size."""
    width: int = 16
    """Channels at the finest resolution (doubling at each coarser one)."""
    loss: Literal["auto", "nonsaturating", "hinge"] = "auto"
    """auto: the model's own (dcgan nonsaturating, sngan hinge)."""
    lr_g: float | None = None
    """Generator Adam learning rate (default: the model's, 2e-4; betas are the model's)."""
    lr_d: float | None = None
    """Discriminator Adam learning rate (default: the model's, 2e-4)."""
    n_dis: int | None = None
    """Discriminator updates per generator update (default: the model's; dcgan, sngan 1, sngan_resnet 5)."""
    label_smoothing: float = 0.1
    """One-sided: real frames are labelled 1 - this (nonsaturating loss only)."""
    diffaug: tuple[DiffAugPolicy, ...] = ()
    """DiffAugment policies applied to every frame the discriminator sees (colour translation cutout)."""
    ema_decay: float = 0.999
    """Decay of the generator's EMA (warmed up; see visiongym.vision.gan.ema)."""
    save_every: int = 250
    """Steps between checkpoints and sample grids."""
    train_limit: int | None = None
    """Use only the first frames of the train split."""
    seed: int = 0
    """Seed for torch, NumPy and Python, batches and noise."""
    run_dir: Path | None = None
    """Run folder (default runs/<data>__<model>__<seed>__<time>); an existing checkpoint there resumes."""


@dataclass(frozen=True)
class _Recipe:
    loss: str
    lr_g: float
    lr_d: float
    n_dis: int


def _recipe(config: GanTrainConfig, spec: GanSpec) -> _Recipe:
    """The config's choices, the model's defaults where the config leaves them open; checked."""
    recipe = _Recipe(
        loss=spec.loss if config.loss == "auto" else config.loss,
        lr_g=spec.lr_g if config.lr_g is None else config.lr_g,
        lr_d=spec.lr_d if config.lr_d is None else config.lr_d,
        n_dis=spec.n_dis if config.n_dis is None else config.n_dis,
    )
    for name, value, ok in (
        ("steps", config.steps, config.steps >= 0),
        ("batch-size", config.batch_size, config.batch_size >= 1),
        ("n-dis", recipe.n_dis, recipe.n_dis >= 1),
        ("save-every", config.save_every, config.save_every >= 1),
        ("label-smoothing", config.label_smoothing, 0.0 <= config.label_smoothing < 1.0),
        ("lr-g", recipe.lr_g, recipe.lr_g > 0),
        ("lr-d", recipe.lr_d, recipe.lr_d > 0),
    ):
        if not ok:
            raise UsageError(f"--{name} {value} is out of range")
    check_policies(config.diffaug)
    return recipe


def colour_moment_gap(generated: torch.Tensor, real: torch.Tensor) -> float:
    """Mean over RGB of |mean_gen - mean_real| + |std_gen - std_real|, in 0-255 units."""
    g, r = generated.float().transpose(0, 1).flatten(1), real.float().transpose(0, 1).flatten(1)
    return float(((g.mean(1) - r.mean(1)).abs() + (g.std(1) - r.std(1)).abs()).mean())


def _colour_histogram(frames: torch.Tensor, bins: int) -> torch.Tensor:
    cells = (frames.long() * bins // 256).transpose(0, 1).flatten(1)  # 3 x pixels
    index = (cells[0] * bins + cells[1]) * bins + cells[2]
    counts = torch.bincount(index, minlength=bins**3).float()
    return counts / counts.sum()


def colour_histogram_distance(generated: torch.Tensor, real: torch.Tensor, bins: int = 4) -> float:
    """Total-variation distance (0: same, 1: disjoint) between joint RGB histograms of uint8 frames.

    ``bins`` per channel, so ``bins**3`` colour cells; frames are N x 3 x H x W.
    """
    return 0.5 * float(
        (_colour_histogram(generated, bins) - _colour_histogram(real, bins)).abs().sum()
    )


def frame_spread(frames: torch.Tensor) -> float:
    """Mean RMS difference between two different frames (0-255 units); 0 for identical frames."""
    flat = frames.float().flatten(1)
    if len(flat) < 2:
        return 0.0
    distances = torch.cdist(flat, flat) / math.sqrt(flat.shape[1])
    return float(distances.sum() / (len(flat) * (len(flat) - 1)))


class _Batches:
    """The discriminator's batches: a fresh permutation of the frames each epoch, seeded by epoch.

    Batch ``i`` depends only on ``i`` and the seed, so a resumed run reads the batches an
    uninterrupted one would.
    """

    def __init__(self, frames: torch.Tensor, batch_size: int, seed: int) -> None:
        self.frames, self.batch_size, self.seed = frames, min(batch_size, len(frames)), seed
        self.per_epoch = len(frames) // self.batch_size
        self._epoch, self._order = -1, torch.empty(0, dtype=torch.long)

    def __getitem__(self, index: int) -> torch.Tensor:
        epoch, position = divmod(index, self.per_epoch)
        if epoch != self._epoch:
            shuffle = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._epoch, self._order = epoch, torch.randperm(len(self.frames), generator=shuffle)
        start = position * self.batch_size
        return self.frames[self._order[start : start + self.batch_size]]


def _resume(
    path: Path,
    model: str,
    meta: dict,
    modules: dict[str, torch.nn.Module | torch.optim.Optimizer],
    rng: torch.Generator,
) -> int:
    """Load the checkpoint in the run folder into the modules; return its step."""
    payload = load_checkpoint(path, kind=model, **meta)  # another architecture: refused by name
    if "step" not in payload["meta"]:
        raise CheckpointError(
            f"checkpoint {str(path)!r} was written by the first release's DCGAN trainer (epochs, no "
            f"EMA): visiongym gan sample and gan mix still read it, but it cannot resume; "
            f"train in a new --run-dir"
        )
    for key, module in modules.items():
        if isinstance(module, torch.nn.Module):
            load_state(module, payload["state"][key], path, model, _TRAINER)
        else:
            module.load_state_dict(payload["state"][key])
    rng.set_state(payload["state"]["rng"])
    return int(payload["meta"]["step"])


@torch.no_grad()
def _snapshot(ema: GeneratorEMA, seed: int, count: int) -> torch.Tensor:
    """``count`` EMA frames (uint8) from the run's fixed noise, after re-measuring batch norm."""
    recalibrate_batch_norm(ema.module, seed=seed + 2)
    return ema.module.sample(count, torch.Generator().manual_seed(seed + 1))


def train_gan(config: GanTrainConfig) -> dict[str, float]:
    """Train (or resume) the GAN, print the table and return its scores."""
    spec = GANS.build(config.model)
    recipe = _recipe(config, spec)
    set_threads(config.threads)
    seed_everything(config.seed)
    device = pick_device(config.device)
    real = load_frames(config.data, "train", size=config.image_size, limit=config.train_limit)
    held_out = load_frames(config.data, "val", size=config.image_size, limit=256)
    steps = config.steps
    if config.epochs is not None:
        steps = math.ceil(
            config.epochs * len(real) / (min(config.batch_size, len(real)) * recipe.n_dis)
        )
    run_dir, writer = prepare_run(config, config.data, config.model, config.run_dir)
    checkpoint_path = run_dir / f"{config.model}.pt"

    arch = {"image_size": config.image_size, "latent_dim": config.latent_dim, "width": config.width}
    generator = spec.generator(**arch).to(device)
    discriminator = spec.discriminator(image_size=config.image_size, width=config.width).to(device)
    ema = GeneratorEMA(generator, config.ema_decay)
    betas = spec.betas
    optim_g = torch.optim.Adam(generator.parameters(), lr=recipe.lr_g, betas=betas)
    optim_d = torch.optim.Adam(discriminator.parameters(), lr=recipe.lr_d, betas=betas)
    rng = torch.Generator().manual_seed(config.seed)  # noise, flips and DiffAugment draws
    modules = {
        "generator": generator,
        "discriminator": discriminator,
        "ema": ema.module,
        "optim_g": optim_g,
        "optim_d": optim_d,
    }
    step = 0
    if checkpoint_path.exists():
        step = _resume(checkpoint_path, config.model, arch, modules, rng)
        print(f"resuming {checkpoint_path} at step {step}")

    def save(step: int) -> None:
        grid = _snapshot(ema, config.seed, 64)
        save_frame_grid(run_dir / "samples" / f"step_{step:06d}.png", grid)
        writer.add_images("samples/ema", grid[:16], step)
        writer.add_scalar(
            "scores/colour_histogram_distance", colour_histogram_distance(grid, held_out), step
        )
        state = {key: module.state_dict() for key, module in modules.items()}
        save_checkpoint(
            checkpoint_path,
            config.model,
            {**state, "rng": rng.get_state()},
            step=step,
            ema_decay=config.ema_decay,
            loss=recipe.loss,
            data=str(config.data),
            **arch,
        )

    from tqdm import tqdm

    batches = _Batches(real, config.batch_size, config.seed)
    augment = lambda images: diff_augment(images, config.diffaug, rng)  # noqa: E731
    nan = torch.tensor(float("nan"))
    loss_d = loss_g = nan  # stay nan when a finished run only re-scores
    started, first_step = time.perf_counter(), step
    bar = tqdm(total=steps, initial=step, desc=config.model, disable=not config.progress)
    while step < steps:
        for k in range(recipe.n_dis):
            batch = batches[step * recipe.n_dis + k]
            flip = torch.rand(len(batch), generator=rng) < 0.5
            batch = torch.where(flip[:, None, None, None], batch.flip(-1), batch)
            batch = to_signed(batch.to(device))
            noise = torch.randn(len(batch), config.latent_dim, generator=rng).to(device)
            last = k == recipe.n_dis - 1  # the generator's update reuses the last fake batch
            with torch.set_grad_enabled(last):
                fake = generator(noise)
            real_scores = discriminator(augment(batch))
            fake_scores = discriminator(augment(fake.detach()))
            loss_d = discriminator_loss(
                recipe.loss, real_scores, fake_scores, config.label_smoothing
            )
            optim_d.zero_grad(set_to_none=True)
            loss_d.backward()
            optim_d.step()
        discriminator.requires_grad_(False)  # the generator's step needs no critic weight grads
        loss_g = generator_loss(recipe.loss, discriminator(augment(fake)))
        optim_g.zero_grad(set_to_none=True)
        loss_g.backward()
        optim_g.step()
        discriminator.requires_grad_(True)
        ema.update(generator, step)
        step += 1
        bar.update(1)
        log_losses(
            writer,
            step,
            {
                "discriminator": loss_d,
                "generator": loss_g,
                "d_real": real_scores.mean(),
                "d_fake": fake_scores.mean(),
            },
        )
        if step % 10 == 0:
            bar.set_postfix(loss_d=f"{loss_d.item():.3f}", loss_g=f"{loss_g.item():.3f}")
            elapsed = time.perf_counter() - started
            writer.add_scalar("charts/steps_per_s", (step - first_step) / elapsed, step)
        if step % config.save_every == 0 or step == steps:
            save(step)
    bar.close()
    if not checkpoint_path.exists():  # --steps 0: still leave a loadable (untrained) checkpoint
        save(step)
    seconds = time.perf_counter() - started

    generated = _snapshot(ema, config.seed, len(held_out))
    raw = generator.sample(len(held_out), torch.Generator().manual_seed(config.seed + 1))
    # Batch statistics, as in training: in eval mode DCGAN's critic normalises with running
    # statistics of mixed real and generated batches, and then calls every held-out frame fake.
    discriminator.train()
    with torch.no_grad():
        real_accuracy = float((discriminator(held_out.to(device)) > 0).float().mean())
        fake_accuracy = float((discriminator(generated.to(device)) < 0).float().mean())
    train_sample = real[: len(held_out)]
    scores = {
        "steps": float(step),
        "train_seconds": seconds,
        "loss_d": loss_d.item(),
        "loss_g": loss_g.item(),
        "d_acc_real_heldout": real_accuracy,
        "d_acc_generated": fake_accuracy,
        "colour_gap_generated": colour_moment_gap(generated, held_out),
        "colour_gap_train_vs_heldout": colour_moment_gap(train_sample, held_out),
        "colour_hist_generated": colour_histogram_distance(generated, held_out),
        "colour_hist_raw": colour_histogram_distance(raw, held_out),
        "colour_hist_train_vs_heldout": colour_histogram_distance(train_sample, held_out),
        "spread_generated": frame_spread(generated[:64]),
        "spread_heldout": frame_spread(held_out[:64]),
    }
    from visiongym.vision.autoencoders.evaluate import save_grid

    save_grid(
        run_dir / "samples.png",
        [generated[:8].float() / 255, generated[8:16].float() / 255, held_out[:8].float() / 255],
    )
    writer.close()
    print_table(
        f"{config.model} {config.image_size}x{config.image_size}, {step} steps on {len(real)} frames "
        f"(generated: EMA; raw: last step's generator)",
        {config.model: scores},
    )
    print(
        f"checkpoint {checkpoint_path}; samples (2 generated rows, 1 real row) {run_dir / 'samples.png'}; "
        f"grids {run_dir / 'samples'}"
    )
    return scores


def main(argv: list[str] | None = None) -> dict[str, float]:
    import tyro

    return train_gan(tyro.cli(GanTrainConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
