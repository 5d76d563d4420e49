"""Lift a segmented player to a textured point cloud on the pitch, and score it.

For one player's mask in a calibrated frame:

1. **Ground position.** The feet are the mask's bottom: the mean column of its lowest two rows
   of pixels, at the bottom edge of the lowest row. The calibrated camera's ground-plane
   homography takes that pixel to the pitch plane (z = 0).
2. **Billboard.** The camera-facing plane (constant depth along the camera axis, as in
   ``visiongym.vision.depth``) through the player's mid-height point above that position,
   moved :data:`SURFACE_OFFSET` towards the camera: the depth models predict depth relative to
   the median depth of the visible surface, which lies in front of the body's axis.
3. **Points.** Each mask pixel (``subsample`` x ``subsample`` points per pixel) is
   back-projected along its camera ray to the billboard depth plus the pixel's predicted offset,
   and takes the frame's colour there.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from visiongym.sims.camera import CameraModel

__all__ = ["BILLBOARD_HEIGHT", "SURFACE_OFFSET", "foot_pixel", "ground_position", "billboard_depth_at",
           "lift_player", "chamfer"]

BILLBOARD_HEIGHT = 0.08
"""Metres: the mid-height of the human-look players (about 0.16 m tall, docs/soccer.md)."""
SURFACE_OFFSET = 0.018
"""Metres: how far the median depth of a player's visible surface lies in front of the camera-
facing plane through its mid-height point (mean over broadcast demo frames, std 5 mm)."""


def homography(camera: CameraModel, z: float = 0.0) -> np.ndarray:
    """The plane ``z`` (x, y metres) to pixels, 3x3 (the calibrated result's ``homography``)."""
    from visiongym.vision.calibrate.fit import homography as plane_homography

    return plane_homography(camera, z)


def foot_pixel(mask: np.ndarray) -> np.ndarray:
    """(u, v) of the player's feet: the mean column of the mask's two lowest rows, on the bottom
    edge of the lowest row."""
    rows, cols = np.nonzero(mask)
    bottom = rows.max()
    low = rows >= bottom - 1
    return np.array([cols[low].mean() + 0.5, bottom + 1.0])


def ground_position(camera: CameraModel, uv: np.ndarray) -> np.ndarray:
    """Pixel(s) (N, 2) to points (N, 2) on the pitch plane, through the ground homography."""
    uv = np.asarray(uv, float).reshape(-1, 2)
    points = np.linalg.solve(homography(camera), np.concatenate([uv, np.ones((len(uv), 1))], axis=1).T).T
    return points[:, :2] / points[:, 2:]


def billboard_depth_at(camera: CameraModel, position: np.ndarray) -> float:
    """Depth of the billboard of a player standing at ``position`` (x, y)."""
    point = np.array([[position[0], position[1], BILLBOARD_HEIGHT]])
    return float(camera.project(point)[1][0]) - SURFACE_OFFSET


def lift_player(rgb: np.ndarray, mask: np.ndarray, relative: np.ndarray, camera: CameraModel,
                position: np.ndarray | None = None, subsample: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A player's textured point cloud.

    Args:
        rgb: the frame, (H, W, 3) uint8.
        mask: (H, W) bool, the player's pixels.
        relative: (H, W) metres, depth relative to the billboard (read inside ``mask``).
        camera: the frame's (calibrated) camera.
        position: the ground position (x, y); default from the mask's feet.
        subsample: points per pixel along each axis (colour and offset of the pixel they fall in).

    Returns:
        ``(points (N, 3) world metres, colours (N, 3) uint8, position (2,))``.
    """
    if position is None:
        position = ground_position(camera, foot_pixel(mask))[0]
    plane = billboard_depth_at(camera, position)
    rows, cols = np.nonzero(mask)
    offsets = (np.arange(subsample) + 0.5) / subsample
    du, dv = np.meshgrid(offsets, offsets)
    u = (cols[:, None] + du.ravel()[None]).ravel()
    v = (rows[:, None] + dv.ravel()[None]).ravel()
    rows, cols = np.repeat(rows, subsample ** 2), np.repeat(cols, subsample ** 2)
    points = camera.unproject(u, v, plane + relative[rows, cols])
    return points.astype(np.float32), rgb[rows, cols].astype(np.uint8), np.asarray(position, float)


def chamfer(points: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Distances (metres) between a reconstruction and the true surface points.

    ``accuracy``: mean distance of each reconstructed point to the nearest true one;
    ``completeness``: of each true point to the nearest reconstructed one; ``chamfer``: their mean.
    """
    accuracy = float(cKDTree(truth).query(points)[0].mean())
    completeness = float(cKDTree(points).query(truth)[0].mean())
    return {"accuracy": accuracy, "completeness": completeness, "chamfer": (accuracy + completeness) / 2}
