"""StarGAN frames as detector augmentation, scored on the robustness suite's simulator looks.

    python benchmarks/translate_augmentation.py --out runs/translate

Needs the dataset, detector and StarGAN of ``benchmarks/translate_recovery.py`` (same ``--out``).
Steps (each skipped when its output already exists):

1. ``translate augment``: every default-look training frame translated by StarGAN to a label
   drawn per attribute (boxes kept); and, as the upper bound, the simulator's true frames of the
   same states under the same labels;
2. train the grid detector on the default-look frames plus each of the two, for as many optimiser
   steps as the default-look detector took (half the epochs over twice the frames);
3. score the three detectors with ``visiongym robustness --families simulator`` (the test states
   re-rendered in every named look) and print each one's clean mAP@0.5 and its drop per look.

Writes ``benchmarks/results/translate_augmentation.csv``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

import tyro

from visiongym.vision.detect.train import DetectorTrainConfig, train_detector
from visiongym.vision.robustness.suite import RobustnessConfig, run_robustness
from visiongym.vision.translate.augment import TranslateAugmentConfig, write_translated_dataset


@dataclass
class Experiment:
    """Default-look detector, with StarGAN frames, and with the simulator's true frames of the same labels."""

    data: Path = Path("data/translate64")
    """Default-look dataset of benchmarks/translate_recovery.py."""
    out: Path = Path("runs/translate")
    """Folder of the recovery benchmark's run folders (det_default, stargan)."""
    detector_epochs: int = 10
    """Epochs of the default-look detector (the augmented ones get half, over twice the frames)."""
    limit: int | None = 120
    """Test states the robustness suite scores."""
    threads: int = 1
    """torch CPU threads."""
    seed: int = 0
    """Seed of every step."""
    results: Path = Path("benchmarks/results/translate_augmentation.csv")
    """Where the figures go."""


#: The suite's looks that change what StarGAN's attributes change (light, its colour, pitch, kits).
ATTRIBUTE_LOOKS = ("light_dim", "light_bright", "light_warm", "light_cold", "pitch_tint", "kits_out_of_range")


def main() -> None:
    exp = tyro.cli(Experiment)
    detectors = {"default look only": exp.out / "det_default" / "detector.pt"}
    for source in ("stargan", "simulator"):
        frames = Path(f"{exp.data}_{source}")
        if not (frames / "dataset.json").is_file():
            write_translated_dataset(TranslateAugmentConfig(
                data=exp.data, source=source, checkpoint=exp.out / "stargan" / "translator.pt" if source == "stargan" else None,
                out=frames, seed=exp.seed, threads=exp.threads))
        run_dir = exp.out / f"det_default_plus_{source}"
        if not (run_dir / "detector.pt").is_file():
            train_detector(DetectorTrainConfig(
                data=exp.data, extra_data=frames, model="grid_small", image_size=64,
                epochs=max(1, exp.detector_epochs // 2), threads=exp.threads, seed=exp.seed, run_dir=run_dir,
                fps_frames=0))
        detectors[f"+ {source} frames"] = run_dir / "detector.pt"
    summaries = {}
    for name, path in detectors.items():
        folder = exp.out / "robustness" / path.parent.name
        if not (folder / "scores.json").is_file():
            run_robustness(RobustnessConfig(model=path, data=exp.data, families=("simulator",), limit=exp.limit,
                                            threads=exp.threads, out=folder, progress=False))
        rows = json.loads((folder / "scores.json").read_text())["rows"]
        drops = {row["shift"]: row["drop"] for row in rows if row["family"] == "simulator" and row["shift"] != "default"}
        summaries[name] = {
            "clean map_50": rows[0]["map_50"],
            "mean drop, attribute looks": mean(drops[look] for look in ATTRIBUTE_LOOKS),
            "mean drop, all looks": mean(drops.values()),
            **{f"drop {look}": drops[look] for look in (*ATTRIBUTE_LOOKS, "held_out")},
        }
    columns = list(next(iter(summaries.values())))
    print("\n| detector | " + " | ".join(columns) + " |\n|---|" + "---:|" * len(columns))
    for name, summary in summaries.items():
        print(f"| {name} | " + " | ".join(f"{summary[c]:+.3f}" for c in columns) + " |")
    exp.results.parent.mkdir(parents=True, exist_ok=True)
    with exp.results.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["detector", *columns])
        writer.writerows([name, *(f"{summary[c]:.4f}" for c in columns)] for name, summary in summaries.items())
    print(f"results written to {exp.results}")


if __name__ == "__main__":
    main()
