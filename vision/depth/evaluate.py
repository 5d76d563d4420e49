"""Score per-player depth checkpoints beside the parametric baselines: ``visiongym depth evaluate``.

Example::

    visiongym depth evaluate runs/cls/depth.pt runs/reg/depth.pt --frames 0 --eval-frames 100

Prints the paper-style table (st-RMSE in millimetres and in paper metres, mask IoU) on the test
crops and, with ``--by-occlusion``, the same per occlusion group (``none``, ``partial``,
``heavy``: the share of the player's box covered by nearer objects' boxes). The crops are cut
the way the first checkpoint was trained (its crop size, stride, mask channel and bins).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import tyro

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError
from visiongym.vision.depth.crops import OCCLUSION_BINS, CropSpec, load_crops
from visiongym.vision.depth.engine import (
    BASELINES,
    baseline_predictions,
    load_depth_model,
    meta_objects,
    predict_crops,
    score_crops,
)
from visiongym.vision.depth.train import CropSourceOptions, crop_source
from visiongym.vision.metrics import print_table
from visiongym.vision.runs import set_threads

__all__ = ["DepthEvaluateConfig", "evaluate_depth", "score_table"]


@dataclass
class DepthEvaluateConfig(CropSourceOptions):
    """Score per-player depth checkpoints (and the baselines) on held-out crops."""

    checkpoints: tyro.conf.Positional[tuple[Path, ...]] = ()
    """Checkpoints written by visiongym depth train (none: the baselines only)."""
    split: str = "test"
    """Split to score."""
    by_occlusion: bool = True
    """Also print the scores per occlusion group."""
    seed: int = 0
    """Simulator seed of the frames (as in training)."""
    device: str = "cpu"
    """Where the networks run."""
    threads: int = 0
    """torch CPU threads (0: torch's own choice)."""
    progress: bool = True
    """Show progress bars."""


def score_table(rows: dict[str, dict[str, float]], title: str, by_occlusion: bool = True) -> None:
    """Print the headline table and, optionally, one per occlusion group."""
    print_table(title, {name: {k: v for k, v in row.items() if "/" not in k} for name, row in rows.items()})
    if by_occlusion:
        table = {}
        for name, row in rows.items():
            for group, *_ in OCCLUSION_BINS:
                if f"{group}/crops" in row:
                    table[f"{name} / {group}"] = {k.split("/")[1]: v for k, v in row.items() if k.startswith(f"{group}/")}
        print_table("by occlusion (share of the box covered by nearer objects: none 0, partial <= 0.25, heavy > 0.25)", table)


def evaluate_depth(config: DepthEvaluateConfig) -> dict[str, dict[str, float]]:
    """Score every checkpoint and baseline on the same crops; print and return the rows."""
    set_threads(config.threads)
    models = [(path, *load_depth_model(path, config.device)) for path in config.checkpoints]
    spec = CropSpec(**models[0][2]["spec"]) if models else config.crop_spec()
    for path, _, meta in models[1:]:
        if CropSpec(**meta["spec"]) != spec:
            raise UsageError(f"checkpoint {str(path)!r} was trained on other crops ({meta['spec']}) than the first ({spec})")
    options = replace(config, crop_size=spec.crop_size, stride=spec.stride, context=spec.context, mask_input=spec.mask_input)
    crops = load_crops(crop_source(options, config.split, config.seed), config.split, spec, config.cache_dir, config.progress)
    rows = {}
    for path, model, meta in models:
        bins, _ = meta_objects(meta)
        name = f"hourglass-{meta['head']} ({Path(path).parent.name or Path(path).stem})"
        rows[name] = score_crops(*predict_crops(model, meta["head"], crops, bins), crops, config.player_height)
    for name in BASELINES:
        rows[name] = score_crops(*baseline_predictions(name, crops), crops, config.player_height)
    score_table(rows, f"per-player depth on {len(crops)} {config.split} crops (st-RMSE: mm, and paper metres "
                f"x{1.8 / config.player_height:.0f}; mask IoU)", config.by_occlusion)
    return rows


def main(argv: list[str] | None = None) -> None:
    evaluate_depth(tyro.cli(DepthEvaluateConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
