"""The four preset characters: walker, quadruped, humanoid and snake.

- ``walker``: a planar biped (moves in the x-z plane) with hips, knees and ankles; 6 motors.
- ``quadruped``: a four-legged body with hip abduction, hip pitch and knee per leg; 12 motors.
  Its joints carry light springs, so it stands without any action.
- ``humanoid``: a 3D biped with arms: ball hips and shoulders, hinge knees, ankles and elbows;
  18 motors.
- ``snake``: a seven-segment chain that swims in the horizontal plane through a viscous medium
  (planar root: slide x, slide y, yaw); 6 motors.

Angles follow the right-hand rule about each joint's axis; a positive pitch (about +y) swings a
downward limb backwards.
"""

from __future__ import annotations

from collections.abc import Callable

from visiongym.sims.characters.spec import (
    CharacterSpec,
    ContactSpec,
    FallSpec,
    JointSpec,
    LimbSpec,
    MediumSpec,
)
from visiongym.sims.errors import UsageError

__all__ = ["PRESETS", "preset", "walker", "quadruped", "humanoid", "snake"]

_SKIN = (0.85, 0.6, 0.35, 1.0)
_LEFT = (0.35, 0.55, 0.85, 1.0)
_RIGHT = (0.85, 0.35, 0.35, 1.0)


def _hinge(name: str, axis=(0, 1, 0), lo=-90.0, hi=90.0, gear=60.0, **kwargs) -> JointSpec:
    return JointSpec(name, "hinge", axis=axis, range=(lo, hi), gear=gear, **kwargs)


def _ball(name: str, cone: float, gear: float) -> JointSpec:
    return JointSpec(name, "ball", range=(0, cone), gear=gear)


def _leg(side: str, y: float, rgba, length: float, radii: tuple[float, float], hip: JointSpec,
         knee_gear: float, foot: tuple[float, float]) -> LimbSpec:
    """Thigh, shin and foot of a biped hanging from the joint ``hip``; ``foot`` is (heel behind
    the ankle, foot length) in metres."""
    foot = LimbSpec(
        f"foot_{side}", pos=(-foot[0], 0, -length), end=(foot[1], 0, 0), radius=0.045,
        joints=[_hinge(f"ankle_{side}", lo=-45, hi=45, gear=40)],
        end_effector=True, foot=True, rgba=rgba,
    )
    shin = LimbSpec(
        f"shin_{side}", pos=(0, 0, -length), end=(0, 0, -length), radius=radii[1],
        joints=[_hinge(f"knee_{side}", lo=0, hi=150, gear=knee_gear)], children=[foot], rgba=rgba,
    )
    return LimbSpec(
        f"thigh_{side}", pos=(0, y, 0), end=(0, 0, -length), radius=radii[0], joints=[hip],
        children=[shin], rgba=rgba,
    )


def walker() -> CharacterSpec:
    """A planar biped: torso, thighs, shins and feet; hips, knees and ankles (6 motors)."""

    torso = LimbSpec(
        "torso", end=(0, 0, 0.5), radius=0.07, rgba=_SKIN,
        children=[
            LimbSpec("head", pos=(0, 0, 0.62), end=(0, 0, 0), radius=0.09, end_effector=True),
            _leg("right", -0.09, _RIGHT, 0.45, (0.05, 0.04), _hinge("hip_right", lo=-110, hi=40, gear=100), 80, (0.05, 0.2)),
            _leg("left", 0.09, _LEFT, 0.45, (0.05, 0.04), _hinge("hip_left", lo=-110, hi=40, gear=100), 80, (0.05, 0.2)),
        ],
    )
    return CharacterSpec(
        "walker", torso, root_joint="planar", root_height=0.95,
        fall=FallSpec(min_height=0.6, max_height=2.0, max_tilt=60),
    )


def quadruped() -> CharacterSpec:
    """A four-legged character with a long body; springy legs let it stand unactuated (12 motors)."""

    def leg(name: str, x: float, y: float) -> LimbSpec:
        rgba = _LEFT if y > 0 else _RIGHT
        spring = {"stiffness": 40.0, "damping": 1.5}
        lower = LimbSpec(
            f"{name}_lower", pos=(0, 0, -0.25), end=(0, 0, -0.25), radius=0.035,
            joints=[_hinge(f"{name}_knee", lo=-120, hi=120, gear=40, **spring)],
            end_effector=True, foot=True, rgba=rgba,
        )
        return LimbSpec(
            f"{name}_upper", pos=(x, y, 0), end=(0, 0.04 if y > 0 else -0.04, -0.25), radius=0.04,
            joints=[
                _hinge(f"{name}_abduct", axis=(1, 0, 0), lo=-35, hi=35, gear=40, **spring),
                _hinge(f"{name}_hip", lo=-70, hi=70, gear=40, **spring),
            ],
            children=[lower], rgba=rgba,
        )

    body = LimbSpec(
        "body", pos=(-0.3, 0, 0), end=(0.6, 0, 0), radius=0.08, rgba=_SKIN,
        children=[
            LimbSpec("head", pos=(0.72, 0, 0.06), end=(0, 0, 0), radius=0.08, end_effector=True),
            leg("rear_right", 0.0, -0.12),
            leg("rear_left", 0.0, 0.12),
            leg("front_right", 0.6, -0.12),
            leg("front_left", 0.6, 0.12),
        ],
    )
    return CharacterSpec(
        "quadruped", body, root_joint="free", root_height=0.54,
        fall=FallSpec(min_height=0.2, max_height=1.5, max_tilt=70),
    )


def humanoid() -> CharacterSpec:
    """A 3D biped with arms: ball hips and shoulders, hinge knees, ankles, elbows (18 motors)."""

    def arm(side: str, y: float, rgba) -> LimbSpec:
        forearm = LimbSpec(
            f"forearm_{side}", pos=(0, 0, -0.27), end=(0, 0, -0.25), radius=0.035,
            joints=[_hinge(f"elbow_{side}", lo=-150, hi=0, gear=30)],
            end_effector=True, rgba=rgba,
        )
        return LimbSpec(
            f"upper_arm_{side}", pos=(0, y, 0.42), end=(0, 0, -0.27), radius=0.04,
            joints=[_ball(f"shoulder_{side}", 120, 40)],
            children=[forearm], rgba=rgba,
        )

    torso = LimbSpec(
        "torso", end=(0, 0, 0.4), radius=0.1, rgba=_SKIN,
        children=[
            LimbSpec("head", pos=(0, 0, 0.58), end=(0, 0, 0), radius=0.1, end_effector=True),
            arm("right", -0.2, _RIGHT),
            arm("left", 0.2, _LEFT),
            _leg("right", -0.1, _RIGHT, 0.42, (0.06, 0.05), _ball("hip_right", 110, 100), 100, (0.04, 0.17)),
            _leg("left", 0.1, _LEFT, 0.42, (0.06, 0.05), _ball("hip_left", 110, 100), 100, (0.04, 0.17)),
        ],
    )
    return CharacterSpec(
        "humanoid", torso, root_joint="free", root_height=0.89,
        fall=FallSpec(min_height=0.55, max_height=2.0, max_tilt=60),
    )


def snake(segments: int = 7) -> CharacterSpec:
    """A chain of capsules swimming in the horizontal plane through a viscous medium."""
    if segments < 2:
        raise UsageError(f"segments: a snake needs at least 2, got {segments}")
    tail: LimbSpec | None = None
    for i in reversed(range(1, segments)):
        tail = LimbSpec(
            f"segment{i}", pos=(-0.2, 0, 0), end=(-0.2, 0, 0), radius=0.04,
            joints=[_hinge(f"bend{i}", axis=(0, 0, 1), lo=-100, hi=100, gear=30, damping=0.5)],
            children=[tail] if tail is not None else [],
            end_effector=i == segments - 1,
            rgba=_LEFT if i % 2 else _RIGHT,
        )
    head = LimbSpec("segment0", end=(-0.2, 0, 0), radius=0.045, children=[tail], rgba=_SKIN)
    return CharacterSpec(
        "snake", head, root_joint="planar_xy", root_height=0.08,
        contact=ContactSpec(friction=(0.1, 0.005, 0.0001)),
        medium=MediumSpec(density=4000.0, viscosity=0.1),
    )


PRESETS: dict[str, Callable[[], CharacterSpec]] = {
    "walker": walker,
    "quadruped": quadruped,
    "humanoid": humanoid,
    "snake": snake,
}


def preset(name: str) -> CharacterSpec:
    """A fresh copy of a preset character by name."""
    if name not in PRESETS:
        raise UsageError(f"character {name!r} unknown; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]()
