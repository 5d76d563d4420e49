"""Per-player depth, the paper's table on our robots: st-RMSE and mask IoU on held-out frames.

    python benchmarks/depth.py --threads 1            # CPU scale, about 20 minutes on one core
    python benchmarks/depth.py --frames 4000 --epochs 30 --stacks 8 --features 256 --crop-size 256 --stride 4 --device cuda

Rows (Rematas et al., *Soccer on Your Tabletop*, 2018, Table 1 for the paper's figures):

- ``hourglass-classification``: the paper's network (bins + background, NLL summed over stacks);
- ``hourglass-regression``: the ablation (L1 relative depth + mask BCE);
- ``hourglass-humanoid-only``: the classification network trained on the LearnToMove humanoid
  alone (no soccer, no robots), scored on the robots: the paper's "human depth network not
  trained on soccer" row;
- ``billboard``, ``plane``, ``cylinder``: the parametric shapes, fitted to the player's box;
- ``unet (whole frame)``: the whole-frame monocular U-Net, st-RMSE over each player's pixels of
  its 128 px frames (coarser than the crops' 32 px output), the paper's "generic depth" row;
  ``unet trained without players``: the same U-Net trained on the same scenes with every player
  moved off the table, the paper's "depth network trained on scenes without players".

st-RMSE is per player, after least-squares scale and translation over the true mask at the
output resolution (``visiongym.vision.depth.metrics``), in millimetres and in paper metres
(x 1.8 m / 0.09 m, our robot's height); mask IoU is the predicted foreground against the true
visible mask in the crop. Every row is broken down by occlusion. Then the robustness part: the
test frames' states re-rendered under ``held_out`` and every single-factor shift of
``visiongym.sims.appearance.SHIFTS``, scored for the two soccer networks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import tyro

from visiongym.vision.depth.crops import load_crops
from visiongym.vision.depth.engine import (
    BASELINES,
    load_depth_model,
    meta_objects,
    predict_crops,
    score_crops,
)
from visiongym.vision.depth.evaluate import score_table
from visiongym.vision.depth.frames import FrameDepthConfig, train_frame_depth
from visiongym.vision.depth.humanoid import HUMANOID_BIN_WIDTH
from visiongym.vision.depth.train import DepthTrainConfig, crop_source, train_depth
from visiongym.vision.metrics import print_table

PAPER = {"theirs (paper)": (0.06, 0.86), "parametric shape (paper)": (0.14, 0.61),
         "human depth, no soccer (paper)": (0.16, 0.41), "generic depth (paper)": (0.92, float("nan"))}
GOAL_ST_RMSE, GOAL_IOU = 0.06, 0.86


@dataclass
class Benchmark:
    """The paper's per-player depth table on rendered robots."""

    frames: int = 500
    """Soccer training frames (512 px); about 4 player crops each."""
    eval_frames: int = 80
    """Soccer val and test frames."""
    shift_frames: int = 30
    """Test frames re-rendered per robustness shift."""
    epochs: int = 10
    """Epochs of the classification hourglass (the headline row)."""
    regression_epochs: int = 5
    """Epochs of the regression ablation."""
    stacks: int = 2
    features: int = 64
    crop_size: int = 64
    stride: int = 2
    humanoid_frames: int = 400
    """LearnToMove humanoid training frames (128 px, one crop each)."""
    humanoid_epochs: int = 6
    unet_frames: int = 200
    """Whole-frame U-Net training frames (128 px)."""
    unet_epochs: int = 5
    unet_without_players: bool = True
    """Also train the U-Net on the same scenes with the players moved off the table."""
    shifts: bool = True
    """Score the robustness shifts."""
    runs: Path = Path("runs/bench_depth")
    cache_dir: Path = Path("data/depth_crops")
    device: str = "auto"
    threads: int = 1
    seed: int = 0
    progress: bool = False


def main(bench: Benchmark) -> None:
    started = time.perf_counter()
    if bench.threads:
        torch.set_num_threads(bench.threads)
    common = dict(frames=bench.frames, eval_frames=bench.eval_frames, crop_size=bench.crop_size, stride=bench.stride,
                  stacks=bench.stacks, features=bench.features, epochs=bench.epochs, cache_dir=bench.cache_dir,
                  device=bench.device, threads=bench.threads, seed=bench.seed, progress=bench.progress)
    rows: dict[str, dict[str, float]] = {}
    checkpoints = {}
    for head in ("classification", "regression"):
        run = bench.runs / head
        epochs = bench.epochs if head == "classification" else bench.regression_epochs
        result = train_depth(replace(DepthTrainConfig(**common, head=head, run_dir=run), epochs=epochs))
        rows[f"hourglass-{head}"] = result[f"hourglass-{head}"]
        checkpoints[head] = run / "depth.pt"
    for name in BASELINES:
        rows[name] = result[name]
    test_source = DepthTrainConfig(**common)
    test = load_crops(crop_source(test_source, "test", bench.seed), "test", test_source.crop_spec(), bench.cache_dir)
    human_run = bench.runs / "humanoid"
    train_depth(replace(DepthTrainConfig(**common, head="classification", run_dir=human_run), scene="humanoid",
                        frames=bench.humanoid_frames, eval_frames=bench.eval_frames, frame_size=128,
                        epochs=bench.humanoid_epochs,
                        bin_width=HUMANOID_BIN_WIDTH))
    model, meta = load_depth_model(human_run / "depth.pt")
    rows["hourglass-humanoid-only"] = score_crops(*predict_crops(model, "classification", test, meta_objects(meta)[0]), test)
    unet = train_frame_depth(FrameDepthConfig(frames=bench.unet_frames, eval_frames=bench.eval_frames, epochs=bench.unet_epochs,
                                              cache_dir=bench.cache_dir, run_dir=bench.runs / "unet", device=bench.device,
                                              threads=bench.threads, seed=bench.seed, progress=bench.progress))
    rows["unet (whole frame, 128 px)"] = {"st_rmse_paper_m": unet["st_rmse_paper_m"], "crops": unet["players"]}
    if bench.unet_without_players:
        empty = train_frame_depth(FrameDepthConfig(frames=bench.unet_frames, eval_frames=bench.eval_frames,
                                                   epochs=bench.unet_epochs, train_players=False,
                                                   cache_dir=bench.cache_dir, run_dir=bench.runs / "unet_noplayers",
                                                   device=bench.device, threads=bench.threads, seed=bench.seed,
                                                   progress=bench.progress))
        rows["unet trained without players"] = {"st_rmse_paper_m": empty["st_rmse_paper_m"], "crops": empty["players"]}

    print("\n=== per-player depth on held-out robot frames ===")
    score_table(rows, f"{len(test)} test crops from {bench.eval_frames} frames (st-RMSE: mm and paper metres x20; mask IoU)")
    print_table("the paper's Table 1 (humans in FIFA frames)",
                {name: {"st_rmse_paper_m": e, "mask_iou": iou} for name, (e, iou) in PAPER.items()})
    print(f"unet whole-frame: abs_rel {unet['abs_rel']:.4f}, rmse {unet['rmse_m']:.4f} m (median-scaled)")

    if bench.shifts:
        from visiongym.sims.appearance import SHIFTS

        shifted_rows = {}
        models = {head: load_depth_model(path) for head, path in checkpoints.items()}
        for shift in ("clean", "held_out", *SHIFTS):
            options = replace(test_source, eval_frames=bench.shift_frames)
            crops = load_crops(crop_source(options, "test", bench.seed, None if shift == "clean" else shift), "test",
                               options.crop_spec(), bench.cache_dir)
            for head, (model, meta) in models.items():
                scores = score_crops(*predict_crops(model, head, crops, meta_objects(meta)[0]), crops)
                shifted_rows[f"{head} / {shift}"] = {k: v for k, v in scores.items() if "/" not in k}
        print_table(f"robustness: {bench.shift_frames} test frames' states re-rendered per look", shifted_rows)
        for head in models:
            shifted = [row for name, row in shifted_rows.items() if name.startswith(head) and not name.endswith("clean")]
            worst_e = max(row["st_rmse_paper_m"] for row in shifted)
            worst_iou = min(row["mask_iou"] for row in shifted)
            print(f"{head}: worst shifted st-RMSE {worst_e:.4f} (goal within 20 % of 0.06: <= 0.072: "
                  f"{'met' if worst_e <= 0.072 else 'MISSED'}); worst shifted IoU {worst_iou:.4f} "
                  f"(>= 0.688: {'met' if worst_iou >= 0.688 else 'MISSED'})")
    ours = rows["hourglass-classification"]
    print(f"goal st-RMSE < {GOAL_ST_RMSE}: {ours['st_rmse_paper_m']:.4f} "
          f"{'met' if ours['st_rmse_paper_m'] < GOAL_ST_RMSE else 'MISSED'}; goal IoU > {GOAL_IOU}: "
          f"{ours['mask_iou']:.4f} {'met' if ours['mask_iou'] > GOAL_IOU else 'MISSED'} "
          "(on round robots; the paper's claim is about humans: needs the human look)")
    print(f"total {time.perf_counter() - started:.0f} s; torch threads {torch.get_num_threads()}; "
          f"numpy {np.__version__}, torch {torch.__version__}")


if __name__ == "__main__":
    main(tyro.cli(Benchmark))
