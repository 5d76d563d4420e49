"""The looks CycleGAN translates between and the attributes StarGAN changes, by name.

A *look* is an appearance distribution of :mod:`visiongym.sims.appearance`: ``default`` (the
built-in look), ``evening`` (this module's shifted look: dim warm light, a darker tinted pitch and
faded kits at once), ``held_out``, any single-factor shift of ``SHIFTS`` (``light_dim``, ...), or
``key=value,...`` text. Each frame draws its own values inside the look's ranges.

An *attribute* is one appearance factor with a few discrete values (:data:`ATTRIBUTES`); a frame's
label is one value index per attribute, and :func:`attribute_appearance` turns a label into the
fixed look that renders it. Value 0 of every attribute is the default look.

=============== ================================== =============================================
attribute       values (index 0, 1, 2)             appearance keys
=============== ================================== =============================================
``light``       normal, dim, bright                ``light_intensity`` 1, 0.5, 1.7
``time_of_day`` day, sunset, night                 ``light_warmth`` 0, +0.7 (orange), -0.7 (blue)
``pitch``       green, dark, pale                  ``pitch_tint`` 1, 0.55, 1.5
``kits``        standard, faded                    ``kit_saturation`` / ``kit_value`` 1 / 1, 0.4 / 0.6
=============== ================================== =============================================

``time_of_day`` is the colour of the light only: the simulator has no sun to move.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from visiongym.sims.appearance import DEFAULT, HELD_OUT, SHIFTS, AppearanceSpec, parse_appearance
from visiongym.sims.errors import UsageError

__all__ = [
    "EVENING",
    "LOOKS",
    "ATTRIBUTES",
    "check_look",
    "check_attributes",
    "attribute_sizes",
    "attribute_appearance",
    "draw_attribute_values",
    "describe_label",
]

#: The shifted look of the CycleGAN experiment: another lighting, pitch and kit set at once.
EVENING = AppearanceSpec(
    light_intensity=(0.45, 0.6), light_warmth=(0.5, 0.8), pitch_tint=(0.45, 0.7),
    kit_saturation=(0.35, 0.6), kit_value=(0.45, 0.65),
)

#: Named looks a translation may use.
LOOKS: dict[str, AppearanceSpec] = {"default": DEFAULT, "evening": EVENING, "held_out": HELD_OUT, **SHIFTS}

#: attribute -> value name -> the appearance keys that value sets (value 0: the default look).
ATTRIBUTES: dict[str, dict[str, dict[str, float]]] = {
    "light": {"normal": {}, "dim": {"light_intensity": 0.5}, "bright": {"light_intensity": 1.7}},
    "time_of_day": {"day": {}, "sunset": {"light_warmth": 0.7}, "night": {"light_warmth": -0.7}},
    "pitch": {"green": {}, "dark": {"pitch_tint": 0.55}, "pale": {"pitch_tint": 1.5}},
    "kits": {"standard": {}, "faded": {"kit_saturation": 0.4, "kit_value": 0.6}},
}


def check_look(name: str) -> AppearanceSpec:
    """The look ``name`` (a name of :data:`LOOKS` or ``key=value,...`` text); else a UsageError."""
    if name in LOOKS:
        return LOOKS[name]
    if isinstance(name, str) and "=" in name:
        return parse_appearance(name)
    raise UsageError(
        f"look {name!r} unknown; choose one of: {', '.join(LOOKS)}, or key=value,... "
        "(the keys of visiongym.sims.appearance.AppearanceSpec)"
    )


def check_attributes(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` as a tuple, each a known attribute and none twice; else a UsageError naming them."""
    names = tuple(names)
    if not names:
        raise UsageError(f"no attributes given; choose one or more of: {', '.join(ATTRIBUTES)}")
    for name in names:
        if name not in ATTRIBUTES:
            raise UsageError(f"attribute {name!r} unknown; choose one or more of: {', '.join(ATTRIBUTES)}")
    if len(set(names)) != len(names):
        raise UsageError(f"attributes {', '.join(names)} name one twice")
    return names


def attribute_sizes(names: Sequence[str]) -> tuple[int, ...]:
    """How many values each attribute has."""
    return tuple(len(ATTRIBUTES[name]) for name in check_attributes(names))


def attribute_appearance(names: Sequence[str], values: Sequence[int]) -> AppearanceSpec:
    """The fixed look of one label: attribute ``names[k]`` at value index ``values[k]``."""
    keys: dict[str, Any] = {}
    for name, value in zip(check_attributes(names), values, strict=True):
        choices = list(ATTRIBUTES[name].values())
        if not 0 <= int(value) < len(choices):
            raise UsageError(f"attribute {name!r} has values 0..{len(choices) - 1}, not {value!r}")
        keys.update(choices[int(value)])
    return AppearanceSpec.from_mapping(keys)


def draw_attribute_values(names: Sequence[str], count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` labels drawn uniformly and independently per attribute: int64 (count, K)."""
    sizes = attribute_sizes(names)
    return np.stack([rng.integers(0, size, count) for size in sizes], axis=1).astype(np.int64)


def describe_label(names: Sequence[str], values: Sequence[int]) -> str:
    """``light=dim, pitch=green, ...``: a label in words."""
    return ", ".join(
        f"{name}={list(ATTRIBUTES[name])[int(value)]}" for name, value in zip(names, values, strict=True)
    )
