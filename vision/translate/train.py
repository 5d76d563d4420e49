"""Train a translation model on re-rendered frames: ``visiongym translate train``.

Examples (CPU-sized defaults: 64 px, a few minutes on one thread)::

    visiongym render-data --appearance default --size 64 --frames 900 --depth none --out data/translate
    visiongym translate train --model cyclegan --data data/translate --look-a default --look-b evening
    visiongym translate train --model stargan --data data/translate --attributes light time_of_day pitch kits

The dataset's states are rendered again in the looks the model translates between
(:mod:`visiongym.vision.translate.frames`), so any soccer dataset will do. Losses go to
TensorBoard, a sample grid (``samples.png``, also in TensorBoard) and the checkpoint
(``translator.pt``, written atomically) every ``--checkpoint-every`` steps; the same
``--run-dir`` resumes, and a larger ``--steps`` there trains on. The checkpoint records its model
(``kind`` ``cyclegan`` or ``stargan``), so a run folder of the other model is refused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError
from visiongym.vision.metrics import print_table
from visiongym.vision.runs import RunOptions, load_state, log_losses, prepare_run, set_threads
from visiongym.vision.runtime import (
    CheckpointError,
    load_checkpoint,
    pick_device,
    save_checkpoint,
    seed_everything,
)
from visiongym.vision.translate.frames import read_states
from visiongym.vision.translate.looks import ATTRIBUTES
from visiongym.vision.translate.models import TRANSLATORS, check_image_size

__all__ = ["TranslateTrainConfig", "train_translator", "load_translator", "CHECKPOINT_NAME", "KINDS"]

CHECKPOINT_NAME = "translator.pt"
WEIGHTS = ("ema", "raw")
KINDS = TRANSLATORS.names()


@dataclass
class TranslateTrainConfig(RunOptions):
    """Train CycleGAN (two looks, unpaired) or StarGAN (several attributes, one generator) on re-rendered frames."""

    model: Literal["cyclegan", "stargan"] = "cyclegan"
    """cyclegan: between --look-a and --look-b; stargan: between every combination of --attributes."""
    data: Path = Path("data/translate")
    """A soccer dataset (visiongym render-data): its train split's states are rendered again in each look."""
    look_a: str = "default"
    """CycleGAN's first look: default, evening, held_out, a shift (light_dim, ...) or key=value,..."""
    look_b: str = "evening"
    """CycleGAN's second look."""
    attributes: tuple[str, ...] = tuple(ATTRIBUTES)
    """StarGAN's attributes (visiongym.vision.translate.looks.ATTRIBUTES): light, time_of_day, pitch, kits."""
    image_size: int = 64
    """Square frame side the model works at (frames are rendered at it)."""
    train_limit: int | None = None
    """Use only the first states of the train split."""
    steps: int = 1200
    """Optimiser steps (StarGAN: critic steps; the generator takes one every --critic-steps)."""
    batch_size: int = 4
    """Frames per look (CycleGAN) or per step (StarGAN)."""
    lr: float | None = None
    """Adam learning rate (default: 2e-4 CycleGAN, 3e-4 StarGAN); constant, then linear to 0 over the second half."""
    width: int = 16
    """Generator channels after its stem (doubling at each of its 2 downsamplings)."""
    blocks: int = 4
    """Generator residual blocks (the reference: 9 at 256 px, 6 at 128)."""
    norm: Literal["instance", "batch", "none"] | None = None
    """Generator normalisation (default: instance for CycleGAN, as the reference; none for StarGAN, whose
    instance norm would erase the tiled label and each frame's light level, the very things it changes)."""
    head: Literal["residual", "affine"] = "affine"
    """StarGAN: the generator's head: affine (a colour transform per pixel, A x + b, that also sees the label) or
    residual (a change added to the input; CycleGAN's generator always has it)."""
    disc_width: int = 32
    """Discriminator (critic) channels of its first layer."""
    cycle_weight: float = 10.0
    """CycleGAN: weight of the cycle L1 loss."""
    identity_weight: float = 0.5
    """CycleGAN: identity loss weight, times --cycle-weight."""
    pool_size: int = 50
    """CycleGAN: past fakes kept for the discriminators."""
    cls_weight: float = 1.0
    """StarGAN: weight of the attribute classification losses."""
    g_cls_weight: float | None = None
    """StarGAN: weight of the generator's classification loss on its translations (default: --cls-weight)."""
    critic_classifier: Literal["shared", "separate", "both"] = "both"
    """StarGAN: the critic's attribute classifier: shared (from its scoring trunk, the reference), separate
    (a batch-norm classifier of its own, which learns the few-pixel kits the unnormalised trunk misses) or both."""
    cls_warmup: int = 1000
    """StarGAN: steps (of --batch-size real frames, Adam 1e-3) training the critic's classifier alone before the GAN starts."""
    rec_weight: float = 10.0
    """StarGAN: weight of the reconstruction L1 loss."""
    gp_weight: float = 10.0
    """StarGAN: weight of the WGAN-GP gradient penalty."""
    critic_steps: int = 5
    """StarGAN: critic steps per generator step."""
    ema_decay: float | None = None
    """StarGAN: keep an exponential moving average of the generator's weights with this decay (warmed up,
    as visiongym gan train does; StarGAN v2 uses 0.999), and translate with it; None: no average."""
    checkpoint_every: int = 200
    """Steps between checkpoints and sample grids."""
    seed: int = 0
    """Seed for torch, NumPy and Python."""
    run_dir: Path | None = None
    """Run folder (default runs/<data>__<model>__<seed>__<time>); a checkpoint there resumes."""


def lr_factor(step: int, steps: int) -> float:
    """1 for the first half of the run, then falling linearly to 0 at its end (CycleGAN's schedule)."""
    half = steps // 2
    return 1.0 if step < half else max(0.0, 1.0 - (step - half) / max(1, steps - half))


def _check(config: TranslateTrainConfig) -> None:
    TRANSLATORS.check(config.model)
    check_image_size(config.image_size, 2)
    if config.ema_decay is not None and not 0.0 <= config.ema_decay < 1.0:
        raise UsageError(f"ema-decay={config.ema_decay} must lie in [0, 1)")
    if config.ema_decay is not None and config.model != "stargan":
        raise UsageError(f"--ema-decay is a StarGAN option; model {config.model!r} keeps no average")
    for name in ("steps", "batch_size", "checkpoint_every", "critic_steps", "width", "blocks", "disc_width", "cls_warmup"):
        if getattr(config, name) < (0 if name in ("steps", "blocks", "cls_warmup") else 1):
            raise UsageError(f"{name.replace('_', '-')}={getattr(config, name)} must be positive")


def load_translator(path: str | Path, device: str | torch.device = "cpu", kind: str | None = None,
                    weights: str = "ema"):
    """The translation model of a checkpoint (generators only, eval mode) and the checkpoint's meta.

    Args:
        path: a ``translator.pt`` written by ``visiongym translate train``.
        kind: ``cyclegan`` or ``stargan`` to accept only that model (default: either).
        weights: ``ema`` (the averaged generator of a StarGAN trained with ``--ema-decay``; the
            last step's weights where the run kept no average) or ``raw`` (the last step's).
    """
    if weights not in WEIGHTS:
        raise UsageError(f"weights {weights!r} unknown; choose one of: {', '.join(WEIGHTS)}")
    payload = load_checkpoint(path, kind=kind or KINDS)
    model = TRANSLATORS.get(payload["kind"])
    try:
        translator = model(payload["meta"], pick_device(device))
    except (KeyError, TypeError) as error:
        raise CheckpointError(f"checkpoint {str(path)!r} is not a complete {payload['kind']} checkpoint ({error})") from error
    for name, generator in _generators(translator).items():
        key = f"generator_{name}" if name else "generator"
        if weights == "ema" and f"{key}_ema" in payload["state"]:
            key = f"{key}_ema"
        if key not in payload["state"]:
            raise CheckpointError(f"checkpoint {str(path)!r} lacks {key!r}; retrain it with visiongym translate train")
        load_state(generator, payload["state"][key], path, payload["kind"], "visiongym translate train")
    return translator, payload["meta"]


def _generators(translator: Any) -> dict[str, torch.nn.Module]:
    return getattr(translator, "generators", None) or {"": translator.generator}


def train_translator(config: TranslateTrainConfig) -> dict[str, float]:
    """Train (or resume) the model, write the grid and checkpoint; return the last logged losses."""
    _check(config)
    set_threads(config.threads)
    seed_everything(config.seed)
    device = pick_device(config.device)
    model = TRANSLATORS.get(config.model)
    meta = model.architecture(config)
    checkpoint_path = (config.run_dir / CHECKPOINT_NAME) if config.run_dir is not None else None
    if checkpoint_path is not None and checkpoint_path.is_file():
        done = load_checkpoint(checkpoint_path, kind=config.model, **meta)["meta"]["step"]
        if done >= config.steps:
            print(f"{checkpoint_path} already holds {done} steps (asked for {config.steps}); nothing to train")
            return {}
    info, records = read_states(config.data, "train", config.train_limit)
    if config.model == "cyclegan" and len(records) < 2:
        raise UsageError(f"CycleGAN needs at least 2 training states (one per look); {config.data} has {len(records)}")
    _, sample_records = read_states(config.data, "val" if "val" in info.get("splits", {}) else "train", 8)
    translator = model(meta, device)

    from visiongym.vision.data.render_soccer import Rerenderer

    renderer = Rerenderer()
    try:
        translator.prepare_training(config, info, records, renderer)
        translator.prepare_samples(info, sample_records, renderer)
    finally:
        renderer.close()
    run_dir, writer = prepare_run(config, config.data, config.model, config.run_dir)
    checkpoint_path = run_dir / CHECKPOINT_NAME
    rng = torch.Generator().manual_seed(config.seed)
    start = 0
    if checkpoint_path.exists():
        payload = load_checkpoint(checkpoint_path, kind=config.model, **meta)
        translator.load_training_state(payload["state"])
        rng.set_state(payload["state"]["rng"])
        start = int(payload["meta"]["step"])
        print(f"resuming {checkpoint_path} at step {start}")

    def save(step: int) -> None:
        from visiongym.vision.autoencoders.evaluate import save_grid

        rows = translator.sample_rows()
        save_grid(run_dir / "samples.png", rows)
        writer.add_images("samples", torch.cat(rows), step)
        state = {**translator.training_state(), "rng": rng.get_state()}
        save_checkpoint(checkpoint_path, config.model, state, step=step, steps=config.steps, **meta)

    from tqdm import tqdm

    last: dict[str, float] = {}
    started = time.perf_counter()
    bar = tqdm(range(start, config.steps), desc=config.model, disable=not config.progress)
    for step in bar:
        factor = lr_factor(step, config.steps)
        for optimiser in (translator.optim_g, translator.optim_d):
            for group in optimiser.param_groups:
                group["lr"] = translator.lr * factor
        losses = translator.train_step(step, rng)
        log_losses(writer, step + 1, losses)
        last = {name: float(value) for name, value in losses.items()}
        if (step + 1) % 10 == 0:
            bar.set_postfix({name: f"{value:.3f}" for name, value in list(last.items())[:3]})
        if (step + 1) % config.checkpoint_every == 0 or step + 1 == config.steps:
            writer.add_scalar("charts/steps_per_s", (step + 1 - start) / (time.perf_counter() - started), step + 1)
            save(step + 1)
    if not checkpoint_path.exists():  # --steps 0: the untrained model
        save(config.steps)
    writer.close()
    if last:
        print_table(f"{config.model} after {config.steps} steps on {len(records)} states ({config.image_size} px)",
                    {config.model: last})
    print(f"checkpoint {checkpoint_path}; samples {run_dir / 'samples.png'}")
    return last


def main(argv: list[str] | None = None) -> None:
    import tyro

    train_translator(tyro.cli(TranslateTrainConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
