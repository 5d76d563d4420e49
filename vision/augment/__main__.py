"""``python -m visiongym.vision.augment {show,ablation}``: see the transforms on a labelled frame, or measure them."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import tyro

from visiongym.envs.cli import run_command
from visiongym.vision.augment.ablation import AblationConfig, print_ablation, run_ablation
from visiongym.vision.augment.transforms import (
    TRANSFORM_NAMES,
    make_sample,
    make_transform,
    mask_boxes,
)

TransformName = Literal["flip", "rotation", "scale", "crop", "translation", "noise"]


@dataclass
class ShowConfig:
    """Apply each transform to a rendered soccer frame with its boxes and instance masks."""

    transforms: tuple[TransformName, ...] = field(default_factory=lambda: TRANSFORM_NAMES)
    """Transforms to show."""
    size: int = 192
    """Side of the rendered frame."""
    camera: Literal["broadcast", "top"] = "broadcast"
    """Simulator camera."""
    strength: float = 1.0
    """Range of each transform, in (0, 1]."""
    seed: int = 0
    """Seed of the scene and of the transforms."""
    out: Path = Path("runs/augment")
    """Output folder."""


def render_labelled_frame(
    size: int, camera: str, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A soccer frame and, for each visible object, its box, instance mask and class label."""
    from visiongym.sims.soccer import SoccerScene

    rng = np.random.default_rng(seed)
    scene = SoccerScene(team_size=3, ego_cameras=False)
    try:
        scene.reset(rng)
        for _ in range(30):
            scene.step(scene.scripted_commands(rng))
        truth = scene.render_ground_truth(camera=camera, height=size, width=size)
    finally:
        scene.close()
    masks = truth["instance_mask"][None] == truth["instance_ids"][:, None, None]
    return truth["rgb"], truth["boxes"], masks, truth["labels"]


def box_mask_agreement(boxes: torch.Tensor, masks: torch.Tensor) -> dict[str, float]:
    """How boxes relate to their masks' tight boxes: the largest gap, and whether each contains its mask.

    Objects cut by the frame edge are left out of the gap: a box is clamped to the frame, while
    a non-convex mask (a goal's net and posts) can lose a part the box cannot know about.
    """
    tight = mask_boxes(masks)
    present = ~torch.isnan(tight[:, 0])
    height, width = masks.shape[-2:]
    inside = (
        present
        & (boxes[:, 0] > 0)
        & (boxes[:, 1] > 0)
        & (boxes[:, 2] < width)
        & (boxes[:, 3] < height)
    )
    gap = (boxes[inside] - tight[inside]).abs()
    contains = (
        (tight[present, :2] >= boxes[present, :2] - 1)
        & (tight[present, 2:] <= boxes[present, 2:] + 1)
    ).all()
    return {"gap_px": float(gap.max()) if len(gap) else 0.0, "contains": bool(contains)}


def run_show(config: ShowConfig) -> dict:
    """Draw the frame and every transformed copy with boxes and masks; save the grid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from torchvision.utils import draw_bounding_boxes, draw_segmentation_masks

    from visiongym.sims.soccer import CLASS_NAMES

    rgb, boxes, masks, labels = render_labelled_frame(config.size, config.camera, config.seed)
    image, target = make_sample(rgb, boxes, masks, labels)
    panels = [("original", image, target)]
    worst = {}
    for index, name in enumerate(config.transforms):
        torch.manual_seed(config.seed + index)
        out_image, out_target = make_transform(name, config.strength)(image, target)
        panels.append((name, out_image, out_target))
        worst[name] = box_mask_agreement(out_target["boxes"], out_target["masks"].bool())
    figure, axes = plt.subplots(2, -(-len(panels) // 2), figsize=(4 * -(-len(panels) // 2), 8))
    for axis in np.ravel(axes):
        axis.axis("off")
    for axis, (name, shown, shown_target) in zip(np.ravel(axes), panels, strict=False):
        pixels = shown if shown.dtype == torch.uint8 else (shown.clamp(0, 1) * 255).to(torch.uint8)
        pixels = draw_segmentation_masks(pixels, shown_target["masks"].bool(), alpha=0.45)
        names = [CLASS_NAMES[int(label)] for label in shown_target["labels"]]
        pixels = draw_bounding_boxes(pixels, shown_target["boxes"], labels=names, colors="yellow")
        axis.imshow(pixels.permute(1, 2, 0).numpy())
        axis.set_title(name)
    figure.suptitle(
        "transforms.v2 on a rendered frame: boxes (yellow) and masks move with the pixels"
    )
    figure.tight_layout()
    path = config.out / f"transforms_{config.camera}.png"
    config.out.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return {"figure": str(path), "objects": len(labels), "box_vs_mask_gap": worst}


def main(argv: list[str] | None = None) -> int:
    """Parse the subcommand and run it."""
    config = tyro.extras.subcommand_cli_from_dict(
        {"show": ShowConfig, "ablation": AblationConfig},
        args=argv,
        description="Augmentation: 'show' the transforms with boxes and masks, or run the small-data 'ablation'.",
    )
    if isinstance(config, AblationConfig):
        print_ablation(run_ablation(config))
        return 0
    result = run_show(config)
    print(
        f"{result['objects']} labelled objects; after each transform, the largest |box - tight box of "
        "its mask| (objects inside the frame) and whether every box contains its mask:"
    )
    for name, row in result["box_vs_mask_gap"].items():
        print(f"  {name}: {row['gap_px']:.2f} px, contains={row['contains']}")
    print(f"figure: {result['figure']}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
