"""Frames for the translation models: a dataset's recorded states, rendered again in any look.

A translation dataset is an ordinary soccer dataset (``visiongym render-data``): only its
states are used. Each image record keeps the seed its frame was drawn from, so
:class:`~visiongym.vision.data.render_soccer.Rerenderer` renders the same state in every look,
at the model's size. Training stays unpaired (CycleGAN's two looks get disjoint halves of the
train split's states); scoring renders the test states in both looks, so every translated frame
has its true counterpart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from visiongym.sims.errors import UsageError
from visiongym.vision.data.format import read_dataset_info, read_split

__all__ = ["RenderedFrames", "read_states", "render_frames", "uint8_images", "float_images"]


@dataclass
class RenderedFrames:
    """Frames of some states in some looks.

    Attributes:
        images: uint8 (N, 3, S, S).
        targets: per frame the detector labels in the frame's pixels (``boxes`` xyxy, ``labels``,
            ``masks``), for :class:`visiongym.vision.robustness.shifts.EvalFrames`.
        records: the states' COCO image records.
    """

    images: torch.Tensor
    targets: list[dict[str, np.ndarray]]
    records: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.images)


def read_states(data: str | Path, split: str, limit: int | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(dataset.json, image records of split)`` of a soccer dataset whose frames can be re-rendered."""
    info = read_dataset_info(data)
    if info.get("source") != "soccer":
        raise UsageError(
            f"dataset {str(data)!r} holds {info.get('source')!r} frames; translation re-renders soccer "
            "states in other looks: render one with visiongym render-data --source soccer"
        )
    records = sorted(read_split(data, split)["images"], key=lambda image: image["id"])[:limit]
    if not records:
        raise UsageError(f"split {split!r} of {str(data)!r} has no frames")
    if any("seed" not in record for record in records):
        raise UsageError(f"split {split!r} of {str(data)!r} records no frame seeds; re-render it with visiongym render-data")
    return info, records


def render_frames(
    info: dict[str, Any],
    records: Sequence[dict[str, Any]],
    looks: Any | Sequence[Any],
    size: int,
    renderer: Any = None,
    progress: bool = False,
    desc: str = "render",
) -> RenderedFrames:
    """The states of ``records`` rendered at ``size`` px, frame ``i`` in ``looks[i]`` (or all in one look).

    Args:
        info: the dataset's ``dataset.json`` contents.
        records: image records with their ``seed``.
        looks: one appearance (a name, an ``AppearanceSpec``) for every frame, or one per frame.
        size: square side of the frames rendered.
        renderer: a :class:`~visiongym.vision.data.render_soccer.Rerenderer` to reuse (its scenes
            are kept); default: a new one, closed afterwards.
    """
    from tqdm import tqdm

    from visiongym.vision.data.render_soccer import Rerenderer
    from visiongym.vision.robustness.shifts import targets_from_ground_truth

    per_frame = isinstance(looks, (list, tuple))
    if per_frame and len(looks) != len(records):
        raise ValueError(f"{len(looks)} looks for {len(records)} frames")
    own = renderer is None
    renderer = Rerenderer() if own else renderer
    sized = {**info, "size": int(size)}
    images, targets = [], []
    try:
        for index, record in enumerate(tqdm(records, desc=desc, unit="frame", disable=not progress, leave=False)):
            ground_truth = renderer(sized, record, looks[index] if per_frame else looks)
            images.append(torch.from_numpy(np.asarray(ground_truth["rgb"], np.uint8)).permute(2, 0, 1))
            targets.append(targets_from_ground_truth(ground_truth))
    finally:
        if own:
            renderer.close()
    return RenderedFrames(torch.stack(images).contiguous(), targets, list(records))


def float_images(images: torch.Tensor) -> torch.Tensor:
    """uint8 images as float in [-1, 1] (float input passes through)."""
    return images.float() / 127.5 - 1.0 if images.dtype == torch.uint8 else images


def uint8_images(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float images as uint8 on the CPU."""
    return ((images.detach() + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8).cpu()
