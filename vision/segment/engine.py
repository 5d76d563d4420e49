"""One interface over the semantic segmenters (U-Net, FCN) and Mask R-CNN: loss, predict, save, load.

Both take uint8 image batches (N x 3 x H x W) and targets with instance ``masks`` (K x H x W),
``labels`` (1..C-1) and ``boxes`` (xyxy pixels), as :class:`visiongym.vision.data.dataset.SoccerDetection`
yields them. :meth:`Segmenter.predict` returns, per frame, a ``class_mask`` (H x W) *and*
instances (``masks``, ``labels``, ``scores``): a semantic model's instances come from its class
mask (:mod:`visiongym.vision.segment.instances`: split touching players, re-attach cut-off
pieces; ``instances="components"`` for plain connected components), Mask R-CNN's class mask is
its instances painted by score, so every model is scored on both (:func:`evaluate`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from visiongym.vision.data.format import CLASS_NAMES
from visiongym.vision.runs import NamedModel
from visiongym.vision.segment.instances import (
    check_instance_method,
    class_instances,
    contact_mask_from_instances,
)
from visiongym.vision.segment.metrics import (
    ConfusionIoU,
    PlayerMaskIoU,
    class_mask_from_instances,
)
from visiongym.vision.segment.models import SEGMENTERS, TASKS

__all__ = ["CHECKPOINT_KIND", "Segmenter", "load_segmenter", "evaluate", "class_masks", "save_grid", "PALETTE"]

CHECKPOINT_KIND = "segmenter"
TRAINER = "visiongym segment train"

PALETTE = torch.tensor(
    [[40, 40, 40], [255, 255, 255], [230, 40, 40], [40, 90, 240], [250, 210, 40]], dtype=torch.uint8
)
"""Colour per class index in the pictures: background, ball, team_a, team_b, goal."""


def class_masks(targets: Sequence[dict[str, Any]], shape: tuple[int, int]) -> torch.Tensor:
    """(N, H, W) int64 class masks painted from the targets' instance masks and labels."""
    return torch.stack([class_mask_from_instances(t["masks"], t["labels"], shape) for t in targets])


def _dice_loss(logits: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """1 - soft Dice, averaged over the classes present in the batch's truth: it weighs the
    2-4 pixel ball as much as the pitch, which pixel cross-entropy alone does not."""
    probabilities = logits.softmax(1)
    one_hot = F.one_hot(truth, logits.shape[1]).permute(0, 3, 1, 2).float()
    intersection = (probabilities * one_hot).sum((0, 2, 3))
    total = probabilities.sum((0, 2, 3)) + one_hot.sum((0, 2, 3))
    present = one_hot.sum((0, 2, 3)) > 0
    dice = (2 * intersection + 1.0) / (total + 1.0)
    return 1.0 - dice[present].mean()


def _class_weights(truth: torch.Tensor, num_classes: int, power: float = 0.5) -> torch.Tensor:
    """Cross-entropy weights ``pixel share ** -power`` of each class in the batch (``1 / sqrt``
    by default), scaled so the mean pixel weight is 1: objects are ~1.5 % of a frame's pixels, and
    unweighted the loss is first minimised by painting everything background. A weight ``w``
    shifts a class's decision boundary by ``log w`` in logits, so heavy weights draw objects a
    pixel fat all round: what costs a 28-pixel player most of its IoU (see ``class_weight_power``)."""
    counts = torch.bincount(truth.reshape(-1), minlength=num_classes).float()
    share = counts / counts.sum()
    weights = torch.where(counts > 0, share.clamp(min=1e-6).pow(-power), torch.zeros_like(share))
    return weights / (weights * share).sum()


def _contact_loss(logits: torch.Tensor, contact: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of the contact head, positives weighted by the batch's negatives over
    positives (capped at 100): contacts are a few pixels of a frame, and unweighted the head
    learns to say "never"."""
    positives = contact.sum().clamp(min=1)
    weight = ((contact.numel() - positives) / positives).clamp(max=100.0)
    return F.binary_cross_entropy_with_logits(logits, contact.float(), pos_weight=weight)


class Segmenter(NamedModel):
    """A segmenter by name with a uniform ``loss`` / ``predict`` interface.

    Args:
        name: a registered segmenter (:data:`visiongym.vision.segment.models.SEGMENTERS`).
        image_size: square input side in pixels.
        class_names: every class name, the background first (class index = position).
    """

    KIND = CHECKPOINT_KIND
    REGISTRY = SEGMENTERS
    TRAINER = TRAINER
    WHAT = "segmenter"

    def __init__(self, name: str, image_size: int = 128, class_names: Sequence[str] = CLASS_NAMES) -> None:
        super().__init__(name, image_size, class_names)
        self.task = TASKS[name]
        self.contact = bool(getattr(self.net, "contact", False))
        """Whether the network has the contact head (its last output channel)."""
        self.class_weight_power = 0.5
        """Cross-entropy class weights are ``pixel share ** -class_weight_power`` (training only)."""

    def loss(self, images: torch.Tensor, targets: Sequence[dict[str, Any]]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Training loss of a uint8 batch; the module must be in train mode."""
        self._check(images)
        device = images.device
        if self.task == "instance":
            clean = [
                {
                    "boxes": torch.as_tensor(t["boxes"]).float().reshape(-1, 4).to(device),
                    "labels": torch.as_tensor(t["labels"]).to(device),
                    "masks": torch.as_tensor(t["masks"]).to(torch.uint8).to(device),
                }
                for t in targets
            ]
            terms = self.net([image.float() / 255.0 for image in images], clean)
            return sum(terms.values()), {k: v.detach() for k, v in terms.items()}
        truth = class_masks(targets, tuple(images.shape[-2:])).to(device)
        logits = self.net(images)
        terms = {}
        if self.contact:
            logits, contact_logits = logits[:, :-1], logits[:, -1]
            contact = torch.stack([contact_mask_from_instances(t["masks"], t["labels"]) for t in targets]).to(device)
            terms["contact"] = _contact_loss(contact_logits, contact)
        weights = _class_weights(truth, logits.shape[1], self.class_weight_power)
        terms["cross_entropy"] = F.cross_entropy(logits, truth, weight=weights)
        terms["dice"] = _dice_loss(logits, truth)
        return sum(terms.values()), {k: v.detach() for k, v in terms.items()}

    @torch.no_grad()
    def predict(
        self, images: torch.Tensor, score_threshold: float = 0.5, instances: str = "split"
    ) -> list[dict[str, torch.Tensor]]:
        """Per frame: ``class_mask`` (H, W) int64, and instances ``masks`` (K, H, W) uint8,
        ``labels`` (K,), ``scores`` (K,) (Mask R-CNN's above ``score_threshold``).

        ``instances`` is how a semantic model's class mask becomes instances
        (:data:`~visiongym.vision.segment.instances.INSTANCE_METHODS`): ``split`` (touching players
        split by the distance transform, cut-off pieces re-attached), ``contact`` (split at the
        contact head's contacts instead: ``unet_contact`` only) or ``components`` (connected
        components). A semantic model with the contact head also returns
        ``contact`` (H, W), the contact probability."""
        check_instance_method(instances, self.contact, self.name)
        self._check(images)
        was_training = self.training
        self.eval()
        results = []
        if self.task == "instance":
            for output in self.net([image.float() / 255.0 for image in images]):
                keep = output["scores"] > score_threshold
                masks = (output["masks"][keep, 0] > 0.5).to(torch.uint8).cpu()
                labels, scores = output["labels"][keep].cpu(), output["scores"][keep].cpu()
                order = scores.argsort()  # paint the most confident last, so it wins overlaps
                class_mask = class_mask_from_instances(masks[order], labels[order], tuple(images.shape[-2:]))
                results.append({"class_mask": class_mask, "masks": masks, "labels": labels, "scores": scores})
        else:
            logits = self.net(images).cpu()
            contacts = logits[:, -1].sigmoid() if self.contact else [None] * len(logits)
            class_masks_ = (logits[:, :-1] if self.contact else logits).argmax(1)
            for class_mask, contact in zip(class_masks_, contacts, strict=True):
                result = {"class_mask": class_mask, **class_instances(class_mask, contact, instances)}
                if contact is not None:
                    result["contact"] = contact
                results.append(result)
        self.train(was_training)
        return results



def load_segmenter(path: str | Path, device: str | torch.device = "cpu") -> tuple[Segmenter, dict[str, Any]]:
    """Load a segmenter checkpoint; return ``(segmenter in eval mode, payload)``."""
    return Segmenter.load(path, device)


@torch.no_grad()
def evaluate(
    segmenter: Segmenter, batches: Iterable[tuple[torch.Tensor, Sequence[dict[str, Any]]]], instances: str = "split"
) -> dict[str, float]:
    """mIoU, pixel accuracy, IoU per class and player mask IoU over ``(images, targets)`` batches
    (a semantic model's instances by ``instances``: see :meth:`Segmenter.predict`)."""
    device = next(segmenter.parameters()).device
    classes, players = ConfusionIoU(segmenter.class_names), PlayerMaskIoU()
    for images, targets in batches:
        predictions = segmenter.predict(images.to(device), instances=instances)
        truth = class_masks(targets, tuple(images.shape[-2:]))
        classes.update(torch.stack([p["class_mask"] for p in predictions]), truth)
        for prediction, target in zip(predictions, targets, strict=True):
            players.update(target["masks"], target["labels"], prediction["masks"], prediction["labels"])
    return {**classes.compute(), **players.compute()}


def colourise(class_mask: torch.Tensor) -> torch.Tensor:
    """(H, W) class indices as a (3, H, W) uint8 picture (:data:`PALETTE`)."""
    return PALETTE[class_mask.clamp(0, len(PALETTE) - 1)].permute(2, 0, 1)


@torch.no_grad()
def save_grid(path: str | Path, segmenter: Segmenter, images: torch.Tensor, targets: Sequence[dict[str, Any]]) -> Path:
    """One row per frame: the frame | the ground-truth class mask | the prediction."""
    from torchvision.utils import save_image

    device = next(segmenter.parameters()).device
    predictions = segmenter.predict(images.to(device))
    truth = class_masks(targets, tuple(images.shape[-2:]))
    tiles = []
    for image, true_mask, prediction in zip(images, truth, predictions, strict=True):
        tiles += [image.cpu(), colourise(true_mask), colourise(prediction["class_mask"])]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(torch.stack(tiles).float() / 255.0, path, nrow=3, padding=2)
    return path
