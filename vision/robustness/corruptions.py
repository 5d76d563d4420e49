"""Image corruptions in the style of ImageNet-C (Hendrycks & Dietterich, ICLR 2019), five severities.

Every corruption takes an RGB ``uint8`` (H, W, 3) frame, a severity ``1..5`` and a NumPy
generator, and returns a new ``uint8`` (H, W, 3) frame; the same seed gives the same bytes
(:func:`corrupt`). Parameters follow the ImageNet-C reference code where it has one; lengths in
pixels (blur radii, elastic displacement) are ImageNet-C's 224-pixel values scaled by
``min(H, W) / 224``, so a 128-pixel frame is corrupted as strongly, relative to its size, as an
ImageNet image. Weather layers (fog, frost, snow) are procedural: no image files. Fog, frost and
pixelate depart from ImageNet-C's recipes so that every severity is stronger than the one below
(their docstrings say how); glass blur is not implemented.

Geometry: only ``elastic_transform`` moves scene content. It is a smooth local displacement
(no global affine, unlike ImageNet-C), and :meth:`Corruption.warp_masks` applies the same field
to instance masks so that detection boxes can be recomputed from them. ``zoom_blur`` averages
the frame with zoomed copies of itself; the unzoomed frame stays in the average, so, as in
ImageNet-C, its labels are kept unchanged. ``motion_blur`` uses a centred kernel, so it smears
without shifting.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from visiongym.sims.errors import UsageError

__all__ = [
    "SEVERITIES",
    "GROUPS",
    "Corruption",
    "CORRUPTIONS",
    "corruption_names",
    "get_corruption",
    "check_severity",
    "corrupt",
]

SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)
GROUPS: tuple[str, ...] = ("noise", "blur", "weather", "digital")

_REFERENCE_SIDE = 224.0  # ImageNet-C's frame size: its pixel lengths are scaled from here


def _unit(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float32) / 255.0


def _uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def _scale(image: np.ndarray) -> float:
    return min(image.shape[:2]) / _REFERENCE_SIDE


# --- noise ------------------------------------------------------------------------------------


def gaussian_noise(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Additive Gaussian noise, std 0.08 .. 0.38 of the pixel range."""
    sigma = (0.08, 0.12, 0.18, 0.26, 0.38)[severity - 1]
    x = _unit(image)
    return _uint8(x + rng.normal(0.0, sigma, x.shape))


def shot_noise(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Poisson (photon) noise: ``Poisson(x * photons) / photons`` with 60 .. 3 photons per unit."""
    photons = (60, 25, 12, 5, 3)[severity - 1]
    x = _unit(image)
    return _uint8(rng.poisson(x * photons) / photons)


def impulse_noise(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Salt-and-pepper noise on 3 % .. 27 % of the channel values (half 0, half 255)."""
    amount = (0.03, 0.06, 0.09, 0.17, 0.27)[severity - 1]
    out = image.copy()
    hit = rng.random(image.shape) < amount
    salt = rng.random(image.shape) < 0.5
    out[hit & salt] = 255
    out[hit & ~salt] = 0
    return out


# --- blur -------------------------------------------------------------------------------------


def _disk(radius: float, alias_blur: float) -> np.ndarray:
    half = max(1, int(np.ceil(radius)))
    coords = np.arange(-half, half + 1)
    xx, yy = np.meshgrid(coords, coords)
    kernel = ((xx**2 + yy**2) <= max(radius, 0.5) ** 2).astype(np.float32)
    kernel /= kernel.sum()
    return cv2.GaussianBlur(kernel, (3, 3), sigmaX=alias_blur)


def defocus_blur(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """An out-of-focus lens: convolution with a disk of radius 3 .. 10 px at 224 px."""
    radius, alias = ((3, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5))[severity - 1]
    kernel = _disk(radius * _scale(image), alias)
    return _uint8(cv2.filter2D(_unit(image), -1, kernel, borderType=cv2.BORDER_REFLECT))


def motion_blur(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Camera shake: a line kernel, Gaussian-weighted along its length (sigma 3 .. 15 px at 224
    px), at a random angle in [-45, 45] degrees, centred so objects smear but do not move."""
    sigma = (3, 5, 8, 12, 15)[severity - 1] * _scale(image)
    angle = float(rng.uniform(-45.0, 45.0))
    return _uint8(_line_blur(_unit(image), sigma, angle))


def _line_blur(x: np.ndarray, sigma: float, angle_degrees: float) -> np.ndarray:
    half = max(1, int(np.ceil(2.5 * sigma)))
    weights = np.exp(-0.5 * (np.arange(-half, half + 1) / max(sigma, 1e-3)) ** 2)
    kernel = np.zeros((2 * half + 1, 2 * half + 1), np.float32)
    kernel[half] = weights
    rotation = cv2.getRotationMatrix2D((half, half), angle_degrees, 1.0)
    kernel = cv2.warpAffine(kernel, rotation, kernel.shape[::-1], flags=cv2.INTER_LINEAR)
    kernel /= kernel.sum()
    return cv2.filter2D(x, -1, kernel, borderType=cv2.BORDER_REFLECT)


def _centre_zoom(x: np.ndarray, factor: float) -> np.ndarray:
    height, width = x.shape[:2]
    crop_h, crop_w = max(1, round(height / factor)), max(1, round(width / factor))
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    crop = x[top : top + crop_h, left : left + crop_w]
    return cv2.resize(crop, (width, height), interpolation=cv2.INTER_LINEAR)


def zoom_blur(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Fast forward motion: the mean of the frame and copies zoomed about its centre, in steps
    of 0.01 .. 0.03, up to 1.10x .. 1.30x (ImageNet-C's ranges)."""
    top, step = ((1.11, 0.01), (1.16, 0.01), (1.21, 0.02), (1.26, 0.02), (1.31, 0.03))[severity - 1]
    x = _unit(image)
    zooms = np.arange(1.0 + step, top, step)
    total = x.copy()
    for factor in zooms:
        total += _centre_zoom(x, float(factor))
    return _uint8(total / (len(zooms) + 1))


# --- weather ----------------------------------------------------------------------------------


def _fractal_noise(
    shape: tuple[int, int], rng: np.random.Generator, decay: float, octaves: int = 6
) -> np.ndarray:
    """Smooth [0, 1] noise: octaves of bilinearly upsampled random grids, amplitude / ``decay``
    per octave (a stand-in for ImageNet-C's diamond-square plasma fractal)."""
    height, width = shape
    total = np.zeros(shape, np.float32)
    amplitude = 1.0
    for octave in range(octaves):
        cells = 2 ** (octave + 1)
        grid = rng.random((cells + 1, cells + 1)).astype(np.float32)
        total += amplitude * cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
        amplitude /= decay
    total -= total.min()
    return total / max(float(total.max()), 1e-6)


def fog(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Haze: the frame blended towards a light-grey fractal layer, 30 % .. 70 % of the way.

    ImageNet-C adds its plasma layer with strength 1.5 .. 3 and renormalises, which is not
    monotone pixel by pixel; a blend with one layer whose weight grows is."""
    weight = (0.3, 0.4, 0.5, 0.6, 0.7)[severity - 1]
    x = _unit(image)
    haze = 0.55 + 0.45 * _fractal_noise(x.shape[:2], rng, decay=1.7)[..., None]
    return _uint8((1.0 - weight) * x + weight * haze)


def brightness(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Over-exposure: +0.1 .. +0.5 on the HSV value channel."""
    shift = (0.1, 0.2, 0.3, 0.4, 0.5)[severity - 1]
    hsv = cv2.cvtColor(_unit(image), cv2.COLOR_RGB2HSV)
    hsv[..., 2] = np.clip(hsv[..., 2] + shift, 0.0, 1.0)
    return _uint8(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB))


def snow(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Falling snow: a thresholded, zoomed and motion-blurred flake layer over a greyed,
    brightened frame (ImageNet-C's parameters; flake density and blur grow with severity)."""
    loc, scale, zoom, threshold, sigma, blend = (
        (0.1, 0.3, 3.0, 0.5, 4, 0.8),
        (0.2, 0.3, 2.0, 0.5, 4, 0.7),
        (0.55, 0.3, 4.0, 0.9, 8, 0.7),
        (0.55, 0.3, 4.5, 0.85, 8, 0.65),
        (0.55, 0.3, 2.5, 0.85, 12, 0.55),
    )[severity - 1]
    x = _unit(image)
    height, width = x.shape[:2]
    flakes = rng.normal(loc, scale, (height, width)).astype(np.float32)
    flakes = _centre_zoom(flakes, zoom)
    flakes[flakes < threshold] = 0.0
    flakes = _line_blur(flakes, sigma * _scale(image), float(rng.uniform(-135.0, -45.0)))
    grey = cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)[..., None] * 1.5 + 0.5
    x = blend * x + (1.0 - blend) * np.maximum(x, grey)
    return _uint8(x + flakes[..., None] + np.rot90(flakes, 2)[..., None])


def frost(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Ice on the lens: the frame blended with a procedural ice layer (a pale blue fractal with
    crystal-like veins, instead of ImageNet-C's photographs), 25 % .. 65 % ice."""
    weight = (0.25, 0.35, 0.45, 0.55, 0.65)[severity - 1]
    x = _unit(image)
    shape = x.shape[:2]
    base = _fractal_noise(shape, rng, decay=1.6)
    veins = 1.0 - np.abs(2.0 * _fractal_noise(shape, rng, decay=1.3) - 1.0)
    ice = np.clip(0.35 + 0.45 * base + 0.5 * veins**6, 0.0, 1.0)[..., None]
    tint = np.array([0.85, 0.93, 1.0], np.float32)
    return _uint8((1.0 - weight) * x + weight * ice * tint)


# --- digital ----------------------------------------------------------------------------------


def contrast(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Flat light: deviations from each channel's mean scaled by 0.4 .. 0.05."""
    factor = (0.4, 0.3, 0.2, 0.1, 0.05)[severity - 1]
    x = _unit(image)
    mean = x.mean(axis=(0, 1), keepdims=True)
    return _uint8((x - mean) * factor + mean)


def _elastic_maps(
    shape: tuple[int, int], severity: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """cv2.remap maps of a smooth random displacement field whose largest shift is
    2 .. 8 px at 224 px (smoothness 8 .. 5 px)."""
    amplitude, smoothness = ((2.0, 8.0), (3.0, 7.0), (4.5, 6.0), (6.0, 6.0), (8.0, 5.0))[
        severity - 1
    ]
    side = min(shape) / _REFERENCE_SIDE
    height, width = shape
    fields = []
    for _ in range(2):
        field = cv2.GaussianBlur(
            rng.uniform(-1.0, 1.0, shape).astype(np.float32), (0, 0), smoothness * side
        )
        fields.append(field / max(float(np.abs(field).max()), 1e-6) * amplitude * side)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    return xx + fields[0], yy + fields[1]


def elastic_transform(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Local rubber-sheet warping (see :func:`_elastic_maps`); masks follow via
    :meth:`Corruption.warp_masks`."""
    map_x, map_y = _elastic_maps(image.shape[:2], severity, rng)
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def pixelate(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """Low resolution: box-downsampled to 0.6 .. 0.15 of the side and box-upsampled back.

    ImageNet-C's factors (0.6 .. 0.25, evenly spaced) let a frame whose side the factor divides
    exactly come out closer to the original at a higher severity; these shrink by about 0.7x a
    step, so the error grows every step."""
    from PIL import Image

    factor = (0.6, 0.42, 0.3, 0.21, 0.15)[severity - 1]
    height, width = image.shape[:2]
    small = Image.fromarray(image).resize(
        (max(1, int(width * factor)), max(1, int(height * factor))), Image.BOX
    )
    return np.asarray(small.resize((width, height), Image.BOX), dtype=np.uint8).copy()


def jpeg_compression(image: np.ndarray, severity: int, rng: np.random.Generator) -> np.ndarray:
    """JPEG round trip at quality 25 .. 7 (Pillow)."""
    from PIL import Image

    quality = (25, 18, 15, 10, 7)[severity - 1]
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("RGB"), dtype=np.uint8).copy()


# --- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corruption:
    """One named corruption.

    Attributes:
        name: its name (ImageNet-C's where it has one).
        group: ``noise``, ``blur``, ``weather`` or ``digital``.
        function: ``function(image, severity, rng) -> image``.
        moves_pixels: whether scene content moves (then labels need :meth:`warp_masks`).
    """

    name: str
    group: str
    function: Callable[[np.ndarray, int, np.random.Generator], np.ndarray]
    moves_pixels: bool = False

    def __call__(self, image: np.ndarray, severity: int, seed: int = 0) -> np.ndarray:
        """Corrupt one uint8 (H, W, 3) frame; the same ``seed`` gives the same bytes."""
        check_severity(severity)
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise UsageError(
                f"corruption {self.name!r} takes uint8 (H, W, 3) frames; got {image.dtype} {image.shape}"
            )
        return self.function(np.ascontiguousarray(image), severity, _rng(self.name, seed))

    def warp_masks(self, masks: np.ndarray, severity: int, seed: int = 0) -> np.ndarray:
        """Move (K, H, W) instance masks exactly as :meth:`__call__` with ``seed`` moves pixels."""
        if not self.moves_pixels or len(masks) == 0:
            return masks
        map_x, map_y = _elastic_maps(masks.shape[1:], severity, _rng(self.name, seed))
        return np.stack(
            [
                cv2.remap(mask, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT)
                for mask in masks.astype(np.uint8)
            ]
        )


def _rng(name: str, seed: int) -> np.random.Generator:
    # crc32, not hash(): Python salts str hashes per process.
    return np.random.default_rng(np.random.SeedSequence([zlib.crc32(name.encode()), seed]))


CORRUPTIONS: dict[str, Corruption] = {
    corruption.name: corruption
    for corruption in (
        Corruption("gaussian_noise", "noise", gaussian_noise),
        Corruption("shot_noise", "noise", shot_noise),
        Corruption("impulse_noise", "noise", impulse_noise),
        Corruption("defocus_blur", "blur", defocus_blur),
        Corruption("motion_blur", "blur", motion_blur),
        Corruption("zoom_blur", "blur", zoom_blur),
        Corruption("snow", "weather", snow),
        Corruption("frost", "weather", frost),
        Corruption("fog", "weather", fog),
        Corruption("brightness", "weather", brightness),
        Corruption("contrast", "digital", contrast),
        Corruption("elastic_transform", "digital", elastic_transform, moves_pixels=True),
        Corruption("pixelate", "digital", pixelate),
        Corruption("jpeg_compression", "digital", jpeg_compression),
    )
}
"""Every corruption by name, in ImageNet-C's order (noise, blur, weather, digital)."""


def corruption_names() -> tuple[str, ...]:
    """The names of :data:`CORRUPTIONS`, in order."""
    return tuple(CORRUPTIONS)


def get_corruption(name: str) -> Corruption:
    """The corruption called ``name``; an unknown name raises naming the choices."""
    if name not in CORRUPTIONS:
        raise UsageError(f"corruption {name!r} unknown; choose one of: {', '.join(CORRUPTIONS)}")
    return CORRUPTIONS[name]


def check_severity(severity: int) -> int:
    """Return ``severity`` if it is 1..5; otherwise raise naming the allowed ones."""
    if isinstance(severity, bool) or severity not in SEVERITIES:
        raise UsageError(
            f"severity {severity!r} unknown; choose one of: {', '.join(map(str, SEVERITIES))}"
        )
    return int(severity)


def corrupt(image: np.ndarray, name: str, severity: int, seed: int = 0) -> np.ndarray:
    """Apply the corruption ``name`` at ``severity`` (1..5) to a uint8 (H, W, 3) frame."""
    return get_corruption(name)(image, severity, seed)
