"""Shift families: named ways to turn the clean held-out frames into shifted ones, labels kept.

A family (:class:`ShiftFamily`) has a ``name``, its ``shifts`` and each shift's ``severities``,
and ``apply(frames, shift, severity) -> frames``, where ``frames`` is an :class:`EvalFrames`:
images, the labels that go with them, and the COCO image records they came from. Two families
are registered in :data:`SHIFT_FAMILIES`:

- ``corruptions`` (:class:`ImageCorruptions`): the ImageNet-C-style corruptions of
  :mod:`visiongym.vision.robustness.corruptions` at severities 1..5. Labels are kept, except
  under ``elastic_transform``, where the instance masks are warped with the pixels and the boxes
  recomputed from them (an object warped out of the frame is dropped).
- ``simulator`` (:class:`SimulatorShifts`): the same states rendered again with another
  appearance (lighting, materials, kits, camera pose). Each test frame is re-rendered from its
  recorded seed (``image["seed"]``) by a :data:`FrameRenderer`, under each named look of
  :mod:`visiongym.sims.appearance` (``held_out`` and the single-factor ``SHIFTS``, registered by
  :func:`register_appearance_shifts`); more are added with :func:`register_simulator_shift`.

A new family is any object with the :class:`ShiftFamily` attributes, added with
``SHIFT_FAMILIES.register("name")(lambda: MyFamily())``; the robustness command then lists and
runs it like the two above.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from visiongym.sims.errors import UsageError
from visiongym.vision.registry import Registry
from visiongym.vision.robustness.corruptions import (
    SEVERITIES,
    check_severity,
    corruption_names,
    get_corruption,
)

__all__ = [
    "EvalFrames",
    "ShiftFamily",
    "ImageCorruptions",
    "SimulatorShift",
    "SimulatorShifts",
    "FrameRenderer",
    "SHIFT_FAMILIES",
    "SIMULATOR_SHIFTS",
    "register_simulator_shift",
    "register_appearance_shifts",
    "load_eval_frames",
    "targets_from_ground_truth",
]


@dataclass
class EvalFrames:
    """Frames to score, with their labels.

    Attributes:
        images: RGB uint8 (H, W, 3) frames at the dataset's size.
        targets: per frame ``boxes`` (K, 4) float32 xyxy pixels, ``labels`` (K,) int64, and
            ``masks`` (K, H, W) uint8 when the dataset has them.
        records: the COCO image records (``seed``, ``file_name``, the source's meta...).
        references: what a reconstruction model should output for each frame: the clean frame
            for an image corruption (a nuisance in the camera), the frame itself for a scene
            that really looks different.
        info: the dataset's ``dataset.json``.
    """

    images: list[np.ndarray]
    targets: list[dict[str, np.ndarray]]
    records: list[dict[str, Any]]
    references: list[np.ndarray] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.references:
            self.references = list(self.images)

    def __len__(self) -> int:
        return len(self.images)


@runtime_checkable
class ShiftFamily(Protocol):
    """A named set of shifts, each at one or more severities."""

    name: str

    @property
    def shifts(self) -> tuple[str, ...]: ...

    def severities(self, shift: str) -> tuple[int, ...]: ...

    def apply(self, frames: EvalFrames, shift: str, severity: int) -> EvalFrames: ...


def _boxes_from_masks(
    masks: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keep, boxes = [], []
    for index, mask in enumerate(masks):
        ys, xs = np.nonzero(mask)
        if len(xs):
            keep.append(index)
            boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    keep_index = np.asarray(keep, np.int64)
    return (
        np.asarray(boxes, np.float32).reshape(-1, 4),
        labels[keep_index],
        masks[keep_index],
    )


class ImageCorruptions:
    """The ImageNet-C-style corruptions as a shift family.

    Args:
        names: corruptions to run (default: all, in ImageNet-C order).
        severities: severities to run (default 1..5).
        seed: frame ``i`` under corruption ``c`` draws from seed ``(seed, i)`` (and ``c``'s name),
            so a frame's corruption does not depend on which others run.
    """

    name = "corruptions"

    def __init__(
        self,
        names: Sequence[str] | None = None,
        severities: Sequence[int] = SEVERITIES,
        seed: int = 0,
    ) -> None:
        self._names = tuple(names) if names else corruption_names()
        for name in self._names:
            get_corruption(name)
        self._severities = tuple(check_severity(s) for s in severities)
        self.seed = seed

    @property
    def shifts(self) -> tuple[str, ...]:
        return self._names

    def severities(self, shift: str) -> tuple[int, ...]:
        return self._severities

    def apply(self, frames: EvalFrames, shift: str, severity: int) -> EvalFrames:
        corruption = get_corruption(shift)
        check_severity(severity)
        images, targets = [], []
        for index, (image, target) in enumerate(zip(frames.images, frames.targets, strict=True)):
            seed = self.seed * 1_000_003 + index
            images.append(corruption(image, severity, seed))
            if corruption.moves_pixels and "masks" in target:
                masks = corruption.warp_masks(target["masks"], severity, seed)
                boxes, labels, masks = _boxes_from_masks(masks, target["labels"])
                target = {**target, "boxes": boxes, "labels": labels, "masks": masks}
            targets.append(target)
        return replace(frames, images=images, targets=targets, references=list(frames.references))


# --- simulator shifts -------------------------------------------------------------------------

FrameRenderer = Callable[[dict[str, Any], dict[str, Any], Any], dict[str, Any]]
"""``render(dataset_info, image_record, appearance) -> ground truth``: re-render the frame of
``image_record`` (from ``image_record["seed"]``, with the source settings of ``dataset_info``)
under ``appearance``, returning the simulator's ground-truth dict (``rgb``, ``boxes``,
``labels``, ``instance_mask``, ``instance_ids``...; :mod:`visiongym.vision.data.sources`)."""


@dataclass(frozen=True)
class SimulatorShift:
    """One simulator shift: an appearance per severity and the renderer that applies it.

    Attributes:
        name: e.g. ``lighting_dim``, ``kits_swapped``, ``camera_pose``.
        appearances: severity -> the appearance object ``renderer`` understands.
        renderer: see :data:`FrameRenderer`.
    """

    name: str
    appearances: dict[int, Any]
    renderer: FrameRenderer


SIMULATOR_SHIFTS: dict[str, SimulatorShift] = {}
"""Registered simulator shifts by name (the appearance shifts once the family is built)."""


def register_simulator_shift(shift: SimulatorShift) -> SimulatorShift:
    """Add ``shift`` to :data:`SIMULATOR_SHIFTS` (the ``simulator`` family runs them all)."""
    taken = SIMULATOR_SHIFTS.get(shift.name)
    if taken is not None and taken != shift:
        raise UsageError(f"simulator shift {shift.name!r} is already registered")
    for severity in shift.appearances:
        check_severity(severity)
    SIMULATOR_SHIFTS[shift.name] = shift
    return shift


def targets_from_ground_truth(ground_truth: dict[str, Any]) -> dict[str, np.ndarray]:
    """A simulator ground-truth dict as an :class:`EvalFrames` target (boxes, labels, masks)."""
    instance_mask = ground_truth["instance_mask"]
    ids = np.asarray(ground_truth["instance_ids"])
    masks = (instance_mask[None] == ids[:, None, None]).astype(np.uint8)
    target = {
        "boxes": np.asarray(ground_truth["boxes"], np.float32).reshape(-1, 4),
        "labels": np.asarray(ground_truth["labels"], np.int64),
        "masks": masks.reshape(-1, *instance_mask.shape),
    }
    if "depth" in ground_truth:
        target["depth"] = np.asarray(ground_truth["depth"], np.float32)
    return target


class SimulatorShifts:
    """Simulator shifts as a shift family: every frame re-rendered from its seed, restyled.

    Args:
        shifts: the shifts to run (default: all of :data:`SIMULATOR_SHIFTS`).
    """

    name = "simulator"

    def __init__(self, shifts: Sequence[SimulatorShift] | None = None) -> None:
        self._shifts = {s.name: s for s in (shifts if shifts is not None else SIMULATOR_SHIFTS.values())}

    @property
    def shifts(self) -> tuple[str, ...]:
        return tuple(self._shifts)

    def _get(self, shift: str) -> SimulatorShift:
        if shift not in self._shifts:
            raise UsageError(
                f"simulator shift {shift!r} unknown; choose one of: {', '.join(self._shifts) or '(none registered)'}"
            )
        return self._shifts[shift]

    def severities(self, shift: str) -> tuple[int, ...]:
        return tuple(sorted(self._get(shift).appearances))

    def apply(self, frames: EvalFrames, shift: str, severity: int) -> EvalFrames:
        entry = self._get(shift)
        if severity not in entry.appearances:
            raise UsageError(
                f"severity {severity!r} unknown for simulator shift {shift!r}; choose one of: "
                f"{', '.join(map(str, self.severities(shift)))}"
            )
        images, targets = [], []
        for record in frames.records:
            if "seed" not in record:
                raise UsageError(
                    f"image {record.get('file_name')!r} has no recorded 'seed'; re-render the dataset "
                    "with visiongym render-data to use simulator shifts"
                )
            ground_truth = entry.renderer(frames.info, record, entry.appearances[severity])
            images.append(np.asarray(ground_truth["rgb"], np.uint8))
            targets.append(targets_from_ground_truth(ground_truth))
        # The scene really looks like this: a reconstruction should reproduce what it sees.
        return replace(frames, images=images, targets=targets, references=list(images))


SHIFT_FAMILIES: Registry[ShiftFamily] = Registry("shift family")
"""Shift-family builders by name; ``build(name, corruptions=..., severities=..., seed=...)``."""


@SHIFT_FAMILIES.register("corruptions")
def _corruptions_family(
    *, corruptions: Sequence[str] | None = None, severities: Sequence[int] = SEVERITIES, seed: int = 0
) -> ImageCorruptions:
    return ImageCorruptions(corruptions, severities, seed)


def register_appearance_shifts() -> None:
    """Register every named look of :mod:`visiongym.sims.appearance` as a simulator shift.

    Each single-factor shift of ``SHIFTS`` (the default look with one factor outside what
    training may randomise) and ``held_out`` (every factor outside it at once) is one shift of
    severity 1: the frames are the test frames' own states, re-rendered with that look. ``default``
    re-renders the same states in the default look, the reference the single-factor shifts change
    one factor of (the clean test frames themselves carry the dataset's own looks).
    """
    from visiongym.sims.appearance import SHIFTS
    from visiongym.vision.data.render_soccer import Rerenderer

    renderer = Rerenderer()
    for name in ("default", "held_out", *SHIFTS):
        if name not in SIMULATOR_SHIFTS:
            register_simulator_shift(SimulatorShift(name, {1: name}, renderer))


@SHIFT_FAMILIES.register("simulator")
def _simulator_family(**_: Any) -> SimulatorShifts:
    register_appearance_shifts()
    return SimulatorShifts()


def load_eval_frames(root: str | Path, split: str = "test", limit: int | None = None) -> EvalFrames:
    """A dataset split (``visiongym render-data``) in memory, with boxes, labels, masks and, when
    the dataset has it, ``depth`` (H, W) in metres."""
    from visiongym.vision.data.dataset import SoccerDetection
    from visiongym.vision.data.format import read_dataset_info

    depth = read_dataset_info(root).get("depth", "none") != "none"
    dataset = SoccerDetection(root, split, masks=True, depth=depth, limit=limit)
    if len(dataset) == 0:
        raise UsageError(f"split {split!r} of {str(root)!r} has no frames")
    images, targets = [], []
    for index in range(len(dataset)):
        image, target = dataset[index]
        images.append(image.permute(1, 2, 0).numpy().copy())
        targets.append(
            {
                "boxes": target["boxes"].numpy().astype(np.float32).reshape(-1, 4),
                "labels": target["labels"].numpy(),
                "masks": target["masks"].numpy().astype(np.uint8),
                **({"depth": target["depth"].numpy()[0]} if depth else {}),
            }
        )
    return EvalFrames(images, targets, list(dataset.images), info=dict(dataset.info))
