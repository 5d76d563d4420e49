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

__all__ = ["CLASS_NAMES", "InstanceTable", "instance_table", "render_ground_truth", "mask_boxes"]

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


def instance_table(model: mujoco.MjModel, teams: np.ndarray, numbers: np.ndarray) -> InstanceTable:
    """The :class:`InstanceTable` of a scene whose players have ``teams`` and shirt ``numbers``."""
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
        for part in ("body", "cap", "nose"):
            lookup[geom_id(f"p{i}_{part}") + 1] = k
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
