"""Score detector checkpoints side by side: ``python -m visiongym.vision.detect.evaluate``.

Example (the grid detector against Faster R-CNN on the same test split)::

    python -m visiongym.vision.detect.evaluate runs/grid/detector.pt runs/frcnn/detector.pt --data data/soccer

Prints one table: mAP@0.5:0.95, mAP@0.5, AP@0.5 per class, parameters, and single-frame
inference speed on this machine's CPU (and on the GPU when one is present).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import tyro
from torch.utils.data import DataLoader

from visiongym.envs.cli import run_command
from visiongym.vision.data.dataset import SoccerDetection, collate_detection, detection_transforms
from visiongym.vision.detect.engine import evaluate, load_detector, measure_fps
from visiongym.vision.metrics import print_table

__all__ = ["DetectEvaluateConfig", "compare"]


@dataclass
class DetectEvaluateConfig:
    """Evaluate one or more detector checkpoints on a dataset split."""

    checkpoints: tyro.conf.Positional[tuple[Path, ...]]
    """Checkpoints written by visiongym.vision.detect.train."""
    data: Path = Path("data/soccer")
    """Dataset folder."""
    split: str = "test"
    """Split to score."""
    limit: int | None = None
    """Use only the first frames of the split."""
    fps_frames: int = 50
    """Frames timed for the speed figures (0 skips timing)."""
    threads: int = 0
    """torch CPU threads for the CPU timing (0: torch default)."""


def compare(config: DetectEvaluateConfig) -> dict[str, dict[str, float]]:
    """Score every checkpoint; return ``{name: scores}`` and print the table."""
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    rows: dict[str, dict[str, float]] = {}
    for path in config.checkpoints:
        detector, payload = load_detector(path, "cpu")
        size = detector.image_size
        dataset = SoccerDetection(
            config.data,
            config.split,
            detection_transforms(False, size),
            masks=False,
            limit=config.limit,
        )
        scores = {
            key: value
            for key, value in evaluate(
                detector, DataLoader(dataset, 32, collate_fn=collate_detection)
            ).items()
            if not key.startswith("ap/")
        }
        scores["params_M"] = sum(p.numel() for p in detector.parameters()) / 1e6
        if config.fps_frames > 0:
            frames = torch.stack(
                [dataset[i][0] for i in range(min(config.fps_frames, len(dataset)))]
            )
            scores["fps_cpu"] = measure_fps(detector, frames)
            if torch.cuda.is_available():
                scores["fps_cuda"] = measure_fps(detector.to("cuda"), frames)
        rows[f"{payload['meta']['model']} ({path.parent.name})"] = scores
    print_table(f"detectors on {config.data}/{config.split}", rows)
    return rows


def main(argv: list[str] | None = None) -> None:
    import tyro

    compare(tyro.cli(DetectEvaluateConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
