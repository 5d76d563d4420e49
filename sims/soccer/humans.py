"""The human look of the soccer players: kitted humanoids posed from the gait clips, for pictures only.

With ``players="human"`` the physics is the robots' own model, untouched; what is drawn is a
second model (``SoccerScene.view_model``): the same one, with the same ids and qpos layout, the
robots' visual geoms hidden, plus one mocap body per player (``human_<i>``) holding the
humanoid's massless visual geoms. Before each render the scene copies the state into it and
:class:`HumanPoser` poses the humanoids kinematically: it runs forward kinematics of the
:func:`~visiongym.sims.characters.presets.humanoid` character (:mod:`visiongym.sims.characters`)
at a blend of three poses, writes every visual geom's offset in its player's frame into
``geom_pos``/``geom_quat``, moves the mocap body onto the player and recomputes the geom frames
with ``mj_kinematics``:

- the gait: the humanoid's procedural gait clip (:func:`~visiongym.sims.characters.clips.gait_clip`)
  at a cycle phase that advances with the distance the player covers between renders (one
  cycle per :data:`STRIDE_HEIGHTS` body heights; backwards when it backs up), its swing growing
  with speed from standing still to a run at top speed, the body leaning into the run;
- the facing: the player's yaw (the humanoid faces the player body's +x);
- the kick: a right-footed kick pose blended in for the kick cool-down after a kick command.

The humanoid is :data:`HUMAN_SCALE` of the character's size (about 0.16 m tall on a 2.4 m pitch).
Its kit: a shirt, sleeves and socks in the team colour (the geoms a look's kit keys paint), team
shorts, boots, a skin tone and hair colour per player, and the shirt number on the back in
seven-segment digits. :data:`KEYPOINT_NAMES` are the 2D skeleton keypoints of the ground truth
(COCO's body order with the face points replaced by head and neck, plus the toes).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import mujoco
import numpy as np

__all__ = ["PLAYER_LOOKS", "HUMAN_SCALE", "STRIDE_HEIGHTS", "KEYPOINT_NAMES", "SKELETON", "HumanPoser",
           "human_geoms_xml", "human_height"]

#: What the players look like: round robots, or humans in kits.
PLAYER_LOOKS = ("robot", "human")
#: The humanoid's size in the scene relative to the character preset (1.57 m tall).
HUMAN_SCALE = 0.1
#: Ground covered per gait cycle (two steps), in body heights.
STRIDE_HEIGHTS = 2.2

#: Skeleton keypoints: COCO's body keypoints in COCO's order, head and neck in place of the face,
#: the toes last. "left" is the player's own left.
KEYPOINT_NAMES = (
    "head", "neck", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
    "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_toe", "right_toe",
)
#: Limbs as pairs of keypoint indices (0-based), for drawing the skeleton.
SKELETON = (
    (0, 1), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7), (1, 8), (1, 9), (8, 9), (8, 10), (9, 11),
    (10, 12), (11, 13), (12, 14), (13, 15),
)
# (rig body, point in its frame, limb radius) of each keypoint, in the character's metres; the
# radius is how far in front of the keypoint its own surface may lie (visibility test).
_KEYPOINTS = {
    "head": ("head", (0, 0, 0), 0.1),
    "neck": ("torso", (0, 0, 0.47), 0.08),
    "shoulder": ("upper_arm", (0, 0, 0), 0.065),
    "elbow": ("forearm", (0, 0, 0), 0.045),
    "wrist": ("forearm", (0, 0, -0.25), 0.045),
    "hip": ("thigh", (0, 0, 0), 0.1),
    "knee": ("shin", (0, 0, 0), 0.06),
    "ankle": ("shin", (0, 0, -0.42), 0.055),
    "toe": ("foot", (0.17, 0, 0), 0.045),
}

SKIN_TONES = ((0.96, 0.8, 0.69), (0.87, 0.68, 0.52), (0.72, 0.52, 0.37), (0.55, 0.38, 0.26), (0.38, 0.25, 0.17))
HAIR_COLOURS = ((0.08, 0.06, 0.05), (0.32, 0.19, 0.09), (0.58, 0.4, 0.2), (0.86, 0.74, 0.47), (0.2, 0.16, 0.13))
SHORTS_COLOURS = ((0.96, 0.96, 0.96), (0.1, 0.1, 0.16))
BOOT_COLOUR = (0.07, 0.07, 0.07)
NUMBER_COLOUR = (0.98, 0.98, 0.98)
#: Parts in the team colour: the geoms a look's kit keys paint.
KIT_ROLES = ("shirt", "socks")


@dataclass(frozen=True)
class Part:
    """One visual geom of the humanoid, fixed in a rig body's frame (character metres)."""

    name: str
    body: str
    kind: str  # capsule, sphere, ellipsoid or box
    size: tuple[float, ...]
    pos: tuple[float, float, float]
    quat: tuple[float, float, float, float]
    role: str  # shirt, shorts, skin, socks, boots, hair, number


def _limb(name: str, body: str, start, end, radius: float, role: str, reach: float = 0.6) -> Part:
    """An ellipsoid round the segment ``start``-``end``, ``radius`` thick, reaching ``reach``
    radii past each end (its frame's z runs along the segment). Ellipsoids, not capsules: they
    taper at the joints as limbs do, and software GL draws them in half the time."""
    start, end = np.asarray(start, float), np.asarray(end, float)
    axis = end - start
    half = float(np.linalg.norm(axis)) / 2
    quat = np.zeros(4)
    mujoco.mju_quatZ2Vec(quat, axis / (2 * half))
    return Part(name, body, "ellipsoid", (radius, radius, half + reach * radius), tuple((start + end) / 2),
                tuple(quat), role)


def _fixed(name: str, body: str, kind: str, size, pos, role: str) -> Part:
    return Part(name, body, kind, tuple(size), tuple(pos), (1.0, 0.0, 0.0, 0.0), role)


def _body_parts() -> tuple[Part, ...]:
    parts = [
        _fixed("shirt", "torso", "ellipsoid", (0.115, 0.19, 0.29), (0, 0, 0.23), "shirt"),
        _limb("pelvis", "torso", (0, -0.09, -0.02), (0, 0.09, -0.02), 0.11, "shorts", reach=0.4),
        _fixed("head", "head", "ellipsoid", (0.09, 0.08, 0.105), (0, 0, 0), "skin"),
        _fixed("hair", "head", "ellipsoid", (0.092, 0.086, 0.088), (-0.016, 0, 0.03), "hair"),
    ]
    for side in ("left", "right"):
        parts += [
            _limb(f"sleeve_{side}", f"upper_arm_{side}", (0, 0, 0.02), (0, 0, -0.12), 0.056, "shirt"),
            _limb(f"upper_arm_{side}", f"upper_arm_{side}", (0, 0, 0), (0, 0, -0.27), 0.042, "skin"),
            _limb(f"forearm_{side}", f"forearm_{side}", (0, 0, 0), (0, 0, -0.25), 0.038, "skin"),
            _limb(f"shorts_{side}", f"thigh_{side}", (0, 0, 0), (0, 0, -0.2), 0.078, "shorts"),
            _limb(f"thigh_{side}", f"thigh_{side}", (0, 0, 0), (0, 0, -0.42), 0.064, "skin"),
            _limb(f"sock_{side}", f"shin_{side}", (0, 0, -0.03), (0, 0, -0.41), 0.055, "socks"),
            _limb(f"boot_{side}", f"foot_{side}", (0.0, 0, 0), (0.17, 0, 0), 0.048, "boots", reach=0.5),
        ]
    return tuple(parts)


BODY_PARTS = _body_parts()

# Seven-segment digits: which of the segments a (top), b (top right), c (bottom right), d (bottom),
# e (bottom left), f (top left), g (middle) each digit lights.
_DIGITS = ("abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg")
_DIGIT_W, _DIGIT_H, _STROKE = 0.1, 0.19, 0.026
_SEGMENTS = {  # (u, v) centre and (half u, half v) in a digit's plane: u to the viewer's right
    "a": ((0, _DIGIT_H / 2), (_DIGIT_W / 2 + _STROKE / 2, _STROKE / 2)),
    "g": ((0, 0), (_DIGIT_W / 2 + _STROKE / 2, _STROKE / 2)),
    "d": ((0, -_DIGIT_H / 2), (_DIGIT_W / 2 + _STROKE / 2, _STROKE / 2)),
    "b": ((_DIGIT_W / 2, _DIGIT_H / 4), (_STROKE / 2, _DIGIT_H / 4)),
    "c": ((_DIGIT_W / 2, -_DIGIT_H / 4), (_STROKE / 2, _DIGIT_H / 4)),
    "e": ((-_DIGIT_W / 2, -_DIGIT_H / 4), (_STROKE / 2, _DIGIT_H / 4)),
    "f": ((-_DIGIT_W / 2, _DIGIT_H / 4), (_STROKE / 2, _DIGIT_H / 4)),
}


def number_parts(number: int) -> tuple[Part, ...]:
    """The shirt number on the back: seven-segment boxes on the shirt's back, read from behind."""
    digits = str(int(number))
    parts = []
    for k, digit in enumerate(digits):
        centre_u = (k - (len(digits) - 1) / 2) * (_DIGIT_W + 0.05)
        for segment in _DIGITS[int(digit)]:
            (u, v), (half_u, half_v) = _SEGMENTS[segment]
            # Seen from behind (looking along +x), the viewer's right is the player's right, -y.
            parts.append(_fixed(f"num{k}{segment}", "torso", "box", (0.008, half_u, half_v),
                                (-0.108, -(centre_u + u), 0.25 + v), "number"))
    return tuple(parts)


def human_height() -> float:
    """Height of a standing human player in the scene, metres."""
    return _rig().height * HUMAN_SCALE


def _colours(index: int, team: int, shirt_rgb) -> dict[str, tuple[float, ...]]:
    return {
        "shirt": tuple(shirt_rgb), "socks": tuple(shirt_rgb), "shorts": SHORTS_COLOURS[team],
        "skin": SKIN_TONES[(3 * index + team) % len(SKIN_TONES)],
        "hair": HAIR_COLOURS[(2 * index + 1) % len(HAIR_COLOURS)],
        "boots": BOOT_COLOUR, "number": NUMBER_COLOUR,
    }


def player_parts(number: int) -> tuple[Part, ...]:
    """Every visual part of a player wearing shirt ``number``."""
    return BODY_PARTS + number_parts(number)


def human_geoms_xml(index: int, team: int, number: int, shirt_rgb) -> str:
    """MJCF geoms of player ``index``'s humanoid (in its player body), standing, named ``p{i}_h_<part>``."""
    rig = _rig()
    parts = player_parts(number)
    positions, quats = rig.part_frames(rig.part_arrays(parts), rig.stand_frames())
    colours = _colours(index, team, shirt_rgb)
    lines = []
    for part, pos, quat in zip(parts, positions, quats, strict=True):
        size = " ".join(f"{HUMAN_SCALE * s:.5g}" for s in part.size)
        rgba = " ".join(f"{c:.4g}" for c in (*colours[part.role], 1.0))
        lines.append(
            f'<geom name="p{index}_h_{part.name}" type="{part.kind}" size="{size}" '
            f'pos="{" ".join(f"{v:.6g}" for v in pos)}" quat="{" ".join(f"{v:.6g}" for v in quat)}" '
            f'rgba="{rgba}" contype="0" conaffinity="0" mass="0"/>'
        )
    return "\n      ".join(lines)


# --------------------------------------------------------------------------- the rig
def _quat(axis, degrees: float) -> np.ndarray:
    quat = np.zeros(4)
    mujoco.mju_axisAngle2Quat(quat, np.asarray(axis, float), math.radians(degrees))
    return quat


def _quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton products of quaternion arrays (..., 4), w first."""
    aw, ax, ay, az = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bw, bx, by, bz = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return np.stack([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ], axis=-1)


class _Rig:
    """The humanoid character's model, its gait clip, and its stand and kick poses.

    Poses are blended in the tangent space of the joints at the stand pose
    (``mj_differentiatePos`` / ``mj_integratePos``).
    """

    def __init__(self) -> None:
        from visiongym.sims.characters.clips import gait_clip
        from visiongym.sims.characters.scene import CharacterScene

        character = CharacterScene("humanoid")
        self.model = character.model
        self.data = mujoco.MjData(self.model)
        self.clip = gait_clip(character)
        model = self.model
        self.body_names = [model.body(b).name for b in range(model.nbody)]
        self.limb_geoms = np.array(character._limb_geoms)
        self.stand = model.qpos0.copy()
        for side in ("left", "right"):
            self.stand[model.joint(f"elbow_{side}").qposadr[0]] = math.radians(-15)
        self.kick = self._kick_pose()
        # Every pose is the stand pose moved by a joint-space step (mj_integratePos), so ball
        # joints blend as rotations and a run may swing further than the walking clip.
        gait = self.clip.qpos.copy()
        gait[:, :7] = self.stand[:7]  # the clip's root travel and height are the scene's business
        self._gait = np.array([self.tangent(q) for q in gait])
        self._kick = self.tangent(self.kick)
        frames = self.frames(self.stand)
        self.height = float(frames[0][self.body_names.index("head"), 2] + 0.105)

    def _kick_pose(self) -> np.ndarray:
        model = self.model
        qpos = self.stand.copy()

        def ball(name: str, quat: np.ndarray) -> None:
            address = model.joint(name).qposadr[0]
            qpos[address : address + 4] = quat

        def hinge(name: str, degrees: float) -> None:
            qpos[model.joint(name).qposadr[0]] = math.radians(degrees)

        qpos[3:7] = _quat((0, 1, 0), -8)  # leaning back a little
        ball("hip_right", _quat((0, 1, 0), -65))  # the kicking leg swung forward
        hinge("knee_right", 20)
        hinge("ankle_right", 25)
        ball("hip_left", _quat((0, 1, 0), 15))
        hinge("knee_left", 25)
        ball("shoulder_left", _quat_mul(_quat((1, 0, 0), 55), _quat((0, 1, 0), -25)))
        ball("shoulder_right", _quat_mul(_quat((1, 0, 0), -45), _quat((0, 1, 0), 30)))
        hinge("elbow_left", -40)
        hinge("elbow_right", -40)
        return qpos

    def tangent(self, qpos: np.ndarray) -> np.ndarray:
        """The joint-space step (nv,) from the stand pose to ``qpos``."""
        delta = np.zeros(self.model.nv)
        mujoco.mj_differentiatePos(self.model, delta, 1.0, self.stand, qpos)
        return delta

    def pose(self, phase: float, swing: float, lean: float, kick: float) -> np.ndarray:
        """Joint positions at gait ``phase`` (cycles), ``swing`` times the clip's amplitude,
        leaning ``lean`` degrees forward, and ``kick`` of the way into the kick pose."""
        position = (phase % 1.0) * (len(self._gait) - 1)
        low = min(int(position), len(self._gait) - 2)
        blend = position - low
        delta = swing * ((1 - blend) * self._gait[low] + blend * self._gait[low + 1])
        delta[4] = math.radians(lean)  # the root's pitch rate: a lean into the run
        if kick > 0:
            delta = (1 - kick) * delta + kick * self._kick
        qpos = self.stand.copy()
        mujoco.mj_integratePos(self.model, qpos, delta, 1.0)
        return qpos

    def frames(self, qpos: np.ndarray, positions: np.ndarray | None = None, rotations: np.ndarray | None = None,
               quats: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Body positions (nbody, 3), rotation matrices (nbody, 3, 3) and quaternions (nbody, 4)
        of pose ``qpos``, standing on z = 0 at the origin (written into the arrays given)."""
        data = self.data
        data.qpos[:] = qpos
        data.qpos[:2] = 0.0
        mujoco.mj_kinematics(self.model, data)
        geoms = self.limb_geoms
        size = self.model.geom_size[geoms]
        axis_z = data.geom_xmat[geoms, 8]
        lowest = np.min(data.geom_xpos[geoms, 2] - np.abs(axis_z) * size[:, 1] - size[:, 0])
        nbody = self.model.nbody
        positions = np.empty((nbody, 3)) if positions is None else positions
        rotations = np.empty((nbody, 3, 3)) if rotations is None else rotations
        quats = np.empty((nbody, 4)) if quats is None else quats
        positions[:] = data.xpos
        positions[:, 2] -= lowest
        rotations[:] = data.xmat.reshape(-1, 3, 3)
        quats[:] = data.xquat
        return positions, rotations, quats

    def stand_frames(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.frames(self.stand)

    def part_arrays(self, parts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rig body index, position and quaternion of each of ``parts`` in its body."""
        return (np.array([self.body_names.index(part.body) for part in parts]),
                np.array([part.pos for part in parts], float), np.array([part.quat for part in parts], float))

    def part_frames(self, arrays, frames) -> tuple[np.ndarray, np.ndarray]:
        """Positions (scene metres) and quaternions in the player frame of the parts whose
        :meth:`part_arrays` are ``arrays``, in the pose of ``frames``."""
        index, pos, quat = arrays
        body_pos, body_mat, body_quat = (f[index] for f in frames)
        world = body_pos + np.einsum("gij,gj->gi", body_mat, pos)
        return HUMAN_SCALE * world, _quat_mul(body_quat, quat)


@functools.lru_cache(maxsize=1)
def _rig() -> _Rig:
    return _Rig()


# --------------------------------------------------------------------------- posing
class HumanPoser:
    """Poses every player's humanoid from the scene state; holds only ids and arrays (pickles).

    Args:
        model: the soccer scene's model, built with ``players="human"``.
        numbers: every player's shirt number, in player order.
        max_speed: the players' top speed, m/s (a run at top speed, a walk below a quarter of it).
    """

    def __init__(self, model: mujoco.MjModel, numbers, max_speed: float) -> None:
        rig = _rig()
        self.n_players = len(numbers)
        self.max_speed = float(max_speed)
        self.stride = STRIDE_HEIGHTS * rig.height * HUMAN_SCALE
        self.geoms: list[np.ndarray] = []
        self.parts: list[tuple[Part, ...]] = []
        self._arrays: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for i, number in enumerate(numbers):
            parts = player_parts(int(number))
            self.parts.append(parts)
            self._arrays.append(rig.part_arrays(parts))
            self.geoms.append(np.array([mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, f"p{i}_h_{part.name}")
                                        for part in parts]))
        self.all_geoms = np.concatenate(self.geoms) if self.geoms else np.zeros(0, int)
        #: Mocap index of each player's humanoid body.
        self.mocap = np.array([model.body_mocapid[model.body(f"human_{i}").id] for i in range(self.n_players)])
        # Every geom's (player, rig body, position and quaternion in that body), flat.
        self._flat = (
            np.concatenate([np.full(len(g), i) for i, g in enumerate(self.geoms)]).astype(int),
            *(np.concatenate([arrays[k] for arrays in self._arrays]) for k in range(3)),
        )
        nbody = rig.model.nbody
        self._frames = (np.zeros((self.n_players, nbody, 3)), np.zeros((self.n_players, nbody, 3, 3)),
                        np.zeros((self.n_players, nbody, 4)))
        keypoint_body, keypoint_point, keypoint_radius = [], [], []
        for name in KEYPOINT_NAMES:
            side, _, joint = name.rpartition("_")
            body, point, radius = _KEYPOINTS[joint]
            keypoint_body.append(rig.body_names.index(f"{body}_{side}" if side else body))
            keypoint_point.append(point)
            keypoint_radius.append(radius)
        self._keypoint_body = np.array(keypoint_body)
        self._keypoint_point = np.array(keypoint_point, float)
        #: How far (metres) in front of each keypoint its own limb's surface may lie.
        self.keypoint_radius = HUMAN_SCALE * np.array(keypoint_radius)
        self._keypoints = np.zeros((self.n_players, len(KEYPOINT_NAMES), 3))

    def kit_geoms_of(self, teams) -> list[list[int]]:
        """Geom ids of each team's kit parts."""
        kits: list[list[int]] = [[], []]
        for i, parts in enumerate(self.parts):
            kits[int(teams[i])] += [int(g) for g, part in zip(self.geoms[i], parts, strict=True)
                                    if part.role in KIT_ROLES]
        return kits

    def pose(self, model: mujoco.MjModel, data: mujoco.MjData, poses: np.ndarray, speeds: np.ndarray,
             phases: np.ndarray, kicks: np.ndarray) -> None:
        """Pose every humanoid, move it onto its player and recompute the geom frames
        (``mj_kinematics``; the physics state is untouched).

        Args:
            model, data: the soccer scene's.
            poses: (n, 3) each player's (x, y, yaw).
            speeds: (n,) each player's speed, m/s.
            phases: (n,) gait phase of each player, in cycles.
            kicks: (n,) weight of the kick pose in [0, 1].
        """
        rig = _rig()
        run = np.minimum(1.0, np.asarray(speeds) / self.max_speed).tolist()
        phases, kicks = np.asarray(phases).tolist(), np.asarray(kicks).tolist()
        frames = self._frames
        for i in range(self.n_players):
            swing = min(1.0, 4.0 * run[i]) * (1.0 + 0.6 * run[i])
            rig.frames(rig.pose(phases[i], swing, 10.0 * run[i], kicks[i]), *(f[i] for f in frames))
        body_pos, body_mat, body_quat = frames
        player, body, local_pos, local_quat = self._flat
        model.geom_pos[self.all_geoms] = HUMAN_SCALE * (
            body_pos[player, body] + np.einsum("gij,gj->gi", body_mat[player, body], local_pos))
        model.geom_quat[self.all_geoms] = _quat_mul(body_quat[player, body], local_quat)
        body = self._keypoint_body
        self._keypoints[:] = HUMAN_SCALE * (
            body_pos[:, body] + np.einsum("nkij,kj->nki", body_mat[:, body], self._keypoint_point))
        data.mocap_pos[self.mocap, :2] = poses[:, :2]
        data.mocap_pos[self.mocap, 2] = 0.0
        half = 0.5 * np.asarray(poses[:, 2])
        data.mocap_quat[self.mocap] = np.stack([np.cos(half), 0 * half, 0 * half, np.sin(half)], axis=1)
        mujoco.mj_kinematics(model, data)

    def keypoints(self, poses: np.ndarray) -> np.ndarray:
        """(n, K, 3) world positions of the keypoints of the last :meth:`pose`, players at ``poses``
        (n, 3) = (x, y, yaw)."""
        cos, sin = np.cos(poses[:, 2]), np.sin(poses[:, 2])
        local = self._keypoints
        x = poses[:, None, 0] + cos[:, None] * local[..., 0] - sin[:, None] * local[..., 1]
        y = poses[:, None, 1] + sin[:, None] * local[..., 0] + cos[:, None] * local[..., 1]
        return np.stack([x, y, local[..., 2]], axis=-1)
