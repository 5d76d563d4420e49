"""Reference motion clips: the ``.npz`` format, sampling, and procedural gaits for the presets.

Clip file format (``numpy.savez``; every array is stored, no pickled objects):

==================  ===============  ===========================================================
key                 shape / dtype    meaning
==================  ===============  ===========================================================
``format``          () str           ``"visiongym-clip-1"``
``character``       () str           the character name the clip was made for
``fps``             () float64       frames per second
``qpos``            (T, nq) float64  MuJoCo generalised positions per frame (root first, then
                                     joints in model order; quaternions w, x, y, z)
``qvel``            (T, nv) float64  generalised velocities per frame
``joint_names``     (J,) str         every model joint in qpos order, root joints included; a
                                     clip only loads onto a model with the same list
``quat_qpos``       (Q,) int64       qpos index where each quaternion starts (for interpolation)
``root_translation``(K,) int64       qpos indices of the root's horizontal translation, which
                                     accumulate from one cycle to the next
``cyclic``          () bool          the clip loops: its last frame is its first pose moved on by
                                     one cycle's root translation
==================  ===============  ===========================================================

``python -m visiongym.sims.characters.clips --out clips/`` writes the procedural gait of every preset.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np

from visiongym.sims.errors import UsageError

__all__ = ["CLIP_FORMAT", "MotionClip", "ClipError", "gait_clip", "GAITS"]

CLIP_FORMAT = "visiongym-clip-1"


class ClipError(UsageError):
    """A clip file is malformed or does not fit the character."""


@dataclass
class MotionClip:
    """A reference motion: poses and velocities sampled at ``fps`` (see the module docstring)."""

    character: str
    fps: float
    qpos: np.ndarray
    qvel: np.ndarray
    joint_names: tuple[str, ...]
    quat_qpos: tuple[int, ...] = ()
    root_translation: tuple[int, ...] = ()
    cyclic: bool = True

    def __post_init__(self) -> None:
        self.qpos = np.asarray(self.qpos, dtype=np.float64)
        self.qvel = np.asarray(self.qvel, dtype=np.float64)
        if self.qpos.ndim != 2 or self.qvel.ndim != 2 or len(self.qpos) != len(self.qvel):
            raise ClipError(
                f"qpos and qvel must be (T, nq) and (T, nv) with the same T, got "
                f"{self.qpos.shape} and {self.qvel.shape}"
            )
        if len(self.qpos) < 2:
            raise ClipError(f"a clip needs at least 2 frames, got {len(self.qpos)}")
        if not self.fps > 0:
            raise ClipError(f"fps must be > 0, got {self.fps}")
        if not (np.all(np.isfinite(self.qpos)) and np.all(np.isfinite(self.qvel))):
            raise ClipError("qpos and qvel must be finite")

    @property
    def num_frames(self) -> int:
        """Number of stored frames."""
        return len(self.qpos)

    @property
    def duration(self) -> float:
        """Seconds from the first to the last frame (one cycle for cyclic clips)."""
        return (self.num_frames - 1) / self.fps

    def check_model(self, model: mujoco.MjModel) -> None:
        """Raise :class:`ClipError` unless the clip fits ``model`` (same joints, same sizes)."""
        names = tuple(mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, i) for i in range(model.njnt))
        if names != tuple(self.joint_names) or self.qpos.shape[1] != model.nq or self.qvel.shape[1] != model.nv:
            missing = sorted(set(names) - set(self.joint_names))
            extra = sorted(set(self.joint_names) - set(names))
            raise ClipError(
                f"clip for {self.character!r} does not fit this model: joints missing from the clip "
                f"{missing or 'none'}, joints not in the model {extra or 'none'}"
            )

    def sample(self, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        """Pose and velocity at ``seconds`` (linear interpolation, normalised quaternions).

        Cyclic clips loop forever, their root moving on by one cycle's translation per loop;
        other clips hold their last frame.
        """
        position = seconds * self.fps
        last = self.num_frames - 1
        cycles = 0
        if self.cyclic:
            cycles = math.floor(position / last)
            position -= cycles * last
        position = min(max(position, 0.0), float(last))
        low = min(int(position), last - 1)
        blend = position - low
        qpos = (1 - blend) * self.qpos[low] + blend * self.qpos[low + 1]
        for start in self.quat_qpos:
            a, b = self.qpos[low, start : start + 4], self.qpos[low + 1, start : start + 4]
            b = b if np.dot(a, b) >= 0 else -b
            quat = (1 - blend) * a + blend * b
            qpos[start : start + 4] = quat / np.linalg.norm(quat)
        if cycles:
            index = list(self.root_translation)
            qpos[index] += cycles * (self.qpos[last, index] - self.qpos[0, index])
        qvel = (1 - blend) * self.qvel[low] + blend * self.qvel[low + 1]
        return qpos, qvel

    def save(self, path: str | Path) -> Path:
        """Write the clip as ``.npz`` (see the module docstring for the keys)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            np.savez(
                handle, format=np.array(CLIP_FORMAT), character=np.array(self.character),
                fps=np.array(float(self.fps)), qpos=self.qpos, qvel=self.qvel,
                joint_names=np.array(self.joint_names, dtype=str),
                quat_qpos=np.array(self.quat_qpos, dtype=np.int64),
                root_translation=np.array(self.root_translation, dtype=np.int64),
                cyclic=np.array(bool(self.cyclic)),
            )
        return path

    @classmethod
    def load(cls, path: str | Path) -> MotionClip:
        """Read a clip written by :meth:`save`."""
        with np.load(Path(path), allow_pickle=False) as data:
            keys = set(data.files)
            required = {"format", "character", "fps", "qpos", "qvel", "joint_names", "cyclic"}
            if not required <= keys:
                raise ClipError(f"{path}: missing keys {sorted(required - keys)}")
            if str(data["format"]) != CLIP_FORMAT:
                raise ClipError(f"{path}: format {str(data['format'])!r}, expected {CLIP_FORMAT!r}")
            return cls(
                character=str(data["character"]), fps=float(data["fps"]), qpos=data["qpos"],
                qvel=data["qvel"], joint_names=tuple(str(n) for n in data["joint_names"]),
                quat_qpos=tuple(int(i) for i in data.get("quat_qpos", ())),
                root_translation=tuple(int(i) for i in data.get("root_translation", ())),
                cyclic=bool(data["cyclic"]),
            )


def velocities(model: mujoco.MjModel, qpos: np.ndarray, fps: float, cyclic: bool) -> np.ndarray:
    """Finite-difference generalised velocities of a pose sequence (respects quaternions)."""
    qvel = np.zeros((len(qpos), model.nv))
    for i in range(len(qpos) - 1):
        mujoco.mj_differentiatePos(model, qvel[i], 1.0 / fps, qpos[i], qpos[i + 1])
    qvel[-1] = qvel[0] if cyclic else qvel[-2]
    return qvel


def root_translation_indices(root_joint: str) -> tuple[int, ...]:
    """qpos indices of the horizontal root translation of each root joint type."""
    return {"free": (0, 1), "planar": (0,), "planar_xy": (0, 1)}.get(root_joint, ())


# --------------------------------------------------------------------------- procedural gaits
def _pitch_quat(degrees: float) -> np.ndarray:
    half = math.radians(degrees) / 2
    return np.array([math.cos(half), 0.0, math.sin(half), 0.0])


def _wave(phase: float, offset: float, amplitude: float, shift: float) -> float:
    return offset + amplitude * math.sin(2 * math.pi * (phase + shift))


def _swing(phase: float, base: float, lift: float, shift: float) -> float:
    """Flexion that peaks in the swing half of the cycle (knees)."""
    return base + lift * max(0.0, math.cos(2 * math.pi * (phase + shift))) ** 2


def _walker_pose(phase: float) -> dict[str, float]:
    pose = {}
    for side, shift in (("right", 0.0), ("left", 0.5)):
        pose[f"hip_{side}"] = _wave(phase, -12, 28, shift)
        pose[f"knee_{side}"] = _swing(phase, 8, 45, shift + 0.45)
        pose[f"ankle_{side}"] = _wave(phase, 0, 12, shift + 0.25)
    return pose


def _quadruped_pose(phase: float) -> dict[str, float]:
    pose = {}
    # Trot: diagonal legs move together; the knee folds while the leg swings forward.
    for leg, shift in (("front_left", 0.0), ("rear_right", 0.0), ("front_right", 0.5), ("rear_left", 0.5)):
        fold = -1.0 if leg.startswith("front") else 1.0
        pose[f"{leg}_abduct"] = 0.0
        pose[f"{leg}_hip"] = _wave(phase, 0, 15, shift)
        pose[f"{leg}_knee"] = fold * (5 + 60 * max(0.0, math.cos(2 * math.pi * (phase + shift + 0.5))))
    return pose


def _humanoid_pose(phase: float) -> dict[str, float | np.ndarray]:
    pose: dict[str, float | np.ndarray] = {}
    for side, shift in (("right", 0.0), ("left", 0.5)):
        pose[f"hip_{side}"] = _pitch_quat(_wave(phase, -10, 25, shift))
        pose[f"knee_{side}"] = _swing(phase, 8, 45, shift + 0.45)
        pose[f"ankle_{side}"] = _wave(phase, 0, 10, shift + 0.25)
        # Arms swing against the leg on the same side.
        pose[f"shoulder_{side}"] = _pitch_quat(_wave(phase, 0, 20, shift + 0.5))
        pose[f"elbow_{side}"] = -25.0
    return pose


def _snake_pose(phase: float, joints: list[str]) -> dict[str, float]:
    return {name: _wave(phase, 0, 35, -i / len(joints)) for i, name in enumerate(joints)}


#: Cycle period (seconds) of each preset's procedural gait.
GAITS = {"walker": 1.0, "quadruped": 0.6, "humanoid": 1.0, "snake": 1.5}


def gait_clip(scene, fps: float = 50.0, period: float | None = None) -> MotionClip:
    """A one-cycle procedural gait for a preset character (phase-shifted joint sinusoids).

    Legged characters are grounded frame by frame: the root height puts the lowest point of the
    body on the terrain, and the root moves forward exactly as far as the stance foot moves
    back, so feet do not slide. The snake's head travels forward at a constant speed.

    Args:
        scene: A :class:`~visiongym.sims.characters.scene.CharacterScene` holding a preset character.
        fps: Frames per second of the clip.
        period: Cycle length in seconds (the preset's default from :data:`GAITS` when None).
    """
    name = scene.spec.name
    if name not in GAITS:
        raise ClipError(
            f"no procedural gait for character {name!r} (gaits exist for: {', '.join(GAITS)}); "
            "pass a clip (.npz or .bvh) instead"
        )
    period = GAITS[name] if period is None else period
    model = scene.model
    frames = max(2, round(period * fps)) + 1
    qpos = np.tile(model.qpos0, (frames, 1))
    joint_names = scene.joint_names
    for k in range(frames):
        phase = k / (frames - 1)
        if name == "walker":
            pose = _walker_pose(phase)
        elif name == "quadruped":
            pose = _quadruped_pose(phase)
        elif name == "humanoid":
            pose = _humanoid_pose(phase)
        else:
            pose = _snake_pose(phase, joint_names)
        for joint, value in pose.items():
            address = model.joint(joint).qposadr[0]
            if np.ndim(value):
                qpos[k, address : address + 4] = value
            else:
                qpos[k, address] = math.radians(value)
    spec = scene.spec
    if spec.root_joint == "planar_xy":
        qpos[:, 0] = np.linspace(0.0, 0.3 * period, frames)
    else:
        _ground(scene, qpos)
    return MotionClip(
        character=name, fps=fps, qpos=qpos, qvel=velocities(model, qpos, fps, cyclic=True),
        joint_names=tuple(
            mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, i) for i in range(model.njnt)
        ),
        quat_qpos=tuple(scene.quat_qpos),
        root_translation=root_translation_indices(spec.root_joint), cyclic=True,
    )


def _ground(scene, qpos: np.ndarray) -> None:
    """Set root height and forward position so the lowest point stays on z = 0 without sliding."""
    height_index = 2 if scene.spec.root_joint == "free" else 1
    feet = [scene.model.geom(f"{name}_geom").id for name in scene.foot_names]
    previous = None
    for k in range(len(qpos)):
        data = scene.kinematics(qpos[k])
        qpos[k, height_index] -= scene.lowest_point(data)[2]
        root_x = data.xpos[scene.root_body][0]
        # Lowest point of each foot, relative to the root, along x.
        points = np.array([scene.lowest_point(data, [geom]) for geom in feet])
        relative = points[:, 0] - root_x
        if previous is not None:
            stance = int(np.argmin(points[:, 2]))
            qpos[k, 0] = qpos[k - 1, 0] - min(0.0, relative[stance] - previous[stance])
        previous = relative


def main(argv: list[str] | None = None) -> None:
    """Write every preset's procedural gait clip as ``<out>/<preset>_gait.npz``."""
    from visiongym.sims.characters.presets import PRESETS
    from visiongym.sims.characters.scene import CharacterScene

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", type=Path, default=Path("clips"), help="output folder")
    parser.add_argument("--fps", type=float, default=50.0, help="frames per second")
    args = parser.parse_args(argv)
    for name in PRESETS:
        clip = gait_clip(CharacterScene(name), fps=args.fps)
        path = clip.save(args.out / f"{name}_gait.npz")
        speed = (clip.qpos[-1, 0] - clip.qpos[0, 0]) / clip.duration
        print(f"{path}: {clip.num_frames} frames, {clip.duration:.2f} s cycle, {speed:.2f} m/s forward")


if __name__ == "__main__":
    main()
