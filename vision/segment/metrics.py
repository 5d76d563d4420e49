"""Segmentation metrics: class IoU from a confusion matrix, and per-instance player mask IoU.

- **Class IoU** (semantic): over all scored pixels of a split, ``IoU_c = TP / (TP + FP + FN)``
  from one confusion matrix (torchmetrics' ``MulticlassConfusionMatrix``), so a class is
  weighted by its pixels over the whole split, not per frame. **mIoU** is the mean over the
  classes that occur in the ground truth or the prediction (a class absent from both has no IoU).
- **Player mask IoU** (instance): every ground-truth player (``team_a``/``team_b``) is matched
  one-to-one to a predicted instance *of the same class* by maximum total mask IoU (Hungarian,
  :func:`scipy.optimize.linear_sum_assignment`); the score is the mean IoU over ground-truth
  players, a missed player counting 0. ``player_recall50`` is the share matched at IoU >= 0.5.
  Extra predicted instances do not lower the IoU; ``player_precision50`` counts them.

:func:`instances_from_class_mask` turns a class mask into instances (connected components of each
player class), so a semantic model's player masks are scored the same way as Mask R-CNN's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch

__all__ = [
    "PLAYER_CLASSES",
    "ConfusionIoU",
    "ious_from_confusion",
    "class_mask_from_instances",
    "instances_from_class_mask",
    "instance_set",
    "mask_iou_matrix",
    "match_instances",
    "PlayerMaskIoU",
]

PLAYER_CLASSES: tuple[int, ...] = (2, 3)
"""Class indices of the players (``team_a``, ``team_b``) in :data:`CLASS_NAMES` order."""


def ious_from_confusion(confusion: torch.Tensor) -> torch.Tensor:
    """Per-class IoU from a ``C x C`` confusion matrix (rows truth, columns prediction); NaN where
    a class occurs in neither."""
    confusion = confusion.double()
    true_positive = confusion.diagonal()
    union = confusion.sum(0) + confusion.sum(1) - true_positive
    return torch.where(union > 0, true_positive / union.clamp(min=1), torch.full_like(union, float("nan")))


class ConfusionIoU:
    """Accumulates a pixel confusion matrix over batches; :meth:`compute` gives mIoU and per-class IoU.

    Args:
        class_names: one name per class index (background first).
    """

    def __init__(self, class_names: Sequence[str]) -> None:
        from torchmetrics.classification import MulticlassConfusionMatrix

        self.class_names = tuple(class_names)
        self.matrix = MulticlassConfusionMatrix(num_classes=len(self.class_names))

    def update(self, prediction: torch.Tensor, target: torch.Tensor) -> None:
        """Add (N, H, W) (or (H, W)) integer class masks."""
        self.matrix.update(prediction.reshape(-1).cpu().long(), target.reshape(-1).cpu().long())

    def compute(self) -> dict[str, float]:
        ious = ious_from_confusion(self.matrix.compute())
        out = {"miou": float(torch.nanmean(ious)), "pixel_acc": float(self._accuracy())}
        for name, value in zip(self.class_names, ious.tolist(), strict=True):
            out[f"iou/{name}"] = value
        return out

    def _accuracy(self) -> torch.Tensor:
        confusion = self.matrix.compute().double()
        return confusion.diagonal().sum() / confusion.sum().clamp(min=1)


def class_mask_from_instances(masks: torch.Tensor | np.ndarray, labels, shape: tuple[int, int] | None = None) -> torch.Tensor:
    """A (H, W) int64 class mask painted from (K, H, W) instance masks and their labels.

    The simulator's instance masks are disjoint (each pixel belongs to the nearest visible
    object), so painting order does not matter for ground truth.
    """
    masks = torch.as_tensor(masks)
    labels = torch.as_tensor(labels).long().reshape(-1)
    if shape is None:
        shape = tuple(masks.shape[-2:])
    out = torch.zeros(shape, dtype=torch.int64)
    for mask, label in zip(masks, labels, strict=True):
        out[mask.bool()] = label
    return out


def instances_from_class_mask(
    class_mask: torch.Tensor | np.ndarray, classes: Sequence[int] = PLAYER_CLASSES, min_pixels: int = 2
) -> dict[str, torch.Tensor]:
    """Connected components (8-connected) of each class in ``classes``: ``masks`` (K, H, W) uint8,
    ``labels`` (K,), ``scores`` (K,) all 1. Components under ``min_pixels`` are dropped as noise.

    Two touching players of one team become one instance: the limit of this baseline.
    """
    import cv2

    class_mask = np.asarray(torch.as_tensor(class_mask).cpu())
    masks, labels = [], []
    for cls in classes:
        count, components = cv2.connectedComponents((class_mask == cls).astype(np.uint8), connectivity=8)
        for component in range(1, count):
            mask = components == component
            if mask.sum() >= min_pixels:
                masks.append(mask)
                labels.append(cls)
    return instance_set(masks, labels, class_mask.shape)


def instance_set(masks: Sequence[np.ndarray], labels: Sequence[int], shape: tuple[int, int]) -> dict[str, torch.Tensor]:
    """Boolean (H, W) masks and their class labels as a prediction: ``masks`` (K, H, W) uint8,
    ``labels`` (K,) int64, ``scores`` (K,) all 1 (a class mask's instances have no confidence)."""
    stacked = np.stack(masks).astype(np.uint8) if len(masks) else np.zeros((0, *shape), np.uint8)
    return {
        "masks": torch.from_numpy(stacked),
        "labels": torch.as_tensor(labels, dtype=torch.int64),
        "scores": torch.ones(len(labels)),
    }


def mask_iou_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise IoU of binary masks ``a`` (K, H, W) and ``b`` (M, H, W): a K x M float tensor."""
    a = torch.as_tensor(a).reshape(len(a), -1).float()
    b = torch.as_tensor(b).reshape(len(b), -1).float()
    intersection = a @ b.T
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - intersection
    return torch.where(union > 0, intersection / union.clamp(min=1), torch.zeros_like(union))


def match_instances(
    truth_masks, truth_labels, predicted_masks, predicted_labels, classes: Iterable[int] = PLAYER_CLASSES
) -> tuple[list[float], int]:
    """One-to-one same-class matching of ground-truth to predicted instances by maximum IoU.

    Returns:
        ``(ious, predicted_count)``: the IoU of each ground-truth instance of ``classes`` with its
        match (0 when unmatched), and how many predicted instances of ``classes`` there were.
    """
    from scipy.optimize import linear_sum_assignment

    truth_masks, predicted_masks = torch.as_tensor(truth_masks), torch.as_tensor(predicted_masks)
    truth_labels = torch.as_tensor(truth_labels).reshape(-1)
    predicted_labels = torch.as_tensor(predicted_labels).reshape(-1)
    ious: list[float] = []
    predicted_count = 0
    for cls in classes:
        truth = truth_masks[truth_labels == cls]
        predicted = predicted_masks[predicted_labels == cls]
        predicted_count += len(predicted)
        matched = np.zeros(len(truth))
        if len(truth) and len(predicted):
            matrix = mask_iou_matrix(truth, predicted).numpy()
            rows, cols = linear_sum_assignment(matrix, maximize=True)
            matched[rows] = matrix[rows, cols]
        ious += matched.tolist()
    return ious, predicted_count


class PlayerMaskIoU:
    """Accumulates per-player mask IoU over frames (see the module docstring)."""

    def __init__(self, classes: Sequence[int] = PLAYER_CLASSES) -> None:
        self.classes = tuple(classes)
        self.ious: list[float] = []
        self.predicted = 0

    def update(self, truth_masks, truth_labels, predicted_masks, predicted_labels) -> None:
        ious, predicted = match_instances(truth_masks, truth_labels, predicted_masks, predicted_labels, self.classes)
        self.ious += ious
        self.predicted += predicted

    def compute(self) -> dict[str, float]:
        ious = np.asarray(self.ious)
        hits = float((ious >= 0.5).sum())
        return {
            "player_iou": float(ious.mean()) if len(ious) else float("nan"),
            "player_recall50": hits / len(ious) if len(ious) else float("nan"),
            "player_precision50": hits / self.predicted if self.predicted else float("nan"),
            "players": float(len(ious)),
        }
