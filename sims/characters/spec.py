"""Compact, validated descriptions of articulated characters.

A character is a tree of capsule limbs. Each limb is a MuJoCo body whose joints sit at its origin
and whose capsule runs from the origin to ``end`` (a vector in the limb's frame). The root limb
carries the root joint (``free``, ``planar``, ``planar_xy`` or ``fixed``); every other joint is a
``hinge`` or a ``ball`` with a range in degrees and a motor with a gear.

The same description can be written in Python::

    from visiongym.sims.characters.spec import CharacterSpec, JointSpec, LimbSpec

    leg = LimbSpec("leg", pos=(0, 0, -0.1), end=(0, 0, -0.5), radius=0.05, foot=True,
                   joints=[JointSpec("knee", axis=(0, 1, 0), range=(-150, 0), gear=60)])
    spec = CharacterSpec("pogo", root=LimbSpec("torso", end=(0, 0, 0.4), radius=0.08,
                         children=[leg]), root_joint="planar", root_height=0.7)

or in a small YAML/JSON file with the same field names (see :func:`load_character`).
Every check raises :class:`CharacterSpecError` naming the offending field, e.g.
``torso.children[0].joints[0].range``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from visiongym.sims.errors import UsageError

__all__ = [
    "JOINT_TYPES",
    "ROOT_JOINTS",
    "CharacterSpecError",
    "ContactSpec",
    "FallSpec",
    "MediumSpec",
    "JointSpec",
    "LimbSpec",
    "CharacterSpec",
    "character_from_dict",
    "load_character",
]

JOINT_TYPES = ("hinge", "ball")
ROOT_JOINTS = ("free", "planar", "planar_xy", "fixed")


class CharacterSpecError(UsageError):
    """A character description is malformed; the message names the field."""


def _vec(value: Any, size: int, where: str) -> tuple[float, ...]:
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError) as error:
        raise CharacterSpecError(f"{where}: expected {size} numbers, got {value!r}") from error
    if len(out) != size or not all(math.isfinite(v) for v in out):
        raise CharacterSpecError(f"{where}: expected {size} finite numbers, got {value!r}")
    return out


@dataclass
class JointSpec:
    """One actuated joint at the origin of its limb.

    Attributes:
        name: Unique joint name (also the motor's name).
        type: ``hinge`` (one angle about ``axis``) or ``ball`` (three rotational degrees of freedom,
            three motors).
        axis: Hinge axis in the limb frame (ignored for ``ball``).
        range: Limits in degrees. Hinge: (min, max) with min < max. Ball: (0, max cone angle).
        gear: Motor gear: torque in N·m at action 1. 0 leaves the joint unactuated.
        ctrl_range: Motor control range; actions in [-1, 1] are mapped linearly onto it.
        damping: Joint damping (N·m·s/rad).
        stiffness: Passive spring towards the zero angle (N·m/rad).
        armature: Rotor inertia added to the joint (kg·m²), which steadies the integration.
    """

    name: str
    type: str = "hinge"
    axis: tuple[float, float, float] = (0.0, 1.0, 0.0)
    range: tuple[float, float] = (-90.0, 90.0)
    gear: float = 50.0
    ctrl_range: tuple[float, float] = (-1.0, 1.0)
    damping: float = 1.0
    stiffness: float = 0.0
    armature: float = 0.02

    def validate(self, where: str) -> None:
        """Check every field; ``where`` prefixes the field names in errors."""
        if not isinstance(self.name, str) or not self.name:
            raise CharacterSpecError(f"{where}.name: a non-empty string is required")
        if self.type not in JOINT_TYPES:
            raise CharacterSpecError(
                f"{where}.type: joint type {self.type!r} unknown; choose one of: "
                + ", ".join(JOINT_TYPES)
            )
        self.axis = _vec(self.axis, 3, f"{where}.axis")
        if self.type == "hinge" and math.hypot(*self.axis) < 1e-9:
            raise CharacterSpecError(f"{where}.axis: the hinge axis must not be zero")
        self.range = _vec(self.range, 2, f"{where}.range")
        low, high = self.range
        if low >= high:
            raise CharacterSpecError(
                f"{where}.range: min {low:g} must be smaller than max {high:g} (degrees)"
            )
        if self.type == "hinge" and (low < -360 or high > 360):
            raise CharacterSpecError(f"{where}.range: {self.range} exceeds ±360 degrees")
        if self.type == "ball" and (low != 0 or high > 180):
            raise CharacterSpecError(
                f"{where}.range: a ball joint takes (0, max cone angle <= 180), got {self.range}"
            )
        self.ctrl_range = _vec(self.ctrl_range, 2, f"{where}.ctrl_range")
        if self.ctrl_range[0] >= self.ctrl_range[1]:
            raise CharacterSpecError(
                f"{where}.ctrl_range: min {self.ctrl_range[0]:g} must be smaller than max "
                f"{self.ctrl_range[1]:g}"
            )
        for name in ("gear", "damping", "stiffness", "armature"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise CharacterSpecError(f"{where}.{name}: expected a number >= 0, got {value!r}")

    @property
    def dof(self) -> int:
        """Degrees of freedom (and motors when actuated): 1 for a hinge, 3 for a ball."""
        return 1 if self.type == "hinge" else 3


@dataclass
class LimbSpec:
    """A rigid limb (one MuJoCo body with one capsule).

    Attributes:
        name: Unique body name.
        pos: Origin of the limb in its parent's frame (metres); the joints sit here.
        end: The capsule runs from the origin to ``end`` (limb frame). ``(0, 0, 0)`` makes a sphere.
        radius: Capsule radius (metres).
        density: Material density (kg/m³).
        joints: Joints between this limb and its parent (none for the root; the root joint is
            set on :class:`CharacterSpec`).
        children: Limbs attached to this one.
        end_effector: Track the capsule's far end as an end effector (hands, feet, head).
        foot: Report contacts between this limb and the terrain as foot contacts.
        rgba: Colour.
    """

    name: str
    pos: tuple[float, float, float] = (0.0, 0.0, 0.0)
    end: tuple[float, float, float] = (0.0, 0.0, -0.3)
    radius: float = 0.05
    density: float = 1000.0
    joints: list[JointSpec] = field(default_factory=list)
    children: list[LimbSpec] = field(default_factory=list)
    end_effector: bool = False
    foot: bool = False
    rgba: tuple[float, float, float, float] = (0.85, 0.6, 0.35, 1.0)

    def validate(self, where: str) -> None:
        """Check this limb and its subtree; ``where`` prefixes the field names in errors."""
        if not isinstance(self.name, str) or not self.name:
            raise CharacterSpecError(f"{where}.name: a non-empty string is required")
        self.pos = _vec(self.pos, 3, f"{where}.pos")
        self.end = _vec(self.end, 3, f"{where}.end")
        self.rgba = _vec(self.rgba, 4, f"{where}.rgba")
        for name in ("radius", "density"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise CharacterSpecError(f"{where}.{name}: expected a number > 0, got {value!r}")
        for i, joint in enumerate(self.joints):
            if not isinstance(joint, JointSpec):
                raise CharacterSpecError(f"{where}.joints[{i}]: expected a JointSpec")
            joint.validate(f"{where}.joints[{i}]")
        for i, child in enumerate(self.children):
            if not isinstance(child, LimbSpec):
                raise CharacterSpecError(f"{where}.children[{i}]: expected a LimbSpec")
            child.validate(f"{where}.children[{i}]")

    def walk(self) -> Iterator[LimbSpec]:
        """Yield this limb and every descendant, parents before children."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class ContactSpec:
    """Contact settings shared by every limb.

    Attributes:
        friction: Sliding, torsional and rolling friction.
        condim: Contact dimensionality (1, 3, 4 or 6).
        self_collision: Let limbs collide with each other (not with their parent).
        solref: MuJoCo contact stiffness/damping (time constant, damping ratio).
    """

    friction: tuple[float, float, float] = (1.0, 0.005, 0.0001)
    condim: int = 3
    self_collision: bool = False
    solref: tuple[float, float] = (0.02, 1.0)

    def validate(self, where: str) -> None:
        """Check every field."""
        self.friction = _vec(self.friction, 3, f"{where}.friction")
        if min(self.friction) < 0:
            raise CharacterSpecError(f"{where}.friction: values must be >= 0, got {self.friction}")
        if self.condim not in (1, 3, 4, 6):
            raise CharacterSpecError(
                f"{where}.condim: {self.condim!r} unknown; choose one of: 1, 3, 4, 6"
            )
        self.solref = _vec(self.solref, 2, f"{where}.solref")


@dataclass
class FallSpec:
    """When the character counts as fallen (ends episodes in the environments).

    Attributes:
        min_height: Lowest healthy root height above the terrain (metres); None disables.
        max_height: Highest healthy root height above the terrain; None disables.
        max_tilt: Largest healthy angle (degrees) between the root's up axis and the vertical;
            None disables.
    """

    min_height: float | None = None
    max_height: float | None = None
    max_tilt: float | None = None

    def validate(self, where: str) -> None:
        """Check every field."""
        if (
            self.min_height is not None
            and self.max_height is not None
            and self.min_height >= self.max_height
        ):
            raise CharacterSpecError(
                f"{where}.min_height: {self.min_height} must be smaller than max_height "
                f"{self.max_height}"
            )
        if self.max_tilt is not None and not 0 < self.max_tilt <= 180:
            raise CharacterSpecError(f"{where}.max_tilt: expected (0, 180], got {self.max_tilt}")


@dataclass
class MediumSpec:
    """The fluid the character moves in (MuJoCo's inertia-based drag). Zeros mean air-free."""

    density: float = 0.0
    viscosity: float = 0.0


@dataclass
class CharacterSpec:
    """A whole character.

    Attributes:
        name: Character name (prefix of nothing; used in messages and MJCF).
        root: The root limb.
        root_joint: ``free`` (6 DoF), ``planar`` (slide x, slide z, pitch about y: a 2D walker),
            ``planar_xy`` (slide x, slide y, yaw about z: a swimmer) or ``fixed``.
        root_height: Height of the root origin above the terrain at the start (metres).
        contact: Contact settings.
        fall: Fall detection.
        medium: Fluid drag (for swimmers).
        timestep: Physics step (seconds).
    """

    name: str
    root: LimbSpec
    root_joint: str = "free"
    root_height: float = 1.0
    contact: ContactSpec = field(default_factory=ContactSpec)
    fall: FallSpec = field(default_factory=FallSpec)
    medium: MediumSpec = field(default_factory=MediumSpec)
    timestep: float = 0.005

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check the whole description; raise :class:`CharacterSpecError` naming the field."""
        if not isinstance(self.name, str) or not self.name:
            raise CharacterSpecError("name: a non-empty string is required")
        if not isinstance(self.root, LimbSpec):
            raise CharacterSpecError("root: expected a LimbSpec")
        if self.root_joint not in ROOT_JOINTS:
            raise CharacterSpecError(
                f"root_joint: {self.root_joint!r} unknown; choose one of: " + ", ".join(ROOT_JOINTS)
            )
        self.root.validate(self.root.name)
        if self.root.joints:
            raise CharacterSpecError(
                f"{self.root.name}.joints: the root limb takes no joints; set root_joint instead"
            )
        if not math.isfinite(self.root_height):
            raise CharacterSpecError(f"root_height: expected a finite number, got {self.root_height}")
        if not 0 < self.timestep <= 0.05:
            raise CharacterSpecError(f"timestep: expected (0, 0.05] seconds, got {self.timestep}")
        self.contact.validate("contact")
        self.fall.validate("fall")
        for kind, names in (
            ("limb", [limb.name for limb in self.limbs()]),
            ("joint", [joint.name for joint in self.joints()]),
        ):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise CharacterSpecError(f"{kind} name {name!r} is used twice")
                seen.add(name)

    def limbs(self) -> list[LimbSpec]:
        """Every limb, parents before children (MuJoCo body order)."""
        return list(self.root.walk())

    def joints(self) -> list[JointSpec]:
        """Every non-root joint, in MuJoCo order."""
        return [joint for limb in self.limbs() for joint in limb.joints]

    def actuated_joints(self) -> list[JointSpec]:
        """Joints with a motor (gear > 0), in actuator order."""
        return [joint for joint in self.joints() if joint.gear > 0]

    @property
    def action_size(self) -> int:
        """Number of motors (one per hinge, three per ball)."""
        return sum(joint.dof for joint in self.actuated_joints())


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise CharacterSpecError(f"{where}: expected a mapping, got {type(data).__name__}")
    allowed = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise CharacterSpecError(
            f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    kwargs = dict(data)
    if cls is LimbSpec:
        kwargs["joints"] = [
            _build(JointSpec, joint, f"{where}.joints[{i}]")
            for i, joint in enumerate(kwargs.get("joints", []) or [])
        ]
        kwargs["children"] = [
            _build(LimbSpec, child, f"{where}.children[{i}]")
            for i, child in enumerate(kwargs.get("children", []) or [])
        ]
    if cls is CharacterSpec:
        if "root" not in kwargs:
            raise CharacterSpecError("root: a root limb is required")
        kwargs["root"] = _build(LimbSpec, kwargs["root"], "root")
        for name, sub in (("contact", ContactSpec), ("fall", FallSpec), ("medium", MediumSpec)):
            if name in kwargs:
                kwargs[name] = _build(sub, kwargs[name], name)
    try:
        return cls(**kwargs)
    except TypeError as error:
        raise CharacterSpecError(f"{where}: {error}") from error


def character_from_dict(data: Mapping[str, Any]) -> CharacterSpec:
    """Build and validate a :class:`CharacterSpec` from plain dicts and lists (parsed YAML/JSON)."""
    return _build(CharacterSpec, data, "character")


def load_character(path: str | Path) -> CharacterSpec:
    """Read a character description from a ``.yaml``/``.yml`` or ``.json`` file.

    Example (YAML)::

        name: pogo
        root_joint: planar
        root_height: 0.75
        root: {name: torso, end: [0, 0, 0.4], radius: 0.08,
               children: [{name: leg, pos: [0, 0, -0.1], end: [0, 0, -0.5], foot: true,
                           joints: [{name: knee, range: [-150, 0], gear: 60}]}]}
    """
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(path.read_text())
    elif path.suffix.lower() == ".json":
        data = json.loads(path.read_text())
    else:
        raise CharacterSpecError(
            f"character file {str(path)!r}: suffix {path.suffix!r} unknown; choose one of: "
            ".yaml, .yml, .json"
        )
    return character_from_dict(data)
