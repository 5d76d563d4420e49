"""Why a StarGAN's translations miss some attributes: how big each attribute is in pixels, what its critic sees.

    python benchmarks/stargan_diagnostics.py --checkpoint runs/translate_stargan/stargan/translator.pt \\
        --data data/translate64

On the test states (each under a random source label), per attribute:

- **pixels**: the true change of moving that attribute alone to another value (mean absolute
  difference in 0-255 levels, and how many pixels of a frame change by more than ``--threshold``
  levels in their largest channel): is the attribute too subtle at this size, or does it live in a few pixels?
- **critic on real frames**: the accuracy of the critic's auxiliary classifier on real frames it
  never trained on: if it cannot tell the values apart, the generator gets no signal for them;
- **critic / judge on translations**: the accuracy on frames translated to a random target by the
  critic's classifier and by an independent classifier trained on real frames only (the
  evaluation's judge, read from ``attribute_classifier.pt`` beside the checkpoint when there):
  high for the critic and low for the judge means the generator fools the critic without
  making the change;
- **generator change**: the mean absolute change of the generator's output when only that
  attribute of the target moves, against the true change, and the correlation of the two
  (does it change the right pixels?).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import tyro

from visiongym.vision.runtime import load_checkpoint
from visiongym.vision.translate.attributes import (
    CLASSIFIER_KIND,
    load_attribute_classifier,
    predict_attributes,
)
from visiongym.vision.translate.frames import read_states
from visiongym.vision.translate.looks import draw_attribute_values
from visiongym.vision.translate.models import attribute_predictions
from visiongym.vision.translate.stargan import build_critic, render_labelled
from visiongym.vision.translate.train import load_translator


@dataclass
class Args:
    """Diagnostics settings."""

    checkpoint: Path = Path("runs/translate_stargan/stargan/translator.pt")
    """A StarGAN translator.pt (visiongym translate train --model stargan)."""
    data: Path = Path("data/translate64")
    """The dataset it was trained on."""
    split: str = "test"
    """Split whose states are examined."""
    limit: int = 120
    """States examined."""
    threshold: float = 8.0
    """A pixel counts as changed when its largest channel moves by more than this (0-255 levels)."""
    seed: int = 0
    """Seed of the labels drawn."""
    threads: int = 1
    """Torch threads."""


@torch.no_grad()
def main(args: Args) -> dict[str, dict[str, float]]:
    torch.set_num_threads(args.threads)
    translator, meta = load_translator(args.checkpoint, "cpu", kind="stargan")
    names, sizes, size = translator.attributes, translator.sizes, meta["image_size"]
    critic = build_critic(meta)
    critic.load_state_dict(load_checkpoint(args.checkpoint, kind="stargan")["state"]["critic"])
    critic.eval()
    judge_path = args.checkpoint.parent / "attribute_classifier.pt"
    judge = None
    if judge_path.is_file():
        judge = load_attribute_classifier(judge_path, sizes)
    info, records = read_states(args.data, args.split, args.limit)
    rng = np.random.default_rng(np.random.SeedSequence([args.seed, 41]))
    source = draw_attribute_values(names, len(records), rng)
    target = draw_attribute_values(names, len(records), rng)
    inputs = render_labelled(info, records, names, source, size).images
    translated = translator.translate(inputs, torch.from_numpy(target))

    def critic_predictions(frames: torch.Tensor) -> torch.Tensor:
        return torch.cat([attribute_predictions(critic(frames[i : i + 64])[1], sizes)
                          for i in range(0, len(frames), 64)])

    critic_real = critic_predictions(inputs) == torch.from_numpy(source)
    critic_fake = critic_predictions(translated) == torch.from_numpy(target)
    judge_fake = predict_attributes(judge, translated, sizes) == torch.from_numpy(target) if judge is not None else None
    rows: dict[str, dict[str, float]] = {}
    for k, name in enumerate(names):
        moved = source.copy()
        moved[:, k] = (moved[:, k] + 1 + rng.integers(0, sizes[k] - 1, len(records))) % sizes[k]
        truth = render_labelled(info, records, names, moved, size).images
        true_change = (truth.float() - inputs.float())
        generated = translator.translate(inputs, torch.from_numpy(moved)).float()
        kept = translator.translate(inputs, torch.from_numpy(source)).float()
        model_change = generated - kept
        flat_true, flat_model = true_change.flatten(), model_change.flatten()
        correlation = float(torch.corrcoef(torch.stack([flat_true, flat_model]))[0, 1]) if flat_model.std() > 0 else 0.0
        rows[name] = {
            "true_change": float(true_change.abs().mean()),
            "changed_pixels": float((true_change.abs().amax(dim=1) > args.threshold).flatten(1).sum(1).float().mean()),
            "critic_real": float(critic_real[:, k].float().mean()),
            "critic_translated": float(critic_fake[:, k].float().mean()),
            "judge_translated": float(judge_fake[:, k].float().mean()) if judge_fake is not None else float("nan"),
            "generator_change": float(model_change.abs().mean()),
            "change_correlation": correlation,
        }
    print(f"{args.checkpoint} (step {meta.get('step')}) on {len(records)} {args.split} states of {args.data}, {size} px")
    print("| attribute | true change (levels) | pixels changed > "
          f"{args.threshold:g} levels (of {size * size}) | critic on real | critic on translated | judge on translated "
          "| generator change (levels) | correlation with the true change |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in rows.items():
        print(f"| {name} | {row['true_change']:.1f} | {row['changed_pixels']:.0f} | {row['critic_real']:.2f} "
              f"| {row['critic_translated']:.2f} | {row['judge_translated']:.2f} | {row['generator_change']:.1f} "
              f"| {row['change_correlation']:.2f} |")
    if judge is None:
        print(f"(no {CLASSIFIER_KIND} at {judge_path}: run visiongym translate evaluate first for the judge's column)")
    return rows


if __name__ == "__main__":
    main(tyro.cli(Args, description=__doc__))
