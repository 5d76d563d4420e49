"""Pairs of high- and low-resolution frames from a rendered dataset folder.

The high-resolution (HR) frames are a split of a ``visiongym render-data`` folder, as stored. The
low-resolution (LR) frames come from one of two sources (:data:`LR_SOURCES`):

- ``downsampled``: the HR frames shrunk by ``scale`` with an antialiased bicubic kernel
  (PyTorch's, as PIL and MATLAB's ``imresize`` do it), the protocol of the SR literature;
- ``rendered``: the same states rendered again by the simulator at the low size
  (:class:`visiongym.vision.data.render_soccer.Rerenderer`, from each frame's recorded seed and
  the dataset's appearance distribution, so players, ball, camera and look are the frame's own).
  The soccer renderer has no multisampling (``offsamples=0``): each LR pixel is the colour at its
  centre, so thin lines break up and a ball under a pixel wide is there or not, unlike a
  downsampled frame, where it leaves a faint blur.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from visiongym.sims.errors import UsageError
from visiongym.vision.data.dataset import load_frames
from visiongym.vision.data.format import DatasetFormatError, read_dataset_info, read_split

__all__ = ["LR_SOURCES", "SRPairs", "downsample", "render_low_res", "load_pairs"]

LR_SOURCES = ("downsampled", "rendered")


@dataclass
class SRPairs:
    """A split as HR frames and their LR versions, uint8 N x 3 x H x W each."""

    hr: torch.Tensor
    lr: torch.Tensor
    scale: int
    lr_source: str

    def __len__(self) -> int:
        return len(self.hr)


def downsample(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """uint8 frames shrunk by ``scale`` (antialiased bicubic), rounded back to uint8."""
    height, width = hr.shape[-2:]
    low = F.interpolate(
        hr.float(),
        size=(height // scale, width // scale),
        mode="bicubic",
        antialias=True,
        align_corners=False,
    )
    return low.round_().clamp_(0, 255).to(torch.uint8)


def render_low_res(
    root: str | Path, split: str, size: int, limit: int | None = None, progress: bool = False
) -> torch.Tensor:
    """The frames of ``split`` rendered again at ``size`` pixels: the same states, looks and camera.

    Raises :class:`UsageError` if a re-rendered frame's look differs from the recorded one (a
    dataset written by another version of the renderer).
    """
    from tqdm import tqdm

    from visiongym.vision.data.render_soccer import Rerenderer

    root = Path(root)
    info = read_dataset_info(root)
    images = sorted(read_split(root, split)["images"], key=lambda image: image["id"])[:limit]
    rerenderer = Rerenderer()
    frames = []
    try:
        for image in tqdm(images, desc=f"render {split} at {size} px", disable=not progress):
            frame = rerenderer({**info, "size": size}, image, info.get("appearance", "default"))
            recorded = image.get("look")
            if recorded is not None and json.dumps(
                frame["meta"]["look"], sort_keys=True
            ) != json.dumps(recorded, sort_keys=True):
                raise UsageError(
                    f"frame {image['id']} of {root}/{split} re-renders with another look than the one "
                    f"recorded; the dataset was written by another renderer version, render it again"
                )
            frames.append(torch.from_numpy(np.ascontiguousarray(frame["rgb"])).permute(2, 0, 1))
    finally:
        rerenderer.close()
    return torch.stack(frames).contiguous()


def load_pairs(
    root: str | Path,
    split: str,
    scale: int,
    lr_source: str = "downsampled",
    limit: int | None = None,
    progress: bool = False,
) -> SRPairs:
    """HR frames of ``split`` and their LR versions from ``lr_source`` (one of :data:`LR_SOURCES`)."""
    if lr_source not in LR_SOURCES:
        raise UsageError(f"lr_source {lr_source!r} unknown; choose one of: {', '.join(LR_SOURCES)}")
    hr = load_frames(root, split, limit=limit)
    height, width = hr.shape[-2:]
    if height % scale or width % scale:
        raise DatasetFormatError(
            f"frames of {str(root)!r} are {height}x{width}, not divisible by scale {scale}; "
            f"render them at a multiple of {scale} (for example --size {scale * 32})"
        )
    if lr_source == "downsampled":
        lr = downsample(hr, scale)
    else:
        if height != width:
            raise DatasetFormatError(f"rendered LR frames need square frames, not {height}x{width}")
        lr = render_low_res(root, split, height // scale, limit, progress)
    return SRPairs(hr, lr, scale, lr_source)
