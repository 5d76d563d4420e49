"""Outputs: binary PLY point clouds, and the AR view (the reconstruction on a tabletop, seen
from a new viewpoint, beside the input frame).

The AR view is drawn in numpy: every pixel's ray is cut with the table plane (z = 0) and
coloured as wood, the pitch or its white markings, the players' shadows darken the pitch under
them, and the players' points are splatted as small squares with a z-buffer (nearest wins).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from visiongym.sims.camera import CameraModel, look_at_rotation

__all__ = ["write_ply", "read_ply", "orbit_camera", "render_tabletop", "side_by_side"]

PLY_DTYPE = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"), ("green", "u1"),
                      ("blue", "u1"), ("track", "<i4")])
TABLE_MARGIN = (0.45, 0.35)  # metres of table beyond the pitch, along x and y
WOOD, WOOD_DARK = np.array([150, 104, 62]), np.array([118, 80, 46])
GRASS, GRASS_DARK = np.array([58, 140, 62]), np.array([50, 124, 55])
LINE, BACKGROUND = np.array([235, 235, 235]), np.array([42, 44, 52])
LINE_HALF_WIDTH = 0.008


def write_ply(path: str | Path, points: np.ndarray, colours: np.ndarray, tracks: np.ndarray) -> None:
    """A binary little-endian PLY: float x, y, z (world metres), uchar red, green, blue, int track."""
    vertices = np.zeros(len(points), PLY_DTYPE)
    vertices["x"], vertices["y"], vertices["z"] = np.asarray(points, np.float32).reshape(-1, 3).T
    vertices["red"], vertices["green"], vertices["blue"] = np.asarray(colours, np.uint8).reshape(-1, 3).T
    vertices["track"] = tracks
    header = ("ply\nformat binary_little_endian 1.0\ncomment visiongym tabletop reconstruction\n"
              f"element vertex {len(vertices)}\n"
              "property float x\nproperty float y\nproperty float z\n"
              "property uchar red\nproperty uchar green\nproperty uchar blue\n"
              "property int track\nend_header\n")
    with open(path, "wb") as handle:
        handle.write(header.encode("ascii"))
        handle.write(vertices.tobytes())


def read_ply(path: str | Path) -> np.ndarray:
    """The vertices of a PLY written by :func:`write_ply`, as a structured array."""
    data = Path(path).read_bytes()
    end = data.index(b"end_header\n") + len(b"end_header\n")
    header = data[:end].decode("ascii")
    count = int(next(line.split()[2] for line in header.splitlines() if line.startswith("element vertex")))
    return np.frombuffer(data[end:], PLY_DTYPE, count=count)


def orbit_camera(pitch, height: int, width: int, phase: float) -> CameraModel:
    """A viewpoint the broadcast camera never takes: high over a corner of the table, orbiting
    through 50 degrees as ``phase`` goes 0 -> 1."""
    azimuth = math.radians(-125 + 50 * phase)
    distance, elevation = 1.75 * max(pitch.length, pitch.width), math.radians(40)
    position = np.array([distance * math.cos(elevation) * math.cos(azimuth),
                         distance * math.cos(elevation) * math.sin(azimuth), distance * math.sin(elevation)])
    return CameraModel(position, look_at_rotation(position, (0.0, 0.0, 0.0)), 45.0, height, width)


def _ground(camera: CameraModel, pitch, shadows: np.ndarray) -> np.ndarray:
    h, w = camera.height, camera.width
    v, u = np.mgrid[0:h, 0:w] + 0.5
    rays = np.stack([(u - w / 2) / camera.focal, -(v - h / 2) / camera.focal, -np.ones_like(u)], axis=-1)
    rays = rays @ camera.rotation.T
    down = rays[..., 2] < -1e-6
    t = np.where(down, -camera.position[2] / np.where(down, rays[..., 2], -1), 0.0)
    x, y = camera.position[0] + t * rays[..., 0], camera.position[1] + t * rays[..., 1]
    hl, hw = pitch.length / 2, pitch.width / 2
    image = np.broadcast_to(BACKGROUND, (h, w, 3)).astype(float).copy()
    image *= (0.75 + 0.25 * (1 - v / h))[..., None]
    on_table = down & (np.abs(x) < hl + TABLE_MARGIN[0]) & (np.abs(y) < hw + TABLE_MARGIN[1])
    planks = (np.floor((y + 10) / 0.12) % 2 == 0)[..., None]
    image = np.where(on_table[..., None], np.where(planks, WOOD, WOOD_DARK), image)
    on_pitch = on_table & (np.abs(x) < hl) & (np.abs(y) < hw)
    stripes = (np.floor((x + 10) / (pitch.length / 10)) % 2 == 0)[..., None]
    image = np.where(on_pitch[..., None], np.where(stripes, GRASS, GRASS_DARK), image)
    radius = pitch.goal_width / 4
    lines = on_pitch & ((np.abs(x) < LINE_HALF_WIDTH) | (np.abs(np.hypot(x, y) - radius) < LINE_HALF_WIDTH)
                        | (hl - np.abs(x) < 2 * LINE_HALF_WIDTH) | (hw - np.abs(y) < 2 * LINE_HALF_WIDTH))
    image = np.where(lines[..., None], LINE, image)
    goals = on_table & (np.abs(y) < pitch.goal_width / 2) & (np.abs(x) > hl) & (np.abs(x) < hl + pitch.goal_depth)
    image = np.where(goals[..., None], 0.5 * image + 0.5 * LINE, image)
    if len(shadows):
        distance = np.min(np.hypot(x[..., None] - shadows[:, 0], y[..., None] - shadows[:, 1]), axis=-1)
        image = np.where((on_table & (distance < 0.035))[..., None], image * 0.55, image)
    return image


def render_tabletop(camera: CameraModel, pitch, points: np.ndarray, colours: np.ndarray,
                    positions: np.ndarray, splat: int = 2) -> np.ndarray:
    """The reconstruction from ``camera``: (H, W, 3) uint8."""
    image = _ground(camera, pitch, np.asarray(positions, float).reshape(-1, 2))
    h, w = camera.height, camera.width
    if len(points):
        uv, depth = camera.project(points)
        keep = depth > 0
        uv, depth, colours = uv[keep], depth[keep], np.asarray(colours)[keep]
        offsets = np.arange(splat) - (splat - 1) / 2
        du, dv = (a.ravel() for a in np.meshgrid(offsets, offsets))
        cols = np.floor(uv[:, 0, None] + du[None]).astype(int).ravel()
        rows = np.floor(uv[:, 1, None] + dv[None]).astype(int).ravel()
        depth = np.repeat(depth, len(du))
        source = np.repeat(np.arange(len(uv)), len(du))
        inside = (cols >= 0) & (cols < w) & (rows >= 0) & (rows < h)
        flat, depth, source = (rows * w + cols)[inside], depth[inside], source[inside]
        order = np.argsort(depth, kind="stable")
        pixels, first = np.unique(flat[order], return_index=True)
        image.reshape(-1, 3)[pixels] = colours[source[order][first]]
    return np.clip(image, 0, 255).astype(np.uint8)


def side_by_side(left: np.ndarray, right: np.ndarray, labels: tuple[str, str] = ("input", "reconstruction")) -> np.ndarray:
    """Two frames of one height side by side, labelled, with even dimensions for H.264."""
    import cv2

    frame = np.concatenate([left, right], axis=1).copy()
    scale = max(frame.shape[0] / 512, 0.35)
    for text, x in ((labels[0], 6), (labels[1], left.shape[1] + 6)):
        cv2.putText(frame, text, (x, int(18 * scale) + 6), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    h, w = frame.shape[:2]
    return frame[: h - h % 2, : w - w % 2]
