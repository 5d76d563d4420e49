"""The AR view's pieces: the new viewpoint the reconstruction is re-rendered from, and the
side-by-side frame (input | reconstruction) of ``ar_view.mp4``. The drawing itself is the 3-D
viewer's (:class:`visiongym.vision.tabletop.viewer.SceneRenderer`); the PLY files are
:mod:`visiongym.vision.tabletop.plyio`'s.
"""

from __future__ import annotations

import math

import numpy as np

from visiongym.sims.camera import CameraModel, look_at_rotation

__all__ = ["orbit_camera", "side_by_side"]


def orbit_camera(pitch, height: int, width: int, phase: float) -> CameraModel:
    """A viewpoint the broadcast camera never takes: high over a corner of the table, orbiting
    through 50 degrees as ``phase`` goes 0 -> 1."""
    azimuth = math.radians(-125 + 50 * phase)
    distance, elevation = 1.75 * max(pitch.length, pitch.width), math.radians(40)
    position = np.array([distance * math.cos(elevation) * math.cos(azimuth),
                         distance * math.cos(elevation) * math.sin(azimuth), distance * math.sin(elevation)])
    return CameraModel(position, look_at_rotation(position, (0.0, 0.0, 0.0)), 45.0, height, width)


def side_by_side(left: np.ndarray, right: np.ndarray, labels: tuple[str, str] = ("input", "reconstruction")) -> np.ndarray:
    """Two frames of one height side by side, labelled, with even dimensions for H.264."""
    import cv2

    frame = np.concatenate([left, right], axis=1).copy()
    scale = max(frame.shape[0] / 512, 0.35)
    for text, x in ((labels[0], 6), (labels[1], left.shape[1] + 6)):
        cv2.putText(frame, text, (x, int(18 * scale) + 6), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    h, w = frame.shape[:2]
    return frame[: h - h % 2, : w - w % 2]
