"""Exact labels of a rendered soccer frame: depth, class and instance masks, boxes, identities.

Every geom belongs to one *instance* (1 ball, 2..n+1 the players in order, n+2 the west goal,
n+3 the east goal; 0 is the background). MuJoCo's segmentation render says which geom each
pixel shows; :class:`InstanceTable` turns that into instances and their class, team and shirt
number, and the boxes are the tight boxes of the instance masks, so boxes and masks always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

__all__ = ["CLASS_NAMES", "InstanceTable", "instance_table", "render_ground_truth", "mask_boxes",
           "SurfaceSampler", "keypoint_labels"]

CLASS_NAMES = ("background", "ball", "team_a", "team_b", "goal")


@dataclass(frozen=True)
class InstanceTable:
    """Geom -> instance lookup and each instance's class, team (0 A, 1 B, -1) and number (or -1)."""

    geom_to_instance: np.ndarray  # indexed by geom id + 1, so that -1 (no geom) maps to 0
    instance_class: np.ndarray
    instance_team: np.ndarray
    instance_number: np.ndarray

    def geoms_of(self, instance: int) -> np.ndarray:
        """Ids of the geoms that make up ``instance``."""
        return np.flatnonzero(self.geom_to_instance[1:] == instance)


def instance_table(model: mujoco.MjModel, teams: np.ndarray, numbers: np.ndarray,
                   player_geoms: list[np.ndarray] | None = None) -> InstanceTable:
    """The :class:`InstanceTable` of a scene whose players have ``teams`` and shirt ``numbers``.

    ``player_geoms`` lists each player's visual geoms (default: the robot's body, cap and nose).
    """
    n = len(teams)

    def geom_id(name: str) -> int:
        return mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, name)

    instance_class = np.zeros(n + 4, np.uint8)
    instance_team = np.full(n + 4, -1, np.int64)
    instance_number = np.full(n + 4, -1, np.int64)
    lookup = np.zeros(model.ngeom + 1, np.int32)
    lookup[geom_id("ball") + 1] = lookup[geom_id("ball_patch") + 1] = 1
    instance_class[1] = CLASS_NAMES.index("ball")
    for i in range(n):
        k = 2 + i
        geoms = [geom_id(f"p{i}_{part}") for part in ("body", "cap", "nose")] if player_geoms is None else player_geoms[i]
        lookup[np.asarray(geoms, int) + 1] = k
        instance_class[k] = CLASS_NAMES.index("team_a" if teams[i] == 0 else "team_b")
        instance_team[k] = teams[i]
        instance_number[k] = numbers[i]
    for k, side in ((n + 2, "west"), (n + 3, "east")):
        body = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, f"goal_{side}")
        lookup[np.flatnonzero(model.geom_bodyid == body) + 1] = k
        instance_class[k] = CLASS_NAMES.index("goal")
    return InstanceTable(lookup, instance_class, instance_team, instance_number)


def render_ground_truth(renderer, data: mujoco.MjData, camera: int, table: InstanceTable) -> dict[str, np.ndarray]:
    """RGB, depth and segmentation renders of camera id ``camera``, turned into labels.

    Returns the dict documented by :meth:`visiongym.sims.soccer.SoccerScene.render_ground_truth`.
    """
    renderer.update_scene(data, camera)
    rgb = renderer.render()
    renderer.enable_depth_rendering()
    try:
        renderer.update_scene(data, camera)
        depth = renderer.render().astype(np.float32)
    finally:
        renderer.disable_depth_rendering()
    renderer.enable_segmentation_rendering()
    try:
        renderer.update_scene(data, camera)
        seg = renderer.render()
    finally:
        renderer.disable_segmentation_rendering()
    is_geom = seg[..., 1] == int(mujoco.mjtObj.mjOBJ_GEOM)
    instance_mask = np.where(is_geom, table.geom_to_instance[np.clip(seg[..., 0], -1, None) + 1], 0)
    instance_mask = instance_mask.astype(np.int32)
    class_mask = table.instance_class[instance_mask]
    ids, boxes, counts = mask_boxes(instance_mask)
    return {
        "rgb": rgb,
        "depth": depth,
        "class_mask": class_mask,
        "instance_mask": instance_mask,
        "instance_ids": ids,
        "boxes": boxes,
        "labels": table.instance_class[ids].astype(np.int64),
        "teams": table.instance_team[ids],
        "numbers": table.instance_number[ids],
        "visible_pixels": counts,
    }


def mask_boxes(instance_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tight xyxy boxes (pixel edges) and pixel counts of every instance present in a mask."""
    rows, cols = np.nonzero(instance_mask)
    if rows.size == 0:
        return np.zeros(0, np.int64), np.zeros((0, 4), np.float32), np.zeros(0, np.int64)
    ids = instance_mask[rows, cols]
    order = np.argsort(ids, kind="stable")
    ids, rows, cols = ids[order], rows[order], cols[order]
    unique, starts, counts = np.unique(ids, return_index=True, return_counts=True)
    boxes = np.stack(
        [
            np.minimum.reduceat(cols, starts),
            np.minimum.reduceat(rows, starts),
            np.maximum.reduceat(cols, starts) + 1,
            np.maximum.reduceat(rows, starts) + 1,
        ],
        axis=1,
    ).astype(np.float32)
    return unique.astype(np.int64), boxes, counts.astype(np.int64)


def keypoint_labels(camera, points: np.ndarray, depth: np.ndarray, instance_mask: np.ndarray,
                    radius: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixel positions and visibility of players' keypoints in a rendered frame.

    Args:
        camera: the frame's :class:`~visiongym.sims.camera.CameraModel`.
        points: (n, K, 3) world keypoints of players ``0..n-1`` (instances ``2..n+1``).
        depth: the frame's depth render.
        instance_mask: the frame's instance mask.
        radius: (K,) how far in front of each keypoint its own limb's surface may lie, metres.

    Returns:
        ``keypoints`` (n, K, 3) float32 (u, v, visibility) and ``depths`` (n, K) float32 along
        the camera axis. Visibility is 2 when the keypoint's pixel shows its own player no more
        than ``radius`` (plus 1 cm) in front of the keypoint, 1 when it is in the image but
        something else is seen there, 0 outside the image or behind the camera.
    """
    n, k = points.shape[:2]
    uv, depths = camera.project(points.reshape(-1, 3))
    height, width = depth.shape
    cols, rows = np.floor(uv[:, 0]).astype(int), np.floor(uv[:, 1]).astype(int)
    inside = (depths > 0) & (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
    rows, cols = np.where(inside, rows, 0), np.where(inside, cols, 0)
    owner = np.repeat(np.arange(n) + 2, k)
    tolerance = np.tile(np.asarray(radius, float), n) + 0.01
    own = (instance_mask[rows, cols] == owner) & (depth[rows, cols] >= depths - tolerance)
    visibility = np.where(inside, np.where(own, 2, 1), 0)
    keypoints = np.concatenate([uv, visibility[:, None]], axis=1).reshape(n, k, 3)
    return keypoints.astype(np.float32), depths.reshape(n, k).astype(np.float32)


class _Geom:  # MuJoCo's primitive type codes, as plain ints (numpy values compare with them)
    SPHERE, CAPSULE, ELLIPSOID, CYLINDER, BOX = (int(t) for t in (
        mujoco.mjtGeom.mjGEOM_SPHERE, mujoco.mjtGeom.mjGEOM_CAPSULE, mujoco.mjtGeom.mjGEOM_ELLIPSOID,
        mujoco.mjtGeom.mjGEOM_CYLINDER, mujoco.mjtGeom.mjGEOM_BOX))


def _unit_directions(rng: np.random.Generator, count: int) -> np.ndarray:
    directions = rng.normal(size=(count, 3))
    return directions / np.linalg.norm(directions, axis=1, keepdims=True)


def _geom_samples(kind: int, size: np.ndarray, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` points (geom frame) spread over a primitive's surface, with outward normals."""
    types = _Geom
    if kind in (types.SPHERE, types.ELLIPSOID):
        axes = np.full(3, size[0]) if kind == types.SPHERE else size[:3]
        unit = _unit_directions(rng, count)
        normals = unit / axes
        return unit * axes, normals / np.linalg.norm(normals, axis=1, keepdims=True)
    if kind == types.CAPSULE:
        radius, half = size[0], size[1]
        unit = _unit_directions(rng, count)
        on_side = rng.random(count) < (4 * half) / (4 * half + 4 * radius)
        side = np.concatenate([unit[:, :2] / np.linalg.norm(unit[:, :2], axis=1, keepdims=True),
                               np.zeros((count, 1))], axis=1)
        normals = np.where(on_side[:, None], side, unit)
        points = radius * normals
        points[:, 2] += np.where(on_side, rng.uniform(-half, half, count), np.sign(unit[:, 2]) * half)
        return points, normals
    if kind == types.CYLINDER:
        radius, half = size[0], size[1]
        angle = rng.uniform(0, 2 * np.pi, count)
        on_side = rng.random(count) < (2 * half) / (2 * half + radius)
        ring = np.sqrt(rng.random(count)) * radius
        sign = np.where(rng.random(count) < 0.5, -1.0, 1.0)
        r = np.where(on_side, radius, ring)
        points = np.stack([r * np.cos(angle), r * np.sin(angle),
                           np.where(on_side, rng.uniform(-half, half, count), sign * half)], axis=1)
        normals = np.where(on_side[:, None], np.stack([np.cos(angle), np.sin(angle), 0 * angle], axis=1),
                           np.stack([0 * angle, 0 * angle, sign], axis=1))
        return points, normals
    if kind == types.BOX:
        half = size[:3]
        areas = np.array([half[1] * half[2], half[0] * half[2], half[0] * half[1]])
        axis = rng.choice(3, count, p=areas / areas.sum())
        sign = np.where(rng.random(count) < 0.5, -1.0, 1.0)
        points = rng.uniform(-1, 1, (count, 3)) * half
        normals = np.zeros((count, 3))
        points[np.arange(count), axis] = sign * half[axis]
        normals[np.arange(count), axis] = sign
        return points, normals
    raise ValueError(f"geom type {kind} has no surface sampler")


def _surface_area(kind: int, size: np.ndarray) -> float:
    types = _Geom
    if kind == types.SPHERE:
        return 4 * np.pi * size[0] ** 2
    if kind == types.ELLIPSOID:  # Knud Thomsen's approximation
        a, b, c = size[:3] ** 1.6
        return 4 * np.pi * ((a * b + a * c + b * c) / 3) ** (1 / 1.6)
    if kind == types.CAPSULE:
        return 4 * np.pi * size[0] ** 2 + 4 * np.pi * size[0] * size[1]
    if kind == types.CYLINDER:
        return 2 * np.pi * size[0] ** 2 + 4 * np.pi * size[0] * size[1]
    x, y, z = size[:3]
    return 8 * (x * y + y * z + x * z)


def _inside(kind: int, size: np.ndarray, local: np.ndarray, margin: float) -> np.ndarray:
    """Which points (geom frame, (M, 3)) lie more than ``margin`` inside a primitive."""
    types = _Geom
    if kind == types.SPHERE:
        return np.linalg.norm(local, axis=1) < size[0] - margin
    if kind == types.ELLIPSOID:
        return np.linalg.norm(local / (size[:3] + margin), axis=1) < 1 - margin / size[:3].max()
    if kind == types.CAPSULE:
        closest = local.copy()
        closest[:, :2] = 0
        closest[:, 2] = np.clip(local[:, 2], -size[1], size[1])
        return np.linalg.norm(local - closest, axis=1) < size[0] - margin
    if kind == types.CYLINDER:
        return (np.hypot(local[:, 0], local[:, 1]) < size[0] - margin) & (np.abs(local[:, 2]) < size[1] - margin)
    return (np.abs(local) < size[:3] - margin).all(axis=1)


class SurfaceSampler:
    """Points fixed on the surfaces of each object's geoms, for 3D ground truth in the world frame.

    Every geom of an object gets points in its own frame in proportion to its area (a fixed
    seeded draw), so the points move with the geom; :meth:`sample` leaves out the points that
    lie inside another geom of the same object (a thigh inside the shorts) and returns a fixed
    number per object.

    Args:
        model: the scene's model.
        objects: each object's geom ids.
        oversample: points drawn per object, before points inside other geoms are dropped.
    """

    def __init__(self, model: mujoco.MjModel, objects: list[np.ndarray], oversample: int = 768) -> None:
        self.objects = [np.asarray(geoms, int) for geoms in objects]
        self.types = model.geom_type.copy()
        self.sizes = model.geom_size.copy()
        rng = np.random.default_rng(0)
        self.points, self.normals, self.owner = [], [], []
        for geoms in self.objects:
            areas = np.array([_surface_area(self.types[g], self.sizes[g]) for g in geoms])
            counts = np.maximum(1, np.round(oversample * areas / max(areas.sum(), 1e-12)).astype(int))
            samples = [_geom_samples(self.types[g], self.sizes[g], c, rng) for g, c in zip(geoms, counts, strict=True)]
            self.points.append(np.concatenate([p for p, _ in samples]))
            self.normals.append(np.concatenate([n for _, n in samples]))
            self.owner.append(np.repeat(np.arange(len(geoms)), counts))

    def sample(self, data: mujoco.MjData, count: int) -> tuple[np.ndarray, np.ndarray]:
        """(n_objects, count, 3) float32 world points and outward normals in the current pose."""
        out_points = np.zeros((len(self.objects), count, 3), np.float32)
        out_normals = np.zeros_like(out_points)
        for k, geoms in enumerate(self.objects):
            rotation = data.geom_xmat[geoms].reshape(-1, 3, 3)
            owner = self.owner[k]
            world = data.geom_xpos[geoms][owner] + np.einsum("mij,mj->mi", rotation[owner], self.points[k])
            normals = np.einsum("mij,mj->mi", rotation[owner], self.normals[k])
            covered = np.zeros(len(world), bool)
            for j, g in enumerate(geoms):
                local = (world - data.geom_xpos[g]) @ rotation[j]
                covered |= _inside(self.types[g], self.sizes[g], local, 1e-4) & (owner != j)
            keep = np.flatnonzero(~covered)
            if keep.size == 0:
                keep = np.arange(len(world))
            pick = keep[np.linspace(0, keep.size - 1, count).round().astype(int)] if keep.size >= count else \
                keep[np.arange(count) % keep.size]
            out_points[k], out_normals[k] = world[pick], normals[pick]
        return out_points, out_normals
