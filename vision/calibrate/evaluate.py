"""How far an estimated camera is from the exact one, and pictures of the fit.

Error definitions (docs/vision/calibrate.md):

- ``reprojection_px``: mean image distance between the pitch markings' points (every 1 cm along
  :func:`~visiongym.vision.calibrate.model.pitch_markings`) projected with the estimated and with
  the exact camera, over the points the exact camera sees inside the frame; ``reprojection_max_px``
  is the largest of those distances.
- ``position_cm``: distance between the estimated and the exact camera centre; ``position_rel``:
  the same over the exact camera's distance to the centre spot.
- ``rotation_deg``: angle of the rotation between the two camera orientations.
- ``fovy_deg``: estimated minus exact vertical field of view; ``focal_rel``: relative error of the
  focal length in pixels.
"""

from __future__ import annotations

import numpy as np

from visiongym.sims.camera import CameraModel
from visiongym.sims.soccer.builders import PitchSpec
from visiongym.vision.calibrate.model import pitch_markings, sample_segments

__all__ = ["ERROR_KEYS", "camera_errors", "overlay"]

ERROR_KEYS = ("reprojection_px", "reprojection_max_px", "position_cm", "position_rel", "rotation_deg",
              "fovy_deg", "focal_rel")


def camera_errors(estimate: CameraModel, exact: CameraModel, spec: PitchSpec) -> dict[str, float]:
    """The error figures of ``estimate`` against ``exact`` (see the module's definitions)."""
    points, _ = sample_segments(pitch_markings(spec), 0.01)
    seen, depth = exact.project(points)
    inside = (depth > 0) & (seen[:, 0] >= 0) & (seen[:, 0] < exact.width) & (seen[:, 1] >= 0) & (
        seen[:, 1] < exact.height)
    scale = exact.height / estimate.height  # an estimate for another image size is compared at exact's
    guessed, _ = estimate.project(points[inside])
    distance = np.linalg.norm(guessed * scale - seen[inside], axis=1) if inside.any() else np.array([np.nan])
    cosine = (np.trace(estimate.rotation.T @ exact.rotation) - 1) / 2
    return {
        "reprojection_px": float(distance.mean()),
        "reprojection_max_px": float(distance.max()),
        "position_cm": float(100 * np.linalg.norm(estimate.position - exact.position)),
        "position_rel": float(np.linalg.norm(estimate.position - exact.position) / np.linalg.norm(exact.position)),
        "rotation_deg": float(np.rad2deg(np.arccos(np.clip(cosine, -1.0, 1.0)))),
        "fovy_deg": float(estimate.fovy - exact.fovy),
        "focal_rel": float(estimate.focal / estimate.height / (exact.focal / exact.height) - 1),
    }


def _draw_model(picture: np.ndarray, camera: CameraModel, spec: PitchSpec, colour, scale: float,
                thickness: int) -> None:
    import cv2

    markings = pitch_markings(spec)
    starts, depth_a = camera.project(markings.starts)
    ends, depth_b = camera.project(markings.ends)
    for a, b, da, db in zip(starts, ends, depth_a, depth_b, strict=True):
        if da > 0 and db > 0:
            p, q = (np.round(a * scale * 16).astype(int), np.round(b * scale * 16).astype(int))
            cv2.line(picture, tuple(int(v) for v in p), tuple(int(v) for v in q), colour, thickness,
                     cv2.LINE_AA, shift=4)


def overlay(rgb: np.ndarray, estimate: CameraModel | None, spec: PitchSpec, exact: CameraModel | None = None,
            features=None, min_side: int = 512) -> np.ndarray:
    """The frame (enlarged to at least ``min_side``) with the pitch markings drawn as the
    estimated camera sees them (magenta) and, when given, as the exact camera does (thin cyan);
    detected line pixels yellow and the detected outline orange when ``features`` are given."""
    import cv2

    scale = max(1, int(np.ceil(min_side / rgb.shape[0])))
    picture = np.ascontiguousarray(np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1))
    if features is not None:
        big = np.repeat(np.repeat(features.lines, scale, axis=0), scale, axis=1)
        picture[big] = (picture[big] * 0.3 + np.array([255, 230, 0]) * 0.7).astype(np.uint8)
        for u, v in features.edge_points:
            cv2.circle(picture, (int(u * scale), int(v * scale)), 1, (255, 140, 0), -1)
    if exact is not None:
        _draw_model(picture, exact, spec, (0, 255, 255), scale * rgb.shape[0] / exact.height, 1)
    if estimate is not None:
        _draw_model(picture, estimate, spec, (255, 0, 255), scale * rgb.shape[0] / estimate.height,
                    1 if exact is not None else 2)
    return picture
