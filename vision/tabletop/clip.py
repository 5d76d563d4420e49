"""The pipeline's input: a rendered broadcast clip with its exact labels, or a video file.

A demo clip is one game of :class:`~visiongym.sims.soccer.SoccerScene` with the human look,
played by the scripted roles and filmed by the broadcast camera; every frame keeps the
simulator's exact labels (camera, instance mask, depth, player positions and surface points),
so each stage can be scored, or replaced by an *oracle* that reads them. A video file has no
labels: every stage must then be learned (or classical), and nothing is scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from visiongym.sims.errors import UsageError

__all__ = ["Frame", "Clip", "render_demo_clip", "read_video", "VIDEO_FORMATS"]

VIDEO_FORMATS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif")
"""Containers read through imageio's ffmpeg plugin (and GIF through Pillow)."""


@dataclass
class Frame:
    """One input frame; ``truth`` holds the simulator's exact labels (None for a video)."""

    rgb: np.ndarray  # (H, W, 3) uint8
    truth: dict[str, Any] | None = None


@dataclass
class Clip:
    """Frames at ``fps``, the pitch they show, and where they came from."""

    frames: list[Frame]
    fps: float
    pitch: Any  # visiongym.sims.soccer.builders.PitchSpec
    source: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def has_truth(self) -> bool:
        return all(frame.truth is not None for frame in self.frames)

    @property
    def image_size(self) -> tuple[int, int]:
        return tuple(self.frames[0].rgb.shape[:2])


def render_demo_clip(frames: int = 24, size: int = 256, team_size: int = 2, steps_per_frame: int = 2,
                     seed: int = 0, appearance: str = "default") -> Clip:
    """A broadcast clip of ``frames`` frames of ``size`` px from one scripted game (human look).

    Each frame's ``truth`` holds ``camera`` (the exact :class:`CameraModel`), ``instance_mask``,
    ``depth``, ``positions`` (n, 2) player ground positions, ``teams`` (n,), ``surface_points``
    (n, 256, 3) and ``keypoints_3d``; player ``i`` is instance ``2 + i``.
    """
    from visiongym.sims.appearance import make_appearance
    from visiongym.sims.soccer import SoccerScene

    if frames < 1 or size < 64 or steps_per_frame < 1:
        raise UsageError(f"frames={frames}, size={size}, steps_per_frame={steps_per_frame}: need frames >= 1, "
                         "size >= 64 and steps_per_frame >= 1")
    scene = SoccerScene(team_size=team_size, players="human", image_size=(size, size))
    rng = np.random.default_rng(seed)
    try:
        scene.kickoff(rng)
        spec = make_appearance(appearance)
        if spec is not None:
            scene.draw_appearance(np.random.default_rng(seed + 1), spec=spec)
        else:
            scene.apply_look(None)
        for _ in range(10):  # let play start, so players move apart from the kickoff line-up
            scene.step(scene.scripted_commands(rng))
        out = []
        teams = np.asarray(scene.teams).copy()
        for _ in range(frames):
            truth = scene.render_ground_truth("broadcast", size, size)
            out.append(Frame(rgb=truth["rgb"], truth={
                "camera": scene.camera("broadcast", size, size),
                "instance_mask": truth["instance_mask"],
                "depth": truth["depth"],
                "positions": scene.player_positions()[:, :2].copy(),
                "teams": teams,
                "surface_points": truth["surface_points"],
                "keypoints_3d": truth["keypoints_3d"],
            }))
            for _ in range(steps_per_frame):
                scene.step(scene.scripted_commands(rng))
        fps = 1.0 / (steps_per_frame * scene.control_dt)
        return Clip(out, fps, scene.pitch, source="demo",
                    meta={"seed": seed, "team_size": team_size, "size": size, "appearance": appearance})
    finally:
        scene.close()


def read_video(path: str | Path, max_frames: int | None = None) -> Clip:
    """The frames of a video file (RGB uint8); an unreadable file raises :class:`UsageError`."""
    import imageio.v3 as iio

    from visiongym.sims.soccer.builders import PitchSpec

    path = Path(path)
    readable = ", ".join(VIDEO_FORMATS)
    if not path.is_file():
        raise UsageError(f"video {str(path)!r} does not exist; give a video file ({readable})")
    try:
        frames = []
        for index, image in enumerate(iio.imiter(path)):
            if max_frames is not None and index >= max_frames:
                break
            image = np.asarray(image)
            if image.ndim == 2:
                image = np.repeat(image[..., None], 3, axis=2)
            frames.append(Frame(rgb=np.ascontiguousarray(image[..., :3], np.uint8)))
        try:
            fps = float(iio.immeta(path).get("fps", 0.0)) or 10.0
        except Exception:  # noqa: BLE001 - some containers carry no rate
            fps = 10.0
    except Exception as error:  # noqa: BLE001 - any decoder failure is the file's fault
        raise UsageError(f"video {str(path)!r} cannot be read ({type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else 'unknown'}); readable formats: {readable}") from error
    if not frames:
        raise UsageError(f"video {str(path)!r} has no frames; readable formats: {readable}")
    return Clip(frames, fps, PitchSpec(), source=str(path))
