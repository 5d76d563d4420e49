"""The pitch model in world metres, and the camera parameters that the calibration fits.

The scene (:func:`visiongym.sims.soccer.builders.table_and_pitch`, ``boards``) draws a green pitch
with one painted marking, the white halfway line, inside white boards. What a camera sees of it
is two kinds of straight 3-D segments:

- ``line``: painted markings (the halfway line);
- ``edge``: the outline of the green pitch in the image. Where the camera looks over a board
  from outside (the broadcast camera over the near touchline), the board hides the pitch's own
  edge, and the outline is the board's top inner edge (``board_height`` up) instead.

:func:`pitch_markings` lists the ground markings themselves (touchlines, goal lines, halfway line
and the centre circle's rim), which the error figures are measured on. Straight 3-D segments stay
straight through a pinhole camera, so a projected model is a handful of image segments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from visiongym.sims.camera import CameraModel, look_at_rotation
from visiongym.sims.soccer.builders import BROADCAST_FOVY, PitchSpec, broadcast_pose

__all__ = ["KINDS", "PITCH_TOP", "ModelSegments", "pitch_markings", "visible_outline", "sample_segments",
           "ground_occluded", "Parametrisation", "broadcast_prior", "prior_camera"]

#: Feature kinds: painted lines and the pitch outline.
KINDS = ("line", "edge")
#: Height of the pitch surface (the pitch box's top face), metres.
PITCH_TOP = 0.001
#: Height of the painted line's top face, metres.
LINE_TOP = 0.0012


@dataclass(frozen=True)
class ModelSegments:
    """Straight 3-D segments: ``starts`` and ``ends`` (S, 3) in world metres, a ``kind`` and a
    ``name`` each."""

    starts: np.ndarray
    ends: np.ndarray
    kinds: tuple[str, ...]
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.names)

    def of_kind(self, kind: str) -> ModelSegments:
        keep = [i for i, k in enumerate(self.kinds) if k == kind]
        return ModelSegments(self.starts[keep], self.ends[keep], tuple(self.kinds[i] for i in keep),
                             tuple(self.names[i] for i in keep))


def _segments(items: list[tuple[str, str, tuple, tuple]]) -> ModelSegments:
    names, kinds, starts, ends = zip(*items, strict=True)
    return ModelSegments(np.array(starts, float), np.array(ends, float), tuple(kinds), tuple(names))


def _circle(radius: float, z: float, pieces: int = 32) -> list[tuple[tuple, tuple]]:
    angles = np.linspace(0.0, 2 * np.pi, pieces + 1)
    points = [(radius * np.cos(a), radius * np.sin(a), z) for a in angles]
    return list(zip(points[:-1], points[1:], strict=True))


def pitch_markings(spec: PitchSpec) -> ModelSegments:
    """The markings on the ground: four boundary lines, the halfway line and the centre circle
    (the rim of the centre spot, as 32 chords)."""
    hl, hw, z = spec.length / 2, spec.width / 2, PITCH_TOP
    items = [
        ("touchline_south", "edge", (-hl, -hw, z), (hl, -hw, z)),
        ("touchline_north", "edge", (-hl, hw, z), (hl, hw, z)),
        ("goal_line_west", "edge", (-hl, -hw, z), (-hl, hw, z)),
        ("goal_line_east", "edge", (hl, -hw, z), (hl, hw, z)),
        ("halfway_line", "line", (0.0, -hw, LINE_TOP), (0.0, hw, LINE_TOP)),
    ]
    items += [(f"centre_circle_{i}", "circle", a, b) for i, (a, b) in enumerate(_circle(spec.goal_width / 4, LINE_TOP))]
    return _segments(items)


def visible_outline(spec: PitchSpec, camera_position: np.ndarray) -> ModelSegments:
    """The segments a camera at ``camera_position`` sees as the pitch outline, plus the halfway
    line (its half-width is ignored: the detector finds its centre).

    Each side of the pitch is its ground edge, unless the camera is outside that side's board and
    above it: then the board's top inner edge hides the ground edge and is the outline.
    """
    hl, hw, h, z = spec.length / 2, spec.width / 2, spec.board_height, PITCH_TOP
    x, y, zc = np.asarray(camera_position, float)
    goal = spec.goal_width / 2
    items = [("halfway_line", "line", (0.0, -hw, LINE_TOP), (0.0, hw, LINE_TOP))]
    for name, sign in (("south", -1.0), ("north", 1.0)):
        top = sign * y > hw and zc > h
        items.append((f"touchline_{name}", "edge", (-hl, sign * hw, h if top else z),
                      (hl, sign * hw, h if top else z)))
    for name, sign in (("west", -1.0), ("east", 1.0)):
        top = sign * x > hl and zc > h
        xe = sign * hl
        # The end boards leave the goal mouth open: there the outline is always the ground edge.
        for part, (y0, y1) in (("s", (-hw, -goal)), ("mouth", (-goal, goal)), ("n", (goal, hw))):
            height = h if top and part != "mouth" else z
            items.append((f"goal_line_{name}_{part}", "edge", (xe, y0, height), (xe, y1, height)))
    return _segments(items)


def sample_segments(segments: ModelSegments, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``step`` metres along each segment (both ends included): ``(points (N, 3),
    segment index (N,))``."""
    points, index = [], []
    for i, (a, b) in enumerate(zip(segments.starts, segments.ends, strict=True)):
        n = max(2, int(np.ceil(np.linalg.norm(b - a) / step)) + 1)
        t = np.linspace(0.0, 1.0, n)[:, None]
        points.append(a + t * (b - a))
        index.append(np.full(n, i))
    return np.concatenate(points), np.concatenate(index)


def ground_occluded(spec: PitchSpec, camera_position: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Which points on the pitch (N, 3) the boards hide from a camera at ``camera_position``.

    A point is hidden by a board when the ray to it crosses the board's inner face below the
    board's top, within the board's length; only boards the camera is outside of can hide.
    """
    hl, hw, h, t = spec.length / 2, spec.width / 2, spec.board_height, spec.board_thickness
    camera = np.asarray(camera_position, float)
    points = np.asarray(points, float)
    hidden = np.zeros(len(points), bool)
    for axis, half, other_half in ((1, hw, hl + t), (0, hl, hw + t)):
        for sign in (-1.0, 1.0):
            if sign * camera[axis] <= half:
                continue
            plane = sign * half
            with np.errstate(divide="ignore", invalid="ignore"):
                s = (plane - camera[axis]) / (points[:, axis] - camera[axis])
            crossing = camera + s[:, None] * (points - camera)
            across = crossing[:, 1 - axis]
            inside = (s > 0) & (s < 1) & (np.abs(across) <= other_half) & (crossing[:, 2] < h)
            if axis == 0:  # the end boards leave the goal mouth open
                inside &= np.abs(across) >= spec.goal_width / 2
            hidden |= inside
    return hidden


@dataclass(frozen=True)
class Parametrisation:
    """The 7 numbers the fit moves: camera position (3, metres), a rotation vector (3, radians)
    applied to ``base_rotation`` in the world frame, and log focal length (pixels)."""

    base_rotation: np.ndarray
    height: int
    width: int

    def camera(self, params: np.ndarray) -> CameraModel:
        params = np.asarray(params, float)
        rotation = Rotation.from_rotvec(params[3:6]).as_matrix() @ self.base_rotation
        focal = float(np.exp(params[6]))
        fovy = float(np.rad2deg(2 * np.arctan(self.height / 2 / focal)))
        return CameraModel(position=params[:3].copy(), rotation=rotation, fovy=fovy, height=self.height,
                           width=self.width)

    def params(self, camera: CameraModel) -> np.ndarray:
        delta = Rotation.from_matrix(camera.rotation @ self.base_rotation.T).as_rotvec()
        return np.concatenate([camera.position, delta, [np.log(camera.focal)]])


def broadcast_prior(spec: PitchSpec) -> tuple[np.ndarray, np.ndarray, float]:
    """``(position, target, fovy)`` of the scene's broadcast camera as built (no look applied)."""
    position, target = broadcast_pose(spec)
    return np.array(position, float), np.array(target, float), BROADCAST_FOVY


def prior_camera(position, target, fovy: float, height: int, width: int, *, camera_height: float = 1.0,
                 camera_distance: float = 1.0, camera_yaw: float = 0.0, camera_roll: float = 0.0,
                 camera_fov: float = 1.0) -> CameraModel:
    """A camera moved about ``target`` as a look moves the broadcast camera
    (:mod:`visiongym.sims.appearance`: height and distance factors, yaw orbit and roll in degrees,
    a field-of-view factor)."""
    position, target = np.asarray(position, float), np.asarray(target, float)
    offset = position - target
    yaw = np.deg2rad(camera_yaw)
    horizontal = np.array([[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]]) @ offset[:2]
    moved = target + np.array([*(horizontal * camera_distance), offset[2] * camera_height])
    return CameraModel(position=moved, rotation=look_at_rotation(moved, target, camera_roll),
                       fovy=float(fovy * camera_fov), height=height, width=width)
