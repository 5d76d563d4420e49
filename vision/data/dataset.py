"""Read rendered datasets back as PyTorch datasets, with ``transforms.v2`` augmentation.

:class:`SoccerDetection` yields ``(image, target)`` where ``image`` is a ``tv_tensors.Image``
(uint8, 3 x H x W) and ``target`` holds ``boxes`` (``tv_tensors.BoundingBoxes``, XYXY pixels),
``labels`` (simulator class index, 1..4), ``masks`` (``tv_tensors.Mask``, K x H x W), and
``image_id``. Because boxes and masks are tv_tensors, every geometric v2 transform (flip, affine,
crop, resize) moves them with the pixels; :func:`detection_transforms` builds the default set.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2

from visiongym.sims.errors import UsageError
from visiongym.vision.data.format import (
    DatasetFormatError,
    png16_to_depth,
    read_dataset_info,
    read_image,
    read_split,
)

__all__ = ["SoccerDetection", "detection_transforms", "collate_detection", "detection_loader", "load_frames"]


class SoccerDetection(Dataset):
    """A split of a rendered dataset as detection/segmentation samples.

    Args:
        root: dataset folder written by ``visiongym.vision.data.render_soccer``.
        split: ``train``, ``val`` or ``test``.
        transforms: a v2 transform called as ``transforms(image, target)``.
        masks: decode the RLE instance masks into ``target["masks"]``.
        depth: add ``target["depth"]`` (float32 metres, 1 x H x W).
        limit: keep only the first ``limit`` frames.
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        transforms: Callable | None = None,
        masks: bool = True,
        depth: bool = False,
        limit: int | None = None,
    ) -> None:
        self.root = Path(root)
        self.split = split
        self.info = read_dataset_info(self.root)
        coco = read_split(self.root, split)
        self.categories = {category["id"]: category["name"] for category in coco["categories"]}
        self.images: list[dict[str, Any]] = sorted(coco["images"], key=lambda image: image["id"])
        if limit is not None:
            self.images = self.images[:limit]
        self.annotations: dict[int, list[dict[str, Any]]] = {
            image["id"]: [] for image in self.images
        }
        for annotation in coco["annotations"]:
            if annotation["image_id"] in self.annotations:
                self.annotations[annotation["image_id"]].append(annotation)
        missing = [
            image["file_name"]
            for image in self.images
            if not (self.root / split / image["file_name"]).is_file()
        ]
        if missing:
            raise DatasetFormatError(
                f"{len(missing)} image file(s) listed in {str(self.root / split / 'annotations.json')!r} "
                f"are missing, first: {missing[0]!r}"
            )
        if depth and self.info.get("depth") == "none":
            raise DatasetFormatError(f"dataset {str(self.root)!r} was rendered with --depth none")
        self.transforms = transforms
        self.masks = masks
        self.depth = depth

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width) of the stored images."""
        first = self.images[0]
        return int(first["height"]), int(first["width"])

    def __getitem__(self, index: int) -> tuple[tv_tensors.Image, dict[str, Any]]:
        record = self.images[index]
        folder = self.root / self.split
        rgb = read_image(folder / record["file_name"])
        height, width = rgb.shape[:2]
        image = tv_tensors.Image(torch.from_numpy(rgb).permute(2, 0, 1).contiguous())
        annotations = self.annotations[record["id"]]
        boxes = torch.tensor(
            [
                [
                    a["bbox"][0],
                    a["bbox"][1],
                    a["bbox"][0] + a["bbox"][2],
                    a["bbox"][1] + a["bbox"][3],
                ]
                for a in annotations
            ],
            dtype=torch.float32,
        ).reshape(-1, 4)
        target: dict[str, Any] = {
            "boxes": tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=(height, width)),
            "labels": torch.tensor([a["category_id"] for a in annotations], dtype=torch.int64),
            "image_id": int(record["id"]),
        }
        if self.masks:
            from pycocotools import mask as mask_utils

            if annotations:
                rles = [
                    {
                        "size": a["segmentation"]["size"],
                        "counts": a["segmentation"]["counts"].encode("ascii"),
                    }
                    for a in annotations
                ]
                with warnings.catch_warnings():  # pycocotools' own NumPy 2 copy-keyword notice
                    warnings.simplefilter("ignore", DeprecationWarning)
                    decoded = np.asarray(mask_utils.decode(rles)).transpose(2, 0, 1)
            else:
                decoded = np.zeros((0, height, width), np.uint8)
            target["masks"] = tv_tensors.Mask(torch.from_numpy(np.ascontiguousarray(decoded)))
        if self.depth:
            depth_path = folder / record["depth_file"]
            if depth_path.suffix == ".npy":
                depth_m = np.load(depth_path)
            else:
                depth_m = png16_to_depth(read_image(depth_path))
            target["depth"] = tv_tensors.Mask(torch.from_numpy(depth_m)[None])
        if self.transforms is not None:
            image, target = self.transforms(image, target)
        return image, target


def detection_transforms(
    train: bool,
    size: int | None = None,
    photometric: bool = True,
    robust: bool = False,
    radial: bool = False,
    views: int = 1,
) -> v2.Compose:
    """Default augmentation: flips, small affine jitter, colour jitter; boxes and masks follow.

    Args:
        train: add random augmentation (otherwise only resizing and sanitising).
        size: resize to ``size`` x ``size`` when given.
        photometric: with ``train``, also blur, noise and JPEG compression
            (:func:`visiongym.vision.augment.transforms.photometric_transforms`; pixels only).
        robust: with ``photometric``, the wider set instead: an AugMix-style mixture, mild
            blurs, sensor noise, JPEG and grey, all outside the robustness suite's severities
            (:func:`visiongym.vision.augment.transforms.robust_photometric_transforms`).
        radial: with ``robust``, also a weak zoom blur among the blurs.
        views: with ``photometric``, 2 or more stacks each image (``views x 3 x H x W``) with
            ``views - 1`` independent draws of the photometric set after the shared geometric
            ones (:class:`visiongym.vision.augment.transforms.AugmentedViews`; AugMix's
            consistency training); 1 applies the set once.
    """
    if views < 1 or (views > 1 and not (train and photometric)):
        raise UsageError(
            f"views={views} needs train and photometric augmentation (views > 1) and at least 1"
        )
    steps: list[Callable] = []
    if size is not None:
        steps.append(v2.Resize((size, size), antialias=True))
    if train:
        steps += [
            v2.RandomHorizontalFlip(0.5),
            v2.RandomAffine(degrees=0.0, translate=(0.08, 0.08), scale=(0.9, 1.15)),
            v2.ColorJitter(brightness=0.25, contrast=0.25, saturation=0.25, hue=0.03),
        ]
        if photometric:
            from visiongym.vision.augment.transforms import (
                photometric_transforms,
                robust_photometric_transforms,
            )

            pixel_only = robust_photometric_transforms(radial=radial) if robust else photometric_transforms()
            if views > 1:
                from visiongym.vision.augment.transforms import AugmentedViews

                pixel_only = AugmentedViews(pixel_only, views)
            steps.append(pixel_only)
    # Drop boxes pushed (almost) out of the frame, with their labels and masks.
    steps += [v2.ClampBoundingBoxes(), v2.SanitizeBoundingBoxes(min_size=1.0)]
    return v2.Compose(steps)


def collate_detection(
    batch: list[tuple[torch.Tensor, dict[str, Any]]],
) -> tuple[torch.Tensor, list[dict[str, Any]]]:
    """Stack equally sized images; keep targets as a list (object counts differ per frame)."""
    images, targets = zip(*batch, strict=True)
    return torch.stack([torch.as_tensor(image) for image in images]), list(targets)


def detection_loader(dataset: Dataset, batch_size: int, shuffle: bool, seed: int = 0) -> DataLoader:
    """Batches of ``(uint8 images, targets)`` (:func:`collate_detection`); shuffled from ``seed``,
    dropping the last short batch when shuffling (the detector and segmenter trainers)."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        collate_fn=collate_detection,
        generator=torch.Generator().manual_seed(seed),
        drop_last=shuffle and len(dataset) > batch_size,
    )


def load_frames(
    root: str | Path, split: str, size: int | None = None, limit: int | None = None
) -> torch.Tensor:
    """All images of a split as one uint8 tensor (N, 3, H, W), optionally resized to ``size``.

    Meant for the small in-memory datasets the autoencoder and GAN trainers use.
    """
    dataset = SoccerDetection(root, split, masks=False, limit=limit)
    if len(dataset) == 0:
        raise DatasetFormatError(f"split {split!r} of {str(Path(root))!r} has no frames")
    resize = v2.Resize((size, size), antialias=True) if size is not None else None
    frames = []
    for record in dataset.images:
        rgb = read_image(dataset.root / split / record["file_name"])
        tensor = torch.from_numpy(rgb).permute(2, 0, 1)
        frames.append(resize(tensor) if resize is not None else tensor)
    return torch.stack(frames).contiguous()
