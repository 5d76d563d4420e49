"""Training targets and loss of the grid detector.

Each ground-truth box is assigned to the cell holding its centre; when two centres share a cell
the smaller object wins (the ball next to a player's feet must not be lost). The loss sums
binary cross-entropy on objectness over all cells (normalised by the number of positives),
and, on positive cells, GIoU + L1 on the box and cross-entropy on the class.
:func:`consistency_loss` is AugMix's Jensen-Shannon consistency over augmented views of a batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn import functional as F
from torchvision.ops import generalized_box_iou_loss

__all__ = ["assign_targets", "detection_loss", "consistency_loss"]


def assign_targets(
    targets: Sequence[dict[str, torch.Tensor]],
    grid_size: tuple[int, int],
    stride: int,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-cell targets: objectness (N, gh, gw), class index 0..C-1 or -1, box xyxy (N, gh, gw, 4)."""
    grid_h, grid_w = grid_size
    count = len(targets)
    objectness = torch.zeros(count, grid_h, grid_w, device=device)
    classes = torch.full((count, grid_h, grid_w), -1, dtype=torch.long, device=device)
    boxes = torch.zeros(count, grid_h, grid_w, 4, device=device)
    for index, target in enumerate(targets):
        gt_boxes = torch.as_tensor(target["boxes"]).to(device).float().reshape(-1, 4)
        if len(gt_boxes) == 0:
            continue
        labels = torch.as_tensor(target["labels"]).to(device)
        areas = (gt_boxes[:, 2] - gt_boxes[:, 0]) * (gt_boxes[:, 3] - gt_boxes[:, 1])
        for k in torch.argsort(areas, descending=True).tolist():  # small boxes written last win
            cx = (gt_boxes[k, 0] + gt_boxes[k, 2]) / 2
            cy = (gt_boxes[k, 1] + gt_boxes[k, 3]) / 2
            gx = int((cx / stride).clamp(0, grid_w - 1))
            gy = int((cy / stride).clamp(0, grid_h - 1))
            objectness[index, gy, gx] = 1.0
            classes[index, gy, gx] = int(labels[k]) - 1
            boxes[index, gy, gx] = gt_boxes[k]
    return objectness, classes, boxes


def detection_loss(
    raw: torch.Tensor,
    predicted_boxes: torch.Tensor,
    targets: Sequence[dict[str, torch.Tensor]],
    stride: int,
    box_weight: float = 2.0,
    class_weight: float = 1.0,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Total loss and its terms for a raw map (N x (5+C) x gh x gw) and its decoded boxes."""
    objectness, classes, gt_boxes = assign_targets(
        targets, tuple(raw.shape[-2:]), stride, raw.device
    )
    positives = objectness > 0
    num_positive = positives.sum().clamp(min=1).float()
    object_loss = (
        F.binary_cross_entropy_with_logits(raw[:, 0], objectness, reduction="sum") / num_positive
    )
    if positives.any():
        chosen = predicted_boxes[positives]
        wanted = gt_boxes[positives]
        giou = generalized_box_iou_loss(chosen, wanted, reduction="mean")
        l1 = F.l1_loss(chosen / stride, wanted / stride)
        box_loss = giou + 0.25 * l1
        class_logits = raw[:, 5:].permute(0, 2, 3, 1)[positives]
        class_loss = F.cross_entropy(class_logits, classes[positives])
    else:
        box_loss = raw.sum() * 0.0
        class_loss = raw.sum() * 0.0
    total = object_loss + box_weight * box_loss + class_weight * class_loss
    return total, {
        "objectness": object_loss.detach(),
        "box": box_loss.detach(),
        "class": class_loss.detach(),
    }


def consistency_loss(raw_views: torch.Tensor, normaliser: torch.Tensor | float) -> torch.Tensor:
    """AugMix's Jensen-Shannon divergence between views, per cell, summed and normalised.

    ``raw_views`` is V x N x (5 + C) x gh x gw: the raw maps of V views of the same N frames
    (the same geometry, different pixels). Each cell's prediction is read as one distribution
    over background and the C classes, ``[1 - p_obj, p_obj * softmax(class)]``; the loss is
    ``mean_v KL(p_v || M)`` with ``M`` the views' mean, summed over cells and divided by
    ``normaliser`` (the trainer passes the clean view's object count, about the objectness
    loss's number of positive cells, so both terms share a scale).
    Hendrycks et al., "AugMix", ICLR 2020, eq. 1-2, with cells in place of images.
    """
    objectness = raw_views[:, :, 0:1]
    log_p = torch.cat(
        [F.logsigmoid(-objectness), F.logsigmoid(objectness) + raw_views[:, :, 5:].log_softmax(dim=2)],
        dim=2,
    )
    p = log_p.exp()
    log_mean = p.mean(dim=0, keepdim=True).clamp(1e-7, 1.0).log()
    divergence = (p * (log_p - log_mean)).sum(dim=2).mean(dim=0)  # N x gh x gw
    return divergence.sum() / normaliser
