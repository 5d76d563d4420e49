"""Model scorers: one per checkpoint kind, so the robustness suite can score any vision model.

A scorer (:class:`ModelScorer`) knows its headline ``metric`` (and whether higher is better),
scores an :class:`~visiongym.vision.robustness.shifts.EvalFrames` into a dict holding that metric,
and turns the dict into an ``error`` (lower is better, 0 perfect) for the corruption error. Scorers
are registered in :data:`SCORERS` under the ``kind`` their checkpoints carry
(:func:`visiongym.vision.runtime.save_checkpoint`); :func:`load_scorer` reads that kind and
builds the matching one:

====================  ==================================  ===================================
kind                  metric                              error
====================  ==================================  ===================================
``detector``          mAP@0.5 (``map_50``), also ``map``  1 - mAP@0.5
``autoencoder``       PSNR (dB) of the reconstruction     mean squared error per pixel, [0, 1]
                      against the clean frame, also SSIM  scale (PSNR = -10 log10 MSE per frame)
``frame_classifier``  accuracy, the mean over the         1 - accuracy
                      checkpoint's label tasks, also
                      ``accuracy_<task>``
``segmenter``         mIoU over the classes (``miou``),   1 - mIoU
                      also ``player_iou`` (per-player
                      mask IoU) and ``pixel_acc``
``depth_hourglass``   per-player st-RMSE in paper metres  the same st-RMSE
                      (``st_rmse_paper_m``), also mask
                      IoU; needs a depth dataset
====================  ==================================  ===================================

A frame classifier (``visiongym classify frames``) is scored on labels computed from each
frame's boxes (:mod:`visiongym.vision.classify.frame_labels`: the ball's third of the frame, the
number of visible players...), so they follow the frame: an ``elastic_transform`` that warps the
ball across a third line, or a camera shift that leaves a player out of view, changes the label
with the picture. The two course classifiers are not scorable on a dataset folder:
``lenet_digits`` (``visiongym classify digits``) reads 8 x 8 scikit-learn digits and
``transfer_smallcnn`` (``visiongym transfer``) keeps no input size.

A segmenter (``visiongym segment train``) is scored on class masks painted from each frame's
(shifted) instance masks: an ``elastic_transform`` warps them with the pixels, a simulator shift
re-renders them exactly. A depth model plugs in the same way: a class with ``metric``,
``higher_is_better``, ``error_definition``, ``name``, ``score(frames) -> dict`` and
``error(scores) -> float``, built as ``Scorer(path, device)``, registered with
``@SCORERS.register("<its checkpoint kind>")`` and reading ``targets["masks"]`` (or a depth
target the loader adds) of the frames it is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from visiongym.sims.errors import UsageError
from visiongym.vision.registry import Registry
from visiongym.vision.robustness.shifts import EvalFrames
from visiongym.vision.runtime import load_checkpoint

__all__ = [
    "ModelScorer",
    "SCORERS",
    "DetectorScorer",
    "AutoencoderScorer",
    "FrameClassifierScorer",
    "SegmenterScorer",
    "DepthScorer",
    "load_scorer",
    "frames_to_tensor",
]


@runtime_checkable
class ModelScorer(Protocol):
    """Scores one loaded model on frames."""

    metric: str
    higher_is_better: bool
    error_definition: str
    name: str

    def score(self, frames: EvalFrames) -> dict[str, float]: ...

    def error(self, scores: dict[str, float]) -> float: ...


SCORERS: Registry[ModelScorer] = Registry("scorable checkpoint kind")
"""Scorer classes by checkpoint kind; each is built as ``Scorer(path, device)``."""


def frames_to_tensor(images: list[np.ndarray], size: int | tuple[int, int] | None) -> torch.Tensor:
    """uint8 (H, W, 3) frames as one uint8 (N, 3, S, S) tensor, resized (antialiased) to ``size``."""
    from torchvision.transforms.v2 import functional as TF

    batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    if size is None:
        return batch
    size = (size, size) if isinstance(size, int) else tuple(size)
    if tuple(batch.shape[-2:]) == size:
        return batch
    return TF.resize(batch, list(size), antialias=True)


@SCORERS.register("detector")
class DetectorScorer:
    """mAP of a ``visiongym detect train`` checkpoint; frames and boxes resized to its input.

    With ``class_metrics``, :meth:`score` also returns AP@0.5 per class (``ap50/<name>``).
    """

    metric = "map_50"
    higher_is_better = True
    error_definition = "1 - mAP@0.5"

    def __init__(
        self, path: str | Path, device: str = "cpu", batch_size: int = 32, class_metrics: bool = False
    ) -> None:
        from visiongym.vision.detect.engine import load_detector

        self.detector, payload = load_detector(path, device)
        self.name = f"{payload['meta']['model']} ({Path(path).parent.name or Path(path).stem})"
        self.batch_size = batch_size
        self.class_metrics = class_metrics

    def score(self, frames: EvalFrames) -> dict[str, float]:
        from torchvision import tv_tensors

        from visiongym.vision.data.dataset import detection_transforms
        from visiongym.vision.detect.engine import evaluate

        resize = detection_transforms(False, self.detector.image_size)
        samples = []
        for image, target in zip(frames.images, frames.targets, strict=True):
            height, width = image.shape[:2]
            boxes = tv_tensors.BoundingBoxes(
                torch.as_tensor(target["boxes"], dtype=torch.float32).reshape(-1, 4),
                format="XYXY",
                canvas_size=(height, width),
            )
            tensor = tv_tensors.Image(torch.from_numpy(image).permute(2, 0, 1).contiguous())
            samples.append(
                resize(tensor, {"boxes": boxes, "labels": torch.as_tensor(target["labels"])})
            )
        batches = [
            (
                torch.stack([torch.as_tensor(s[0]) for s in samples[i : i + self.batch_size]]),
                [s[1] for s in samples[i : i + self.batch_size]],
            )
            for i in range(0, len(samples), self.batch_size)
        ]
        scores = evaluate(self.detector, batches)
        per_class = {k: v for k, v in scores.items() if k.startswith("ap50/")} if self.class_metrics else {}
        return {"map_50": scores["map_50"], "map": scores["map"], **per_class}

    def error(self, scores: dict[str, float]) -> float:
        return 1.0 - scores["map_50"]


@SCORERS.register("autoencoder")
class AutoencoderScorer:
    """Reconstruction quality of a ``visiongym autoencoder train`` checkpoint: the shifted frame
    goes in, the reference (the clean frame, for a corruption) is what should come out."""

    metric = "psnr"
    higher_is_better = True
    error_definition = "per-pixel MSE on the [0, 1] scale"

    def __init__(self, path: str | Path, device: str = "cpu") -> None:
        from visiongym.vision.autoencoders.evaluate import load_autoencoder

        self.model, meta = load_autoencoder(path, device)
        self.size = tuple(meta["image_size"])
        self.name = f"{meta['variant']} {meta['arch']} ({Path(path).parent.name or Path(path).stem})"

    def score(self, frames: EvalFrames) -> dict[str, float]:
        from visiongym.vision.autoencoders.evaluate import reconstruct
        from visiongym.vision.metrics import psnr, ssim

        inputs = frames_to_tensor(frames.images, self.size)
        references = frames_to_tensor(frames.references, self.size).float() / 255.0
        reconstructions = reconstruct(self.model, inputs)
        mse = ((reconstructions - references) ** 2).mean(dim=(1, 2, 3))
        return {
            "psnr": psnr(reconstructions, references),
            "ssim": ssim(reconstructions, references),
            "mse": float(mse.mean()),
        }

    def error(self, scores: dict[str, float]) -> float:
        return scores["mse"]


@SCORERS.register("frame_classifier")
class FrameClassifierScorer:
    """Accuracy of a ``visiongym classify frames`` checkpoint; each frame's labels are computed
    from its (shifted) boxes, the frames resized to the classifier's input."""

    metric = "accuracy"
    higher_is_better = True
    error_definition = "1 - accuracy"

    def __init__(self, path: str | Path, device: str = "cpu") -> None:
        from visiongym.vision.classify.frames import load_frame_classifier

        self.model, meta = load_frame_classifier(path, device)
        self.name = f"{meta['encoder']} frame classifier ({Path(path).parent.name or Path(path).stem})"

    def score(self, frames: EvalFrames) -> dict[str, float]:
        from visiongym.vision.classify.frame_labels import frame_labels
        from visiongym.vision.classify.frames import accuracies

        labels = frame_labels(frames.targets, [image.shape[:2] for image in frames.images], self.model.tasks)
        predictions = self.model.predict(frames_to_tensor(frames.images, self.model.image_size))
        return accuracies(predictions, labels)

    def error(self, scores: dict[str, float]) -> float:
        return 1.0 - scores["accuracy"]


@SCORERS.register("segmenter")
class SegmenterScorer:
    """mIoU and player mask IoU of a ``visiongym segment train`` checkpoint; frames resized to
    its input (antialiased), instance masks with them (nearest neighbour)."""

    metric = "miou"
    higher_is_better = True
    error_definition = "1 - mIoU"

    def __init__(self, path: str | Path, device: str = "cpu", batch_size: int = 32) -> None:
        from visiongym.vision.segment.engine import load_segmenter

        self.segmenter, payload = load_segmenter(path, device)
        self.name = f"{payload['meta']['model']} ({Path(path).parent.name or Path(path).stem})"
        self.batch_size = batch_size

    def score(self, frames: EvalFrames) -> dict[str, float]:
        from torch.nn import functional as F

        from visiongym.vision.segment.engine import evaluate

        size = self.segmenter.image_size
        images = frames_to_tensor(frames.images, size)
        targets = []
        for index, target in enumerate(frames.targets):
            if "masks" not in target:
                raise UsageError(f"frame {index} has no instance masks; the segmenter scorer needs a dataset with masks")
            masks = torch.as_tensor(target["masks"], dtype=torch.uint8).reshape(-1, *frames.images[index].shape[:2])
            if tuple(masks.shape[-2:]) != (size, size):
                masks = F.interpolate(masks[None].float(), size=(size, size), mode="nearest")[0].to(torch.uint8)
            targets.append({"masks": masks, "labels": torch.as_tensor(target["labels"])})
        batches = [
            (images[i : i + self.batch_size], targets[i : i + self.batch_size])
            for i in range(0, len(targets), self.batch_size)
        ]
        scores = evaluate(self.segmenter, batches)
        return {"miou": scores["miou"], "player_iou": scores["player_iou"], "pixel_acc": scores["pixel_acc"]}

    def error(self, scores: dict[str, float]) -> float:
        return 1.0 - scores["miou"]


@SCORERS.register("depth_hourglass")
class DepthScorer:
    """Per-player depth of a ``visiongym depth train`` checkpoint: each frame's players are cut
    into crops (:mod:`visiongym.vision.depth.crops`) from its (shifted) image, masks, boxes and
    true depth, so the frames must carry ``targets["depth"]`` (a dataset rendered with depth; the
    frames should be large enough for player crops, e.g. 512 px). Under ``elastic_transform``
    the masks move with the pixels but the depth map does not."""

    metric = "st_rmse_paper_m"
    higher_is_better = False
    error_definition = "per-player st-RMSE in paper metres (x 1.8 / player height)"

    def __init__(self, path: str | Path, device: str = "cpu") -> None:
        from visiongym.vision.depth.engine import load_depth_model

        self.model, self.meta = load_depth_model(path, device)
        self.name = f"hourglass-{self.meta['head']} ({Path(path).parent.name or Path(path).stem})"

    def score(self, frames: EvalFrames) -> dict[str, float]:
        from visiongym.vision.depth.crops import build_crops, ground_truth_from_target
        from visiongym.vision.depth.engine import meta_objects, predict_crops, score_crops

        bins, spec = meta_objects(self.meta)
        crops = build_crops((ground_truth_from_target(image, target)
                             for image, target in zip(frames.images, frames.targets, strict=True)), spec)
        scores = score_crops(*predict_crops(self.model, self.meta["head"], crops, bins), crops,
                             self.meta.get("player_height", 0.09))
        return {k: v for k, v in scores.items() if "/" not in k}

    def error(self, scores: dict[str, float]) -> float:
        return scores["st_rmse_paper_m"]


def load_scorer(path: str | Path, device: str = "cpu") -> ModelScorer:
    """The scorer for the checkpoint at ``path``, chosen by the kind the checkpoint records.

    A checkpoint of a kind no scorer is registered for raises :class:`UsageError` naming its kind
    and the kinds that can be scored.
    """
    payload: dict[str, Any] = load_checkpoint(path)
    kind = payload["kind"]
    if kind not in SCORERS:
        raise UsageError(
            f"checkpoint {str(path)!r} holds a {kind!r} model, which the robustness suite cannot "
            f"score; it scores checkpoints of kind: {', '.join(SCORERS.names())}"
        )
    return SCORERS.get(kind)(path, device)
