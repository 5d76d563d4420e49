"""Score segmenter checkpoints side by side: ``visiongym segment evaluate``.

Example (the U-Net against Mask R-CNN on the same test split)::

    visiongym segment evaluate --model runs/unet/segmenter.pt runs/mrcnn/segmenter.pt --data data/soccer

Prints one table: mIoU, pixel accuracy, IoU per class, player mask IoU (every ground-truth
player matched to a predicted instance of its class; the semantic models' instances by
``--instances``: ``split``, the default, ``contact`` or plain connected ``components``), its recall and precision at IoU 0.5, and the
parameter count. ``--grid`` writes frame | truth | prediction rows per checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from visiongym.envs.cli import run_command
from visiongym.vision.data.dataset import detection_loader
from visiongym.vision.metrics import print_table
from visiongym.vision.runs import set_threads
from visiongym.vision.segment.engine import evaluate, load_segmenter, save_grid
from visiongym.vision.segment.instances import InstanceMethod
from visiongym.vision.segment.train import segmentation_split

__all__ = ["SegmentEvaluateConfig", "compare"]


@dataclass
class SegmentEvaluateConfig:
    """Evaluate one or more segmenter checkpoints on a dataset split."""

    model: tuple[Path, ...]
    """Checkpoints written by visiongym segment train."""
    data: Path = Path("data/soccer")
    """Dataset folder (visiongym render-data), e.g. one rendered with the human look."""
    split: str = "test"
    """Split to score."""
    limit: int | None = None
    """Use only the first frames of the split."""
    grid: Path | None = None
    """Write frame | truth | prediction rows to this PNG (one file per checkpoint: <stem>_<n>.png)."""
    grid_frames: int = 6
    """Frames in each grid."""
    device: str = "auto"
    """Where to run: auto (cuda > mps > cpu), cpu, cuda, cuda:N or mps."""
    threads: int = 0
    """torch CPU threads (0: torch's own choice)."""
    instances: InstanceMethod = "split"
    """How the semantic models' class masks become player instances: split (touching players split
    at the distance transform's maxima, cut-off pieces re-attached to their player, specks
    dropped), contact (split at the contact head's contacts instead: unet_contact only) or
    components (plain connected components of each team)."""


def compare(config: SegmentEvaluateConfig) -> dict[str, dict[str, float]]:
    """Score every checkpoint; return ``{name: scores}`` and print the table."""
    set_threads(config.threads)
    rows: dict[str, dict[str, float]] = {}
    for index, path in enumerate(config.model):
        segmenter, payload = load_segmenter(path, config.device)
        dataset = segmentation_split(config.data, config.split, segmenter.image_size, limit=config.limit)
        scores = evaluate(segmenter, detection_loader(dataset, 32, shuffle=False), config.instances)
        scores["params_M"] = sum(p.numel() for p in segmenter.parameters()) / 1e6
        rows[f"{payload['meta']['model']} ({Path(path).parent.name})"] = scores
        if config.grid is not None:
            images, targets = next(iter(detection_loader(dataset, config.grid_frames, shuffle=False)))
            grid = config.grid if len(config.model) == 1 else config.grid.with_name(f"{config.grid.stem}_{index}.png")
            print(f"wrote {save_grid(grid, segmenter, images, targets)}")
    print_table(f"segmenters on {config.data}/{config.split}", rows)
    return rows


def main(argv: list[str] | None = None) -> None:
    import tyro

    compare(tyro.cli(SegmentEvaluateConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
