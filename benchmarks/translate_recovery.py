"""Translating shifted frames back to the detector's look: how much of the mAP drop does CycleGAN win back?

    python benchmarks/translate_recovery.py --out runs/translate

Steps (each skipped when its output already exists, so a second run only re-scores):

1. render a default-look dataset at 64 px (``--frames`` states: train / val / test);
2. train the grid detector on its default-look training frames;
3. train CycleGAN between the default look and ``--look`` (``evening``: dim warm light, a darker
   tinted pitch, faded kits) on disjoint halves of the training states;
4. score it on the test states rendered in both looks: PSNR/SSIM against the true frames, and the
   detector's mAP on look-b frames, on look-b frames translated to the default look (the
   FCN-score of CycleGAN's Cityscapes protocol) and on the true default-look frames; the share
   of the drop recovered (goal: at least 50%);
5. train StarGAN on the four look attributes and score its translations: attribute accuracy by
   a classifier trained on real frames only (goal: at least 90%), PSNR/SSIM against the true frames.

Prints the figures and writes them to ``benchmarks/results/translate_recovery.csv``.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import tyro

from visiongym.vision.data.render_soccer import RenderConfig, render_dataset
from visiongym.vision.detect.train import DetectorTrainConfig, train_detector
from visiongym.vision.translate.evaluate import TranslateEvaluateConfig, evaluate_translator
from visiongym.vision.translate.train import TranslateTrainConfig, train_translator


@dataclass
class Experiment:
    """CycleGAN's recovery of a detector's mAP on a shifted look, and StarGAN's attribute accuracy."""

    data: Path = Path("data/translate64")
    """Default-look dataset (rendered here when missing)."""
    out: Path = Path("runs/translate")
    """Folder of the run folders."""
    frames: int = 900
    """States rendered: 720 train, 60 val, 120 test."""
    look: str = "evening"
    """CycleGAN's second look (visiongym.vision.translate.looks.LOOKS)."""
    detector_epochs: int = 10
    """Detector epochs on the default-look training frames."""
    cyclegan_steps: int = 1200
    """CycleGAN steps."""
    stargan_steps: int = 1500
    """StarGAN critic steps (one generator step per 5)."""
    stargan_batch_size: int = 4
    """StarGAN frames per critic step (`visiongym translate train --batch-size`)."""
    stargan_g_cls_weight: float | None = None
    """Weight of the generator's attribute loss (`--g-cls-weight`; None: the critic's, 1)."""
    stargan_lr: float | None = None
    """StarGAN's Adam learning rate (`--lr`; None: its default, 3e-4)."""
    stargan_ema_decay: float | None = None
    """Decay of an EMA of StarGAN's generator, which is then scored (`--ema-decay`; None: no average)."""
    stargan_width: int | None = None
    """Channels of StarGAN's generator's first layer (`--width`; None: its default, 16)."""
    stargan_blocks: int | None = None
    """Residual blocks of StarGAN's generator (`--blocks`; None: its default, 4)."""
    test_states: int = 120
    """Test states scored."""
    threads: int = 1
    """torch CPU threads."""
    seed: int = 0
    """Seed of every step."""
    parts: tuple[Literal["cyclegan", "stargan"], ...] = ("cyclegan", "stargan")
    """Which experiments to run (e.g. --parts cyclegan for more CycleGAN seeds)."""
    results: Path = Path("benchmarks/results/translate_recovery.csv")
    """Where the figures go."""


def main() -> None:
    exp = tyro.cli(Experiment)
    if not (exp.data / "dataset.json").is_file():
        render_dataset(RenderConfig(out=exp.data, frames=exp.frames, val_fraction=60 / 900, test_fraction=120 / 900,
                                    size=64, appearance="default", depth="none", seed=exp.seed, workers=1))
    detector = exp.out / "det_default" / "detector.pt"
    if "cyclegan" in exp.parts and not detector.is_file():  # StarGAN's scores need no detector
        train_detector(DetectorTrainConfig(data=exp.data, model="grid_small", image_size=64, epochs=exp.detector_epochs,
                                           threads=exp.threads, seed=exp.seed, run_dir=detector.parent, fps_frames=0))
    common = dict(data=exp.data, threads=exp.threads, seed=exp.seed)
    rows: list[tuple[str, str, float]] = []
    if "cyclegan" in exp.parts:
        cyclegan = exp.out / f"cyclegan_{exp.look}"
        train_translator(TranslateTrainConfig(model="cyclegan", look_b=exp.look, steps=exp.cyclegan_steps,
                                              run_dir=cyclegan, **common))
        cycle = evaluate_translator(TranslateEvaluateConfig(checkpoint=cyclegan / "translator.pt", detector=detector,
                                                            limit=exp.test_states, threads=exp.threads, seed=exp.seed))
        for direction, scores in cycle["translation"].items():
            for key, value in scores.items():
                rows.append((f"cyclegan {direction}", key, value))
        for frames, scores in cycle["detection"].items():
            rows += [(f"detector on {frames}", key, value) for key, value in scores.items()]
        for metric, entry in cycle["recovery"].items():
            rows += [(f"recovery {metric}", key, value) for key, value in entry.items()]
    if "stargan" in exp.parts:
        stargan = exp.out / "stargan"
        started = time.perf_counter()
        sizes = {"width": exp.stargan_width, "blocks": exp.stargan_blocks}  # None: the trainer's default
        train_translator(TranslateTrainConfig(model="stargan", steps=exp.stargan_steps, batch_size=exp.stargan_batch_size,
                                              g_cls_weight=exp.stargan_g_cls_weight, lr=exp.stargan_lr,
                                              ema_decay=exp.stargan_ema_decay, run_dir=stargan, **common,
                                              **{key: value for key, value in sizes.items() if value is not None}))
        rows.append(("stargan training", "wall_s", time.perf_counter() - started))
        star = evaluate_translator(TranslateEvaluateConfig(checkpoint=stargan / "translator.pt", limit=exp.test_states,
                                                           threads=exp.threads, seed=exp.seed))
        for frames, scores in star["translation"].items():
            rows += [(f"stargan {frames}", key, value) for key, value in scores.items()]
    print(f"\n{' and '.join(exp.parts)}; CycleGAN look {exp.look}; {exp.test_states} test states, 64 px, seed {exp.seed}")
    print("| what | figure | value |\n|---|---|---:|")
    for name, key, value in rows:
        print(f"| {name} | {key} | {value:.4f} |")
    if "cyclegan" in exp.parts:
        recovery = cycle["recovery"]["map_50"]["recovered"]
        print(f"\nmAP@0.5 drop recovered by translating back: {recovery:.0%} (goal >= 50%: "
              f"{'reached' if recovery >= 0.5 else 'NOT reached'})")
    if "stargan" in exp.parts:
        accuracy = star["translation"]["translated"]["accuracy"]
        print(f"StarGAN attribute accuracy of translated frames ({', '.join(star['meta']['attributes'])}): "
              f"{accuracy:.1%} (goal >= 90%: {'reached' if accuracy >= 0.9 else 'NOT reached'}; real frames: "
              f"{star['translation']['true target frame']['accuracy']:.1%})")
    exp.results.parent.mkdir(parents=True, exist_ok=True)
    with exp.results.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["what", "figure", "value"])
        writer.writerows((name, key, f"{value:.4f}") for name, key, value in rows)
    print(f"results written to {exp.results}")


if __name__ == "__main__":
    main()
