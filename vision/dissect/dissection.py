"""GAN Dissection (Bau et al., ICLR 2019) of the layout generator: ``visiongym dissect``.

Example (a trained ``visiongym layout train`` generator and a ``visiongym detect train`` detector
at the same image size, on the exact layouts of a ``visiongym render-data`` split)::

    visiongym dissect --checkpoint runs/layout/layout2img.pt --detector runs/det/detector.pt \\
        --data data/soccer --split val --frames 64 --layers up.1 up.2

The layout generator (:mod:`visiongym.vision.layout2img`) draws a frame from a class mask, so the
concept masks of every generated frame are its input layout, exact: ``ball``, ``team_a``,
``team_b``, ``goal`` (and ``player``, team A or B, for ablation and insertion). Pitch lines are
not a class of the layouts and are not dissected.

- **Dissection.** Forward hooks on the named decoder blocks (``up.K``, the output of the K-th
  up block after its FiLM and ReLU) record every unit's (channel's) activations over N frames.
  A unit's mask is where its activation, bilinearly upsampled to the frame, reaches the unit's
  top-``quantile`` level (0.5%: the quantile over all frames and positions, Network Dissection's
  rule); with ``--threshold iqr`` the level is chosen per unit and concept among
  :data:`IQR_QUANTILES`, the one of highest information quality ratio (GAN Dissection's eq. 2),
  so a concept smaller than 0.5% of the frame (the ball: 0.04%) is not capped. Its IoU with each
  concept is accumulated over the N frames (sums of intersections over sums of unions, not a
  mean of per-frame IoUs); a unit *matches* its best concept when that IoU exceeds 0.05.
- **Ablation.** The ``units`` units of a layer with the highest IoU for ``--ablate`` (default
  ``player``), or with ``--rank effect`` those whose switching off alone costs the detector
  most of its scores on those objects (the paper's causal effect, measured on other layouts:
  ``--rank-split``), are zeroed, and, as the control, as many units drawn at random from the
  layer; the detector counts the objects of that concept it still finds (a detection of the
  right class with box IoU >= 0.5 against the layout's box, score >= ``score_threshold``). In
  the U-Net the skips and the head still see the layout itself, so a decoder layer is not the
  only path a player can take to the frame; ``encoder_decoder_small`` has no such path.
- **Insertion.** The ``--insert`` concept's top units are forced to their mean top-quantile
  activation inside a background square of each frame; the detections of that concept whose
  centre falls in the square are counted before and after.

The run folder holds ``dissect.json`` (every number above), ``units_<layer>.png`` (the matched
units' masks over generated frames), ``units_<layer>_<ablate>.png`` (the ablated units'),
``insertion_<layer>.png`` (frames before/after, square outlined) and TensorBoard scalars.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn
from torch.nn import functional as F

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError
from visiongym.vision.data.format import CLASS_NAMES
from visiongym.vision.runs import RunOptions, prepare_run, set_threads
from visiongym.vision.runtime import seed_everything

__all__ = [
    "CONCEPTS",
    "CONCEPT_CLASSES",
    "DissectConfig",
    "ablate_units",
    "concept_masks",
    "IQR_QUANTILES",
    "best_levels",
    "decoder_layers",
    "dissect",
    "hooked",
    "information_quality",
    "iou_table",
    "match_units",
    "object_scores",
    "objects_found",
    "overlap_counts",
    "unit_masks",
    "unit_thresholds",
]

CONCEPT_CLASSES: dict[str, tuple[int, ...]] = {
    "ball": (CLASS_NAMES.index("ball"),),
    "team_a": (CLASS_NAMES.index("team_a"),),
    "team_b": (CLASS_NAMES.index("team_b"),),
    "goal": (CLASS_NAMES.index("goal"),),
    "player": (CLASS_NAMES.index("team_a"), CLASS_NAMES.index("team_b")),
}
"""Concept -> the layout classes it covers (``player`` is either team)."""
CONCEPTS: tuple[str, ...] = ("ball", "team_a", "team_b", "goal")
"""The concepts a unit is matched against (the layout's classes; pitch lines are not one)."""


# ---------------------------------------------------------------- the maths of the paper


def unit_thresholds(activations: torch.Tensor, quantile: float = 0.005) -> torch.Tensor:
    """(N, C, h, w) activations -> (C,) the level of each unit's top ``quantile`` of values.

    The quantile runs over all frames and positions of a unit; it is the k-th largest value,
    k = ceil(quantile * N * h * w), so ties at the level are all inside the mask.
    """
    if not 0.0 < quantile < 1.0:
        raise UsageError(f"quantile={quantile} must be in (0, 1) (the paper's is 0.005)")
    flat = activations.transpose(0, 1).reshape(activations.shape[1], -1)
    k = max(1, math.ceil(quantile * flat.shape[1]))
    return flat.topk(k, dim=1).values[:, -1]


def unit_masks(activations: torch.Tensor, thresholds: torch.Tensor, size: int) -> torch.Tensor:
    """Bool (N, C, size, size): where each unit's upsampled activation reaches its threshold.

    A unit whose threshold is 0 or less (silent after the ReLU on nearly all pixels) gets
    only its positive pixels, not the whole frame.
    """
    if activations.shape[-2:] != (size, size):
        activations = F.interpolate(activations, size=(size, size), mode="bilinear", align_corners=False)
    levels = thresholds.to(activations)[None, :, None, None]
    return (activations >= levels) & (activations > 0)


def concept_masks(class_masks: torch.Tensor, concepts: Sequence[str] = CONCEPTS) -> torch.Tensor:
    """(N, H, W) layout classes -> bool (N, K, H, W), one mask a concept."""
    return torch.stack(
        [torch.isin(class_masks.long(), torch.tensor(CONCEPT_CLASSES[name])) for name in concepts], 1
    )


def _overlaps(units: torch.Tensor, concepts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pixel counts: intersections (C, K), unit areas (C,), concept areas (K,)."""
    u, c = units.flatten(2).float(), concepts.flatten(2).float()
    return torch.einsum("ncp,nkp->ck", u, c), u.sum((0, 2)), c.sum((0, 2))


def _iou(intersection: torch.Tensor, unit_area: torch.Tensor, concept_area: torch.Tensor) -> torch.Tensor:
    union = unit_area[..., None] + concept_area - intersection
    return intersection / union.clamp(min=1.0)


def _entropy(*probabilities: torch.Tensor) -> torch.Tensor:
    return -sum(torch.xlogy(p, p) for p in probabilities)


def information_quality(
    intersection: torch.Tensor, unit_area: torch.Tensor, concept_area: torch.Tensor, pixels: int
) -> torch.Tensor:
    """(..., C, K) IQR = I(unit mask; concept mask) / H(unit mask, concept mask), from pixel counts
    over ``pixels`` pixels: the score GAN Dissection maximises to pick each unit-concept threshold."""
    both = intersection / pixels
    unit_only = unit_area[..., None] / pixels - both
    concept_only = concept_area / pixels - both
    neither = 1.0 - both - unit_only - concept_only
    joint = _entropy(both, unit_only, concept_only, neither.clamp(min=0.0))
    unit, concept = unit_area[..., None] / pixels, (concept_area / pixels).expand_as(both)
    mutual = _entropy(unit, 1 - unit) + _entropy(concept, 1 - concept) - joint
    return mutual / joint.clamp(min=1e-12)


IQR_QUANTILES: tuple[float, ...] = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05)
"""The top quantiles ``--threshold iqr`` chooses each unit-concept pair's level from."""


def overlap_counts(
    activations: torch.Tensor, levels: torch.Tensor, class_masks: torch.Tensor, concepts: Sequence[str] = CONCEPTS
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pixel counts of each unit's mask (activations N x C x h x w, upsampled to the layouts' size)
    at T candidate levels (T, C) against the concepts of ``class_masks`` (N, H, W): intersections
    (T, C, K), unit areas (T, C) and concept areas (K,)."""
    size = class_masks.shape[-1]
    if activations.shape[-2:] != (size, size):
        activations = F.interpolate(activations, size=(size, size), mode="bilinear", align_corners=False)
    masks = concept_masks(class_masks, concepts)
    parts = [_overlaps(unit_masks(activations, level, size), masks) for level in levels]
    return torch.stack([p[0] for p in parts]), torch.stack([p[1] for p in parts]), parts[0][2]


def best_levels(
    intersection: torch.Tensor, unit_area: torch.Tensor, concept_area: torch.Tensor, pixels: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel counts at T candidate levels, (T, C, K), (T, C), (K,) -> per unit and concept the
    candidate of highest IQR (C, K) and the IoU there (C, K)."""
    best = information_quality(intersection, unit_area, concept_area, pixels).argmax(0)
    iou = _iou(intersection, unit_area, concept_area)
    return best, iou.gather(0, best[None]).squeeze(0)


def iou_table(units: torch.Tensor, concepts: torch.Tensor) -> torch.Tensor:
    """(C, K) IoU of every unit mask (N, C, H, W) with every concept mask (N, K, H, W), over all N."""
    return _iou(*_overlaps(units, concepts))


def match_units(
    iou: torch.Tensor, concepts: Sequence[str] = CONCEPTS, threshold: float = 0.05
) -> list[dict[str, Any]]:
    """Units whose best concept IoU exceeds ``threshold``: ``unit``, ``concept``, ``iou``, best first."""
    best, index = iou.max(dim=1)
    matched = [
        {"unit": unit, "concept": concepts[int(index[unit])], "iou": round(float(best[unit]), 4)}
        for unit in range(len(best))
        if float(best[unit]) > threshold
    ]
    return sorted(matched, key=lambda entry: -entry["iou"])


# ---------------------------------------------------------------- hooks


def decoder_layers(generator: nn.Module) -> dict[str, nn.Module]:
    """The dissectable layers of a :class:`~visiongym.vision.layout2img.models.LayoutGenerator`:
    ``up.K`` for every up block (``up.0`` is the last, at full size)."""
    return {f"up.{k}": block for k, block in enumerate(generator.up)}


def _pick_layers(generator: nn.Module, names: Sequence[str]) -> dict[str, nn.Module]:
    layers = decoder_layers(generator)
    unknown = [name for name in names if name not in layers]
    if unknown or not names:
        raise UsageError(f"layer {unknown[0] if unknown else None!r} unknown; choose from: {', '.join(layers)}")
    return {name: layers[name] for name in names}


def _check_concept(name: str, option: str) -> None:
    if name not in CONCEPT_CLASSES:
        raise UsageError(f"{option} concept {name!r} unknown; choose one of: {', '.join(CONCEPT_CLASSES)}")


Edit = Callable[[torch.Tensor], torch.Tensor]


@contextmanager
def hooked(
    layers: dict[str, nn.Module],
    record: dict[str, list[torch.Tensor]] | None = None,
    edits: dict[str, Edit] | None = None,
) -> Iterator[None]:
    """Forward hooks on ``layers``: apply ``edits[name]`` to a layer's output, then append the
    (edited) output, on the CPU, to ``record[name]``."""
    handles = []

    def hook_for(name: str):
        def hook(_module: nn.Module, _inputs: Any, output: torch.Tensor) -> torch.Tensor:
            if edits and name in edits:
                output = edits[name](output)
            if record is not None:
                record.setdefault(name, []).append(output.detach().cpu())
            return output

        return hook

    try:
        for name, module in layers.items():
            handles.append(module.register_forward_hook(hook_for(name)))
        yield
    finally:
        for handle in handles:
            handle.remove()


def ablate_units(units: Sequence[int]) -> Edit:
    """An edit that zeroes the given channels everywhere."""
    index = torch.as_tensor(list(units), dtype=torch.long)

    def edit(output: torch.Tensor) -> torch.Tensor:
        output = output.clone()
        output[:, index.to(output.device)] = 0
        return output

    return edit


def insert_units(units: Sequence[int], levels: torch.Tensor, regions: torch.Tensor) -> Edit:
    """An edit that forces the given channels to ``levels`` (C_units,) inside ``regions``
    (bool N x S x S, the frame's size; pooled to the layer's size: a cell any of whose pixels
    is in the region)."""
    index = torch.as_tensor(list(units), dtype=torch.long)

    def edit(output: torch.Tensor) -> torch.Tensor:
        inside = F.adaptive_max_pool2d(regions[:, None].float(), output.shape[-2:]).bool().to(output.device)
        forced = levels.to(output)[None, :, None, None].expand(len(output), -1, *output.shape[-2:])
        output = output.clone()
        output[:, index.to(output.device)] = torch.where(inside, forced, output[:, index.to(output.device)])
        return output

    return edit


# ---------------------------------------------------------------- counting with the detector


def object_boxes(class_masks: torch.Tensor, instance_masks: torch.Tensor, concept: str) -> list[dict[str, torch.Tensor]]:
    """Per frame, the boxes (xyxy, exclusive, pixels) and classes of the concept's instances."""
    from torchvision.ops import masks_to_boxes

    out = []
    for classes, instances in zip(class_masks, instance_masks, strict=True):
        keep = torch.isin(classes.long(), torch.tensor(CONCEPT_CLASSES[concept]))
        ids = [int(i) for i in torch.unique(instances[keep]) if int(i) > 0]
        if not ids:
            out.append({"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)})
            continue
        masks = torch.stack([(instances == i) & keep for i in ids])
        boxes = masks_to_boxes(masks) + torch.tensor([0.0, 0.0, 1.0, 1.0])
        labels = torch.stack([torch.mode(classes[m].long()).values for m in masks])
        out.append({"boxes": boxes, "labels": labels})
    return out


def _best_scores(detection: dict[str, torch.Tensor], truth: dict[str, torch.Tensor], iou: float) -> torch.Tensor:
    """Per true object, the best score of a detection of its class at box IoU >= ``iou`` (-1: none)."""
    from torchvision.ops import box_iou

    scores, boxes, labels = (detection[key].cpu() for key in ("scores", "boxes", "labels"))
    if len(truth["boxes"]) == 0 or len(boxes) == 0:
        return torch.full((len(truth["boxes"]),), -1.0)
    hits = (box_iou(truth["boxes"], boxes.float()) >= iou) & (truth["labels"][:, None] == labels[None, :])
    return torch.where(hits, scores[None, :].float(), torch.tensor(-1.0)).max(1).values


def objects_found(
    detections: Sequence[dict[str, torch.Tensor]], truths: Sequence[dict[str, torch.Tensor]],
    score_threshold: float = 0.3, iou: float = 0.5,
) -> int:
    """True objects with a detection of their class (score >= threshold) at box IoU >= ``iou``."""
    return sum(int((_best_scores(d, t, iou) >= score_threshold).sum()) for d, t in zip(detections, truths, strict=True))


def object_scores(
    detections: Sequence[dict[str, torch.Tensor]], truths: Sequence[dict[str, torch.Tensor]], iou: float = 0.5
) -> float:
    """The sum over true objects of their best detection score (0 if none): a count without a
    threshold, smooth enough to rank units by what switching each off alone costs."""
    return sum(float(_best_scores(d, t, iou).clamp(min=0.0).sum()) for d, t in zip(detections, truths, strict=True))


# ---------------------------------------------------------------- the command


@dataclass(kw_only=True)  # --checkpoint and --detector are required, after RunOptions' defaults
class DissectConfig(RunOptions):
    """Dissect a layout generator: interpretable units per layer, ablation, insertion."""

    checkpoint: Path
    """Layout generator checkpoint written by visiongym layout train."""
    detector: Path
    """Detector checkpoint (visiongym detect train) at the generator's image size: counts objects."""
    data: Path = Path("data/soccer")
    """A visiongym render-data dataset folder (exact masks): the layouts to generate from."""
    split: str = "val"
    """Split of --data whose layouts are used."""
    frames: int = 64
    """Layouts (N) to dissect over."""
    layers: tuple[str, ...] = ("up.2", "up.3")
    """Decoder layers to dissect (up.K: the K-th up block; up.0 is at full size)."""
    quantile: float = 0.005
    """A unit's mask: its top quantile of activations over all frames and positions."""
    threshold: Literal["quantile", "iqr"] = "quantile"
    """quantile: every unit's mask is its top --quantile (Network Dissection's rule); iqr: per unit
    and concept, the level among IQR_QUANTILES of highest information quality ratio (GAN Dissection's
    rule), so a unit drawing a concept smaller than --quantile of the frame is not capped."""
    iou_threshold: float = 0.05
    """A unit matches its best concept above this IoU."""
    ablate: str = "player"
    """Concept whose top units are ablated: ball, team_a, team_b, goal or player."""
    rank: Literal["iou", "effect"] = "iou"
    """How the --units units to ablate are picked: iou, highest IoU with --ablate (the units that
    match it); effect, largest drop of the detector's scores of the --ablate objects when each unit
    alone is switched off (the paper's average causal effect), on --rank-frames layouts of --rank-split."""
    rank_split: str = "test"
    """Split of --data whose layouts rank units by effect (another than --split: no selection on the scored frames)."""
    rank_frames: int = 32
    """Layouts that rank units by effect."""
    insert: str = "team_a"
    """Concept whose top units are forced on in a background square."""
    insert_side: int = 0
    """Side of that square in pixels (0: an eighth of the frame's side)."""
    units: int = 20
    """Units ablated (top by IoU, and as many random ones) and inserted, per layer."""
    score_threshold: float = 0.3
    """Detections below this score are not counted."""
    batch_size: int = 16
    """Frames per generator call."""
    seed: int = 0
    """Seeds the look codes and the random units."""
    run_dir: Path | None = None
    """Run folder (default runs/<data>__dissect__<seed>__<time>)."""
    top_units: int = field(default=8)
    """Units per layer drawn in units_<layer>.png."""


def _generate(model, layouts, looks, batch_size, layers=None, record=None,
              edits: dict[str, Edit] | Callable[[slice], dict[str, Edit]] | None = None) -> torch.Tensor:
    """Frames for every layout, in batches; ``edits`` is the edits of every batch, or a function
    of the batch's slice that gives them."""
    device = next(model.parameters()).device
    frames = []
    for start in range(0, len(layouts), batch_size):
        batch = slice(start, start + batch_size)
        with hooked(layers or {}, record, edits(batch) if callable(edits) else edits), torch.no_grad():
            frames.append(model.generate(layouts[batch].to(device), looks[batch].to(device)))
    return torch.cat(frames)


def _background_squares(class_masks: torch.Tensor, side: int) -> torch.Tensor:
    """Per frame, a ``side`` square of pure background nearest the frame's centre (bool N x H x W)."""
    n, height, width = class_masks.shape
    objects = (class_masks > 0).float()[:, None]
    busy = F.avg_pool2d(objects, side, stride=1)[:, 0] > 0  # (N, H-side+1, W-side+1): a square's top-left
    ys, xs = torch.meshgrid(torch.arange(busy.shape[1]), torch.arange(busy.shape[2]), indexing="ij")
    distance = (ys + side / 2 - height / 2) ** 2 + (xs + side / 2 - width / 2) ** 2
    regions = torch.zeros(n, height, width, dtype=torch.bool)
    for k in range(n):
        cost = distance.masked_fill(busy[k], float("inf"))
        y, x = divmod(int(cost.argmin()), busy.shape[2])
        regions[k, y : y + side, x : x + side] = True
    return regions


def _insert_edits(name: str, units: Sequence[int], levels: torch.Tensor, regions: torch.Tensor,
                  batch: slice) -> dict[str, Edit]:
    return {name: insert_units(units, levels, regions[batch])}


def _inside(detections, regions: torch.Tensor, concept: str, score_threshold: float) -> list[int]:
    """Per frame, the detections of ``concept`` whose centre falls in the frame's region."""
    counts = []
    for detection, region in zip(detections, regions, strict=True):
        keep = (detection["scores"].cpu() >= score_threshold) & torch.isin(
            detection["labels"].cpu(), torch.tensor(CONCEPT_CLASSES[concept])
        )
        centres = [(int((y0 + y1) / 2), int((x0 + x1) / 2)) for x0, y0, x1, y1 in detection["boxes"].cpu()[keep].tolist()]
        counts.append(sum(bool(region[min(y, region.shape[0] - 1), min(x, region.shape[1] - 1)]) for y, x in centres))
    return counts


def _units_picture(frames: torch.Tensor, activations: torch.Tensor, threshold: torch.Tensor,
                   units: Sequence[int], columns: int = 6) -> torch.Tensor:
    """Rows of units, columns of frames: each frame dimmed outside the unit's mask, tinted yellow in it."""
    shown = frames[:columns].float() / 255.0
    rows = []
    for unit in units:
        mask = unit_masks(activations[:columns, unit : unit + 1], threshold[unit : unit + 1], frames.shape[-1])
        highlight = torch.tensor([1.0, 1.0, 0.0])[None, :, None, None] * mask.float()  # yellow
        rows.append((shown * (0.4 + 0.6 * mask.float()) * (1 - 0.5 * mask.float()) + 0.5 * highlight).clamp(0, 1))
    return torch.cat(rows) if rows else shown


def dissect(config: DissectConfig) -> dict[str, Any]:
    """Run the dissection; write the run folder; return the report (also ``dissect.json``)."""
    from torchvision.utils import make_grid, save_image

    from visiongym.vision.detect.engine import load_detector
    from visiongym.vision.layout2img.layout import layout_tensor, load_layout_frames
    from visiongym.vision.layout2img.train import load_layout_gan

    for name, option in ((config.ablate, "--ablate"), (config.insert, "--insert")):
        _check_concept(name, option)
    if min(config.frames, config.units, config.batch_size, config.rank_frames) < 1:
        raise UsageError(
            f"frames={config.frames}, units={config.units}, batch_size={config.batch_size} and "
            f"rank_frames={config.rank_frames} must each be at least 1"
        )
    set_threads(config.threads)
    seed_everything(config.seed)
    model, meta = load_layout_gan(config.checkpoint, config.device)
    layers = _pick_layers(model.generator, config.layers)
    detector, _ = load_detector(config.detector, config.device)
    size = model.image_size
    if detector.image_size != size:
        raise UsageError(
            f"detector {str(config.detector)!r} reads {detector.image_size} px frames, the generator draws {size} px; "
            f"train one with: visiongym detect train --image-size {size}"
        )
    data = load_layout_frames(config.data, config.split, limit=config.frames)
    if tuple(data.class_masks.shape[-2:]) != (size, size):
        raise UsageError(
            f"dataset {str(config.data)!r} has {tuple(data.class_masks.shape[-2:])} frames; the generator draws "
            f"{size} px: render one with visiongym render-data --size {size}"
        )
    run_dir, writer = prepare_run(config, config.data, "dissect", config.run_dir)
    layouts = layout_tensor(data.class_masks, data.instance_masks)
    looks = model.random_looks(len(layouts), torch.Generator().manual_seed(config.seed))
    record: dict[str, list[torch.Tensor]] = {}
    frames = _generate(model, layouts, looks, config.batch_size, layers, record)
    activations = {name: torch.cat(parts) for name, parts in record.items()}
    names = (*CONCEPTS, *(c for c in dict.fromkeys((config.ablate, config.insert)) if c not in CONCEPTS))
    truths = object_boxes(data.class_masks, data.instance_masks, config.ablate)

    def detect(images: torch.Tensor) -> list[dict[str, torch.Tensor]]:
        detections = []
        for start in range(0, len(images), config.batch_size):
            detections += detector.predict(images[start : start + config.batch_size].to(next(detector.parameters()).device))
        return detections

    def found(images: torch.Tensor) -> int:
        return objects_found(detect(images), truths, config.score_threshold)

    if config.rank == "effect":
        ranking = load_layout_frames(config.data, config.rank_split, limit=config.rank_frames)
        rank_layouts = layout_tensor(ranking.class_masks, ranking.instance_masks)
        rank_looks = model.random_looks(len(rank_layouts), torch.Generator().manual_seed(config.seed + 1))
        rank_truths = object_boxes(ranking.class_masks, ranking.instance_masks, config.ablate)

        def rank_score(edits: dict[str, Edit] | None) -> float:
            images = _generate(model, rank_layouts, rank_looks, config.batch_size, layers, None, edits)
            return object_scores(detect(images), rank_truths)

        base = rank_score(None)  # the intact generator's, the same for every layer

        def effects(name: str) -> torch.Tensor:
            """Per unit of the layer, the drop in the --ablate objects' scores when it alone is off."""
            units = activations[name].shape[1]
            return torch.tensor([base - rank_score({name: ablate_units([u])}) for u in range(units)]) / max(base, 1e-9)

    baseline = found(frames)
    quantiles = (config.quantile,) if config.threshold == "quantile" else IQR_QUANTILES
    report: dict[str, Any] = {
        "checkpoint": str(config.checkpoint), "model": meta["model"], "detector": str(config.detector),
        "data": str(config.data), "split": config.split, "frames": len(frames), "image_size": size,
        "threshold": config.threshold, "quantiles": list(quantiles), "iou_threshold": config.iou_threshold, "concepts": list(CONCEPTS),
        "ablate": config.ablate, "units_ablated": config.units,
        "objects": sum(len(t["boxes"]) for t in truths), "found": baseline, "layers": {},
    }
    choose = torch.Generator().manual_seed(config.seed)
    for step, (name, values) in enumerate(activations.items()):
        candidates = torch.stack([unit_thresholds(values, q) for q in quantiles])  # (T, C)
        counts = None
        for start in range(0, len(values), config.batch_size):
            batch = slice(start, start + config.batch_size)
            part = overlap_counts(values[batch], candidates, data.class_masks[batch], names)
            counts = part if counts is None else tuple(a + b for a, b in zip(counts, part, strict=True))
        best, iou = best_levels(*counts, pixels=len(values) * size * size)
        thresholds = candidates.gather(0, best)  # (C, K): each unit's level for each concept
        matched = match_units(iou[:, : len(CONCEPTS)], CONCEPTS, config.iou_threshold)
        for entry in matched:
            entry["quantile"] = quantiles[int(best[entry["unit"], CONCEPTS.index(entry["concept"])])]
        k = min(config.units, values.shape[1])
        effect = effects(name) if config.rank == "effect" else None
        top = (effect if effect is not None else iou[:, names.index(config.ablate)]).argsort(descending=True)[:k].tolist()
        random_units = torch.randperm(values.shape[1], generator=choose)[:k].tolist()
        after_top = found(_generate(model, layouts, looks, config.batch_size, layers, None, {name: ablate_units(top)}))
        after_random = found(
            _generate(model, layouts, looks, config.batch_size, layers, None, {name: ablate_units(random_units)})
        )
        removed = {
            "top": round(1 - after_top / baseline, 4) if baseline else None,
            "random": round(1 - after_random / baseline, 4) if baseline else None,
        }
        entry = {
            "units": int(values.shape[1]), "resolution": list(values.shape[-2:]),
            "matched": len(matched),
            "concepts": {c: sum(m["concept"] == c for m in matched) for c in CONCEPTS},
            "matched_units": matched,
            f"{config.ablate}_iou_over_threshold": int((iou[:, names.index(config.ablate)] > config.iou_threshold).sum()),
            "ablation": {"k": k, "rank": config.rank, "top_units": top, "random_units": random_units,
                         **({"top_effect": [round(float(effect[u]), 4) for u in top]} if effect is not None else {}),
                         "top_iou": [round(float(iou[u, names.index(config.ablate)]), 4) for u in top],
                         "found_after_top": after_top, "found_after_random": after_random, "removed": removed},
        }
        # insertion: the insert concept's top units, forced to their mean top --quantile level (a
        # high value, as the paper's, whichever level --threshold picked for their masks)
        insert_top = iou[:, names.index(config.insert)].argsort(descending=True)[:k].tolist()
        flat = values.transpose(0, 1).flatten(1)
        high = unit_thresholds(values, config.quantile)
        levels = torch.stack([flat[u][flat[u] >= high[u]].mean() for u in insert_top])
        side = config.insert_side or max(4, size // 8)
        regions = _background_squares(data.class_masks, side)
        inserted = _generate(model, layouts, looks, config.batch_size, layers, None,
                             partial(_insert_edits, name, insert_top, levels, regions))
        inside = {when: _inside(detect(images), regions, config.insert, config.score_threshold)
                  for when, images in (("before", frames), ("after", inserted))}
        entry["insertion"] = {
            "concept": config.insert, "units": insert_top, "square": side,
            "detected_in_square_before": sum(inside["before"]), "detected_in_square_after": sum(inside["after"]),
            "squares_with_detection_before": sum(n > 0 for n in inside["before"]),
            "squares_with_detection_after": sum(n > 0 for n in inside["after"]),
        }
        report["layers"][name] = entry
        writer.add_scalar("dissect/matched_units", len(matched), step)
        if baseline:
            writer.add_scalar("dissect/removed_top", removed["top"], step)
            writer.add_scalar("dissect/removed_random", removed["random"], step)
        shown = [m["unit"] for m in matched[: config.top_units]] or iou.max(1).values.argsort(descending=True)[
            : config.top_units
        ].tolist()
        own_level = thresholds[torch.arange(len(iou)), iou[:, : len(CONCEPTS)].argmax(1)]  # at its best concept
        grid = make_grid(_units_picture(frames, values, own_level, shown), nrow=min(6, len(frames)), padding=2)
        writer.add_image(f"units/{name}", grid, step)
        ablated = make_grid(_units_picture(frames, values, thresholds[:, names.index(config.ablate)], top[: config.top_units]),
                            nrow=min(6, len(frames)), padding=2)
        for picture, path in ((grid, f"units_{name}.png"), (ablated, f"units_{name}_{config.ablate}.png")):
            # twice the size, pixels kept sharp: a player's mask is a few pixels of a 128 px frame
            save_image(F.interpolate(picture[None], scale_factor=2, mode="nearest")[0], run_dir / path)
        columns = min(6, len(frames))
        outline = regions[:columns, None].float()
        edge = (F.max_pool2d(outline, 3, 1, 1) > outline).expand(-1, 3, -1, -1)  # just outside the square
        before, after = frames[:columns].clone(), inserted[:columns].clone()
        for picture in (before, after):
            picture[edge] = 255
        save_image(make_grid(torch.cat([before, after]).float() / 255.0, nrow=columns, padding=2),
                   run_dir / f"insertion_{name}.png")
    writer.close()
    (run_dir / "dissect.json").write_text(json.dumps(report, indent=2))
    report["run_dir"] = str(run_dir)
    return report


def main(argv: list[str] | None = None) -> None:
    import tyro

    config = tyro.cli(DissectConfig, args=argv)
    report = dissect(config)
    print(f"{report['frames']} frames, {report['objects']} {report['ablate']} objects, detector finds {report['found']}")
    for name, entry in report["layers"].items():
        concepts = ", ".join(f"{c} {n}" for c, n in entry["concepts"].items() if n)
        ablation, insertion = entry["ablation"], entry["insertion"]
        print(
            f"{name} ({entry['units']} units, {entry['resolution'][0]} px): {entry['matched']} matched "
            f"({concepts or 'none'}); ablating {ablation['k']} top {report['ablate']} units removes "
            f"{ablation['removed']['top']}, {ablation['k']} random units {ablation['removed']['random']}; "
            f"inserting {insertion['concept']}: {insertion['detected_in_square_before']} -> "
            f"{insertion['detected_in_square_after']} detections in the squares, in "
            f"{insertion['squares_with_detection_before']} -> "
            f"{insertion['squares_with_detection_after']} of {report['frames']} squares"
        )
    print(f"wrote {report['run_dir']}")


if __name__ == "__main__":
    run_command(main)
