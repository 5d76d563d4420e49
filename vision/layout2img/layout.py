"""Layouts: the class and instance masks a frame is generated from, and the frames they came with.

A layout is a class mask (H x W, simulator class indices: 0 background, 1 ball, 2 team A,
3 team B, 4 goal) and an instance mask (H x W, 0 background, k object k). The generator reads it
as :func:`layout_tensor`: the one-hot class mask plus an instance-edge map (1 where a pixel's
instance differs from a neighbour's), the input of pix2pixHD and SPADE, so two players of one
team that touch stay two players.

:func:`load_layout_frames` rebuilds the layouts of a ``visiongym render-data`` split from its
COCO annotations (one exact RLE mask per visible object) and keeps the frames beside them.
A dataset whose masks are not exact (none stored, or the box-shaped masks of pseudo-labels that
``visiongym gan mix`` writes) is refused with :class:`~visiongym.sims.errors.UsageError`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from visiongym.sims.errors import UsageError
from visiongym.vision.data.format import (
    CLASS_NAMES,
    DatasetFormatError,
    read_dataset_info,
    read_image,
    read_split,
)

__all__ = [
    "NUM_CLASSES",
    "LAYOUT_CHANNELS",
    "LayoutFrames",
    "check_exact_masks",
    "layout_from_annotations",
    "load_layout_frames",
    "instance_edges",
    "layout_tensor",
    "colour_layout",
]

NUM_CLASSES = len(CLASS_NAMES)
LAYOUT_CHANNELS = NUM_CLASSES + 1
"""One-hot classes (background included) and the instance-edge map."""

# Colours of the classes in sample grids: background dark grey, ball white, team A red, team B
# blue, goal yellow; instance edges are drawn black.
_PALETTE = torch.tensor(
    [[40, 40, 40], [255, 255, 255], [220, 50, 40], [40, 90, 230], [240, 210, 40]], dtype=torch.uint8
)


def _render_hint(root: Path) -> str:
    return f"render one with exact masks: visiongym render-data --out {root.parent / (root.name + '_masks')}"


def check_exact_masks(root: str | Path, info: dict[str, Any], coco: dict[str, Any]) -> None:
    """Refuse a dataset split whose annotations lack exact instance masks.

    Every ``visiongym render-data`` dataset has them (the simulator's segmentation render).

    Raises:
        UsageError: no ``segmentation`` in an annotation, or masks that are only boxes
            (pseudo-labels of ``visiongym gan mix``), naming the dataset and how to render one.
    """
    root = Path(root)
    if info.get("masks", "exact") != "exact":
        raise UsageError(
            f"dataset {str(root)!r} was written with masks={info['masks']!r}; the layout generator "
            f"needs exact instance masks: {_render_hint(root)}"
        )
    pseudo = info.get("source") == "dcgan" or any(a.get("pseudo_label") for a in coco["annotations"])
    if pseudo:
        raise UsageError(
            f"dataset {str(root)!r} holds pseudo-labels with box-shaped masks (source "
            f"{info.get('source')!r}), not exact masks; {_render_hint(root)}"
        )
    for annotation in coco["annotations"]:
        if "segmentation" not in annotation:
            raise UsageError(
                f"dataset {str(root)!r} has annotations without masks (annotation "
                f"{annotation.get('id')!r} has no 'segmentation'); the layout generator needs exact "
                f"instance masks: {_render_hint(root)}"
            )


def layout_from_annotations(
    annotations: list[dict[str, Any]], height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """The class mask (uint8) and instance mask (int32) of one frame's COCO annotations.

    Instances are numbered by their recorded ``instance_id`` (the simulator's), or 1, 2, ... in
    annotation order when none is recorded. Masks of one frame do not overlap (each is the set of
    pixels where that object is visible), so the painting order does not matter.
    """
    from pycocotools import mask as mask_utils

    class_mask = np.zeros((height, width), np.uint8)
    instance_mask = np.zeros((height, width), np.int32)
    if not annotations:
        return class_mask, instance_mask
    rles = [
        {"size": a["segmentation"]["size"], "counts": a["segmentation"]["counts"].encode("ascii")}
        for a in annotations
    ]
    with warnings.catch_warnings():  # pycocotools' own NumPy 2 copy-keyword notice
        warnings.simplefilter("ignore", DeprecationWarning)
        decoded = np.asarray(mask_utils.decode(rles)).astype(bool)
    for k, annotation in enumerate(annotations):
        pixels = decoded[..., k]
        class_mask[pixels] = int(annotation["category_id"])
        instance_mask[pixels] = int(annotation.get("instance_id", k + 1))
    return class_mask, instance_mask


@dataclass
class LayoutFrames:
    """Frames with their layouts, in memory.

    Attributes:
        images: uint8 (N, 3, H, W).
        class_masks: uint8 (N, H, W).
        instance_masks: int16 (N, H, W).
        records: the COCO image records.
        info: the dataset's ``dataset.json``.
    """

    images: torch.Tensor
    class_masks: torch.Tensor
    instance_masks: torch.Tensor
    records: list[dict[str, Any]]
    info: dict[str, Any]

    def __len__(self) -> int:
        return len(self.images)


def load_layout_frames(root: str | Path, split: str = "train", limit: int | None = None) -> LayoutFrames:
    """The first ``limit`` frames of a split with the layouts rebuilt from their exact masks.

    Raises:
        UsageError: the dataset lacks exact masks (:func:`check_exact_masks`) or has no frames.
    """
    root = Path(root)
    info = read_dataset_info(root)
    coco = read_split(root, split)
    check_exact_masks(root, info, coco)
    records = sorted(coco["images"], key=lambda image: image["id"])[:limit]
    if not records:
        raise DatasetFormatError(f"split {split!r} of {str(root)!r} has no frames")
    by_image: dict[int, list[dict[str, Any]]] = {record["id"]: [] for record in records}
    for annotation in coco["annotations"]:
        if annotation["image_id"] in by_image:
            by_image[annotation["image_id"]].append(annotation)
    images, class_masks, instance_masks = [], [], []
    for record in records:
        rgb = read_image(root / split / record["file_name"])
        class_mask, instance_mask = layout_from_annotations(by_image[record["id"]], *rgb.shape[:2])
        images.append(torch.from_numpy(rgb).permute(2, 0, 1))
        class_masks.append(torch.from_numpy(class_mask))
        instance_masks.append(torch.from_numpy(instance_mask.astype(np.int16)))
    return LayoutFrames(
        torch.stack(images).contiguous(),
        torch.stack(class_masks),
        torch.stack(instance_masks),
        records,
        info,
    )


def instance_edges(instance_masks: torch.Tensor) -> torch.Tensor:
    """(N, H, W) instance ids -> (N, 1, H, W) float, 1 where a 4-neighbour has another id."""
    ids = instance_masks[:, None].float()
    edges = torch.zeros_like(ids, dtype=torch.bool)
    horizontal = ids[..., :, 1:] != ids[..., :, :-1]
    vertical = ids[..., 1:, :] != ids[..., :-1, :]
    edges[..., :, 1:] |= horizontal
    edges[..., :, :-1] |= horizontal
    edges[..., 1:, :] |= vertical
    edges[..., :-1, :] |= vertical
    return edges.float()


def layout_tensor(class_masks: torch.Tensor, instance_masks: torch.Tensor) -> torch.Tensor:
    """The generator's input: one-hot classes and instance edges, float (N, LAYOUT_CHANNELS, H, W)."""
    if class_masks.shape != instance_masks.shape or class_masks.dim() != 3:
        raise UsageError(
            f"class masks {tuple(class_masks.shape)} and instance masks {tuple(instance_masks.shape)} "
            "must both be (N, H, W)"
        )
    one_hot = F.one_hot(class_masks.long().clamp(0, NUM_CLASSES - 1), NUM_CLASSES)
    return torch.cat([one_hot.permute(0, 3, 1, 2).float(), instance_edges(instance_masks)], dim=1)


def colour_layout(class_masks: torch.Tensor, instance_masks: torch.Tensor) -> torch.Tensor:
    """A layout drawn for a picture: uint8 (N, 3, H, W), one colour a class, edges black."""
    picture = _PALETTE[class_masks.long().clamp(0, NUM_CLASSES - 1).cpu()].permute(0, 3, 1, 2)
    edges = instance_edges(instance_masks.cpu()).bool() & (instance_masks.cpu()[:, None] > 0)
    return picture.masked_fill(edges.expand_as(picture), 0).contiguous()
