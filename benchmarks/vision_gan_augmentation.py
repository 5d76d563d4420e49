"""Does mixing GAN frames into detector training help? The honest 500-real-frames experiment.

    python benchmarks/vision_gan_augmentation.py --data data/soccer --out runs/gan_experiment

Steps (each resumes or is skipped when its run folder already holds a finished checkpoint):

1. train the grid detector on the first ``--real-frames`` training frames;
2. train a GAN (``--gan-model``, DCGAN by default) on the same frames;
3. generate ``--generated-frames`` frames and pseudo-label them with the detector of step 1;
4. train a fresh detector on real + generated frames for the same number of optimiser steps
   (epochs scaled by real / (real + generated)), same seed and schedule shape;
5. print both test scores and write them to ``benchmarks/results/gan_augmentation.csv``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import tyro

from visiongym.vision.detect.train import DetectorTrainConfig, train_detector
from visiongym.vision.gan.mix import MixConfig, write_generated_dataset
from visiongym.vision.gan.train import GanName, GanTrainConfig, train_gan
from visiongym.vision.metrics import print_table


@dataclass
class Experiment:
    """Detector on N real frames, with and without N GAN frames (pseudo-labelled)."""

    data: Path = Path("data/soccer")
    """Rendered dataset (visiongym.vision.data.render_soccer)."""
    out: Path = Path("runs/gan_experiment")
    """Folder for the four run folders of the experiment."""
    real_frames: int = 500
    """Real training frames."""
    generated_frames: int = 500
    """GAN frames added in the second run."""
    epochs: int = 8
    """Detector epochs on the real frames alone."""
    gan_model: GanName = "dcgan"
    """GAN model (visiongym gan train --model)."""
    gan_epochs: int = 25
    """GAN epochs (discriminator passes over the real frames)."""
    eval_limit: int | None = 120
    """Val/test frames scored."""
    score_threshold: float = 0.5
    """Pseudo-label confidence threshold."""
    threads: int = 1
    """torch CPU threads."""
    seed: int = 0
    """Seed of every step."""
    results: Path = Path("benchmarks/results/gan_augmentation.csv")
    """Where the two result rows go."""


def main() -> None:
    exp = tyro.cli(Experiment)
    common = dict(
        model="grid_small",
        eval_limit=exp.eval_limit,
        threads=exp.threads,
        seed=exp.seed,
        fps_frames=0,
    )
    real = train_detector(
        DetectorTrainConfig(
            data=exp.data,
            train_limit=exp.real_frames,
            epochs=exp.epochs,
            run_dir=exp.out / "det_real",
            **common,
        )
    )
    train_gan(
        GanTrainConfig(
            data=exp.data,
            model=exp.gan_model,
            image_size=64,
            epochs=exp.gan_epochs,
            batch_size=32,
            train_limit=exp.real_frames,
            threads=exp.threads,
            seed=exp.seed,
            run_dir=exp.out / exp.gan_model,
        )
    )
    generated = exp.out / "gan_frames"
    if not (generated / "dataset.json").is_file():
        write_generated_dataset(
            MixConfig(
                generator=exp.out / exp.gan_model / f"{exp.gan_model}.pt",
                detector=exp.out / "det_real" / "detector.pt",
                out=generated,
                count=exp.generated_frames,
                score_threshold=exp.score_threshold,
                seed=exp.seed,
            )
        )
    same_steps = max(
        1, round(exp.epochs * exp.real_frames / (exp.real_frames + exp.generated_frames))
    )
    mixed = train_detector(
        DetectorTrainConfig(
            data=exp.data,
            train_limit=exp.real_frames,
            extra_data=generated,
            epochs=same_steps,
            run_dir=exp.out / "det_real_gan",
            **common,
        )
    )
    rows = {
        f"{exp.real_frames} real": real,
        f"{exp.real_frames} real + {exp.generated_frames} GAN": mixed,
    }
    keep = ("map", "map_50", "ap50/ball", "ap50/team_a", "ap50/team_b", "ap50/goal")
    print_table(
        "grid_small test scores, with and without GAN frames",
        {k: {m: v[m] for m in keep} for k, v in rows.items()},
    )
    exp.results.parent.mkdir(parents=True, exist_ok=True)
    with exp.results.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["training_set", *keep])
        for name, scores in rows.items():
            writer.writerow([name, *(f"{scores[m]:.4f}" for m in keep)])
    print(f"results written to {exp.results}")


if __name__ == "__main__":
    main()
