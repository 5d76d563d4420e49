"""Segmentation of rendered frames: U-Net and FCN class masks, Mask R-CNN instances, one budget.

    python benchmarks/segmentation.py                       # CPU scale, one thread: 14 CPU minutes
    python benchmarks/segmentation.py --maskrcnn-steps 0    # without Mask R-CNN: about half that
    python benchmarks/segmentation.py --steps 3000 --frames 4000 --maskrcnn-steps 3000 --threads 0   # longer (GPU)
    python benchmarks/segmentation.py --players human --data data/seg_bench_human --out runs/segmentation_human \
        --models unet --tag human                           # the human look (players drawn as people)

Steps (each resumes, or only re-scores when its run folder already holds a finished checkpoint):

1. render ``--frames`` frames at ``--size`` px into ``--data`` (unless it exists), in ``--appearance``;
2. train the U-Net and the FCN for ``--steps`` optimiser steps each, and Mask R-CNN for
   ``--maskrcnn-steps`` (0 skips it), all at batch ``--batch-size`` with the same augmentation:
   the budget is counted in steps (and reported in wall seconds);
3. score every model on the test split (``visiongym segment evaluate``): mIoU, IoU per class,
   player mask IoU (the semantic models' instances by ``--instances``: ``split``, the default, or
   the connected ``components`` of their player classes); print the table and check the goals (mIoU >= 0.85, player mask IoU >= 0.90);
4. run the robustness suite on the U-Net (``python -m visiongym.vision.robustness``) on
   ``--robustness-limit`` test frames: every corruption at ``--severities`` and the simulator
   shifts, and print its table.

Results go to ``benchmarks/results/segmentation.csv``, ``segmentation_<model>.png`` (frame |
truth | prediction) and ``segmentation_robustness.md`` (the U-Net's robustness table).

Measured 2026-12-01 on the shared 2-core CPU (no GPU), defaults: 12 min user + 2 min system CPU
time, 53 min wall at a load average of 7-12 from other jobs (U-Net 1134 s, FCN 366 s, Mask
R-CNN 1487 s, scoring 17 s, robustness 138 s wall).
"""

from __future__ import annotations

import csv
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import tyro

from visiongym.vision.data.render_soccer import RenderConfig, render_dataset
from visiongym.vision.robustness.suite import RobustnessConfig, run_robustness
from visiongym.vision.segment.evaluate import SegmentEvaluateConfig, compare
from visiongym.vision.segment.instances import InstanceMethod
from visiongym.vision.segment.train import SegmentTrainConfig, train_segmenter

GOAL_MIOU, GOAL_PLAYER_IOU = 0.85, 0.90


@dataclass
class Benchmark:
    """U-Net / FCN / Mask R-CNN on one rendered dataset, then the U-Net's robustness table."""

    data: Path = Path("data/seg_bench")
    """Dataset folder (rendered by step 1 when missing)."""
    out: Path = Path("runs/segmentation_benchmark")
    """Folder for the run folders of every step."""
    frames: int = 700
    """Frames rendered in step 1 (train 580, val 60, test 60)."""
    size: int = 128
    """Frame side in pixels (rendered and trained)."""
    appearance: str = "random"
    """Looks of step 1 (visiongym render-data --appearance)."""
    players: str = "robot"
    """What the players of step 1 look like (visiongym render-data --players: robot or human)."""
    models: tuple[str, ...] = ("unet", "fcn", "maskrcnn")
    """Models of step 2 (unet, fcn, maskrcnn)."""
    tag: str = ""
    """Suffix of the result files (segmentation<_tag>.csv, ...), so runs on other data keep theirs."""
    steps: int = 300
    """Optimiser steps of the U-Net and the FCN."""
    maskrcnn_steps: int = 300
    """Optimiser steps of Mask R-CNN (0 skips it)."""
    batch_size: int = 16
    """Frames per step, every model."""
    seed: int = 0
    """Seed of the training runs and the corruptions."""
    severities: tuple[int, ...] = (1, 3, 5)
    """Corruption severities of step 4."""
    robustness_limit: int = 30
    """Test frames the robustness suite shifts and scores (0 skips step 4)."""
    threads: int = 1
    """torch CPU threads (0: torch's own choice)."""
    instances: InstanceMethod = "split"
    """How step 3 turns the semantic models' class masks into players: split or components
    (visiongym segment evaluate --instances; contact needs a unet_contact model)."""
    device: str = "auto"
    """Where to train and score."""
    results: Path = Path("benchmarks/results")
    """Where the CSV and the pictures go."""


def _timed(name: str, times: dict[str, float], function, *args):
    started = time.perf_counter()
    result = function(*args)
    times[name] = time.perf_counter() - started
    print(f"[{name}] {times[name]:.0f} s")
    return result


def main() -> None:
    bench = tyro.cli(Benchmark)
    times: dict[str, float] = {}
    if not (bench.data / "dataset.json").is_file():
        render = RenderConfig(
            out=bench.data, frames=bench.frames, val_fraction=60 / 700, test_fraction=60 / 700,
            size=bench.size, workers=1, depth="none", appearance=bench.appearance, players=bench.players,
            progress=False,
        )
        _timed("render", times, render_dataset, render)

    unknown = sorted(set(bench.models) - {"unet", "fcn", "maskrcnn"})
    if unknown:
        raise SystemExit(f"--models {' '.join(unknown)} unknown; choose from: unet, fcn, maskrcnn")
    runs = {model: steps for model, steps in
            {"unet": bench.steps, "fcn": bench.steps, "maskrcnn": bench.maskrcnn_steps}.items()
            if model in bench.models}
    checkpoints = {}
    for model, steps in runs.items():
        if steps <= 0:
            continue
        config = SegmentTrainConfig(
            data=bench.data, model=model, image_size=bench.size, steps=steps, batch_size=bench.batch_size,
            seed=bench.seed, run_dir=bench.out / model, threads=bench.threads, device=bench.device,
            progress=False,
        )
        _timed(model, times, train_segmenter, config)
        checkpoints[model] = bench.out / model / "segmenter.pt"

    bench.results.mkdir(parents=True, exist_ok=True)
    stem = f"segmentation_{bench.tag}" if bench.tag else "segmentation"
    grid = bench.results / f"{stem}.png"
    rows = _timed(
        "evaluate", times, compare,
        SegmentEvaluateConfig(model=tuple(checkpoints.values()), data=bench.data, grid=grid, device=bench.device,
                              threads=bench.threads, instances=bench.instances),
    )
    for index, model in enumerate(checkpoints):  # compare() numbers the grids of several; name them by model
        written = grid if len(checkpoints) == 1 else grid.with_name(f"{grid.stem}_{index}.png")
        if written.is_file():
            shutil.move(written, bench.results / f"{stem}_{model}.png")

    names = dict(zip(checkpoints, rows, strict=True))
    columns = ("miou", "iou/background", "iou/ball", "iou/team_a", "iou/team_b", "iou/goal", "player_iou",
               "player_recall50", "player_precision50")
    print(f"\n{bench.data} test split, {bench.size} px; budget: {bench.steps} steps (U-Net, FCN), "
          f"{bench.maskrcnn_steps} (Mask R-CNN), batch {bench.batch_size}, {bench.threads} thread(s)\n")
    print("| model | train s | " + " | ".join(columns) + " |")
    print("| --- | --- |" + " --- |" * len(columns))
    for model, row in names.items():
        cells = " | ".join(f"{rows[row][c]:.3f}" for c in columns)
        print(f"| {model} | {times.get(model, float('nan')):.0f} | {cells} |")
    print()
    for model, row in names.items():
        miou, player = rows[row]["miou"], rows[row]["player_iou"]
        print(f"goal mIoU >= {GOAL_MIOU}, {model}: {miou:.3f} -> {'met' if miou >= GOAL_MIOU else 'MISSED'}")
        print(f"goal player mask IoU >= {GOAL_PLAYER_IOU}, {model}: {player:.3f} -> "
              f"{'met' if player >= GOAL_PLAYER_IOU else 'MISSED'} (look: {bench.appearance}, players: {bench.players})")
    with (bench.results / f"{stem}.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["model", "train_s", *columns])
        for model, row in names.items():
            writer.writerow([model, f"{times.get(model, float('nan')):.0f}", *(f"{rows[row][c]:.4f}" for c in columns)])

    if bench.robustness_limit > 0 and "unet" in checkpoints:
        report = _timed(
            "robustness", times, run_robustness,
            RobustnessConfig(
                model=checkpoints["unet"], data=bench.data, limit=bench.robustness_limit, severities=bench.severities,
                seed=bench.seed, out=bench.out / "robustness_unet", threads=bench.threads, device=bench.device,
                progress=False,
            ),
        )
        shutil.copy(report["summary"]["files"]["markdown"], bench.results / f"{stem}_robustness.md")
    print("wall seconds this invocation: " + ", ".join(f"{k} {v:.0f}" for k, v in times.items()))
    print(f"results written to {bench.results / (stem + '.csv')}")


if __name__ == "__main__":
    main()
