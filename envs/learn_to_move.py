"""``visiongym/LearnToMove-v0``: articulated characters learning to run, reach goals and imitate.

## Description

A character from :mod:`visiongym.sims.characters` (``walker``, a planar biped; ``quadruped``; ``humanoid``,
a 3D biped with arms; ``snake``, a chain swimming in a viscous medium; or your own
:class:`~visiongym.sims.characters.spec.CharacterSpec` or YAML/JSON description) stands on a terrain
(``flat``, ``slope``, ``steps``, ``random`` heightfield) and learns one task:

- ``run``: move forward (+x) as fast as possible;
- ``target``: reach goal positions on the terrain, one after another;
- ``imitate``: follow a reference motion clip (the character's procedural gait, a clip ``.npz``,
  or a BVH file) with the DeepMimic reward.

## Action Space

``Box(-1, 1, (n_motors,), float32)``: one value per motor (a hinge has one, a ball joint three).
Motors: walker 6, quadruped 12, humanoid 18, snake 6. An action of another shape raises
``ValueError``. What an action means depends on ``action_mode``:

- ``torque`` (default): mapped linearly onto the motor's control range and multiplied by its gear.
- ``pd``: a target position per motor, mapped linearly onto the joint range (a ball joint's
  three motors: a rotation vector within ±its cone angle), tracked by PD torques recomputed every
  physics step (stiffness ``pd_gains[0]`` x gear per rad, damping ``pd_gains[1]`` x gear per
  rad/s), clipped to the motor's torque, so PD control is never stronger than torque control.
- ``pd_offset``: as ``pd``, but the target is the reference pose plus ``pd_offset_scale`` x action
  (rad): in ``imitate`` the clip's pose at the end of the step (DeepMimic's PD targets around the
  reference motion), otherwise the rest pose. A zero action then follows the clip by itself.

## Observation Space

``obs_mode="state"``: a float32 vector made of these fields, in this order (names and slices in
``env.unwrapped.observation_fields``):

| field | size | meaning |
|---|---|---|
| ``root_height`` | 1 | root height above the terrain under it (m) |
| ``root_orientation`` | free 3 / planar 2 | free: world up axis in the root frame; planar: sin, cos of pitch (walker) or yaw (snake) |
| ``root_velocity`` | free 6 / planar 3 | free: linear velocity (heading frame) and angular velocity (root frame); planar: vx, vz/vy, pitch/yaw rate |
| ``joint_angles`` | nq - root | angle (rad) per hinge, quaternion (w, x, y, z) per ball joint |
| ``joint_velocities`` | nv - root | joint velocities (rad/s), clipped to ±50 |
| ``end_effectors`` | 3 x k | end effector positions relative to the root, heading frame (m) |
| ``foot_contacts`` | feet | 1.0 when the foot touches the terrain |
| ``goal`` (target) | 3 | goal dx, dy in the heading frame and its distance (m) |
| ``phase`` (imitate) | 2 | sin, cos of 2π x clip phase |
| ``reference_root`` (imitate, ``reference_observation=True``) | 6 | reference root position minus the root's, then reference root linear velocity minus the root's, both in the heading frame (m, m/s) |

Sizes without task fields: walker 29, quadruped 53, humanoid 67, snake 21.

``obs_mode="pixels"``: ``uint8 (H, W, 3)`` from a camera that tracks the centre of mass
(``image_size``, 84 x 84 by default). ``obs_mode="pixels_state"``: ``Dict(pixels=..., state=...)``.

## Rewards

Every term is also in ``info`` under its name.

- ``run``: ``reward_forward`` (weight x centre-of-mass x velocity) + ``reward_healthy`` (while not
  fallen) + ``reward_ctrl`` (-weight x Σ action²) + ``reward_contact`` (-weight x Σ clipped
  external contact forces²). ``info`` adds ``x_position`` and ``x_velocity``.
- ``target``: ``reward_progress`` (weight x decrease of the distance to the goal per second) +
  ``reward_reach`` (bonus when within 0.5 m, then a new goal is drawn) + ``reward_healthy`` +
  ``reward_ctrl``. ``info`` adds ``distance_to_goal``, ``goal`` and ``is_success``.
- ``imitate``: DeepMimic's ``0.5 r_pose + 0.05 r_velocity + 0.15 r_end_effector + 0.2 r_root +
  0.1 r_com`` (weights reported by DeepMimic), each ``r = exp(-scale x error)`` with scales 2,
  0.1, 40, 5, 10: pose error Σ joint angle differences² (ball joints: rotation angle between the
  quaternions); velocity Σ joint velocity differences²; end effectors Σ squared distances of
  root-relative positions; root: position error² + 0.1 orientation error² + 0.01 root velocity
  error²; centre of mass: position error². The reward is 1.0 at perfect tracking
  (``info["imitation_reward"]``; the weighted terms are ``reward_pose`` ...).

Every step's ``info["task_metrics"]`` holds the episode's figures so far, read at the episode's
end by ``visiongym.agents.evaluate`` and ``visiongym.agents.train``: ``forward_speed`` (centre-of-mass x travelled since
the reset / elapsed time, m/s) and, in ``imitate``, ``imitation_score`` (Σ imitation reward / the
steps of a 10 s episode, 500 at the default ``frame_skip``, or the steps taken if more; steps
lost to a fall count as 0; 1.0 = perfect tracking for the whole episode).

## Starting State

``run``/``target``: the character's rest pose on the terrain plus uniform noise of
``reset_noise_scale`` on joint angles and velocities. ``imitate``: reference state initialisation:
the pose and velocity of the clip at a random time.

## Episode End

Terminated when the character falls (root height or tilt outside its ``FallSpec``; switch off with
``terminate_when_fallen=False``, except in ``imitate`` where early termination is the method), or
when the physics blows up (non-finite or absurd velocities: ``info["blown_up"]``). Truncated by
the time limit (500 steps = 10 s), or at the end of a non-cyclic clip.

## Arguments

``gymnasium.make("visiongym/LearnToMove-v0", character="walker", terrain="flat", task="run",
obs_mode="state", image_size=84, frame_skip=4, terrain_seed=0, clip=None, ...)``; see
:class:`LearnToMoveEnv`. ``appearance`` sets the look of rendered frames: ``"default"`` (draws
nothing), ``"random"`` (a new look each episode from ``visiongym.sims.appearance.TRAIN``),
``"held_out"``, a shift name, ``key=value,...`` text or an ``AppearanceSpec`` (``docs/vision.md``).

## Version History

- v0: initial version.
- v0: ``appearance`` added; the default look is unchanged (same bytes), so no version bump.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from visiongym.envs.appearance import LookStream
from visiongym.envs.learn_to_move_tasks import Field, make_task, proprioception, state_fields
from visiongym.sims.characters import CharacterScene, CharacterSpec, load_character
from visiongym.sims.characters.clips import MotionClip
from visiongym.sims.characters.terrain import TerrainSpec, heightfield, make_terrain
from visiongym.sims.errors import UsageError

__all__ = ["LearnToMoveEnv", "OBS_MODES", "ACTION_MODES"]

OBS_MODES = ("state", "pixels", "pixels_state")
ACTION_MODES = ("torque", "pd", "pd_offset")
#: Episode length (s) the imitation score is normalised by: the registered 500 steps x 20 ms.
SCORE_SECONDS = 10.0


def _character(character: str | Path | CharacterSpec) -> str | CharacterSpec:
    if isinstance(character, Path) or (
        isinstance(character, str) and character.lower().endswith((".yaml", ".yml", ".json"))
    ):
        return load_character(character)
    return character


class LearnToMoveEnv(gym.Env):
    """Articulated characters on terrains: run, reach targets, imitate clips (module docstring).

    Args:
        character: Preset name, :class:`CharacterSpec`, or a ``.yaml``/``.json`` description path.
        terrain: ``flat``, ``slope``, ``steps``, ``random`` or a :class:`TerrainSpec`.
        task: ``run``, ``target`` or ``imitate``.
        obs_mode: ``state``, ``pixels`` or ``pixels_state``.
        image_size: Pixel observation size, an int or (height, width).
        frame_skip: Physics steps (5 ms each) per action.
        terrain_seed: Seed of the ``random`` heightfield; None draws a new field from the env's
            RNG at every reset.
        clip: Reference for ``imitate``: None (the preset's procedural gait), a
            :class:`MotionClip`, or a ``.npz`` clip or ``.bvh`` path.
        forward_reward_weight: ``run``: weight of the forward velocity.
        healthy_reward: Reward per step while not fallen (``run``, ``target``).
        ctrl_cost_weight: Weight of Σ action².
        contact_cost_weight: ``run``: weight of Σ clipped contact forces².
        target_distance: ``target``: (min, max) distance of a new goal (m).
        terminate_when_fallen: End episodes on a fall.
        reset_noise_scale: Joint angle/velocity noise at reset (``run``, ``target``).
        action_mode: ``torque``, ``pd`` or ``pd_offset`` (see Action Space).
        pd_gains: (stiffness, damping) of the PD modes, per unit of motor gear: stiffness
            ``gains[0] x gear`` N·m/rad, damping ``gains[1] x gear`` N·m·s/rad.
        pd_offset_scale: ``pd_offset``: target offset (rad) at action ±1.
        reference_observation: ``imitate``: add the ``reference_root`` field (where the reference
            root is and how fast it moves, relative to the character's), so a policy can see that
            it lags behind the clip.
        ghost: ``imitate``: draw the reference as a translucent ghost in ``render()``.
        ghost_offset: World shift of the ghost (m), to see it next to the character.
        render_size: (height, width) of ``render()`` frames.
        render_mode: None, ``human`` (a window) or ``rgb_array``.
        appearance: The look of rendered frames: ``default`` (draws nothing), ``random``,
            ``held_out``, a shift name of ``visiongym.sims.appearance.SHIFTS``, ``key=value,...``
            text or an ``AppearanceSpec``. A look is drawn at every reset from a child of
            ``self.np_random``, so the episode's states and rewards do not depend on it.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 50}

    def __init__(
        self,
        character: str | Path | CharacterSpec = "walker",
        terrain: str | TerrainSpec = "flat",
        task: str = "run",
        obs_mode: str = "state",
        image_size: int | tuple[int, int] = 84,
        frame_skip: int = 4,
        terrain_seed: int | None = 0,
        clip: str | Path | MotionClip | None = None,
        forward_reward_weight: float = 1.0,
        healthy_reward: float = 1.0,
        ctrl_cost_weight: float = 1e-3,
        contact_cost_weight: float = 5e-4,
        target_distance: tuple[float, float] = (2.0, 5.0),
        terminate_when_fallen: bool = True,
        reset_noise_scale: float = 0.05,
        action_mode: str = "torque",
        pd_gains: tuple[float, float] = (5.0, 0.2),
        pd_offset_scale: float = 0.5,
        reference_observation: bool = False,
        ghost: bool = True,
        ghost_offset: tuple[float, float, float] = (0.0, 1.0, 0.0),
        render_size: tuple[int, int] = (240, 320),
        render_mode: str | None = None,
        appearance: Any = "default",
    ) -> None:
        if obs_mode not in OBS_MODES:
            raise UsageError(f"obs_mode {obs_mode!r} unknown; choose one of: {', '.join(OBS_MODES)}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise UsageError(
                f"render_mode {render_mode!r} unknown; choose one of: None, human, rgb_array"
            )
        if action_mode not in ACTION_MODES:
            raise UsageError(f"action_mode {action_mode!r} unknown; choose one of: {', '.join(ACTION_MODES)}")
        if len(pd_gains) != 2 or pd_gains[0] <= 0 or pd_gains[1] < 0:
            raise UsageError(f"pd_gains: expected (stiffness > 0, damping >= 0), got {pd_gains!r}")
        if pd_offset_scale <= 0:
            raise UsageError(f"pd_offset_scale: expected > 0 (rad), got {pd_offset_scale!r}")
        if not isinstance(frame_skip, int) or frame_skip < 1:
            raise UsageError(f"frame_skip: expected an int >= 1, got {frame_skip!r}")
        size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        if len(size) != 2 or min(size) < 8:
            raise UsageError(f"image_size: expected an int or (height, width) >= 8, got {image_size!r}")
        self.image_size = (int(size[0]), int(size[1]))
        self.render_size = (int(render_size[0]), int(render_size[1]))
        spec = _character(character)
        overrides = {} if isinstance(terrain, TerrainSpec) else {"seed": terrain_seed or 0}
        terrain_spec = make_terrain(terrain, **overrides)
        self.resample_terrain = terrain_seed is None and terrain_spec.kind == "random"
        offscreen = (
            max(self.image_size[0], self.render_size[0]),
            max(self.image_size[1], self.render_size[1]),
        )
        self.scene = CharacterScene(spec, terrain_spec, offscreen=offscreen, appearance=appearance)
        self._looks = LookStream()
        if self.scene.spec.root_joint == "planar_xy" and terrain_spec.kind != "flat":
            raise UsageError(
                f"character {self.scene.spec.name!r} moves in the horizontal plane; terrain must be "
                f"'flat', got {terrain_spec.kind!r}"
            )
        self.frame_skip = frame_skip
        self.dt = self.scene.timestep * frame_skip
        self.metadata = {**self.metadata, "render_fps": int(round(1.0 / self.dt))}
        self.obs_mode = obs_mode
        self.task_name = task
        self.reset_noise_scale = reset_noise_scale
        self.ghost = ghost
        self.ghost_offset = tuple(float(v) for v in ghost_offset)
        self.render_mode = render_mode
        self.task = make_task(
            task, self.scene, self.dt, clip=clip, healthy_reward=healthy_reward,
            ctrl_cost_weight=ctrl_cost_weight,
            terminate_when_fallen=terminate_when_fallen or task == "imitate",
            forward_reward_weight=forward_reward_weight, contact_cost_weight=contact_cost_weight,
            target_distance=tuple(target_distance), reference_observation=reference_observation,
        )
        fields = state_fields(self.scene) + self.task.fields(self.scene)
        #: Name -> slice of every field of the state vector.
        self.observation_fields: dict[str, slice] = {}
        start = 0
        for field in fields:
            self.observation_fields[field.name] = slice(start, start + field.size)
            start += field.size
        self.field_descriptions: list[Field] = fields
        state_space = spaces.Box(-np.inf, np.inf, (start,), np.float32)
        pixel_space = spaces.Box(0, 255, (*self.image_size, 3), np.uint8)
        self.observation_space = {
            "state": state_space,
            "pixels": pixel_space,
            "pixels_state": spaces.Dict({"pixels": pixel_space, "state": state_space}),
        }[obs_mode]
        self.action_space = spaces.Box(-1.0, 1.0, (self.scene.action_size,), np.float32)
        self.action_mode = action_mode
        self.pd_offset_scale = float(pd_offset_scale)
        self._kp = float(pd_gains[0]) * self.scene.motor_strength
        self._kd = float(pd_gains[1]) * self.scene.motor_strength
        low, high = self.scene.motor_range[:, 0], self.scene.motor_range[:, 1]
        self._target_centre, self._target_half = 0.5 * (low + high), 0.5 * (high - low)
        self._rest_targets = self.scene.motor_positions(self.scene.model.qpos0)
        self._start_x, self._steps, self._imitation_sum = 0.0, 0, 0.0
        self._last_state = np.zeros(start, dtype=np.float32)
        self._viewer = None
        self._last_reward = 0.0

    # ------------------------------------------------------------------ gymnasium API
    def step(self, action):
        action = np.asarray(action, dtype=np.float32)
        if action.shape != self.action_space.shape:
            raise UsageError(
                f"action shape {action.shape} does not match the action space "
                f"{self.action_space.shape} ({self.scene.spec.name} has {self.scene.action_size} motors)"
            )
        if not np.isfinite(float(action.sum())):
            raise UsageError(f"action must be finite, got {action}")
        before = self.scene.center_of_mass()
        if self.action_mode == "torque":
            self.scene.step(action, self.frame_skip)
        else:
            self.scene.step_pd(self._pd_targets(action), self._kp, self._kd, self.frame_skip)
        self._steps += 1
        if self.scene.blown_up():
            # A diverged simulation: end the episode with the last finite observation.
            info = {"blown_up": True, "task_metrics": self._task_metrics()}
            return self._observation(finite=False), 0.0, True, False, info
        reward, terminated, truncated, info = self.task.reward(self.scene, action, before, self.dt)
        info["blown_up"] = False
        self._imitation_sum += info.get("imitation_reward", 0.0)
        info["task_metrics"] = self._task_metrics()
        self._last_reward = float(reward)
        if self.render_mode == "human":
            self.render()
        return self._observation(), float(reward), bool(terminated), bool(truncated), info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if self.scene.appearance_spec is not None:
            self.scene.draw_appearance(self._looks.generator(self.np_random))
        if self.resample_terrain:
            self.scene.set_heightfield(heightfield(int(self.np_random.integers(2**31))))
        self.scene.reset()
        if self.task_name != "imitate" and self.reset_noise_scale > 0:
            self._perturb_start()
        self.task.reset(self.scene, self.np_random)
        self._last_reward = 0.0
        self._start_x, self._steps, self._imitation_sum = float(self.scene.center_of_mass()[0]), 0, 0.0
        if self.render_mode == "human":
            self.render()
        return self._observation(), {}

    def _pd_targets(self, action: np.ndarray) -> np.ndarray:
        """Motor position targets (rad) of a PD action (see Action Space)."""
        action = np.clip(action, -1.0, 1.0)
        if self.action_mode == "pd":
            return self._target_centre + action * self._target_half
        if self.task_name == "imitate":
            reference = self.scene.motor_positions(self.task.clip.sample(self.task.reference_time + self.dt)[0])
        else:
            reference = self._rest_targets
        return reference + self.pd_offset_scale * action

    def _task_metrics(self) -> dict[str, float]:
        """The episode's figures so far (module docstring, Rewards)."""
        elapsed = max(self._steps, 1) * self.dt
        metrics = {"forward_speed": (float(self.scene.center_of_mass()[0]) - self._start_x) / elapsed}
        if self.task_name == "imitate":
            horizon = max(self._steps, round(SCORE_SECONDS / self.dt))
            metrics["imitation_score"] = self._imitation_sum / horizon
        return metrics

    def _perturb_start(self) -> None:
        import mujoco

        scene, noise = self.scene, self.reset_noise_scale
        model, data = scene.model, scene.data
        velocity = np.zeros(model.nv)
        velocity[scene.root_nv :] = self.np_random.uniform(-noise, noise, model.nv - scene.root_nv)
        qpos = data.qpos.copy()
        mujoco.mj_integratePos(model, qpos, velocity, 1.0)
        qvel = np.zeros(model.nv)
        qvel[scene.root_nv :] = noise * self.np_random.standard_normal(model.nv - scene.root_nv)
        scene.set_state(qpos, qvel)

    def _observation(self, finite: bool = True):
        if finite:
            state = np.concatenate([proprioception(self.scene), self.task.features(self.scene)])
            self._last_state = state.astype(np.float32)
        if self.obs_mode == "state":
            return self._last_state.copy()
        pixels = self.scene.render(*self.image_size) if finite else np.zeros(
            (*self.image_size, 3), np.uint8
        )
        if self.obs_mode == "pixels":
            return pixels
        return {"pixels": pixels, "state": self._last_state.copy()}

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() called without render_mode; pass render_mode='rgb_array'")
            return None
        ghost = None
        if self.task_name == "imitate" and self.ghost:
            ghost = self.task.reference()[0]
        frame = self.scene.render(*self.render_size, ghost_qpos=ghost, ghost_offset=self.ghost_offset)
        if self.render_mode == "rgb_array":
            return frame
        if self._viewer is None:
            try:
                from visiongym.envs.viewer import Viewer
            except ImportError as error:  # pragma: no cover - depends on the viewer module
                raise ImportError(
                    "render_mode='human' needs visiongym.envs.viewer (pygame-ce): pip install pygame-ce"
                ) from error
            self._viewer = Viewer(f"LearnToMove: {self.scene.spec.name} {self.task_name}",
                                  self.metadata["render_fps"])
        self._viewer.show(frame, self.hud())
        return None

    def hud(self) -> dict[str, str]:
        """What the viewer prints over the frame."""
        hud = {"character": self.scene.spec.name, "task": self.task_name,
               "time": f"{self.scene.time():.2f} s", "reward": f"{self._last_reward:+.3f}",
               "speed": f"{self.scene.center_of_mass_velocity()[0]:+.2f} m/s"}
        if self.task_name == "imitate":
            hud["phase"] = f"{self.task.phase():.2f}"
        return hud

    def close(self):
        if self._viewer is not None:
            self._viewer.close()
            self._viewer = None
        self.scene.close()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_viewer"] = None
        return state
