"""Tabletop soccer: a MuJoCo pitch on a table, two teams of round robots, a ball, two goals.

``SoccerScene`` is the physics and rendering object; builders make its MJCF in code; the referee
keeps score; scripted players drive everyone an agent does not control.
"""

from visiongym.sims.soccer.builders import PitchSpec, SceneSpec, build_mjcf
from visiongym.sims.soccer.referee import Referee
from visiongym.sims.soccer.scene import (
    CAMERAS,
    CLASS_NAMES,
    KIT_HUES,
    TEAM_COLOUR_MODES,
    SoccerScene,
)
from visiongym.sims.soccer.scripted import ROLES, default_lanes, default_roles, scripted_commands

__all__ = [
    "CAMERAS",
    "CLASS_NAMES",
    "KIT_HUES",
    "PitchSpec",
    "ROLES",
    "Referee",
    "SceneSpec",
    "SoccerScene",
    "TEAM_COLOUR_MODES",
    "build_mjcf",
    "default_lanes",
    "default_roles",
    "scripted_commands",
]
