"""Augmentations that move boxes and masks with the pixels (torchvision ``transforms.v2``).

An image, its ``BoundingBoxes`` and its ``Mask`` go through one ``v2`` transform together, so a
flip, rotation, scale, crop or translation draws its random parameters once and applies them to
all three. Gaussian noise changes pixels only.
"""

from __future__ import annotations

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

from visiongym.sims.errors import UsageError

__all__ = ["TRANSFORM_NAMES", "make_transform", "make_pipeline", "photometric_transforms", "mask_boxes",
           "make_sample"]

TRANSFORM_NAMES = ("flip", "rotation", "scale", "crop", "translation", "noise")


def make_transform(name: str, strength: float = 1.0, crop_fraction: float = 0.75) -> v2.Transform:
    """One augmentation by name; ``strength`` in (0, 1] scales its range.

    - ``flip``: horizontal flip (always applied; compose with ``v2.RandomApply`` for a chance).
    - ``rotation``: up to ±30°·strength about the centre (boxes become the rotated corners' box).
    - ``scale``: zoom by a factor in [1 - 0.3·s, 1 + 0.3·s] about the centre.
    - ``crop``: a random crop of ``crop_fraction`` of each side, resized back to the input size.
    - ``translation``: shift by up to 20 %·strength of each side (whole pixels).
    - ``noise``: additive Gaussian noise, sigma 0.08·strength, on float images in [0, 1].
    """
    if name not in TRANSFORM_NAMES:
        raise UsageError(f"transform {name!r} unknown; choose one of: {', '.join(TRANSFORM_NAMES)}")
    if not 0.0 < strength <= 1.0:
        raise UsageError(f"strength {strength} must lie in (0, 1]")
    if name == "flip":
        return v2.RandomHorizontalFlip(p=1.0)
    if name == "rotation":
        return v2.RandomRotation(degrees=30.0 * strength)
    if name == "scale":
        return v2.RandomAffine(degrees=0.0, scale=(1 - 0.3 * strength, 1 + 0.3 * strength))
    if name == "crop":
        return _CropResizeBack(crop_fraction)
    if name == "translation":
        return v2.RandomAffine(degrees=0.0, translate=(0.2 * strength, 0.2 * strength))
    return v2.Compose(
        [v2.ToDtype(torch.float32, scale=True), v2.GaussianNoise(sigma=0.08 * strength)]
    )


class _CropResizeBack(v2.Transform):
    """Random crop of a fraction of each side, then resize back (nearest for masks)."""

    def __init__(self, fraction: float) -> None:
        super().__init__()
        if not 0.0 < fraction <= 1.0:
            raise UsageError(f"crop fraction {fraction} must lie in (0, 1]")
        self.fraction = fraction

    def forward(self, *inputs):
        # The image comes first, as in every call of this module: (image, target).
        height, width = v2.functional.get_size(inputs[0])
        size = (max(1, round(height * self.fraction)), max(1, round(width * self.fraction)))
        return v2.Compose([v2.RandomCrop(size), v2.Resize((height, width))])(*inputs)


def make_pipeline(names: tuple[str, ...], strength: float = 1.0, p: float = 0.5) -> v2.Transform:
    """Apply each named augmentation with probability ``p``, in the given order."""
    return v2.Compose([v2.RandomApply([make_transform(name, strength)], p=p) for name in names])


def photometric_transforms(p: float = 0.3) -> v2.Transform:
    """Pixel-only corruptions of ``uint8`` images, each applied with probability ``p``.

    Gaussian blur, Gaussian noise (sigma up to 0.05 of the range) and JPEG compression (quality
    30-90): the camera-side shifts that a simulator's looks do not cover. They move nothing, so
    boxes and masks stay exact; images stay ``uint8``.
    """
    noise = v2.Compose([v2.ToDtype(torch.float32, scale=True), v2.GaussianNoise(sigma=0.05),
                        v2.ToDtype(torch.uint8, scale=True)])
    return v2.Compose([
        v2.RandomApply([v2.GaussianBlur(kernel_size=5, sigma=(0.3, 1.2))], p=p),
        v2.RandomApply([noise], p=p),
        v2.RandomApply([v2.JPEG(quality=(30, 90))], p=p),
    ])


def mask_boxes(masks: torch.Tensor) -> torch.Tensor:
    """Tight ``xyxy`` boxes (exclusive max, in pixels) of ``(K, H, W)`` masks; NaN rows if empty."""
    boxes = torch.full((len(masks), 4), float("nan"))
    for index, mask in enumerate(masks):
        rows = torch.nonzero(mask.any(dim=1)).flatten()
        cols = torch.nonzero(mask.any(dim=0)).flatten()
        if len(rows):
            boxes[index] = torch.tensor(
                [cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=torch.float32
            )
    return boxes


def make_sample(image, boxes, masks, labels) -> tuple[tv_tensors.Image, dict]:
    """Wrap arrays as ``tv_tensors`` so that ``v2`` transforms move boxes and masks with the image."""
    pixels = torch.as_tensor(image)
    if pixels.ndim == 3 and pixels.shape[-1] == 3:  # (H, W, 3) as the simulator renders it
        pixels = pixels.permute(2, 0, 1)
    image = tv_tensors.Image(pixels)
    height, width = image.shape[-2:]
    target = {
        "boxes": tv_tensors.BoundingBoxes(
            torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            format="XYXY",
            canvas_size=(height, width),
        ),
        "masks": tv_tensors.Mask(torch.as_tensor(masks, dtype=torch.uint8)),
        "labels": torch.as_tensor(labels, dtype=torch.int64),
    }
    return image, target
