"""How the soccer scene looks: team kits, pitch, table and board colours, lights, textures, the
broadcast camera, the ball shown.

Physics never reads colours, so everything here changes pictures only. :class:`Appearance` keeps
the model's default look (through a :class:`~visiongym.sims.appearance.LookBinding`), so a
randomised look can always be undone. The distributions themselves (``TRAIN``, ``HELD_OUT``, the
single-factor ``SHIFTS``) live in :mod:`visiongym.sims.appearance`.
"""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np

from visiongym.sims.appearance import (
    TRAIN,
    AppearanceSpec,
    Look,
    LookBinding,
    LookTargets,
    draw_look,
)
from visiongym.sims.errors import check_choice

__all__ = ["KIT_HUES", "TEAM_COLOUR_MODES", "Appearance"]

TEAM_COLOUR_MODES = ("kits", "random")
# Hue bands (fractions of the colour wheel) of the two kits: team A wears reds and oranges, team
# B blues. Disjoint bands make "team A" a property of the pixels. The training distribution's
# kit_hue_offset (at most 0.08) keeps each team inside its band.
KIT_HUES = {0: (-0.08, 0.08), 1: (0.52, 0.68)}
# Base (hue, saturation, value) of the kits that a look's kit keys shift and scale.
_KIT_HSV = [(0.0, 0.8, 0.75), (0.6, 0.8, 0.75)]


class Appearance:
    """Colours, lights, textures and camera pose of one scene's model.

    Args:
        model: the scene's model.
        data: the scene's data (camera frames are recomputed after a change).
        teams: team (0 or 1) of each player, in player order.
        pitch_width: metres; the broadcast camera looks at a point ``0.12`` widths in front of
            the centre spot.
        kit_geoms: geom ids of each team's kit (default: the robots' bodies); the human look
            passes its shirts, sleeves and socks.
    """

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, teams: np.ndarray,
                 pitch_width: float = 1.6, kit_geoms: list[list[int]] | None = None) -> None:
        self.model, self.data = model, data

        def geom_id(name: str) -> int:
            return mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, name)

        def material_id(name: str) -> int:
            return mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_MATERIAL, name)

        self.ball_geoms = [geom_id("ball"), geom_id("ball_patch")]
        #: Body geoms (the ones a kit colours) of each team's players.
        self.team_geoms = kit_geoms or [[geom_id(f"p{i}_body") for i in range(len(teams)) if teams[i] == team]
                                        for team in (0, 1)]
        self.pitch_geom = geom_id("pitch")
        self.table_geom = geom_id("table")
        names = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, g) or "" for g in range(model.ngeom)]
        board_geoms = [g for g, name in enumerate(names) if name.startswith("board_")]
        self.broadcast_camera = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, "broadcast")
        self.binding = LookBinding(model, data, LookTargets(
            surfaces={"pitch": [self.pitch_geom], "table": [self.table_geom], "boards": board_geoms},
            materials={surface: material_id(f"vg_{surface}") for surface in ("pitch", "table", "boards")},
            kits=self.team_geoms,
            kit_hsv=_KIT_HSV,
            camera=self.broadcast_camera,
            camera_pivot=np.array([0.0, -0.12 * pitch_width, 0.0]),
            key_light=mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_LIGHT, "key"),
        ))
        #: The look last applied (None: the default).
        self.look: Look | None = None

    def draw(self, spec: AppearanceSpec, rng: np.random.Generator, team_colours: str = "kits") -> Look:
        """Draw a look from ``spec`` and apply it; ``team_colours="random"`` also draws two hues."""
        check_choice("team_colours", team_colours, TEAM_COLOUR_MODES)
        look = draw_look(spec, rng)
        if team_colours == "random":
            hue_a = float(rng.uniform(0, 1))
            look = dataclasses.replace(look, kit_hues=(hue_a, (hue_a + float(rng.uniform(0.3, 0.7))) % 1.0))
        self.apply(look)
        return look

    def apply(self, look: Look | None) -> None:
        """Show ``look`` (None: the default look). The ball's visibility is kept."""
        visible = self.ball_visible()
        if look is None:
            self.binding.reset()
        else:
            self.binding.apply(look)
        self.look = look
        self.set_ball_visible(visible)

    def randomize(self, rng: np.random.Generator, camera_jitter: float = 0.06,
                  team_colours: str = "kits") -> Look:
        """A look from :data:`~visiongym.sims.appearance.TRAIN` with the camera's height and
        distance jittered by ``camera_jitter`` (see :meth:`SoccerScene.randomize_appearance`)."""
        jitter = (1.0 - camera_jitter, 1.0 + camera_jitter)
        return self.draw(AppearanceSpec.from_mapping({"camera_height": jitter, "camera_distance": jitter}, TRAIN),
                         rng, team_colours)

    def reset(self) -> None:
        """Back to the default look."""
        self.apply(None)

    def set_ball_visible(self, visible: bool) -> None:
        """Draw the ball, or not (physics is unchanged)."""
        self.model.geom_rgba[self.ball_geoms, 3] = 1.0 if visible else 0.0

    def ball_visible(self) -> bool:
        return bool(self.model.geom_rgba[self.ball_geoms[0], 3] > 0)
