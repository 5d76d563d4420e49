"""Per-player crops with billboard-relative depth targets, from rendered datasets or the simulator.

For every player instance (classes ``team_a``/``team_b``) of a frame:

- the crop is the square of side ``context`` x the longer side of the player's tight box,
  centred on the box, sampled to ``crop_size`` pixels (RGB bilinear; outside the frame is black);
- the input has four channels: RGB and a *mask channel*, by default the player's box (``box``:
  what a detector gives, so the network must find the silhouette itself); ``mask_input="gt"``
  feeds the true visible mask instead (mask IoU is then trivial);
- the targets are at the output resolution ``crop_size // stride`` (nearest sampling): the
  player's visible mask, and its depth relative to the *billboard*: the camera-facing plane
  (constant depth along the camera axis) at the median true depth of the player's visible
  pixels. ``relative = depth - median(depth[mask])`` in metres, 0 outside the mask.

The median is taken over what the render shows, so the definition needs no 3-D pose and works
unchanged for any player look (robots or humanoids): only the ``instance_mask``, ``depth``,
``boxes`` and ``labels`` of a frame are read.

:class:`DepthBins` turns relative depth into classes as the paper does: class 0 is background
(outside the mask), classes 1..B are B bins of width ``bin_width`` centred on
``(k - (B + 1) / 2) * bin_width``; depths beyond the end bins fall in them. The paper has
B = 49 bins of 0.02 m for 1.8 m humans; our robots are 0.09 m tall and 0.09 m across, so the
default bin is 0.002 m (a window of +-0.049 m, the robot's whole depth extent).

Occlusion per crop is the share of the player's box covered by the boxes of instances nearer to
the camera (by median depth); :data:`OCCLUSION_BINS` name the groups the benchmark reports.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from visiongym.sims.errors import UsageError

__all__ = [
    "PLAYER_LABELS",
    "DepthBins",
    "CropSpec",
    "CropSet",
    "MASK_INPUTS",
    "OCCLUSION_BINS",
    "occlusion_group",
    "billboard_depth",
    "crops_from_ground_truth",
    "ground_truth_from_target",
    "ground_truth_from_dataset",
    "ground_truth_from_simulator",
    "build_crops",
    "load_crops",
]

PLAYER_LABELS = (2, 3)  # team_a, team_b (visiongym.vision.data.format.CLASS_NAMES)
MASK_INPUTS = ("box", "gt")
OCCLUSION_BINS = (("none", 0.0, 0.0), ("partial", 0.0, 0.25), ("heavy", 0.25, 1.0))
"""(name, low, high]: ``none`` is exactly 0, the others half-open intervals of box coverage."""


def occlusion_group(fraction: float) -> str:
    """The :data:`OCCLUSION_BINS` name of an occluded box fraction."""
    if fraction <= 0.0:
        return "none"
    return "partial" if fraction <= 0.25 else "heavy"


@dataclass(frozen=True)
class DepthBins:
    """The paper's class layout: background (0) plus ``bins`` depth bins of ``bin_width`` metres."""

    bins: int = 49
    bin_width: float = 0.002

    def __post_init__(self) -> None:
        if self.bins < 1 or self.bins % 2 == 0:
            raise UsageError(f"bins={self.bins} must be a positive odd number (a bin centred on the billboard)")
        if not self.bin_width > 0:
            raise UsageError(f"bin_width={self.bin_width} must be positive")

    @property
    def classes(self) -> int:
        return self.bins + 1

    def centres(self) -> np.ndarray:
        """Relative depth (metres) of classes 1..B."""
        return (np.arange(self.bins) - self.bins // 2) * self.bin_width

    def to_classes(self, relative: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Class map: 0 outside ``mask``, else the bin of ``relative`` (clipped to the end bins)."""
        index = np.clip(np.round(relative / self.bin_width) + self.bins // 2, 0, self.bins - 1)
        return np.where(mask, index + 1, 0).astype(np.int64)

    def to_depth(self, classes: np.ndarray) -> np.ndarray:
        """Relative depth of classes 1..B (class 0, background, maps to 0)."""
        centres = np.concatenate([[0.0], self.centres()]).astype(np.float32)
        return centres[np.asarray(classes)]


@dataclass(frozen=True)
class CropSpec:
    """How crops are cut: input side, output stride, context around the box, mask channel."""

    crop_size: int = 64
    stride: int = 2
    context: float = 1.25
    mask_input: str = "box"
    min_pixels: int = 20

    def __post_init__(self) -> None:
        if self.mask_input not in MASK_INPUTS:
            raise UsageError(f"mask_input {self.mask_input!r} unknown; choose one of: {', '.join(MASK_INPUTS)}")
        if self.stride not in (1, 2, 4) or self.crop_size % (8 * self.stride):
            raise UsageError(
                f"crop_size={self.crop_size}, stride={self.stride}: stride must be 1, 2 or 4 and "
                "crop_size a multiple of 8 x stride"
            )

    @property
    def output_size(self) -> int:
        return self.crop_size // self.stride


@dataclass
class CropSet:
    """Crops of one split. Arrays are indexed by crop; see the module docstring for each."""

    rgb: np.ndarray  # (N, 3, S, S) uint8
    mask_input: np.ndarray  # (N, S, S) uint8
    mask: np.ndarray  # (N, O, O) bool: the true visible mask
    relative: np.ndarray  # (N, O, O) float32 metres, 0 outside the mask
    box: np.ndarray  # (N, 4) float32: the player's box in output-crop pixels, xyxy
    occlusion: np.ndarray  # (N,) float32: share of the box covered by nearer instances
    billboard: np.ndarray  # (N,) float32: the billboard depth (metres)
    frame: np.ndarray  # (N,) int64: the frame each crop comes from
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rgb)

    def subset(self, index) -> CropSet:
        arrays = {k: v[index] for k, v in asdict_shallow(self).items() if k != "meta"}
        return CropSet(**arrays, meta=dict(self.meta))


def asdict_shallow(crops: CropSet) -> dict[str, Any]:
    return {name: getattr(crops, name) for name in CropSet.__dataclass_fields__}


def billboard_depth(depth: np.ndarray, mask: np.ndarray) -> float:
    """The billboard plane's depth: the median true depth over the player's visible pixels."""
    return float(np.median(np.asarray(depth)[np.asarray(mask, bool)]))


def _warp(image: np.ndarray, region: tuple[float, float, float], size: int, nearest: bool) -> np.ndarray:
    """Sample the square ``(x0, y0, side)`` of ``image`` (pixel-edge coordinates) to ``size`` px."""
    import cv2

    x0, y0, side = region
    k = size / side
    # cv2 puts pixel centres at integers: dst = (src + 0.5 - x0) * k - 0.5.
    matrix = np.array([[k, 0, (0.5 - x0) * k - 0.5], [0, k, (0.5 - y0) * k - 0.5]], np.float64)
    flags = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    return cv2.warpAffine(image, matrix, (size, size), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _occlusions(ground_truth: dict[str, Any], players: list[int]) -> dict[int, float]:
    instance_mask, depth = ground_truth["instance_mask"], ground_truth["depth"]
    ids = [int(i) for i in ground_truth["instance_ids"]]
    boxes = np.asarray(ground_truth["boxes"]).reshape(-1, 4).astype(int)
    medians = {i: float(np.median(depth[instance_mask == i])) for i in ids}
    out = {}
    for k in players:
        x0, y0, x1, y1 = boxes[k]
        covered = np.zeros((y1 - y0, x1 - x0), bool)
        for j, other in enumerate(ids):
            if j == k or medians[other] >= medians[ids[k]]:
                continue
            a0, b0, a1, b1 = boxes[j]
            covered[max(b0 - y0, 0):max(b1 - y0, 0), max(a0 - x0, 0):max(a1 - x0, 0)] = True
        out[k] = float(covered.mean()) if covered.size else 0.0
    return out


def crops_from_ground_truth(ground_truth: dict[str, Any], spec: CropSpec) -> list[dict[str, Any]]:
    """One crop dict per player of a frame (``rgb``, ``depth``, ``instance_mask``, ``boxes``,
    ``labels``, ``instance_ids``: the simulator's ground-truth keys) with at least
    ``spec.min_pixels`` visible pixels."""
    rgb = np.ascontiguousarray(ground_truth["rgb"], np.uint8)
    depth = np.ascontiguousarray(ground_truth["depth"], np.float32)
    instance_mask = np.ascontiguousarray(ground_truth["instance_mask"]).astype(np.int32)
    labels = np.asarray(ground_truth["labels"])
    ids = np.asarray(ground_truth["instance_ids"])
    boxes = np.asarray(ground_truth["boxes"], np.float32).reshape(-1, 4)
    players = [
        k for k in range(len(ids))
        if int(labels[k]) in PLAYER_LABELS and (instance_mask == ids[k]).sum() >= spec.min_pixels
    ]
    occlusion = _occlusions(ground_truth, players) if players else {}
    out_size = spec.output_size
    crops = []
    for k in players:
        x0, y0, x1, y1 = boxes[k]
        side = spec.context * max(x1 - x0, y1 - y0)
        region = ((x0 + x1) / 2 - side / 2, (y0 + y1) / 2 - side / 2, side)
        visible = (instance_mask == ids[k]).astype(np.uint8)
        mask_out = _warp(visible, region, out_size, nearest=True).astype(bool)
        if mask_out.sum() < 2:
            continue
        plane = billboard_depth(depth, visible)
        relative = np.where(mask_out, _warp(depth, region, out_size, nearest=True) - plane, 0.0)
        if spec.mask_input == "gt":
            mask_in = _warp(visible, region, spec.crop_size, nearest=True)
        else:
            box_mask = np.zeros_like(visible)
            box_mask[int(y0):int(y1), int(x0):int(x1)] = 1
            mask_in = _warp(box_mask, region, spec.crop_size, nearest=True)
        scale = out_size / side
        crops.append({
            "rgb": _warp(rgb, region, spec.crop_size, nearest=False).transpose(2, 0, 1),
            "mask_input": mask_in.astype(np.uint8),
            "mask": mask_out,
            "relative": relative.astype(np.float32),
            "box": np.array([(x0 - region[0]) * scale, (y0 - region[1]) * scale,
                             (x1 - region[0]) * scale, (y1 - region[1]) * scale], np.float32),
            "occlusion": np.float32(occlusion[k]),
            "billboard": np.float32(plane),
        })
    return crops


def ground_truth_from_target(image: np.ndarray, target: dict[str, np.ndarray]) -> dict[str, Any]:
    """A ground-truth dict from an RGB frame and its target (``boxes``, ``labels``, ``masks``
    (K, H, W), ``depth`` (H, W)), as :class:`~visiongym.vision.robustness.shifts.EvalFrames` holds them."""
    if "depth" not in target:
        raise UsageError("the frames carry no depth; render the dataset with --depth npy (or png16)")
    masks = np.asarray(target["masks"], bool)
    instance_mask = np.zeros(masks.shape[1:], np.int32)
    for k in range(len(masks)):
        instance_mask[masks[k]] = k + 1
    return {"rgb": image, "depth": target["depth"], "instance_mask": instance_mask,
            "instance_ids": np.arange(1, len(masks) + 1), "boxes": target["boxes"], "labels": target["labels"]}


def ground_truth_from_dataset(root: str | Path, split: str, limit: int | None = None):
    """Yield each frame of a rendered dataset (``visiongym render-data``) as a ground-truth dict.

    The instance mask is rebuilt from the per-annotation masks; depth is read in metres (png16
    depth is millimetre-quantised: render with ``--depth npy`` for bins under a few millimetres).
    """
    from visiongym.vision.data.dataset import SoccerDetection

    dataset = SoccerDetection(root, split, masks=True, depth=True, limit=limit)
    for index in range(len(dataset)):
        image, target = dataset[index]
        yield ground_truth_from_target(
            image.permute(1, 2, 0).numpy(),
            {"masks": target["masks"].numpy(), "depth": target["depth"].numpy()[0],
             "boxes": target["boxes"].numpy(), "labels": target["labels"].numpy()})


def _hide_players(scene) -> None:
    """Make ``scene`` move every player far off the table right before it renders."""
    if getattr(scene, "_players_hidden", False):
        return
    render = scene.render_ground_truth

    def render_without_players(*args, **kwargs):
        for index in range(scene.n_players):
            scene.set_player(index, (100.0 + 2.0 * index, 100.0), 0.0)
        return render(*args, **kwargs)

    scene.render_ground_truth = render_without_players
    scene._players_hidden = True


def ground_truth_from_simulator(frames: int, split: str, frame_size: int = 512, camera: str = "broadcast",
                                appearance: str = "random", seed: int = 0, players: bool = True):
    """Yield ``frames`` soccer frames of ``split`` straight from the simulator (nothing on disk),
    frame ``i`` drawn like ``visiongym render-data`` draws it (:func:`frame_rng`). With
    ``players=False`` every player is moved far off the table before the frame is rendered (the
    ball, goals and looks stay): scenes without players."""
    from visiongym.vision.data.render_soccer import frame_rng
    from visiongym.vision.data.sources import SoccerFrameSource

    class Source(SoccerFrameSource):
        def _scene(self, team_size: int):
            scene = super()._scene(team_size)
            if not players:
                _hide_players(scene)
            return scene

    source = Source(camera=camera, size=frame_size, appearance=appearance)
    try:
        for index in range(frames):
            yield source.frame(frame_rng(seed, split, index))
    finally:
        source.close()


def build_crops(frames, spec: CropSpec, progress: bool = False, total: int | None = None) -> CropSet:
    """Stack the crops of an iterable of ground-truth dicts into a :class:`CropSet`."""
    from tqdm import tqdm

    items, frame_index = [], []
    for index, ground_truth in enumerate(tqdm(frames, desc="crops", unit="frame", total=total,
                                              disable=not progress)):
        for crop in crops_from_ground_truth(ground_truth, spec):
            items.append(crop)
            frame_index.append(index)
    if not items:
        raise UsageError("no player crops found: the frames show no player with enough visible pixels")
    stacked = {key: np.stack([item[key] for item in items]) for key in items[0]}
    return CropSet(**stacked, frame=np.asarray(frame_index, np.int64), meta={"spec": asdict(spec)})


def load_crops(source: dict[str, Any], split: str, spec: CropSpec, cache_dir: Path | None = None,
               progress: bool = False) -> CropSet:
    """The crops of ``split`` from ``source`` (``{"data": folder}`` for a rendered dataset, or
    ``{"frames": n, "frame_size", "camera", "appearance", "seed"}`` for the soccer simulator, with
    ``"scene": "humanoid"`` for the LearnToMove humanoid alone), cached as
    ``.npz`` under ``cache_dir`` keyed by source, split and spec."""
    key = hashlib.sha1(json.dumps([source, split, asdict(spec)], sort_keys=True, default=str).encode()).hexdigest()[:12]
    path = None if cache_dir is None else Path(cache_dir) / f"crops_{split}_{key}.npz"
    if path is not None and path.is_file():
        with np.load(path) as archive:
            return CropSet(**{k: archive[k] for k in archive.files}, meta={"spec": asdict(spec), "source": source})
    if source.get("data"):
        frames = ground_truth_from_dataset(source["data"], split, source.get("limit"))
        total = None
    elif source.get("scene", "soccer") == "humanoid":
        from visiongym.vision.depth.humanoid import ground_truth_from_humanoid

        total = int(source["frames"])
        frames = ground_truth_from_humanoid(total, split, source.get("frame_size", 128), source.get("seed", 0))
    else:
        count = int(source["frames"])
        total = count
        frames = ground_truth_from_simulator(count, split, source.get("frame_size", 512),
                                             source.get("camera", "broadcast"),
                                             source.get("appearance", "random"), source.get("seed", 0))
    crops = build_crops(frames, spec, progress=progress, total=total)
    crops.meta["source"] = source
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **{k: v for k, v in asdict_shallow(crops).items() if k != "meta"})
        tmp.replace(path)
    return crops
