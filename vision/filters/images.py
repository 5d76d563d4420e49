"""Photos that ship inside installed wheels (scikit-image, scikit-learn), loaded offline.

Only files present in the installed packages are offered: scikit-image fetches some of its
``skimage.data`` images on first use, and those are left out so that nothing ever downloads.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from visiongym.sims.errors import MissingFileError, UsageError

__all__ = ["IMAGE_MODES", "shipped_images", "load_image", "to_mode"]

IMAGE_MODES = ("rgb", "gray")

# name -> file name inside the package's data folder (only files shipped in the wheels).
_SKIMAGE_FILES = {
    "astronaut": "astronaut.png",
    "camera": "camera.png",
    "coffee": "coffee.png",
    "chelsea": "chelsea.png",
    "coins": "coins.png",
    "rocket": "rocket.jpg",
    "brick": "brick.png",
    "grass": "grass.png",
    "gravel": "gravel.png",
    "moon": "moon.png",
    "page": "page.png",
    "text": "text.png",
    "horse": "horse.png",
    "hubble": "hubble_deep_field.jpg",
    "motorcycle": "motorcycle_left.png",
}
_SKLEARN_FILES = {"china": "china.jpg", "flower": "flower.jpg"}


def _package_folder(module: str, sub: str = "") -> Path:
    package = __import__(module, fromlist=["__file__"])
    return Path(os.path.dirname(package.__file__)) / sub


def shipped_images() -> dict[str, Path]:
    """Return ``{name: path}`` for every offline photo present in the installed wheels."""
    found: dict[str, Path] = {}
    skimage_dir = _package_folder("skimage.data")
    for name, file in _SKIMAGE_FILES.items():
        if (skimage_dir / file).is_file():
            found[name] = skimage_dir / file
    sklearn_dir = _package_folder("sklearn.datasets", "images")
    for name, file in _SKLEARN_FILES.items():
        if (sklearn_dir / file).is_file():
            found[name] = sklearn_dir / file
    return found


def to_mode(image: np.ndarray, mode: str) -> np.ndarray:
    """Convert an ``(H, W)`` / ``(H, W, 3|4)`` uint8 image to ``mode`` (``rgb`` or ``gray``)."""
    if mode not in IMAGE_MODES:
        raise UsageError(f"image mode {mode!r} unknown; choose one of: {', '.join(IMAGE_MODES)}")
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise UsageError(
            f"image of shape {image.shape} is not a grey (H, W) or colour (H, W, 3|4) image"
        )
    if mode == "gray":
        if image.ndim == 2:
            return image
        # ITU-R BT.601 weights, as OpenCV's cvtColor(RGB2GRAY).
        grey = image[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        return np.clip(np.round(grey), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2)
    return image


def load_image(source: str | os.PathLike, mode: str = "rgb", size: int | None = None) -> np.ndarray:
    """Load a shipped photo by name, or an image file by path, as uint8 ``(H, W[, 3])``.

    Args:
        source: a name from :func:`shipped_images` (``"astronaut"``, ``"china"``...) or a path.
        mode: ``"rgb"`` (H, W, 3) or ``"gray"`` (H, W).
        size: when given, resize so the shorter side has ``size`` pixels (area interpolation).

    Raises:
        FileNotFoundError: the path does not exist and the name is not a shipped photo.
        ValueError: unknown mode, or a file that is not a grey/colour image.
    """
    import imageio.v3 as iio

    if mode not in IMAGE_MODES:
        raise UsageError(f"image mode {mode!r} unknown; choose one of: {', '.join(IMAGE_MODES)}")
    shipped = shipped_images()
    text = str(source)
    if text in shipped:
        path = shipped[text]
    else:
        path = Path(text).expanduser()
        if not path.is_file():
            raise MissingFileError(
                f"image {text!r} is neither an existing file nor a shipped photo; shipped photos: "
                f"{', '.join(sorted(shipped))}"
            )
    try:
        # Pillow directly: imageio's search through every plugin ends in deprecated ones (DICOM)
        # for a file that is not an image, and leaves it open.
        image = np.asarray(iio.imread(path, plugin="pillow"))
    except Exception as error:  # noqa: BLE001 - any decoder failure means "not an image"
        raise UsageError(f"could not read {str(path)!r} as an image ({error})") from error
    if image.dtype != np.uint8:
        top = float(image.max()) if image.size else 1.0
        image = (image.astype(np.float64) * (255.0 / (top or 1.0))).round().astype(np.uint8)
    image = to_mode(image, mode)
    if size is not None:
        import cv2

        height, width = image.shape[:2]
        scale = size / min(height, width)
        new = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, new, interpolation=cv2.INTER_AREA)
    return image
