"""Observations and tasks of ``visiongym/LearnToMove-v0``: run, target, imitate.

The environment (:mod:`visiongym.envs.learn_to_move`) glues a :class:`~visiongym.sims.characters.CharacterScene` to
one task. A task resets the episode (goals, reference state initialisation), adds its features to
the observation and turns a physics step into a reward, with every reward term in ``info``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visiongym.sims.characters.bvh import retarget_bvh
from visiongym.sims.characters.clips import MotionClip, gait_clip
from visiongym.sims.characters.scene import CharacterScene
from visiongym.sims.errors import UsageError

__all__ = [
    "TASKS",
    "DEEPMIMIC_WEIGHTS",
    "DEEPMIMIC_SCALES",
    "Field",
    "state_fields",
    "proprioception",
    "RunTask",
    "TargetTask",
    "ImitateTask",
    "make_task",
]

TASKS = ("run", "target", "imitate")

#: DeepMimic's reward weights (pose, velocity, end effector, root, centre of mass); they sum to 1.
DEEPMIMIC_WEIGHTS = {"pose": 0.5, "velocity": 0.05, "end_effector": 0.15, "root": 0.2, "com": 0.1}
#: DeepMimic's error scales: each term is exp(-scale * error).
DEEPMIMIC_SCALES = {"pose": 2.0, "velocity": 0.1, "end_effector": 40.0, "root": 5.0, "com": 10.0}
_JOINT_SPEED_CLIP = 50.0
_IDENTITY = np.eye(3)


@dataclass(frozen=True)
class Field:
    """One named slice of the state observation."""

    name: str
    size: int
    description: str


def _heading_rotation(scene: CharacterScene) -> np.ndarray:
    """World -> heading frame (yaw removed) for 3D characters; identity for planar ones."""
    if scene.spec.root_joint in ("planar", "fixed"):
        return _IDENTITY
    yaw = scene.heading()
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])


def state_fields(scene: CharacterScene) -> list[Field]:
    """The proprioceptive fields of ``scene``'s character, in observation order."""
    root = scene.spec.root_joint
    orientation = {
        "free": (3, "world up axis in the root frame (tilt; 0 0 1 when upright)"),
        "planar": (2, "sin, cos of the root pitch"),
        "planar_xy": (2, "sin, cos of the root yaw"),
        "fixed": (0, "none"),
    }[root]
    velocity = {
        "free": (6, "root linear velocity (heading frame, m/s), then angular velocity (root frame, rad/s)"),
        "planar": (3, "root vx, vz (m/s) and pitch rate (rad/s)"),
        "planar_xy": (3, "root vx, vy in the heading frame (m/s) and yaw rate (rad/s)"),
        "fixed": (0, "none"),
    }[root]
    return [
        Field("root_height", 1, "root height above the terrain under it (m)"),
        Field("root_orientation", *orientation),
        Field("root_velocity", *velocity),
        Field("joint_angles", scene.model.nq - scene.root_nq,
              "joint angles (rad) per hinge, quaternion per ball joint: " + ", ".join(scene.joint_names)),
        Field("joint_velocities", scene.model.nv - scene.root_nv,
              f"joint velocities (rad/s, clipped to ±{_JOINT_SPEED_CLIP:g})"),
        Field("end_effectors", 3 * len(scene.end_effector_names),
              "end effector positions relative to the root, heading frame (m): "
              + ", ".join(scene.end_effector_names)),
        Field("foot_contacts", len(scene.foot_names),
              "1 when the foot touches the terrain: " + (", ".join(scene.foot_names) or "none")),
    ]


def proprioception(scene: CharacterScene) -> np.ndarray:
    """The values of :func:`state_fields`, concatenated."""
    root = scene.spec.root_joint
    views = scene.views
    qpos, qvel = views.qpos, views.qvel
    heading = _heading_rotation(scene)
    if root == "free":
        linear, _ = scene.root_velocity()
        # Row 2 of the root rotation matrix: the world up axis seen from the root frame.
        base = [views.root_xmat[6:9], heading @ linear, qvel[3:6]]
    elif root == "planar":
        base = [(math.sin(qpos[2]), math.cos(qpos[2])), qvel[:3]]
    elif root == "planar_xy":
        base = [(math.sin(qpos[2]), math.cos(qpos[2])), (heading @ (qvel[0], qvel[1], 0.0))[:2], qvel[2:3]]
    else:
        base = []
    effectors = scene.end_effector_positions() - views.root_xpos
    if heading is not _IDENTITY:
        effectors = effectors @ heading.T
    speeds = np.minimum(np.maximum(qvel[scene.root_nv :], -_JOINT_SPEED_CLIP), _JOINT_SPEED_CLIP)
    return np.concatenate([
        (scene.height_above_ground(),), *base, qpos[scene.root_nq :], speeds, effectors.ravel(),
        scene.foot_contacts(),
    ]).astype(np.float64)


class _Task:
    """Shared parts: healthy and control terms."""

    name = ""

    def __init__(self, healthy_reward: float, ctrl_cost_weight: float, terminate_when_fallen: bool):
        self.healthy_reward = healthy_reward
        self.ctrl_cost_weight = ctrl_cost_weight
        self.terminate_when_fallen = terminate_when_fallen

    def fields(self, scene: CharacterScene) -> list[Field]:
        return []

    def features(self, scene: CharacterScene) -> np.ndarray:
        return np.zeros(0)

    def reset(self, scene: CharacterScene, rng: np.random.Generator) -> None:
        """Prepare the episode (the scene is already at its start state)."""

    def _common(self, scene: CharacterScene, action: np.ndarray) -> tuple[dict, bool, bool]:
        """Healthy and control terms, whether the episode terminates, and whether it fell."""
        fallen = scene.fallen()
        terms = {
            "reward_healthy": 0.0 if fallen else self.healthy_reward,
            "reward_ctrl": -self.ctrl_cost_weight * float(action @ action),
        }
        return terms, fallen and self.terminate_when_fallen, fallen


class RunTask(_Task):
    """Run forward (+x): forward velocity + healthy bonus - control cost - contact cost."""

    name = "run"

    def __init__(self, forward_reward_weight: float = 1.0, contact_cost_weight: float = 5e-4, **common):
        super().__init__(**common)
        self.forward_reward_weight = forward_reward_weight
        self.contact_cost_weight = contact_cost_weight

    def reward(self, scene: CharacterScene, action: np.ndarray, before: np.ndarray, dt: float):
        after = scene.center_of_mass()
        velocity = (after[0] - before[0]) / dt
        terms, terminated, fallen = self._common(scene, action)
        forces = np.minimum(np.maximum(scene.views.cfrc_ext[1:], -1.0), 1.0)
        terms["reward_forward"] = float(self.forward_reward_weight * velocity)
        terms["reward_contact"] = -self.contact_cost_weight * float(np.square(forces).sum())
        info = {"x_position": float(after[0]), "x_velocity": float(velocity), "fallen": fallen}
        return sum(terms.values()), terminated, False, {**terms, **info}


class TargetTask(_Task):
    """Reach goals on the terrain: progress towards the goal, a bonus and a new goal on arrival."""

    name = "target"

    def __init__(
        self,
        distance_range: tuple[float, float] = (2.0, 5.0),
        reach_radius: float = 0.5,
        reach_bonus: float = 10.0,
        progress_weight: float = 1.0,
        **common,
    ):
        super().__init__(**common)
        if not 0 < distance_range[0] <= distance_range[1]:
            raise UsageError(f"target_distance: expected 0 < min <= max, got {distance_range}")
        self.distance_range = distance_range
        self.reach_radius = reach_radius
        self.reach_bonus = reach_bonus
        self.progress_weight = progress_weight
        self.goal = np.zeros(3)
        self._rng: np.random.Generator | None = None

    def fields(self, scene: CharacterScene) -> list[Field]:
        return [Field("goal", 3, "goal dx, dy in the heading frame (m) and its distance (m)")]

    def reset(self, scene: CharacterScene, rng: np.random.Generator) -> None:
        self._rng = rng
        self._new_goal(scene)

    def _new_goal(self, scene: CharacterScene) -> None:
        distance = self._rng.uniform(*self.distance_range)
        # Planar walkers can only go along x; the others get goals within ±60° of +x.
        angle = 0.0 if scene.spec.root_joint == "planar" else self._rng.uniform(-math.pi / 3, math.pi / 3)
        x, y = scene.center_of_mass()[:2]
        gx, gy = x + distance * math.cos(angle), y + distance * math.sin(angle)
        self.goal = np.array([gx, gy, scene.ground_height(gx, gy)])

    def _offset(self, scene: CharacterScene) -> np.ndarray:
        delta = self.goal[:2] - scene.center_of_mass()[:2]
        if scene.spec.root_joint == "planar":
            delta[1] = 0.0
        return delta

    def features(self, scene: CharacterScene) -> np.ndarray:
        delta = self._offset(scene)
        local = (_heading_rotation(scene) @ np.array([delta[0], delta[1], 0.0]))[:2]
        return np.array([local[0], local[1], np.linalg.norm(delta)])

    def reward(self, scene: CharacterScene, action: np.ndarray, before: np.ndarray, dt: float):
        previous = np.linalg.norm(self.goal[:2] - before[:2]) if scene.spec.root_joint != "planar" else abs(
            self.goal[0] - before[0]
        )
        distance = float(np.linalg.norm(self._offset(scene)))
        terms, terminated, fallen = self._common(scene, action)
        terms["reward_progress"] = float(self.progress_weight * (previous - distance) / dt)
        reached = distance < self.reach_radius
        terms["reward_reach"] = self.reach_bonus if reached else 0.0
        info = {"distance_to_goal": distance, "goal": self.goal.copy(), "is_success": reached,
                "fallen": fallen}
        if reached:
            self._new_goal(scene)
        return sum(terms.values()), terminated, False, {**terms, **info}


def load_clip(clip: str | Path | MotionClip | None, scene: CharacterScene, fps: float) -> MotionClip:
    """The reference clip: the preset's procedural gait, an ``.npz`` clip, or a ``.bvh`` file."""
    if clip is None:
        return gait_clip(scene, fps=fps)
    if isinstance(clip, MotionClip):
        result = clip
    else:
        path = Path(clip)
        if path.suffix.lower() == ".bvh":
            result = retarget_bvh(path, scene)
        elif path.suffix.lower() == ".npz":
            result = MotionClip.load(path)
        else:
            raise UsageError(f"clip {str(path)!r}: suffix {path.suffix!r} unknown; choose one of: .npz, .bvh")
    result.check_model(scene.model)
    return result


def _root_linear_velocity(scene: CharacterScene, qvel: np.ndarray) -> np.ndarray:
    """World linear velocity of the root joint from a ``qvel`` vector."""
    root = scene.spec.root_joint
    if root == "free":
        return np.asarray(qvel[:3], dtype=float)
    if root == "planar":  # slide x, slide z, pitch
        return np.array([qvel[0], 0.0, qvel[1]])
    if root == "planar_xy":  # slide x, slide y, yaw
        return np.array([qvel[0], qvel[1], 0.0])
    return np.zeros(3)


def _rotation_angle(q_a: np.ndarray, q_b: np.ndarray) -> float:
    """Angle (rad) of the rotation between two unit quaternions (DeepMimic's q̂ ⊖ q)."""
    return 2.0 * math.acos(min(1.0, abs(float(np.dot(q_a, q_b)))))


class ImitateTask(_Task):
    """Follow a reference clip with the DeepMimic reward, reference state initialisation and
    early termination on a fall."""

    name = "imitate"

    def __init__(self, clip: MotionClip, reference_observation: bool = False, **common):
        super().__init__(**common)
        self.clip = clip
        self.reference_observation = reference_observation
        self.reference_time = 0.0

    def fields(self, scene: CharacterScene) -> list[Field]:
        fields = [Field("phase", 2, "sin, cos of 2π x the clip phase (reference time / clip duration)")]
        if self.reference_observation:
            fields.append(Field(
                "reference_root", 6,
                "reference root position minus the root position (heading frame, m), then reference "
                "root linear velocity minus the root's (heading frame, m/s)",
            ))
        return fields

    def phase(self) -> float:
        """Where the reference is in the clip, in [0, 1)."""
        return (self.reference_time / self.clip.duration) % 1.0

    def features(self, scene: CharacterScene) -> np.ndarray:
        angle = 2 * math.pi * self.phase()
        phase = np.array([math.sin(angle), math.cos(angle)])
        if not self.reference_observation:
            return phase
        ref_qpos, ref_qvel = self.reference()
        ref_root = scene.kinematics(ref_qpos).xpos[scene.root_body]
        heading = _heading_rotation(scene)
        position = heading @ (ref_root - scene.views.root_xpos)
        velocity = heading @ (_root_linear_velocity(scene, ref_qvel) - _root_linear_velocity(scene, scene.views.qvel))
        return np.concatenate([phase, position, velocity])

    def reset(self, scene: CharacterScene, rng: np.random.Generator) -> None:
        """Reference state initialisation: start at a random time of the clip, in its state."""
        self.reference_time = float(rng.uniform(0.0, self.clip.duration))
        scene.set_state(*self.clip.sample(self.reference_time))

    def reference(self) -> tuple[np.ndarray, np.ndarray]:
        """Reference qpos and qvel now."""
        return self.clip.sample(self.reference_time)

    def advance(self, dt: float) -> None:
        self.reference_time += dt

    def imitation_terms(self, scene: CharacterScene) -> dict[str, float]:
        """DeepMimic's five terms (each in [0, 1], unweighted) for the current state."""
        ref_qpos, ref_qvel = self.reference()
        qpos, qvel = scene.data.qpos, scene.data.qvel
        nq, nv = scene.root_nq, scene.root_nv
        pose_error, address = 0.0, nq
        for kind in scene.joint_types:
            if kind == "ball":
                pose_error += _rotation_angle(ref_qpos[address : address + 4], qpos[address : address + 4]) ** 2
                address += 4
            else:
                pose_error += (ref_qpos[address] - qpos[address]) ** 2
                address += 1
        velocity_error = float(np.square(ref_qvel[nv:] - qvel[nv:]).sum())
        root_position, root_quat = scene.root_pose()
        effectors = scene.end_effector_positions() - root_position
        com = scene.center_of_mass()
        reference = scene.kinematics(ref_qpos)
        ref_root = reference.xpos[scene.root_body].copy()
        ref_effectors = reference.site_xpos[scene._ee_sites] - ref_root
        ref_com = reference.subtree_com[scene.root_body].copy()
        effector_error = float(np.square(ref_effectors - effectors).sum())
        if scene.spec.root_joint == "free":
            rotation_error = _rotation_angle(reference.xquat[scene.root_body], root_quat) ** 2
        elif scene.spec.root_joint in ("planar", "planar_xy"):
            rotation_error = (ref_qpos[2] - qpos[2]) ** 2
        else:
            rotation_error = 0.0
        root_speed_error = float(np.square(ref_qvel[:nv] - qvel[:nv]).sum())
        root_error = float(np.square(ref_root - root_position).sum()) + 0.1 * rotation_error + 0.01 * root_speed_error
        com_error = float(np.square(ref_com - com).sum())
        errors = {
            "pose": pose_error, "velocity": velocity_error, "end_effector": effector_error,
            "root": root_error, "com": com_error,
        }
        return {name: math.exp(-DEEPMIMIC_SCALES[name] * error) for name, error in errors.items()}

    def reward(self, scene: CharacterScene, action: np.ndarray, before: np.ndarray, dt: float):
        self.advance(dt)
        terms = self.imitation_terms(scene)
        weighted = {f"reward_{name}": DEEPMIMIC_WEIGHTS[name] * value for name, value in terms.items()}
        imitation = sum(weighted.values())
        fallen = scene.fallen()
        truncated = not self.clip.cyclic and self.reference_time >= self.clip.duration
        info = {**weighted, "imitation_reward": imitation, "reference_time": self.reference_time,
                "fallen": fallen}
        return imitation, fallen and self.terminate_when_fallen, truncated, info


def make_task(name: str, scene: CharacterScene, control_dt: float, clip=None, **kwargs) -> _Task:
    """Build a task by name, taking only the keyword arguments it understands."""
    if name not in TASKS:
        raise UsageError(f"task {name!r} unknown; choose one of: {', '.join(TASKS)}")
    common = {k: kwargs[k] for k in ("healthy_reward", "ctrl_cost_weight", "terminate_when_fallen")}
    if name == "run":
        return RunTask(kwargs["forward_reward_weight"], kwargs["contact_cost_weight"], **common)
    if name == "target":
        return TargetTask(kwargs["target_distance"], **common)
    return ImitateTask(load_clip(clip, scene, fps=1.0 / control_dt),
                       reference_observation=kwargs.get("reference_observation", False), **common)
