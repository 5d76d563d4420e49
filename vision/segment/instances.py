"""Player instances from a semantic model's class mask: split, re-attach, drop.

A semantic model (U-Net, FCN) paints classes, not players. Its plainest instances are the
connected components of each player class (:func:`~visiongym.vision.segment.metrics.instances_from_class_mask`,
``instances="components"``), which fails two ways: two touching players of one team become one
component, and a limb or a few pixels cut off from their player become extra instances (on the
human look at 256 px, a fifth of all predicted instances; a player is only ~28 pixels there).
:func:`split_instances` (``instances="split"``, the default) fixes both:

1. **split** each component into players: with a contact map (the ``unet_contact`` head: the
   probability that a pixel touches another player of its team), the markers are the components
   of the class mask without its contact pixels, flooded back over the contacts by
   :func:`skimage.segmentation.watershed` on the contact probability (DCAN's contour recipe);
   without one, components of at least ``split_pixels`` are split by a watershed on the negated
   distance transform from its maxima at least ``min_distance`` apart
   (:func:`skimage.feature.peak_local_max`), the classic touching-discs recipe;
2. **re-attach** every piece under ``fragment_pixels`` to the nearest larger instance of its class
   within ``attach_distance`` pixels;
3. **drop** what is left under ``min_pixels``.

The pixel sizes are for players of ~20-60 pixels (the 256 px human look, the 128 px robots).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np
import torch

from visiongym.sims.errors import UsageError
from visiongym.vision.segment.metrics import PLAYER_CLASSES, instance_set, instances_from_class_mask

__all__ = [
    "InstanceMethod",
    "INSTANCE_METHODS",
    "check_instance_method",
    "class_instances",
    "contact_mask_from_instances",
    "split_instances",
]

InstanceMethod = Literal["split", "contact", "components"]
INSTANCE_METHODS: tuple[str, ...] = get_args(InstanceMethod)
"""How a semantic model's class mask becomes instances: ``split`` (:func:`split_instances` by the
distance transform, the default), ``contact`` (:func:`split_instances` at the contact head's
contacts: ``unet_contact`` models only) or ``components`` (plain connected components,
:func:`~visiongym.vision.segment.metrics.instances_from_class_mask`)."""

_EIGHT = np.ones((3, 3), bool)


def contact_mask_from_instances(masks: torch.Tensor | np.ndarray, labels, classes: Sequence[int] = PLAYER_CLASSES) -> torch.Tensor:
    """(H, W) bool: pixels of an instance of ``classes`` with a pixel of *another* instance of the
    same class among their 8 neighbours, the training target of the contact head."""
    masks = torch.as_tensor(masks).float()
    labels = torch.as_tensor(labels).reshape(-1)
    out = torch.zeros(masks.shape[-2:], dtype=torch.bool)
    for cls in classes:
        own = masks[labels == cls]
        if len(own) < 2:
            continue
        grown = torch.nn.functional.max_pool2d(own[:, None], 3, stride=1, padding=1)[:, 0]
        # A pixel of instance k lies in its own grown mask too: two or more means another is adjacent.
        out |= (own.sum(0) > 0) & (grown.sum(0) >= 2)
    return out


def _split_by_contact(binary: np.ndarray, contact: np.ndarray, threshold: float) -> np.ndarray:
    from scipy import ndimage
    from skimage.segmentation import watershed

    # 4-connected markers: a one-pixel diagonal gap in the contact band still separates them.
    markers, _ = ndimage.label(binary & (contact < threshold))
    labels = watershed(contact, markers, mask=binary)
    # Components made only of contact pixels have no marker: keep them whole.
    unreached = binary & (labels == 0)
    if unreached.any():
        rest, _ = ndimage.label(unreached, structure=_EIGHT)
        labels = np.where(unreached, rest + labels.max(), labels)
    return labels


def _split_by_distance(binary: np.ndarray, split_pixels: int, min_distance: int) -> np.ndarray:
    from scipy import ndimage
    from skimage.feature import peak_local_max
    from skimage.segmentation import watershed

    components, count = ndimage.label(binary, structure=_EIGHT)
    sizes = np.bincount(components.ravel(), minlength=count + 1)
    labels, next_label = np.zeros_like(components), 1
    for index, component in enumerate(ndimage.find_objects(components), start=1):
        window = components[component] == index
        pieces = np.zeros(window.shape, components.dtype)
        if sizes[index] >= split_pixels:
            distance = ndimage.distance_transform_edt(np.pad(window, 1))[1:-1, 1:-1]
            peaks = peak_local_max(distance, min_distance=min_distance, labels=window.astype(np.int32),
                                   exclude_border=False)
            if len(peaks) >= 2:
                markers = np.zeros(window.shape, np.int32)
                markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
                pieces = watershed(-distance, markers, mask=window)
        if not pieces.any():
            pieces = window.astype(components.dtype)
        region = labels[component]
        region[window] = pieces[window] + next_label - 1
        next_label += int(pieces.max())
    return labels


def _attach_fragments(labels: np.ndarray, fragment_pixels: int, attach_distance: float) -> np.ndarray:
    from scipy import ndimage

    sizes = np.bincount(labels.ravel())
    large = np.where(sizes[labels] >= fragment_pixels, labels, 0)
    small = [label for label in np.flatnonzero((sizes > 0) & (sizes < fragment_pixels)) if label]
    if not large.any() or not small:
        return labels
    distance, (rows, cols) = ndimage.distance_transform_edt(large == 0, return_indices=True)
    for label in small:
        where = labels == label
        nearest = int(np.argmin(np.where(where, distance, np.inf)))
        if distance.flat[nearest] <= attach_distance:
            labels[where] = large[rows.flat[nearest], cols.flat[nearest]]
    return labels


def split_instances(
    class_mask: torch.Tensor | np.ndarray,
    contact: torch.Tensor | np.ndarray | None = None,
    classes: Sequence[int] = PLAYER_CLASSES,
    *,
    threshold: float = 0.5,
    split_pixels: int = 60,
    min_distance: int = 3,
    fragment_pixels: int = 12,
    attach_distance: float = 3.5,
    min_pixels: int = 5,
) -> dict[str, torch.Tensor]:
    """Instances of ``classes`` in an (H, W) class mask (see the module docstring).

    Args:
        class_mask: (H, W) class indices.
        contact: optional (H, W) contact probability in [0, 1] (the ``unet_contact`` head).
        classes: the classes to turn into instances (the players).
        threshold: contact probability above which a pixel is a contact.
        split_pixels: without ``contact``, components from this many pixels are split at the maxima
            of their distance transform (about twice a player: a lone player stays whole).
        min_distance: without ``contact``, the least distance in pixels between two maxima.
        fragment_pixels: pieces under this size are re-attached to a nearby larger instance.
        attach_distance: how far, in pixels, a piece may lie from the instance it joins.
        min_pixels: pieces still under this size afterwards are dropped as noise.

    Returns:
        ``masks`` (K, H, W) uint8, ``labels`` (K,) int64, ``scores`` (K,) all 1.
    """
    class_mask = np.asarray(torch.as_tensor(class_mask).cpu())
    if contact is not None:
        contact = np.asarray(torch.as_tensor(contact).float().cpu())
    masks, labels = [], []
    for cls in classes:
        binary = class_mask == cls
        if not binary.any():
            continue
        if contact is not None:
            pieces = _split_by_contact(binary, contact, threshold)
        else:
            pieces = _split_by_distance(binary, split_pixels, min_distance)
        pieces = _attach_fragments(pieces, fragment_pixels, attach_distance)
        sizes = np.bincount(pieces.ravel())
        for label in np.flatnonzero(sizes >= min_pixels):
            if label:
                masks.append(pieces == label)
                labels.append(cls)
    return instance_set(masks, labels, class_mask.shape)


def check_instance_method(method: str, has_contact: bool, model: str = "") -> str:
    """``method`` if it is one of :data:`INSTANCE_METHODS` and usable (``contact`` needs the
    contact head; ``model`` names the model in the error); otherwise a :class:`UsageError`."""
    if method not in INSTANCE_METHODS:
        raise UsageError(f"instances {method!r} unknown; choose one of: {', '.join(INSTANCE_METHODS)}")
    if method == "contact" and not has_contact:
        has = f"; {model!r} has none" if model else " (unet_contact)"
        raise UsageError(f"instances 'contact' needs a model with the contact head{has} "
                         "(train unet_contact, or use split or components)")
    return method


def class_instances(
    class_mask: torch.Tensor, contact: torch.Tensor | None = None, method: str = "split"
) -> dict[str, torch.Tensor]:
    """A semantic model's instances by ``method`` (:data:`INSTANCE_METHODS`); ``contact`` (the
    contact head's probability) is used by ``contact`` only, which needs it."""
    check_instance_method(method, contact is not None)
    if method == "components":
        return instances_from_class_mask(class_mask)
    return split_instances(class_mask, contact if method == "contact" else None)
