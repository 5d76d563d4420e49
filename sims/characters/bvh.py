"""Read BVH motion capture files and retarget them onto a character with matching joints.

Retargeting copies rotations joint by joint: each character limb that has joints is matched to a
BVH joint (by name, ignoring case, ``_``, ``-`` and spaces, or through ``joint_map``), its local
rotation is converted from BVH's y-up axes to MuJoCo's z-up axes, and then

- a ball joint takes the whole rotation;
- a hinge joint takes the twist of the rotation about its axis (clipped to its range);
- the root takes the BVH root position (times ``scale``) and orientation.

The BVH rest pose (all rotations zero) must be the character's zero pose. Limbs that find no BVH
joint raise :class:`BVHError` naming every one of them and their joints.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import mujoco
import numpy as np

from visiongym.sims.characters.clips import MotionClip, root_translation_indices, velocities
from visiongym.sims.errors import UsageError

__all__ = ["BVHError", "BVHJoint", "BVHMotion", "read_bvh", "retarget_bvh"]

# MuJoCo coordinates of BVH's (x, y, z) when BVH is y-up: x_m = z_b, y_m = x_b, z_m = y_b.
_Y_UP_TO_Z_UP = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


class BVHError(UsageError):
    """A BVH file is malformed or cannot be mapped onto the character."""


@dataclass
class BVHJoint:
    """One joint of the BVH hierarchy."""

    name: str
    parent: int
    offset: np.ndarray
    channels: list[str] = field(default_factory=list)
    channel_start: int = 0


@dataclass
class BVHMotion:
    """A parsed BVH file: the joint hierarchy and a (frames, channels) array of values."""

    joints: list[BVHJoint]
    frame_time: float
    values: np.ndarray

    def joint(self, name: str) -> BVHJoint:
        """The joint called ``name``."""
        for joint in self.joints:
            if joint.name == name:
                return joint
        raise BVHError(f"BVH joint {name!r} unknown; joints: {', '.join(j.name for j in self.joints)}")

    def local_rotation(self, joint: BVHJoint, frame: int) -> np.ndarray:
        """Local rotation matrix of ``joint`` at ``frame`` in BVH axes (channels applied in order)."""
        rotation = np.eye(3)
        for i, channel in enumerate(joint.channels):
            if channel.endswith("rotation"):
                angle = math.radians(self.values[frame, joint.channel_start + i])
                rotation = rotation @ _axis_rotation(channel[0].lower(), angle)
        return rotation

    def root_position(self, frame: int) -> np.ndarray:
        """Root translation channels at ``frame`` (BVH axes and units); the offset if none."""
        root = self.joints[0]
        position = root.offset.astype(float).copy()
        for i, channel in enumerate(root.channels):
            if channel.endswith("position"):
                position["xyz".index(channel[0].lower())] = self.values[frame, root.channel_start + i]
        return position


def _axis_rotation(axis: str, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    if axis == "x":
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == "y":
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


_CHANNELS = {f"{a}{k}" for a in "XYZ" for k in ("position", "rotation")}


def read_bvh(path_or_text: str | Path) -> BVHMotion:
    """Parse a BVH file (a path, or the text itself when it starts with ``HIERARCHY``)."""
    text = str(path_or_text)
    if not text.lstrip().startswith("HIERARCHY"):
        text = Path(path_or_text).read_text()
    tokens = re.split(r"\s+", text.strip())
    position = 0

    def take() -> str:
        nonlocal position
        if position >= len(tokens):
            raise BVHError("unexpected end of BVH file")
        position += 1
        return tokens[position - 1]

    def expect(word: str) -> None:
        got = take()
        if got != word:
            raise BVHError(f"expected {word!r} in BVH file, found {got!r}")

    expect("HIERARCHY")
    joints: list[BVHJoint] = []
    stack: list[int] = []
    channel_count = 0
    kind = take()
    if kind != "ROOT":
        raise BVHError(f"expected 'ROOT' after HIERARCHY, found {kind!r}")
    while True:
        if kind in ("ROOT", "JOINT"):
            name = take()
            expect("{")
            expect("OFFSET")
            offset = np.array([float(take()) for _ in range(3)])
            joint = BVHJoint(name, stack[-1] if stack else -1, offset, channel_start=channel_count)
            if tokens[position] == "CHANNELS":
                take()
                count = int(take())
                joint.channels = [take() for _ in range(count)]
                unknown = [c for c in joint.channels if c not in _CHANNELS]
                if unknown:
                    raise BVHError(f"joint {name!r}: unknown channel(s) {unknown}")
                channel_count += count
            joints.append(joint)
            stack.append(len(joints) - 1)
        elif kind == "End":
            expect("Site")
            expect("{")
            expect("OFFSET")
            for _ in range(3):
                take()
            expect("}")
        elif kind == "}":
            stack.pop()
            if not stack:
                break
        else:
            raise BVHError(f"unexpected token {kind!r} in BVH hierarchy")
        kind = take()
    expect("MOTION")
    expect("Frames:")
    frames = int(take())
    expect("Frame")
    expect("Time:")
    frame_time = float(take())
    if frame_time <= 0:
        raise BVHError(f"Frame Time must be > 0, got {frame_time}")
    values = np.array([float(v) for v in tokens[position:]], dtype=np.float64)
    if values.size != frames * channel_count:
        raise BVHError(
            f"BVH motion has {values.size} values; {frames} frames x {channel_count} channels "
            f"= {frames * channel_count} expected"
        )
    return BVHMotion(joints, frame_time, values.reshape(frames, channel_count))


def _normalise(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


def _quat(rotation: np.ndarray) -> np.ndarray:
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.ascontiguousarray(rotation).ravel())
    return quat


def _twist(rotation: np.ndarray, axis: np.ndarray) -> float:
    quat = _quat(rotation)
    axis = axis / np.linalg.norm(axis)
    angle = 2 * math.atan2(float(quat[1:] @ axis), float(quat[0]))
    return (angle + math.pi) % (2 * math.pi) - math.pi


def retarget_bvh(
    motion: BVHMotion | str | Path,
    scene,
    joint_map: Mapping[str, str] | None = None,
    scale: float = 1.0,
    y_up: bool = True,
) -> MotionClip:
    """Turn BVH motion into a :class:`MotionClip` for the character of ``scene``.

    Args:
        motion: A parsed :class:`BVHMotion`, or a BVH path or text.
        scene: A :class:`~visiongym.sims.characters.scene.CharacterScene`.
        joint_map: Character limb name -> BVH joint name, for limbs whose names differ.
        scale: Metres per BVH unit (0.01 for centimetres).
        y_up: The BVH file is y-up (the usual case); False for z-up files.

    Raises:
        BVHError: naming every character limb (and its joints) that has no BVH joint.
    """
    if not isinstance(motion, BVHMotion):
        motion = read_bvh(motion)
    joint_map = dict(joint_map or {})
    by_name = {_normalise(j.name): j for j in motion.joints}
    limbs = [limb for limb in scene.spec.limbs() if limb.joints]
    matches, unmapped = {}, []
    for limb in limbs:
        target = joint_map.get(limb.name, limb.name)
        joint = by_name.get(_normalise(target))
        if joint is None:
            unmapped.append(f"{limb.name} (joints {', '.join(j.name for j in limb.joints)})")
        else:
            matches[limb.name] = joint
    if unmapped:
        raise BVHError(
            "BVH has no joint for character limb(s): " + "; ".join(unmapped)
            + f". BVH joints: {', '.join(j.name for j in motion.joints)}. "
            "Pass joint_map={limb: bvh_joint} for names that differ."
        )
    convert = _Y_UP_TO_Z_UP if y_up else np.eye(3)
    model, spec = scene.model, scene.spec
    frames = len(motion.values)
    qpos = np.tile(model.qpos0, (frames, 1))
    root_start = model.body_pos[scene.root_body]
    for k in range(frames):
        root_rotation = convert @ motion.local_rotation(motion.joints[0], k) @ convert.T
        root_position = scale * (convert @ motion.root_position(k))
        if spec.root_joint == "free":
            qpos[k, :3] = root_position
            qpos[k, 3:7] = _quat(root_rotation)
        elif spec.root_joint == "planar":
            qpos[k, 0] = root_position[0] - root_start[0]
            qpos[k, 1] = root_position[2] - root_start[2]
            qpos[k, 2] = _twist(root_rotation, np.array([0.0, 1.0, 0.0]))
        elif spec.root_joint == "planar_xy":
            qpos[k, 0] = root_position[0] - root_start[0]
            qpos[k, 1] = root_position[1] - root_start[1]
            qpos[k, 2] = _twist(root_rotation, np.array([0.0, 0.0, 1.0]))
        for limb in limbs:
            local = convert @ motion.local_rotation(matches[limb.name], k) @ convert.T
            for joint in limb.joints:
                address = model.joint(joint.name).qposadr[0]
                if joint.type == "ball":
                    qpos[k, address : address + 4] = _quat(local)
                else:
                    low, high = np.radians(joint.range)
                    qpos[k, address] = np.clip(_twist(local, np.array(joint.axis)), low, high)
    fps = 1.0 / motion.frame_time
    return MotionClip(
        character=spec.name, fps=fps, qpos=qpos, qvel=velocities(model, qpos, fps, cyclic=False),
        joint_names=tuple(mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, i) for i in range(model.njnt)),
        quat_qpos=tuple(scene.quat_qpos), root_translation=root_translation_indices(spec.root_joint),
        cyclic=False,
    )
