"""The learned stages (segmentation, per-player depth) and their oracles.

A stage is *learned* when a checkpoint of its module is given (``visiongym segment train``,
``visiongym depth train``), and *oracle* when it reads the simulator's exact labels instead, so
each stage can be scored in isolation. Camera calibration is classical
(:func:`visiongym.vision.calibrate.calibrate_frame`, nothing learned); its oracle is the exact
camera. Nothing is trained at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from visiongym.sims.errors import UsageError

__all__ = ["STAGES", "ORACLE_STAGES", "Detection", "OracleSegmenter", "LearnedSegmenter",
           "OracleDepth", "FlatDepth", "LearnedDepth", "parse_oracle"]

STAGES = ("calibrate", "segment", "depth", "lift", "track", "render")
ORACLE_STAGES = ("calibrate", "segment", "depth")
PLAYER_CLASSES = {2: 0, 3: 1}  # class index (team_a, team_b) -> team
MIN_PIXELS = 8
MAX_RELATIVE = 0.06  # metres: a player's depth extent about its billboard is a few centimetres


def parse_oracle(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """``"segment,depth"`` (or a list) to a tuple of known oracle stages; ``"none"``/empty: none."""
    if value is None:
        return ()
    names = value.split(",") if isinstance(value, str) else [n for item in value for n in str(item).split(",")]
    names = [n.strip() for n in names if n.strip() and n.strip() != "none"]
    for name in names:
        if name not in ORACLE_STAGES:
            raise UsageError(f"oracle stage {name!r} unknown; choose from: {', '.join(ORACLE_STAGES)} (or none)")
    return tuple(dict.fromkeys(names))


@dataclass
class Detection:
    """One player found in a frame: its mask, team, and (filled by the depth stage) the depth of
    its pixels relative to its billboard."""

    mask: np.ndarray  # (H, W) bool
    team: int
    relative: np.ndarray | None = None  # (H, W) float32 metres
    identity: int = -1  # the true instance (scoring only), -1 unknown


def true_identity(mask: np.ndarray, instance_mask: np.ndarray, players: int) -> int:
    """The player instance (2..players+1) covering most of ``mask``, or -1."""
    ids = instance_mask[mask]
    ids = ids[(ids >= 2) & (ids < 2 + players)]
    if ids.size == 0:
        return -1
    values, counts = np.unique(ids, return_counts=True)
    return int(values[counts.argmax()])


class OracleSegmenter:
    """Players' exact visible masks and teams from the simulator's instance mask."""

    name = kind = "oracle"

    def __call__(self, rgb: np.ndarray, truth: dict) -> list[Detection]:
        instance_mask = truth["instance_mask"]
        out = []
        for i, team in enumerate(truth["teams"]):
            mask = instance_mask == 2 + i
            if mask.sum() >= MIN_PIXELS:
                out.append(Detection(mask, int(team)))
        return out


class LearnedSegmenter:
    """A ``visiongym segment train`` checkpoint (U-Net/FCN class masks split into players by
    ``instances``, :meth:`visiongym.vision.segment.engine.Segmenter.predict`'s ``split`` or plain
    connected ``components``; or Mask R-CNN instances): frames resized to its input, masks resized back."""

    def __init__(self, path: str | Path, device: str = "cpu", instances: str = "split") -> None:
        from visiongym.vision.segment.engine import load_segmenter

        self.segmenter, payload = load_segmenter(path, device)
        self.name, self.kind = f"{payload['meta']['model']} ({Path(path).name})", "learned"
        self.device = next(self.segmenter.parameters()).device
        self.instances = instances

    @torch.no_grad()
    def __call__(self, rgb: np.ndarray, truth: dict | None = None) -> list[Detection]:
        from torch.nn import functional as F

        size = self.segmenter.image_size
        height, width = rgb.shape[:2]
        image = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None]
        if (height, width) != (size, size):
            image = F.interpolate(image.float(), size=(size, size), mode="bilinear", antialias=True,
                                  align_corners=False).round().clamp(0, 255).to(torch.uint8)
        result = self.segmenter.predict(image.to(self.device), instances=self.instances)[0]
        masks = result["masks"].float()
        if masks.shape[0] and (height, width) != (size, size):
            masks = F.interpolate(masks[None], size=(height, width), mode="nearest")[0]
        out = []
        for mask, label in zip(masks.numpy().astype(bool), result["labels"].tolist(), strict=True):
            if int(label) in PLAYER_CLASSES and mask.sum() >= MIN_PIXELS:
                out.append(Detection(mask, PLAYER_CLASSES[int(label)]))
        return out


def _box_region(mask: np.ndarray, context: float) -> tuple[tuple[float, float, float], tuple[int, int, int, int]]:
    rows, cols = np.nonzero(mask)
    x0, y0, x1, y1 = cols.min(), rows.min(), cols.max() + 1, rows.max() + 1
    side = context * max(x1 - x0, y1 - y0)
    return ((x0 + x1) / 2 - side / 2, (y0 + y1) / 2 - side / 2, side), (x0, y0, x1, y1)


class OracleDepth:
    """Exact depth minus the median exact depth of the mask (the depth module's billboard)."""

    name = kind = "oracle"

    def __call__(self, rgb: np.ndarray, detections: list[Detection], truth: dict) -> None:
        depth = truth["depth"]
        for detection in detections:
            plane = float(np.median(depth[detection.mask]))
            relative = np.where(detection.mask, depth - plane, 0.0)
            detection.relative = np.clip(relative, -MAX_RELATIVE, MAX_RELATIVE).astype(np.float32)


class FlatDepth:
    """The baseline: every pixel on its billboard (a flat, camera-facing cut-out)."""

    name = kind = "billboard"

    def __call__(self, rgb: np.ndarray, detections: list[Detection], truth: dict | None = None) -> None:
        for detection in detections:
            detection.relative = np.zeros(detection.mask.shape, np.float32)


class LearnedDepth:
    """A ``visiongym depth train`` hourglass: each detection is cut into the checkpoint's crop
    (its box, with the box or the mask as the mask channel), and the predicted relative depth is
    read back at every mask pixel (nearest output pixel)."""

    def __init__(self, path: str | Path, device: str = "cpu") -> None:
        from visiongym.vision.depth.engine import load_depth_model, meta_objects

        self.model, self.meta = load_depth_model(path, device)
        self.bins, self.spec = meta_objects(self.meta)
        self.name, self.kind = f"hourglass-{self.meta['head']} ({Path(path).name})", "learned"

    def __call__(self, rgb: np.ndarray, detections: list[Detection], truth: dict | None = None) -> None:
        from visiongym.vision.depth.crops import CropSet, _warp
        from visiongym.vision.depth.engine import predict_crops

        if not detections:
            return
        spec, out_size = self.spec, self.spec.output_size
        regions, crops_rgb, crops_mask = [], [], []
        for detection in detections:
            region, (x0, y0, x1, y1) = _box_region(detection.mask, spec.context)
            if spec.mask_input == "gt":
                channel = detection.mask.astype(np.uint8)
            else:
                channel = np.zeros(detection.mask.shape, np.uint8)
                channel[y0:y1, x0:x1] = 1
            regions.append(region)
            crops_rgb.append(_warp(np.ascontiguousarray(rgb), region, spec.crop_size, nearest=False).transpose(2, 0, 1))
            crops_mask.append(_warp(channel, region, spec.crop_size, nearest=True))
        n = len(detections)
        empty = np.zeros((n, out_size, out_size), np.float32)
        crops = CropSet(rgb=np.stack(crops_rgb), mask_input=np.stack(crops_mask), mask=empty.astype(bool),
                        relative=empty, box=np.zeros((n, 4), np.float32), occlusion=np.zeros(n, np.float32),
                        billboard=np.zeros(n, np.float32), frame=np.zeros(n, np.int64))
        relative, _ = predict_crops(self.model, self.meta["head"], crops, self.bins)
        for detection, region, depth in zip(detections, regions, relative, strict=True):
            x0, y0, side = region
            rows, cols = np.nonzero(detection.mask)
            i = np.clip(((rows + 0.5 - y0) * out_size / side).astype(int), 0, out_size - 1)
            j = np.clip(((cols + 0.5 - x0) * out_size / side).astype(int), 0, out_size - 1)
            full = np.zeros(detection.mask.shape, np.float32)
            full[rows, cols] = depth[i, j]
            detection.relative = full
