"""Image filters as convolutions: blur, sharpen, Sobel edges and the course's curve detector.

``python -m visiongym.vision.filters --help``; see :mod:`visiongym.vision.filters.kernels` for the filters and
:mod:`visiongym.vision.filters.images` for the shipped photos.
"""

from visiongym.vision.filters.images import IMAGE_MODES, load_image, shipped_images
from visiongym.vision.filters.kernels import (
    CURVE_DETECTOR,
    FILTER_NAMES,
    apply_filter,
    apply_kernel,
    make_kernel,
    max_difference,
    opencv_reference,
)

__all__ = [
    "CURVE_DETECTOR",
    "FILTER_NAMES",
    "IMAGE_MODES",
    "apply_filter",
    "apply_kernel",
    "load_image",
    "make_kernel",
    "max_difference",
    "opencv_reference",
    "shipped_images",
]
