"""How the soccer scene looks: team kits, pitch and table tint, the broadcast camera, the ball shown.

Physics never reads colours, so everything here changes pictures only. :class:`Appearance` keeps
the model's default colours and camera poses, so a randomised look can always be undone.
"""

from __future__ import annotations

import colorsys

import mujoco
import numpy as np

from visiongym.sims.errors import check_choice
from visiongym.sims.soccer.builders import look_at_xyaxes

__all__ = ["KIT_HUES", "TEAM_COLOUR_MODES", "Appearance"]

TEAM_COLOUR_MODES = ("kits", "random")
# Hue bands (fractions of the colour wheel) of the two kits: team A wears reds and oranges, team
# B blues. Disjoint bands make "team A" a property of the pixels.
KIT_HUES = {0: (-0.08, 0.08), 1: (0.52, 0.68)}


class Appearance:
    """Colours and camera pose of one scene's model.

    Args:
        model: the scene's model (its ``geom_rgba``, ``cam_pos`` and ``cam_quat`` are changed).
        data: the scene's data (camera frames are recomputed after a change).
        teams: team (0 or 1) of each player, in player order.
    """

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, teams: np.ndarray) -> None:
        self.model, self.data = model, data

        def geom_id(name: str) -> int:
            return mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, name)

        self.ball_geoms = [geom_id("ball"), geom_id("ball_patch")]
        #: Body geoms (the ones a kit colours) of each team's players.
        self.team_geoms = [[geom_id(f"p{i}_body") for i in range(len(teams)) if teams[i] == team]
                           for team in (0, 1)]
        self.pitch_geom = geom_id("pitch")
        self.table_geom = geom_id("table")
        self.broadcast_camera = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, "broadcast")
        self.defaults = (model.geom_rgba.copy(), model.cam_pos.copy(), model.cam_quat.copy())

    def randomize(self, rng: np.random.Generator, pitch_width: float, camera_jitter: float = 0.06,
                  team_colours: str = "kits") -> None:
        """Random kits, tints and broadcast camera (see :meth:`SoccerScene.randomize_appearance`)."""
        check_choice("team_colours", team_colours, TEAM_COLOUR_MODES)
        rgba, cam_pos, cam_quat = (a.copy() for a in self.defaults)
        if team_colours == "kits":
            hues = [rng.uniform(*KIT_HUES[team]) % 1.0 for team in (0, 1)]
        else:
            hue_a = rng.uniform(0, 1)
            hues = [hue_a, (hue_a + rng.uniform(0.3, 0.7)) % 1.0]
        for team, hue in enumerate(hues):
            colour = colorsys.hsv_to_rgb(hue, rng.uniform(0.6, 1.0), rng.uniform(0.55, 0.95))
            for g in self.team_geoms[team]:
                rgba[g, :3] = colour
        rgba[self.pitch_geom, :3] = np.clip(rgba[self.pitch_geom, :3] * rng.uniform(0.75, 1.25, 3), 0, 1)
        rgba[self.table_geom, :3] = np.clip(rgba[self.table_geom, :3] * rng.uniform(0.6, 1.4, 3), 0, 1)
        cam = self.broadcast_camera
        position = cam_pos[cam] * (1 + rng.uniform(-camera_jitter, camera_jitter, 3))
        target = np.array([rng.uniform(-0.1, 0.1), rng.uniform(-0.25, 0.0), 0.0]) * pitch_width
        axes = np.array(look_at_xyaxes(position, target).split(), float).reshape(2, 3)
        matrix = np.stack([axes[0], axes[1], np.cross(axes[0], axes[1])], axis=1)
        mujoco.mju_mat2Quat(cam_quat[cam], matrix.ravel())
        cam_pos[cam] = position
        self.model.geom_rgba[:] = rgba
        self.model.cam_pos[:] = cam_pos
        self.model.cam_quat[:] = cam_quat
        mujoco.mj_forward(self.model, self.data)

    def reset(self) -> None:
        """Back to the default colours and camera."""
        self.model.geom_rgba[:], self.model.cam_pos[:], self.model.cam_quat[:] = self.defaults
        mujoco.mj_forward(self.model, self.data)

    def set_ball_visible(self, visible: bool) -> None:
        """Draw the ball, or not (physics is unchanged)."""
        self.model.geom_rgba[self.ball_geoms, 3] = 1.0 if visible else 0.0

    def ball_visible(self) -> bool:
        return bool(self.model.geom_rgba[self.ball_geoms[0], 3] > 0)
