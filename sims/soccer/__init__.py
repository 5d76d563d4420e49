"""Tabletop soccer: a MuJoCo pitch on a table, two teams of round robots, a ball, two goals.

The players may look like people instead (``SoccerScene(players="human")``, :mod:`.humans`):
humanoids in team kits, posed from gait clips, with the robots' physics.

``SoccerScene`` (:mod:`.scene`) is the physics object: commands in, state out through named
accessors, kicks and the referee's restarts. Builders (:mod:`.builders`) make its MJCF in code;
the referee (:mod:`.referee`) keeps score; scripted players (:mod:`.scripted`) drive everyone an
agent does not control; :mod:`.cameras`, :mod:`.ground_truth` and :mod:`.appearance` render it,
label its frames and change its looks.
"""

from visiongym.sims.soccer.appearance import KIT_HUES, TEAM_COLOUR_MODES, Appearance
from visiongym.sims.soccer.builders import PitchSpec, SceneSpec, build_mjcf
from visiongym.sims.soccer.cameras import CAMERAS
from visiongym.sims.soccer.ground_truth import CLASS_NAMES, InstanceTable
from visiongym.sims.soccer.humans import KEYPOINT_NAMES, PLAYER_LOOKS, SKELETON
from visiongym.sims.soccer.referee import Referee
from visiongym.sims.soccer.scene import SoccerScene
from visiongym.sims.soccer.scripted import ROLES, default_lanes, default_roles, scripted_commands

__all__ = [
    "Appearance",
    "CAMERAS",
    "CLASS_NAMES",
    "InstanceTable",
    "KEYPOINT_NAMES",
    "KIT_HUES",
    "PLAYER_LOOKS",
    "PitchSpec",
    "ROLES",
    "Referee",
    "SKELETON",
    "SceneSpec",
    "SoccerScene",
    "TEAM_COLOUR_MODES",
    "build_mjcf",
    "default_lanes",
    "default_roles",
    "scripted_commands",
]
