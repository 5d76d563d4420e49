"""Classic image filters written as convolution kernels and applied with ``F.conv2d``.

Every filter here has an OpenCV twin (``cv2.filter2D``, ``cv2.blur``, ``cv2.GaussianBlur``,
``cv2.Sobel``) and :func:`opencv_reference` computes it, so a test or the CLI can show that the
convolution a CNN layer performs is the same operation image processing has always used.
Borders are handled as OpenCV's default (``BORDER_REFLECT_101``), which is torch's ``"reflect"``.
Note that ``conv2d`` and ``filter2D`` both compute a correlation: the kernel is not flipped.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from visiongym.sims.errors import UsageError

__all__ = [
    "FILTER_NAMES",
    "CURVE_DETECTOR",
    "make_kernel",
    "apply_kernel",
    "apply_filter",
    "opencv_reference",
    "max_difference",
]

FILTER_NAMES = ("box", "gaussian", "sharpen", "sobel_x", "sobel_y", "edges", "curve")

# The course deck's "détecteur de courbes": a 7x7 kernel of 30s along a curve that bends right.
CURVE_DETECTOR = np.array(
    [
        [0, 0, 0, 0, 0, 30, 0],
        [0, 0, 0, 0, 30, 0, 0],
        [0, 0, 0, 30, 0, 0, 0],
        [0, 0, 0, 30, 0, 0, 0],
        [0, 0, 0, 30, 0, 0, 0],
        [0, 0, 0, 30, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
    ],
    dtype=np.float32,
)

_SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32)
_SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)


def _check_name(name: str) -> None:
    if name not in FILTER_NAMES:
        raise UsageError(f"filter {name!r} unknown; choose one of: {', '.join(FILTER_NAMES)}")


def gaussian_kernel_1d(size: int, sigma: float) -> np.ndarray:
    """Normalised 1-D Gaussian taps, the formula of ``cv2.getGaussianKernel`` for ``sigma > 0``."""
    if size < 1 or size % 2 == 0:
        raise UsageError(f"kernel size {size} must be a positive odd number")
    if sigma <= 0:
        raise UsageError(f"sigma {sigma} must be > 0")
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2
    taps = np.exp(-(offsets**2) / (2 * sigma * sigma))
    return (taps / taps.sum()).astype(np.float32)


def make_kernel(name: str, size: int = 5, sigma: float = 1.5) -> np.ndarray:
    """Return the 2-D float32 kernel of a filter (``edges`` has none: it combines two Sobels).

    Args:
        name: one of :data:`FILTER_NAMES` except ``edges``.
        size: side of the box and Gaussian kernels (odd).
        sigma: Gaussian standard deviation in pixels.
    """
    _check_name(name)
    if name == "box":
        if size < 1 or size % 2 == 0:
            raise UsageError(f"kernel size {size} must be a positive odd number")
        return np.full((size, size), 1.0 / (size * size), dtype=np.float32)
    if name == "gaussian":
        taps = gaussian_kernel_1d(size, sigma)
        return np.outer(taps, taps).astype(np.float32)
    if name == "sharpen":
        return _SHARPEN.copy()
    if name == "sobel_x":
        return _SOBEL_X.copy()
    if name == "sobel_y":
        return _SOBEL_X.T.copy()
    if name == "curve":
        return CURVE_DETECTOR.copy()
    raise UsageError("filter 'edges' is the magnitude of sobel_x and sobel_y; it has no kernel")


def _as_nchw(image: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, bool]:
    """(H, W) or (H, W, C) float image -> (C, 1, H, W) tensor; also whether it had channels."""
    tensor = torch.as_tensor(np.asarray(image, dtype=np.float32))
    if tensor.ndim == 2:
        return tensor[None, None], False
    if tensor.ndim == 3:
        return tensor.permute(2, 0, 1)[:, None], True
    raise UsageError(f"image of shape {tuple(tensor.shape)} is not (H, W) or (H, W, C)")


def apply_kernel(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Correlate every channel of a float image with ``kernel`` using ``F.conv2d``.

    Each channel is treated as a separate image (the batch axis), exactly as ``filter2D`` does.
    """
    batch, had_channels = _as_nchw(image)
    weight = torch.as_tensor(np.asarray(kernel, dtype=np.float32))[None, None]
    kh, kw = weight.shape[-2:]
    # filter2D anchors the kernel at its centre; for even sizes that is (k-1)//2 before.
    pad = ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2)
    padded = F.pad(batch, pad, mode="reflect")
    out = F.conv2d(padded, weight)[:, 0]
    out = out.permute(1, 2, 0) if had_channels else out[0]
    return out.numpy()


def apply_filter(image: np.ndarray, name: str, size: int = 5, sigma: float = 1.5) -> np.ndarray:
    """Apply a named filter (see :data:`FILTER_NAMES`) with ``F.conv2d``; float32 in and out."""
    _check_name(name)
    if name == "edges":
        gx = apply_kernel(image, make_kernel("sobel_x"))
        gy = apply_kernel(image, make_kernel("sobel_y"))
        return np.sqrt(gx * gx + gy * gy)
    return apply_kernel(image, make_kernel(name, size, sigma))


def opencv_reference(image: np.ndarray, name: str, size: int = 5, sigma: float = 1.5) -> np.ndarray:
    """The same filter computed by OpenCV, for comparison (float32 in and out)."""
    import cv2

    _check_name(name)
    image = np.ascontiguousarray(image, dtype=np.float32)
    if name == "box":
        return cv2.blur(image, (size, size))
    if name == "gaussian":
        return cv2.GaussianBlur(image, (size, size), sigmaX=sigma, sigmaY=sigma)
    if name in ("sobel_x", "sobel_y", "edges"):
        gx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3)
        if name == "sobel_x":
            return gx
        if name == "sobel_y":
            return gy
        return cv2.magnitude(gx, gy)
    return cv2.filter2D(image, cv2.CV_32F, make_kernel(name, size, sigma))


def max_difference(image: np.ndarray, name: str, size: int = 5, sigma: float = 1.5) -> float:
    """Largest absolute difference between our ``conv2d`` filter and OpenCV's on ``image``."""
    ours = apply_filter(image, name, size, sigma)
    theirs = opencv_reference(image, name, size, sigma)
    if ours.shape != theirs.shape:
        raise AssertionError(f"shape mismatch: conv2d {ours.shape} vs OpenCV {theirs.shape}")
    return float(np.abs(ours - theirs).max()) if math.prod(ours.shape) else 0.0
