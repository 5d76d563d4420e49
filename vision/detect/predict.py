"""Draw detections on an image or a video: ``python -m visiongym.vision.detect.predict <input>``.

Examples::

    python -m visiongym.vision.detect.predict frame.png --checkpoint runs/grid/detector.pt
    python -m visiongym.vision.detect.predict match.mp4 --checkpoint runs/grid/detector.pt --out match_boxes.mp4

Frames are resized to the detector's input size for inference; boxes are drawn on the frame at
that size (labelled with class and score). Images are written as PNG, videos through imageio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import tyro
from torchvision.transforms.v2 import functional as TF
from torchvision.utils import draw_bounding_boxes

from visiongym.envs.cli import run_command
from visiongym.sims.errors import MissingFileError, UsageError
from visiongym.vision.detect.engine import Detector, load_detector

__all__ = ["PredictConfig", "draw_detections", "predict_file"]

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
CLASS_COLOURS = {"ball": "white", "team_a": "red", "team_b": "blue", "goal": "yellow"}


@dataclass
class PredictConfig:
    """Run a detector on an image or a video and save a copy with boxes drawn."""

    input: tyro.conf.Positional[Path]
    """An image (.png, .jpg, .bmp) or a video (.mp4, .avi, .mov, .mkv, .webm, .gif)."""
    checkpoint: Path = Path("runs/detector/detector.pt")
    """Detector checkpoint from visiongym.vision.detect.train."""
    out: Path | None = None
    """Output file (default: <input stem>_boxes<suffix> beside the input)."""
    score_threshold: float = 0.4
    """Draw detections at least this confident."""
    device: str = "auto"
    """cpu, cuda, mps or auto."""


def draw_detections(
    detector: Detector, frame: np.ndarray, score_threshold: float = 0.4
) -> np.ndarray:
    """Detect on one RGB uint8 frame (H, W, 3) and return it (at the detector's size) with boxes."""
    image = torch.from_numpy(np.ascontiguousarray(frame[..., :3])).permute(2, 0, 1)
    image = TF.resize(image, [detector.image_size, detector.image_size], antialias=True)
    device = next(detector.parameters()).device
    (found,) = detector.predict(image[None].to(device), score_threshold=score_threshold)
    names = [detector.class_names[int(label) - 1] for label in found["labels"]]
    drawn = draw_bounding_boxes(
        image,
        found["boxes"].cpu(),
        labels=[
            f"{name} {score:.2f}"
            for name, score in zip(names, found["scores"].tolist(), strict=True)
        ],
        colors=[CLASS_COLOURS.get(name, "orange") for name in names],
        width=1,
    )
    return drawn.permute(1, 2, 0).numpy()


def predict_file(config: PredictConfig) -> Path:
    """Process ``config.input``; return the written file."""
    import imageio.v3 as iio

    source = config.input
    suffix = source.suffix.lower()
    if not source.is_file():
        raise MissingFileError(f"input {str(source)!r} does not exist")
    if suffix not in VIDEO_SUFFIXES + IMAGE_SUFFIXES:
        raise UsageError(
            f"input suffix {suffix!r} unsupported; use one of: {', '.join(IMAGE_SUFFIXES + VIDEO_SUFFIXES)}"
        )
    detector, _ = load_detector(config.checkpoint, config.device)
    out = config.out or source.with_name(
        f"{source.stem}_boxes{source.suffix if suffix in VIDEO_SUFFIXES else '.png'}"
    )
    if suffix in IMAGE_SUFFIXES:
        frame = iio.imread(source, plugin="pillow")
        if frame.ndim == 2:
            frame = np.repeat(frame[..., None], 3, axis=-1)
        iio.imwrite(out, draw_detections(detector, frame, config.score_threshold))
        return out
    fps = iio.immeta(source).get("fps", 20)
    frames = [
        draw_detections(detector, frame, config.score_threshold) for frame in iio.imiter(source)
    ]
    if suffix == ".gif":
        iio.imwrite(out, np.stack(frames), duration=1000 / fps, loop=0)
    else:
        iio.imwrite(out, np.stack(frames), fps=fps, codec="libx264", macro_block_size=1)
    return out


def main(argv: list[str] | None = None) -> None:
    import tyro

    out = predict_file(tyro.cli(PredictConfig, args=argv))
    print(f"wrote {out}")


if __name__ == "__main__":
    run_command(main)
