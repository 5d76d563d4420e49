"""Articulated characters, terrains, motion clips and BVH retargeting (MuJoCo, no RL words).

- :mod:`visiongym.sims.characters.spec`: dataclasses that describe a character (Python, YAML or JSON);
- :mod:`visiongym.sims.characters.builder`: the description -> MJCF;
- :mod:`visiongym.sims.characters.presets`: walker, quadruped, humanoid, snake;
- :mod:`visiongym.sims.characters.terrain`: flat, slope, steps, random heightfield;
- :mod:`visiongym.sims.characters.scene`: :class:`CharacterScene`, the physics with named accessors;
- :mod:`visiongym.sims.characters.clips`: reference clips (``.npz``) and procedural gaits;
- :mod:`visiongym.sims.characters.bvh`: BVH reading and retargeting.
"""

from visiongym.sims.gl import configure_gl

configure_gl()  # MuJoCo picks its GL backend when first imported; choose it before any submodule.

from visiongym.sims.characters.presets import PRESETS, preset  # noqa: E402
from visiongym.sims.characters.scene import CharacterScene  # noqa: E402
from visiongym.sims.characters.spec import (  # noqa: E402
    CharacterSpec,
    CharacterSpecError,
    JointSpec,
    LimbSpec,
    load_character,
)
from visiongym.sims.characters.terrain import TERRAINS, TerrainSpec  # noqa: E402

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
