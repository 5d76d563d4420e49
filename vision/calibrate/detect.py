"""Line-pixel and pitch-outline detection with no clicks: colour, morphology and distance fields.

The detector is classical and adapts to the look of each frame:

1. **Pitch mask.** The pitch's colour is read off the frame itself: the median chromaticity
   (``rgb / (r + g + b)``, which grey textures, shadows and brightness leave unchanged) of the
   green-dominant pixels in the middle of the image. Pixels whose chromaticity lies near it are
   pitch; a closing bridges the halfway line and players, the large components are kept and
   their holes filled.
2. **Line pixels.** A white top-hat of the darkest channel (white is bright in every channel, the
   green pitch only in one) inside the pitch mask, above a threshold relative to the pitch's
   own brightness; connected pieces shorter than :data:`MIN_LINE_LENGTH` of the image (the
   ball, a highlight) are dropped.
3. **Distance fields.** The fit looks up, for any sub-pixel point, its distance to the nearest
   line pixel and its signed distance to the pitch outline (zero on the outline, bilinear).

Sizes are fractions of the image height, so the same settings work from 64 to 1024 pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from visiongym.sims.errors import UsageError

__all__ = ["PitchNotVisible", "Features", "detect_features", "pitch_mask", "line_pixels", "check_rgb",
           "MIN_PITCH_SHARE", "MIN_LINE_LENGTH"]

#: Below this share of the image being pitch, a frame is not calibrated.
MIN_PITCH_SHARE = 0.08
#: Line pieces shorter than this fraction of the image height are not lines.
MIN_LINE_LENGTH = 0.06
#: Chromaticity distance from the pitch colour still counted as pitch.
CHROMA_TOLERANCE = 0.1
#: Darkest pitch counted: mean channel value (0-1) of the pitch colour.
MIN_PITCH_BRIGHTNESS = 0.04
#: Darkest pixel still counted as pitch (in shadow), mean channel value.
MIN_DARK_PITCH = 0.012


class PitchNotVisible(UsageError):
    """A frame shows too little of the pitch (or too few of its lines) to calibrate from."""


@dataclass
class Features:
    """What the fit needs from one frame.

    Attributes:
        mask: (H, W) bool, the pitch.
        lines: (H, W) bool, line pixels.
        line_distance: (H, W) float, distance of each pixel centre to the nearest line pixel.
        edge_distance: (H, W) float, signed distance of each pixel centre to the pitch outline
            (positive inside the pitch); the image border is not an outline.
        line_points: (N, 2) float, (u, v) of the line pixels' centres.
        edge_points: (M, 2) float, (u, v) of the outline points (midway between a pitch pixel
            and a neighbouring non-pitch pixel).
    """

    mask: np.ndarray
    lines: np.ndarray
    line_distance: np.ndarray
    edge_distance: np.ndarray
    line_points: np.ndarray
    edge_points: np.ndarray


def check_rgb(rgb) -> np.ndarray:
    """``rgb`` as a (H, W, 3) uint8 array, or a :class:`UsageError` naming what is allowed."""
    array = np.asarray(rgb)
    if array.ndim != 3 or array.shape[2] != 3:
        raise UsageError(f"frame of shape {array.shape} is not an RGB image; need (height, width, 3)")
    if array.dtype != np.uint8:
        raise UsageError(f"frame dtype {array.dtype} unsupported; need uint8 (0-255)")
    if min(array.shape[:2]) < 32:
        raise UsageError(f"frame {array.shape[0]}x{array.shape[1]} too small; need at least 32x32 pixels")
    return array


def _disk(radius: float) -> np.ndarray:
    r = max(1, int(round(radius)))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return xx**2 + yy**2 <= r * r + 0.5


def pitch_mask(rgb: np.ndarray) -> np.ndarray:
    """The pitch, read off the frame's own colours (see the module's notes)."""
    image = rgb.astype(np.float32) / 255.0
    height, width = image.shape[:2]
    total = image.sum(axis=2)
    chroma = image / np.maximum(total, 1e-6)[..., None]
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    greenish = (g > 1.1 * r) & (g > 1.1 * b) & (total / 3 > MIN_PITCH_BRIGHTNESS)
    centre = (slice(height // 5, height - height // 5), slice(width // 5, width - width // 5))
    candidates = greenish[centre]
    if candidates.mean() < 0.25:
        raise PitchNotVisible(
            f"only {candidates.mean():.0%} of the image's middle is green; too little pitch to calibrate from"
        )
    reference = np.median(chroma[centre][candidates], axis=0)
    # Dark pixels (a board's shadow) have coarse chromaticities: 8-bit steps of 1/255 over a small
    # sum, so the tolerance widens by about one step.
    tolerance = CHROMA_TOLERANCE + 1.5 / np.maximum(total * 255.0, 1.0)
    mask = (np.linalg.norm(chroma - reference, axis=2) < tolerance) & (total / 3 > MIN_DARK_PITCH)
    mask &= g >= np.maximum(r, b)
    # Bridge the halfway line and players, then keep the large pieces with their holes filled.
    # The mask runs on past the image border (repeated), so pieces meeting there stay apart.
    disk = _disk(0.015 * height)
    pad = disk.shape[0]
    mask = ndimage.binary_closing(np.pad(mask, pad, mode="edge"), structure=disk)[pad:-pad, pad:-pad]
    labels, count = ndimage.label(mask)
    if count == 0:
        raise PitchNotVisible("no pitch-coloured region found")
    sizes = ndimage.sum(mask, labels, index=np.arange(1, count + 1))
    keep = np.flatnonzero(sizes >= 0.02 * mask.size) + 1
    mask = np.isin(labels, keep)
    mask = ndimage.binary_fill_holes(mask)
    if mask.mean() < MIN_PITCH_SHARE:
        raise PitchNotVisible(
            f"the pitch covers {mask.mean():.0%} of the image, below the {MIN_PITCH_SHARE:.0%} needed to calibrate"
        )
    return mask


def _elongated(lines: np.ndarray, min_length: float) -> np.ndarray:
    """The connected pieces of ``lines`` at least ``min_length`` long and three times longer
    than wide (lengths from each piece's second moments)."""
    labels, count = ndimage.label(lines, structure=np.ones((3, 3)))
    if count == 0:
        return lines
    rows, cols = np.nonzero(labels)
    index = labels[rows, cols]
    n = np.bincount(index, minlength=count + 1).astype(float)
    n[0] = 1.0

    def mean(values: np.ndarray) -> np.ndarray:
        return np.bincount(index, weights=values, minlength=count + 1) / n

    mx, my = mean(cols), mean(rows)
    sxx, syy, sxy = mean(cols * cols) - mx**2, mean(rows * rows) - my**2, mean(cols * rows) - mx * my
    spread = np.sqrt(np.maximum(((sxx - syy) / 2) ** 2 + sxy**2, 0.0))
    major, minor = (sxx + syy) / 2 + spread, np.maximum((sxx + syy) / 2 - spread, 0.0)
    length, width = np.sqrt(12 * major), np.sqrt(12 * minor + 1.0)  # a uniform bar's moments
    keep = (length >= min_length) & (length >= 3 * width)
    keep[0] = False
    return keep[labels]


def line_pixels(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """White thin structures inside the pitch (see the module's notes)."""
    image = rgb.astype(np.float32) / 255.0
    height = image.shape[0]
    size = max(3, int(round(0.03 * height)) | 1)
    darkest = image.min(axis=2)
    tophat = darkest - ndimage.grey_opening(darkest, size=(size, size))
    # The pitch's own brightness around each pixel (the opening removes thin lines): a white
    # line stands out by more than half of it in the darkest channel, a textured or lit pitch not;
    # and it is whitish (no channel far below the others).
    background = ndimage.grey_opening(image.max(axis=2), size=(size, size))
    inside = ndimage.binary_erosion(mask, iterations=1, border_value=1)
    white = darkest >= 0.5 * image.max(axis=2)
    lines = (tophat > np.maximum(0.03, 0.6 * background)) & white & inside
    return _elongated(lines, MIN_LINE_LENGTH * height)


def _signed_edge_distance(mask: np.ndarray, pad: int) -> np.ndarray:
    """Signed distance of pixel centres to the outline of ``mask`` (positive inside); the mask is
    extended past the image border by repeating its edge, so the border is not an outline."""
    padded = np.pad(mask, pad, mode="edge")
    inside = ndimage.distance_transform_edt(padded) - 0.5
    outside = ndimage.distance_transform_edt(~padded) - 0.5
    return np.where(padded, inside, -outside)[pad:-pad, pad:-pad].astype(np.float32)


def _edge_points(mask: np.ndarray) -> np.ndarray:
    """(u, v) midway between 4-neighbour pixels of which one is pitch and one is not."""
    rows, cols = np.nonzero(mask[:, 1:] != mask[:, :-1])
    horizontal = np.stack([cols + 1.0, rows + 0.5], axis=1)
    rows, cols = np.nonzero(mask[1:, :] != mask[:-1, :])
    vertical = np.stack([cols + 0.5, rows + 1.0], axis=1)
    return np.concatenate([horizontal, vertical])


def detect_features(rgb) -> Features:
    """The :class:`Features` of one RGB frame; :class:`PitchNotVisible` when the pitch is not
    visible enough to calibrate from."""
    rgb = check_rgb(rgb)
    mask = pitch_mask(rgb)
    lines = line_pixels(rgb, mask)
    rows, cols = np.nonzero(lines)
    line_points = np.stack([cols + 0.5, rows + 0.5], axis=1).astype(float)
    line_distance = (ndimage.distance_transform_edt(~lines) if lines.any()
                     else np.full(lines.shape, float(max(lines.shape))))
    return Features(mask=mask, lines=lines, line_distance=line_distance.astype(np.float32),
                    edge_distance=_signed_edge_distance(mask, pad=max(4, rgb.shape[0] // 8)),
                    line_points=line_points, edge_points=_edge_points(mask))
