"""Per-player depth: losses, prediction, scoring, the parametric baselines and checkpoint loading.

Heads (``head``):

- ``classification`` (the paper): ``B + 1`` classes per pixel (0 background, 1..B depth bins),
  NLL summed over the stacks with background weight 0.1. The predicted mask is every pixel whose
  arg-max class is not background; the predicted relative depth is the centre of the arg-max
  *depth* class (background excluded), so st-RMSE scores depth over the whole true mask and
  mask errors are scored by IoU alone.
- ``regression`` (ablation): channel 0 the relative depth in bin widths (L1 inside the true
  mask), channel 1 the mask logit (binary cross-entropy over the crop), summed over the stacks.

Baselines (:func:`baseline_predictions`, the paper's "parametric shape" rows, fitted to the box
where the paper fits a 2-D pose): ``billboard``, ``plane`` (an upright billboard) and
``cylinder``; their mask is the player's box.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from visiongym.sims.errors import UsageError
from visiongym.vision.depth.crops import (
    OCCLUSION_BINS,
    CropSet,
    CropSpec,
    DepthBins,
    occlusion_group,
)
from visiongym.vision.depth.metrics import mask_iou, st_rmse
from visiongym.vision.depth.models import DEPTH_MODELS
from visiongym.vision.runs import load_state
from visiongym.vision.runtime import CheckpointError, load_checkpoint, pick_device

__all__ = [
    "CHECKPOINT_KIND",
    "HEADS",
    "BACKGROUND_WEIGHT",
    "PAPER_PLAYER_HEIGHT",
    "crop_batch",
    "crop_loss",
    "photometric_jitter",
    "predict_crops",
    "BASELINES",
    "BROADCAST_ELEVATION",
    "baseline_predictions",
    "score_crops",
    "load_depth_model",
]

CHECKPOINT_KIND = "depth_hourglass"
HEADS = ("classification", "regression")
BASELINES = ("billboard", "plane", "cylinder")
BROADCAST_ELEVATION = 45.0
"""Degrees: the broadcast camera's nominal elevation over the pitch (35 to 60 across it)."""
BACKGROUND_WEIGHT = 0.1
PAPER_PLAYER_HEIGHT = 1.8
"""Metres: the paper's players. st-RMSE in paper units is ours times 1.8 / our player height."""


def crop_batch(crops: CropSet, index, device: torch.device, bins: DepthBins, flip: torch.Tensor | None = None):
    """Tensors of crops ``index``: rgb, mask input, class target, relative depth (bins), true mask."""
    rgb = torch.from_numpy(crops.rgb[index])
    mask_in = torch.from_numpy(crops.mask_input[index])
    mask = torch.from_numpy(crops.mask[index])
    relative = torch.from_numpy(crops.relative[index])
    classes = torch.from_numpy(bins.to_classes(crops.relative[index], crops.mask[index]))
    if flip is not None and flip.any():
        rgb[flip], mask_in[flip] = rgb[flip].flip(-1), mask_in[flip].flip(-1)
        mask[flip], relative[flip], classes[flip] = mask[flip].flip(-1), relative[flip].flip(-1), classes[flip].flip(-1)
    return (rgb.to(device), mask_in.to(device), classes.to(device),
            (relative / bins.bin_width).to(device), mask.to(device))


def photometric_jitter(rgb: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random light on uint8 crops: a gain in [0.4, 1.4], a tint of +-15 % per channel, and a
    contrast in [0.7, 1.3] about each crop's mean; the depth and masks are untouched."""
    n = len(rgb)
    gain = torch.empty(n, 1, 1, 1).uniform_(0.4, 1.4, generator=generator)
    tint = torch.empty(n, 3, 1, 1).uniform_(0.85, 1.15, generator=generator)
    contrast = torch.empty(n, 1, 1, 1).uniform_(0.7, 1.3, generator=generator)
    x = rgb.float()
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = ((x - mean) * contrast + mean) * gain * tint
    return x.clamp_(0, 255).to(torch.uint8)


def crop_loss(outputs: list[torch.Tensor], head: str, classes, relative_bins, mask) -> tuple[torch.Tensor, dict]:
    """The head's loss summed over the stacks, and the last stack's terms for logging."""
    total, terms = 0.0, {}
    for output in outputs:
        if head == "classification":
            weight = torch.ones(output.shape[1], device=output.device)
            weight[0] = BACKGROUND_WEIGHT
            loss = F.cross_entropy(output, classes, weight=weight)
            terms = {"nll": loss}
        else:
            maskf = mask.float()
            l1 = ((output[:, 0] - relative_bins).abs() * maskf).sum() / maskf.sum().clamp(min=1)
            bce = F.binary_cross_entropy_with_logits(output[:, 1], maskf)
            loss = l1 + bce
            terms = {"l1_bins": l1, "mask_bce": bce}
        total = total + loss
    return total, terms


@torch.no_grad()
def predict_crops(model, head: str, crops: CropSet, bins: DepthBins, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """``(relative depth in metres, predicted mask)`` of every crop, from the last stack."""
    device = next(model.parameters()).device
    model.eval()
    depths, masks = [], []
    for start in range(0, len(crops), batch_size):
        index = slice(start, start + batch_size)
        rgb, mask_in = torch.from_numpy(crops.rgb[index]).to(device), torch.from_numpy(crops.mask_input[index]).to(device)
        output = model(rgb, mask_in)[-1].float().cpu()
        if head == "classification":
            masks.append((output.argmax(1) != 0).numpy())
            depths.append(bins.to_depth(output[:, 1:].argmax(1).numpy() + 1))
        else:
            masks.append((output[:, 1] > 0).numpy())
            depths.append((output[:, 0] * bins.bin_width).numpy())
    return np.concatenate(depths).astype(np.float32), np.concatenate(masks)


def _box_mask(crops: CropSet) -> np.ndarray:
    size = crops.mask.shape[-1]
    centres = np.arange(size) + 0.5
    x0, y0, x1, y1 = (crops.box[:, k, None] for k in range(4))
    inside_x = (centres[None] >= x0) & (centres[None] < x1)
    inside_y = (centres[None] >= y0) & (centres[None] < y1)
    return inside_y[:, :, None] & inside_x[:, None, :]


def baseline_predictions(name: str, crops: CropSet, elevation: float = BROADCAST_ELEVATION) -> tuple[np.ndarray, np.ndarray]:
    """Parametric baselines ``(relative depth, mask)``, shaped from the box alone; the mask is the box.

    ``billboard``: the camera-facing plane (depth 0). ``plane``: an upright billboard, depth
    growing down the image by ``tan(elevation)`` per pixel (the camera's elevation; a player's
    box cannot tell it: for our robots, as wide as tall, ``cos(t) + sin(t)`` is symmetric).
    ``cylinder``: an upright cylinder filling the box width, ``-(w / 2) cos(tilt) sqrt(1 - x^2)``
    across it plus the upright ramp (its top face is treated as side). Units are pixels;
    st-RMSE solves the scale.
    """
    if name not in BASELINES:
        raise UsageError(f"baseline {name!r} unknown; choose one of: {', '.join(BASELINES)}")
    box = _box_mask(crops)
    if name == "billboard":
        return np.zeros(crops.mask.shape, np.float32), box
    size = crops.mask.shape[-1]
    centres = np.arange(size) + 0.5
    tilt = np.deg2rad(elevation)
    x0, y0, x1, y1 = (crops.box[:, k, None, None] for k in range(4))
    rows = centres[None, :, None] - (y0 + y1) / 2
    depth = np.tan(tilt) * rows + 0 * centres[None, None, :]
    if name == "cylinder":
        x = np.clip((centres[None, None, :] - (x0 + x1) / 2) / np.maximum((x1 - x0) / 2, 1e-6), -1, 1)
        depth = depth - (x1 - x0) / 2 * np.cos(tilt) * np.sqrt(1 - x**2)
    return (depth * box).astype(np.float32), box


def score_crops(depth: np.ndarray, predicted_mask: np.ndarray, crops: CropSet, player_height: float = 0.09) -> dict[str, float]:
    """Mean per-player st-RMSE (metres, and in paper metres) and mask IoU, overall and by occlusion."""
    errors = np.array([st_rmse(depth[i], crops.relative[i], crops.mask[i]) for i in range(len(crops))])
    ious = np.array([mask_iou(predicted_mask[i], crops.mask[i]) for i in range(len(crops))])
    factor = PAPER_PLAYER_HEIGHT / player_height
    scores = {"st_rmse_mm": 1000 * float(np.nanmean(errors)), "st_rmse_paper_m": factor * float(np.nanmean(errors)),
              "mask_iou": float(ious.mean()), "crops": float(len(crops))}
    groups = np.array([occlusion_group(float(f)) for f in crops.occlusion])
    for group, *_ in OCCLUSION_BINS:
        chosen = groups == group
        if chosen.any():
            scores[f"{group}/st_rmse_paper_m"] = factor * float(np.nanmean(errors[chosen]))
            scores[f"{group}/mask_iou"] = float(ious[chosen].mean())
            scores[f"{group}/crops"] = float(chosen.sum())
    return scores


def build_model(meta: dict[str, Any]):
    bins = DepthBins(**meta["bins"])
    out = bins.classes if meta["head"] == "classification" else 2
    return DEPTH_MODELS.build("hourglass", out_channels=out, stacks=meta["stacks"], features=meta["features"],
                              depth=meta["depth"], stride=meta["spec"]["stride"])


def load_depth_model(path: str | Path, device: str | torch.device = "cpu"):
    """A ``visiongym depth train`` checkpoint: ``(model, meta)`` with meta's ``head``, ``bins``, ``spec``."""
    payload = load_checkpoint(path, kind=CHECKPOINT_KIND, map_location="cpu")
    meta = payload["meta"]
    if meta.get("head") not in HEADS:
        raise CheckpointError(f"checkpoint {str(path)!r} has unknown head {meta.get('head')!r}; expected one of: {', '.join(HEADS)}")
    model = build_model(meta)
    load_state(model, payload["state"]["model"], path, "hourglass", "visiongym depth train")
    return model.to(pick_device(device)).eval(), meta


def meta_objects(meta: dict[str, Any]) -> tuple[DepthBins, CropSpec]:
    return DepthBins(**meta["bins"]), CropSpec(**meta["spec"])
