"""One interface over the grid detector and torchvision's Faster R-CNN: loss, predict, save, load.

Both take uint8 image batches (N x 3 x H x W) and targets with ``boxes`` (xyxy pixels) and
``labels`` (1..C), and return detections as dicts of ``boxes``, ``scores``, ``labels``, so the
trainer, the evaluator, ``predict`` and the observation wrapper need not know which is which.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch

from visiongym.sims.errors import UsageError
from visiongym.vision.data.format import DETECTION_CLASSES
from visiongym.vision.detect.loss import consistency_loss, detection_loss
from visiongym.vision.detect.model import DETECTORS
from visiongym.vision.metrics import detection_map
from visiongym.vision.runs import NamedModel

__all__ = ["CHECKPOINT_KIND", "MODELS", "Detector", "load_detector", "evaluate", "measure_fps"]

CHECKPOINT_KIND = "detector"
FASTER_RCNN = "faster_rcnn"
MODELS = DETECTORS.names()
"""Every registered detector name (:data:`visiongym.vision.detect.model.DETECTORS`)."""


def _targets_on(targets: Sequence[dict[str, Any]], device: torch.device) -> list[dict[str, torch.Tensor]]:
    """Each target's ``boxes`` (float) and ``labels`` as tensors on ``device``."""
    return [
        {
            "boxes": torch.as_tensor(t["boxes"]).to(device).float(),
            "labels": torch.as_tensor(t["labels"]).to(device),
        }
        for t in targets
    ]


class Detector(NamedModel):
    """A detector by name with a uniform ``loss`` / ``predict`` interface.

    Args:
        name: a registered detector (:data:`MODELS`: the grid detectors or ``faster_rcnn``).
        image_size: square input side in pixels.
        class_names: foreground class names (labels ``1..len``).
    """

    KIND = CHECKPOINT_KIND
    REGISTRY = DETECTORS
    TRAINER = "visiongym.vision.detect.train"
    WHAT = "detector"

    def __init__(
        self, name: str, image_size: int = 128, class_names: Sequence[str] = DETECTION_CLASSES
    ) -> None:
        super().__init__(name, image_size, class_names)

    def loss(
        self,
        images: torch.Tensor,
        targets: Sequence[dict[str, Any]],
        consistency: float = 12.0,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Training loss of a uint8 batch; the module must be in train mode.

        A batch of views, N x V x 3 x H x W (view 0 clean, the others augmented copies, as
        ``detection_transforms(views=V)`` gives), is trained as AugMix: the detection loss on the
        clean view plus ``consistency`` (AugMix's lambda, 12) times the Jensen-Shannon
        consistency of all views (:func:`visiongym.vision.detect.loss.consistency_loss`).
        """
        if images.ndim == 5:
            return self._views_loss(images, targets, consistency)
        self._check(images)
        clean = _targets_on(targets, images.device)
        if self.name == FASTER_RCNN:
            terms = self.net([image.float() / 255.0 for image in images], clean)
            return sum(terms.values()), {k: v.detach() for k, v in terms.items()}
        raw = self.net(images)
        return detection_loss(raw, self.net.boxes_from_map(raw), clean, self.net.stride)

    def _views_loss(
        self, images: torch.Tensor, targets: Sequence[dict[str, Any]], consistency: float
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if self.name == FASTER_RCNN:
            raise UsageError(
                f"augmented views (consistency training) need a grid detector, not {self.name!r}; "
                f"choose one of: {', '.join(n for n in MODELS if n != FASTER_RCNN)}"
            )
        count, views = images.shape[:2]
        flat = images.transpose(0, 1).reshape(views * count, *images.shape[2:])
        self._check(flat)
        raw = self.net(flat)
        raw_views = raw.reshape(views, count, *raw.shape[1:])
        clean = _targets_on(targets, images.device)
        total, terms = detection_loss(
            raw_views[0], self.net.boxes_from_map(raw_views[0]), clean, self.net.stride
        )
        positives = sum(len(t["labels"]) for t in clean)
        jsd = consistency_loss(raw_views, max(positives, 1))
        return total + consistency * jsd, {**terms, "consistency": jsd.detach()}

    @torch.no_grad()
    def predict(
        self, images: torch.Tensor, score_threshold: float = 0.05
    ) -> list[dict[str, torch.Tensor]]:
        """Detections for a uint8 batch: ``boxes`` xyxy pixels, ``scores``, ``labels`` 1..C."""
        self._check(images)
        was_training = self.training
        self.eval()
        if self.name == FASTER_RCNN:
            outputs = self.net([image.float() / 255.0 for image in images])
            outputs = [{k: v[o["scores"] > score_threshold] for k, v in o.items()} for o in outputs]
        else:
            outputs = self.net.predict(images, score_threshold=score_threshold)
        self.train(was_training)
        return outputs



def load_detector(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[Detector, dict[str, Any]]:
    """Load a detector checkpoint; return ``(detector in eval mode, payload)``."""
    return Detector.load(path, device)


@torch.no_grad()
def evaluate(
    detector: Detector, batches: Iterable[tuple[torch.Tensor, list[dict[str, Any]]]]
) -> dict[str, float]:
    """mAP@0.5:0.95, mAP@0.5 and per-class AP of ``detector`` over ``(images, targets)`` batches."""
    device = next(detector.parameters()).device
    predictions, targets = [], []
    for images, batch_targets in batches:
        predictions += [
            {k: v.cpu() for k, v in p.items()}
            for p in detector.predict(images.to(device), score_threshold=0.001)
        ]
        targets += [
            {"boxes": torch.as_tensor(t["boxes"]).float(), "labels": torch.as_tensor(t["labels"])}
            for t in batch_targets
        ]
    return detection_map(predictions, targets, detector.class_names)


@torch.no_grad()
def measure_fps(detector: Detector, frames: torch.Tensor, repeats: int = 1) -> float:
    """Frames per second of single-frame inference (batch 1, decoding and NMS included)."""
    device = next(detector.parameters()).device
    detector.predict(frames[:1].to(device))  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        for frame in frames:
            detector.predict(frame[None].to(device))
    if device.type == "cuda":
        torch.cuda.synchronize()
    return repeats * len(frames) / (time.perf_counter() - started)
