"""Pinhole and orthographic camera models that match MuJoCo's rendering exactly.

Used to turn rendered depth back into 3-D points and to project 3-D points into a rendered frame
(ground-truth boxes, keypoints). Pixel (0, 0) is the top-left corner of the top-left pixel, so the
centre of pixel (row i, column j) is at (u, v) = (j + 0.5, i + 0.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["CameraModel", "camera_model", "look_at_axes", "look_at_rotation"]


@dataclass(frozen=True)
class CameraModel:
    """A camera at ``position`` whose rotation's columns are its x (right), y (up), z (back) axes."""

    position: np.ndarray  # (3,)
    rotation: np.ndarray  # (3, 3) world-from-camera
    fovy: float  # degrees (perspective) or metres of image height (orthographic)
    height: int
    width: int
    orthographic: bool = False

    @property
    def focal(self) -> float:
        """Pixels per unit of camera-plane coordinate (per metre when orthographic)."""
        if self.orthographic:
            return self.height / self.fovy
        return (self.height / 2) / np.tan(np.deg2rad(self.fovy) / 2)

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (N, 3) to camera coordinates (N, 3); visible points have z < 0."""
        return (np.asarray(points, float) - self.position) @ self.rotation

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (N, 3) to pixel coordinates (N, 2) as (u, v), and their depths (N,)."""
        cam = self.to_camera(points)
        depth = -cam[:, 2]
        scale = self.focal if self.orthographic else self.focal / np.maximum(depth, 1e-9)
        u = self.width / 2 + cam[:, 0] * scale
        v = self.height / 2 - cam[:, 1] * scale
        return np.stack([u, v], axis=1), depth

    def unproject(self, u: np.ndarray, v: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Pixel coordinates and depths (camera z distance) back to world points (N, 3)."""
        u, v, depth = (np.asarray(a, float).ravel() for a in (u, v, depth))
        scale = np.full_like(depth, 1 / self.focal) if self.orthographic else depth / self.focal
        cam = np.stack([(u - self.width / 2) * scale, -(v - self.height / 2) * scale, -depth], axis=1)
        return cam @ self.rotation.T + self.position


def camera_model(model, data, camera_id: int, height: int, width: int) -> CameraModel:
    """The :class:`CameraModel` of MuJoCo camera ``camera_id`` in its current pose."""
    import mujoco

    return CameraModel(
        position=data.cam_xpos[camera_id].copy(),
        rotation=data.cam_xmat[camera_id].reshape(3, 3).copy(),
        fovy=float(model.cam_fovy[camera_id]),
        height=height,
        width=width,
        orthographic=int(model.cam_projection[camera_id]) == int(mujoco.mjtProjection.mjPROJ_ORTHOGRAPHIC),
    )


def look_at_axes(position, target) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit ``(right, up, forward)`` of a camera at ``position`` looking at ``target``, +z up."""
    forward = np.asarray(target, float) - np.asarray(position, float)
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, (0.0, 0.0, 1.0))
    right /= np.linalg.norm(right)
    return right, np.cross(right, forward), forward


def look_at_rotation(position, target, roll_deg: float = 0.0) -> np.ndarray:
    """Rotation (columns: camera right, up, back) of a camera at ``position`` looking at ``target``,
    turned by ``roll_deg`` about its viewing axis."""
    right, up, forward = look_at_axes(position, target)
    roll = math.radians(roll_deg)
    right, up = math.cos(roll) * right + math.sin(roll) * up, -math.sin(roll) * right + math.cos(roll) * up
    return np.stack([right, up, -forward], axis=1)
