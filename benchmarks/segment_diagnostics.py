"""Why a segmenter's players fall short: merged players, specks, fat masks, contact pixels.

    python benchmarks/segment_diagnostics.py --model runs/segmentation_human256/unet/segmenter.pt \\
        --data data/soccer_human256

On a split of a rendered dataset, with the model's plain connected components as instances
(``instances="components"``), it prints per team class:

- components that hold two or more true players (a true player counts for the component that
  holds at least half of its pixels): what a split of touching players could fix;
- components under ``--small`` pixels (specks, cut-off limbs): what lowers precision;
- predicted against true player pixels: how fat the masks are drawn;

and the contact pixels (pixels of a player touching another player of its team,
``contact_mask_from_instances``, the contact head's target) on ``--contact-split``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import tyro

from visiongym.vision.data.dataset import detection_loader
from visiongym.vision.segment.engine import class_masks, load_segmenter
from visiongym.vision.segment.instances import contact_mask_from_instances
from visiongym.vision.segment.metrics import PLAYER_CLASSES
from visiongym.vision.segment.train import segmentation_split


@dataclass
class Args:
    """Diagnostics settings."""

    model: Path = Path("runs/segmentation_human256/unet/segmenter.pt")
    """Segmenter checkpoint (visiongym segment train)."""
    data: Path = Path("data/soccer_human256")
    """Rendered dataset with instance masks."""
    split: str = "test"
    """Split whose predictions are examined."""
    contact_split: str = "val"
    """Split whose true contact pixels are counted."""
    small: int = 20
    """Components under this many pixels count as specks."""
    threads: int = 1
    """Torch threads."""


@torch.no_grad()
def main(args: Args) -> dict[str, int]:
    torch.set_num_threads(args.threads)
    segmenter, _ = load_segmenter(args.model)
    size = segmenter.image_size
    counts = {"components": 0, "merged": 0, "small": 0, "predicted_pixels": 0, "true_pixels": 0, "players": 0}
    for images, targets in detection_loader(segmentation_split(args.data, args.split, size), 16, shuffle=False):
        predictions = segmenter.predict(images, instances="components")
        truth = class_masks(targets, tuple(images.shape[-2:]))
        for prediction, target, true_mask in zip(predictions, targets, truth, strict=True):
            masks, labels = torch.as_tensor(target["masks"]).bool(), torch.as_tensor(target["labels"])
            for cls in PLAYER_CLASSES:
                counts["predicted_pixels"] += int((prediction["class_mask"] == cls).sum())
                counts["true_pixels"] += int((true_mask == cls).sum())
                own = masks[labels == cls]
                counts["players"] += len(own)
                for component in prediction["masks"][prediction["labels"] == cls].bool():
                    counts["components"] += 1
                    counts["small"] += int(component.sum() < args.small)
                    inside = (own & component).flatten(1).sum(1) * 2 >= own.flatten(1).sum(1).clamp(min=1)
                    counts["merged"] += int(inside.sum() >= 2)
    contact = 0
    for _, targets in detection_loader(segmentation_split(args.data, args.contact_split, size), 16, shuffle=False):
        contact += sum(int(contact_mask_from_instances(t["masks"], t["labels"]).sum()) for t in targets)
    counts["contact_pixels"] = contact
    print(f"{args.model} on {args.data}/{args.split} ({counts['players']} players), components as instances:")
    print(f"  components holding two or more true players: {counts['merged']} of {counts['components']}")
    print(f"  components under {args.small} px: {counts['small']}")
    print(f"  player pixels predicted / true: {counts['predicted_pixels']} / {counts['true_pixels']}")
    print(f"  true contact pixels on {args.contact_split}: {contact}")
    return counts


if __name__ == "__main__":
    main(tyro.cli(Args, description=__doc__))
