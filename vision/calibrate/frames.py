"""Frames with their exact broadcast camera: rendered anew (``--demo``) or read from a dataset.

The broadcast camera's pose depends only on a frame's look (its five ``camera_*`` keys), so a
dataset frame's exact camera is rebuilt by applying the recorded look to a scene and reading
MuJoCo's camera (:meth:`visiongym.sims.soccer.SoccerScene.camera`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from visiongym.sims.camera import CameraModel
from visiongym.sims.errors import MissingFileError, UsageError

__all__ = ["Frame", "CAMERA_KEYS", "render_frames", "dataset_frames", "exact_camera", "frame_from_png"]

#: The look keys that move the broadcast camera.
CAMERA_KEYS = ("camera_height", "camera_distance", "camera_yaw", "camera_roll", "camera_fov")


@dataclass
class Frame:
    """One frame to calibrate: ``rgb`` (H, W, 3) uint8, its ``name``, and the exact camera when
    known (None for a frame given as a picture)."""

    name: str
    rgb: np.ndarray
    camera: CameraModel | None
    look: str = "frame"


class _CameraScene:
    """One scene kept to read exact broadcast cameras for looks."""

    def __init__(self) -> None:
        self.scene = None

    def camera(self, look: dict[str, Any] | None, height: int, width: int) -> CameraModel:
        from visiongym.sims.appearance import Look
        from visiongym.sims.soccer import SoccerScene

        if self.scene is None:
            self.scene = SoccerScene(team_size=1)
        values = {key: look[key] for key in CAMERA_KEYS if look and key in look}
        self.scene.apply_look(Look(**values) if values else None)
        return self.scene.camera("broadcast", height, width)

    def close(self) -> None:
        if self.scene is not None:
            self.scene.close()


def exact_camera(look: dict[str, Any] | None, height: int, width: int) -> CameraModel:
    """The exact broadcast camera of a frame with this recorded ``look`` (None: the default look)."""
    scene = _CameraScene()
    try:
        return scene.camera(look, height, width)
    finally:
        scene.close()


def render_frames(look: str, frames: int, size: int, seed: int = 0) -> Iterator[Frame]:
    """``frames`` broadcast frames of ``size`` pixels under ``look`` (an appearance name), each
    with its exact camera; frame ``i`` is drawn from ``SeedSequence([seed, i])``."""
    from visiongym.sims.appearance import make_appearance
    from visiongym.vision.data.sources import SoccerFrameSource

    make_appearance(look)
    source = SoccerFrameSource(camera="broadcast", size=size, appearance=look)
    try:
        for index in range(frames):
            ground_truth = source.frame(np.random.default_rng(np.random.SeedSequence([seed, index])))
            scene = source._scenes[ground_truth["meta"]["team_size"]]
            yield Frame(name=f"{look}_{index:04d}", rgb=ground_truth["rgb"],
                        camera=scene.camera("broadcast", size, size), look=look)
    finally:
        source.close()


def dataset_frames(folder: Path, split: str, limit: int | None = None) -> Iterator[Frame]:
    """The frames of one split of a dataset written by ``visiongym render-data``, with exact
    cameras rebuilt from their recorded looks (the folder is checked at once, the frames read
    as they are asked for)."""
    from visiongym.vision.data.format import SPLITS

    folder = Path(folder)
    if split not in SPLITS:
        raise UsageError(f"split {split!r} unknown; choose one of: {', '.join(SPLITS)}")
    info_path, annotations_path = folder / "dataset.json", folder / split / "annotations.json"
    for path in (info_path, annotations_path):
        if not path.is_file():
            raise MissingFileError(f"{path} not found; is {folder} a dataset written by render-data?")
    info = json.loads(info_path.read_text())
    if info.get("source") != "soccer" or info.get("camera") != "broadcast":
        raise UsageError(
            f"dataset {str(folder)!r} has source={info.get('source')!r}, camera={info.get('camera')!r}; "
            "calibration needs source='soccer' and camera='broadcast'"
        )
    images = json.loads(annotations_path.read_text())["images"][:limit]
    return _read_frames(folder / split, split, images, str(info.get("appearance", "dataset")))


def _read_frames(folder: Path, split: str, images: list[dict[str, Any]], look: str) -> Iterator[Frame]:
    from visiongym.vision.data.format import read_image

    scene = _CameraScene()
    try:
        for image in images:
            rgb = read_image(folder / image["file_name"])
            camera = scene.camera(image.get("look"), int(image["height"]), int(image["width"]))
            yield Frame(name=f"{split}_{int(image['id']):06d}", rgb=rgb, camera=camera, look=look)
    finally:
        scene.close()


def frame_from_png(path: Path) -> Frame:
    """A picture to calibrate, with no exact camera."""
    from visiongym.vision.data.format import read_image

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"frame {str(path)!r} not found")
    rgb = read_image(path)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[..., None], 3, axis=2)
    return Frame(name=path.stem, rgb=np.ascontiguousarray(rgb[..., :3]).astype(np.uint8), camera=None)


