"""Articulated characters, terrains, motion clips and BVH retargeting (MuJoCo, no RL words).

- :mod:`sims.characters.spec`: dataclasses that describe a character (Python, YAML or JSON);
- :mod:`sims.characters.builder`: the description -> MJCF;
- :mod:`sims.characters.presets`: walker, quadruped, humanoid, snake;
- :mod:`sims.characters.terrain`: flat, slope, steps, random heightfield;
- :mod:`sims.characters.scene`: :class:`CharacterScene`, the physics with named accessors;
- :mod:`sims.characters.clips`: reference clips (``.npz``) and procedural gaits;
- :mod:`sims.characters.bvh`: BVH reading and retargeting.
"""

from sims.gl import configure_gl

configure_gl()  # MuJoCo picks its GL backend when first imported; choose it before any submodule.

from sims.characters.presets import PRESETS, preset  # noqa: E402
from sims.characters.scene import CharacterScene  # noqa: E402
from sims.characters.spec import (  # noqa: E402
    CharacterSpec,
    CharacterSpecError,
    JointSpec,
    LimbSpec,
    load_character,
)
from sims.characters.terrain import TERRAINS, TerrainSpec  # noqa: E402

__all__ = [
    "PRESETS",
    "TERRAINS",
    "CharacterScene",
    "CharacterSpec",
    "CharacterSpecError",
    "JointSpec",
    "LimbSpec",
    "TerrainSpec",
    "load_character",
    "preset",
]
