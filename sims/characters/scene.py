"""A character on a terrain: the MuJoCo model, named state accessors and rendering.

:class:`CharacterScene` is the physics half of the learning-to-move environments (the task and
the Gymnasium glue live in :mod:`visiongym.envs.learn_to_move`)::

    scene = CharacterScene("walker", "steps")
    scene.reset()
    scene.step(np.zeros(scene.action_size))   # actions in [-1, 1], one per motor
    scene.joint_angles(), scene.root_pose(), scene.center_of_mass()
    scene.end_effector_positions(), scene.foot_contacts()
    frame = scene.render(height=84, width=84, ghost_qpos=reference_qpos)

Renderers are created lazily and dropped when pickling, so scenes (and the envs that hold them)
pickle and run in subprocesses.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import mujoco
import numpy as np

from visiongym.sims.appearance import (
    AppearanceLike,
    AppearanceSpec,
    Look,
    LookBinding,
    LookTargets,
    draw_look,
    make_appearance,
    prepare_shadows,
)
from visiongym.sims.characters.builder import ball_motor_names, build_mjcf
from visiongym.sims.characters.presets import preset
from visiongym.sims.characters.spec import CharacterSpec
from visiongym.sims.characters.terrain import TerrainSpec, heightfield, make_terrain
from visiongym.sims.errors import UsageError

__all__ = ["CharacterScene", "ROOT_DOFS"]

#: (qpos size, qvel size) of each root joint.
ROOT_DOFS = {"free": (7, 6), "planar": (3, 3), "planar_xy": (3, 3), "fixed": (0, 0)}
_BLOW_UP_SPEED = 1e3
_BAD_QACC = int(mujoco.mjtWarning.mjWARN_BADQACC)
_GHOST_RGBA = np.array([0.3, 0.8, 1.0, 0.35], dtype=np.float32)


class CharacterScene:
    """A character on a terrain, with named accessors.

    Args:
        character: A preset name (``walker``, ``quadruped``, ``humanoid``, ``snake``) or a
            :class:`~visiongym.sims.characters.spec.CharacterSpec`.
        terrain: A terrain name (``flat``, ``slope``, ``steps``, ``random``) or a
            :class:`~visiongym.sims.characters.terrain.TerrainSpec`.
        offscreen: (height, width) of the largest image :meth:`render` will be asked for.
        appearance: the distribution :meth:`draw_appearance` draws looks from: ``"default"``
            (draws nothing), ``"random"``, ``"held_out"``, a shift name, ``key=value,...`` text
            or an :class:`~visiongym.sims.appearance.AppearanceSpec`. ``pitch_*`` keys change the
            ground, ``kit_*`` keys the character's limbs, camera keys the ``track`` camera.
    """

    def __init__(
        self,
        character: str | CharacterSpec = "walker",
        terrain: str | TerrainSpec = "flat",
        offscreen: tuple[int, int] = (84, 84),
        appearance: AppearanceLike = "default",
    ) -> None:
        self.spec = preset(character) if isinstance(character, str) else character
        if not isinstance(self.spec, CharacterSpec):
            raise TypeError(f"character: expected a preset name or CharacterSpec, got {character!r}")
        self.spec.validate()
        self.terrain = make_terrain(terrain)
        self.xml = build_mjcf(self.spec, self.terrain, offscreen)
        self.model = mujoco.MjModel.from_xml_string(self.xml)
        self.data = mujoco.MjData(self.model)
        self._reference = mujoco.MjData(self.model)
        self.heights: np.ndarray | None = None
        self._renderers: dict[tuple[int, int], mujoco.Renderer] = {}
        if self.terrain.kind == "random":
            self.set_heightfield(heightfield(self.terrain.seed))
        self._index()
        #: The distribution of looks (None: the default look only).
        self.appearance_spec = make_appearance(appearance)
        prepare_shadows(self.model, self.appearance_spec)
        model = self.model
        terrain = [g for g in range(model.ngeom) if self._terrain_geom[g]]
        self._looks = LookBinding(model, self.data, LookTargets(
            surfaces={"pitch": terrain}, materials={}, kits=[self._limb_geoms.tolist()], kit_hsv=None,
            camera=mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, "track"),
            camera_pivot=np.zeros(3),
            key_light=mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_LIGHT, "key"),
            texture_density=1.0,
        ))
        #: The look shown (None: the default).
        self.look: Look | None = None
        self.reset()

    # ----------------------------------------------------------------- model layout
    def _index(self) -> None:
        model, name = self.model, self.spec.root.name
        self.root_body = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)
        self.root_nq, self.root_nv = ROOT_DOFS[self.spec.root_joint]
        #: Non-root joint names in qpos order.
        self.joint_names = [joint.name for joint in self.spec.joints()]
        self.joint_types = [joint.type for joint in self.spec.joints()]
        #: qpos start of every quaternion (free root and ball joints), for interpolation.
        self.quat_qpos = [3] if self.spec.root_joint == "free" else []
        address = self.root_nq
        for joint in self.spec.joints():
            if joint.type == "ball":
                self.quat_qpos.append(address)
            address += 4 if joint.type == "ball" else 1
        self.motor_names = []
        for joint in self.spec.actuated_joints():
            self.motor_names += [joint.name] if joint.type == "hinge" else ball_motor_names(joint.name)
        self.ctrl_low = self.model.actuator_ctrlrange[:, 0].copy()
        self.ctrl_high = self.model.actuator_ctrlrange[:, 1].copy()
        limbs = self.spec.limbs()
        self.end_effector_names = [limb.name for limb in limbs if limb.end_effector]
        self._ee_sites = np.array(
            [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, f"{n}_end") for n in self.end_effector_names],
            dtype=int,
        )
        self.foot_names = [limb.name for limb in limbs if limb.foot]
        self._foot_geoms = np.array(
            [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, f"{n}_geom") for n in self.foot_names],
            dtype=int,
        )
        # geom id -> foot index (-1 for other geoms) and geom id -> is terrain, as plain lists: a
        # step has a handful of contacts, and a Python loop over them beats numpy's per-call cost.
        self._foot_index = [-1] * model.ngeom
        for foot, geom in enumerate(self._foot_geoms.tolist()):
            self._foot_index[geom] = foot
        geom_names = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, i) or "" for i in range(model.ngeom)]
        self._terrain_geom = [n.startswith("terrain") for n in geom_names]
        self._limb_geoms = np.array(
            [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, f"{limb.name}_geom") for limb in limbs]
        )
        self._index_motors()

    @property
    def views(self) -> SimpleNamespace:
        """Cached numpy views of the MjData arrays read every step.

        Each MjData attribute access builds a new array view (microseconds each, many per step);
        the buffers never move, so the views stay valid. Dropped when pickling.
        """
        views = self.__dict__.get("_views")
        if views is None:
            data, root = self.data, self.root_body
            views = self._views = SimpleNamespace(
                qpos=data.qpos, qvel=data.qvel, ctrl=data.ctrl, site_xpos=data.site_xpos,
                root_xpos=data.xpos[root], root_xquat=data.xquat[root], root_xmat=data.xmat[root],
                root_com=data.subtree_com[root], cfrc_ext=data.cfrc_ext,
                warnings=data.warning.number,
            )
        return views

    @property
    def action_size(self) -> int:
        """Number of motors."""
        return self.model.nu

    @property
    def timestep(self) -> float:
        """Physics step in seconds."""
        return float(self.model.opt.timestep)

    # ----------------------------------------------------------------- state
    def reset(self, qpos: np.ndarray | None = None, qvel: np.ndarray | None = None) -> None:
        """Back to the initial pose (or ``qpos``/``qvel``), standing on the terrain."""
        mujoco.mj_resetData(self.model, self.data)
        if qpos is None:
            self.data.qpos[:] = self.model.qpos0
            self._lift_root(self.data)
        else:
            self.data.qpos[:] = qpos
        if qvel is not None:
            self.data.qvel[:] = qvel
        mujoco.mj_forward(self.model, self.data)

    def _lift_root(self, data: mujoco.MjData) -> None:
        """Raise the root by the terrain height under it (the spec's height is above flat ground)."""
        ground = self.terrain.height(*self.model.body_pos[self.root_body][:2], self.heights)
        if self.spec.root_joint == "free":
            data.qpos[2] += ground
        elif self.spec.root_joint == "planar":
            data.qpos[1] += ground

    def set_state(self, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Set positions and velocities and recompute derived quantities."""
        self.data.qpos[:] = qpos
        self.data.qvel[:] = qvel
        mujoco.mj_forward(self.model, self.data)

    def set_heightfield(self, heights: np.ndarray) -> None:
        """Replace the random terrain's heights (values in [0, 1], shape (201, 201))."""
        if self.terrain.kind != "random":
            raise UsageError(f"terrain {self.terrain.kind!r} has no heightfield; use 'random'")
        heights = np.asarray(heights, dtype=np.float32)
        expected = (int(self.model.hfield_nrow[0]), int(self.model.hfield_ncol[0]))
        if heights.shape != expected:
            raise UsageError(f"heights: expected shape {expected}, got {heights.shape}")
        self.heights = heights
        self.model.hfield_data[:] = heights.ravel()
        for renderer in self._renderers.values():
            mujoco.mjr_uploadHField(self.model, renderer._mjr_context, 0)

    def step(self, action: np.ndarray, substeps: int = 1) -> None:
        """Apply ``action`` (one value in [-1, 1] per motor) for ``substeps`` physics steps."""
        action = np.minimum(np.maximum(np.asarray(action, dtype=np.float64), -1.0), 1.0)
        self.views.ctrl[:] = self.ctrl_low + 0.5 * (action + 1.0) * (self.ctrl_high - self.ctrl_low)
        mujoco.mj_step(self.model, self.data, nstep=substeps)
        # mj_step leaves positions of the state before its last integration; refresh them.
        mujoco.mj_kinematics(self.model, self.data)
        mujoco.mj_comPos(self.model, self.data)

    def _index_motors(self) -> None:
        """Per-motor joint addresses for :meth:`step_pd` (hinges vectorised, ball joints by triple)."""
        model = self.model
        joints = model.actuator_trnid[:, 0]
        hinge = model.jnt_type[joints] == mujoco.mjtJoint.mjJNT_HINGE
        self._hinge_motors = np.flatnonzero(hinge)
        self._hinge_qpos = model.jnt_qposadr[joints[hinge]]
        self._hinge_qvel = model.jnt_dofadr[joints[hinge]]
        # A ball joint's three motors are consecutive (x, y, z axes of the joint frame).
        self._ball_motors = [
            (int(m), int(model.jnt_qposadr[joints[m]]), int(model.jnt_dofadr[joints[m]]))
            for m in range(model.nu)
            if not hinge[m] and (m == 0 or joints[m - 1] != joints[m])
        ]
        # The degree of freedom each motor turns (a ball joint's x, y, z motors: its 3 dofs).
        self._motor_dofs = model.jnt_dofadr[joints].copy()
        for motor, _, dof in self._ball_motors:
            self._motor_dofs[motor : motor + 3] = dof + np.arange(3)
        # Where each motor dof's diagonal entry of the mass matrix (CSR rows, diagonal last) is.
        self._motor_inertia = model.M_rowadr[self._motor_dofs] + model.M_rownnz[self._motor_dofs] - 1
        #: Torque (N·m) a motor gives at control 1: the length of its gear vector.
        self.motor_strength = np.linalg.norm(model.actuator_gear[:, :3], axis=1)
        ranges = model.jnt_range[joints]
        #: (low, high) target range per motor (rad): the hinge range; a ball joint's ±cone angle.
        self.motor_range = np.where(hinge[:, None], ranges, np.stack([-ranges[:, 1], ranges[:, 1]], axis=1))

    def motor_positions(self, qpos: np.ndarray | None = None) -> np.ndarray:
        """Joint position seen by each motor (rad): the hinge angle; for a ball joint's three
        motors, the rotation vector (axis x angle, joint frame) of its orientation."""
        qpos = self.data.qpos if qpos is None else qpos
        positions = np.zeros(self.model.nu)
        positions[self._hinge_motors] = qpos[self._hinge_qpos]
        for motor, address, _ in self._ball_motors:
            mujoco.mju_quat2Vel(positions[motor : motor + 3], qpos[address : address + 4], 1.0)
        return positions

    def step_pd(self, targets: np.ndarray, kp: np.ndarray, kd: np.ndarray, substeps: int = 1) -> None:
        """Track motor position ``targets`` with stable PD torques for ``substeps`` physics steps.

        Stable PD (Tan, Liu & Turk 2011) with the diagonal of the mass matrix: the torque
        ``(kp * (target - position - dt * velocity) - kd * velocity) / (1 + dt * kd / M_ii)`` is
        the PD torque on the next step's state, so stiff gains stay stable on light limbs (a
        forearm twisting about its own axis) where explicit PD would oscillate. It is recomputed
        every physics step and clipped to what the motor gives (gear x control range), so a
        PD-controlled character is never stronger than a torque-controlled one.

        Args:
            targets: One target per motor, in the units of :meth:`motor_positions` (rad).
            kp: Stiffness per motor (N·m/rad).
            kd: Damping per motor (N·m·s/rad).
            substeps: Physics steps.
        """
        targets = np.asarray(targets, dtype=np.float64)
        target_quats = []
        for motor, _, _ in self._ball_motors:
            quat = np.array([1.0, 0.0, 0.0, 0.0])
            mujoco.mju_quatIntegrate(quat, targets[motor : motor + 3], 1.0)
            target_quats.append(quat)
        views, error, dt = self.views, np.zeros(3), self.timestep
        hinges, model, data = self._hinge_motors, self.model, self.data
        for _ in range(substeps):
            qpos, qvel = views.qpos, views.qvel
            velocity = qvel[self._motor_dofs]
            position_error = np.empty(model.nu)
            position_error[hinges] = targets[hinges] - qpos[self._hinge_qpos]
            for (motor, address, _), quat in zip(self._ball_motors, target_quats, strict=True):
                mujoco.mju_subQuat(error, quat, qpos[address : address + 4])
                position_error[motor : motor + 3] = error
            inertia = data.M[self._motor_inertia]
            torque = (kp * (position_error - dt * velocity) - kd * velocity) / (1.0 + dt * kd / inertia)
            views.ctrl[:] = np.minimum(np.maximum(torque / self.motor_strength, self.ctrl_low), self.ctrl_high)
            mujoco.mj_step(model, data)
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)

    def blown_up(self) -> bool:
        """True when the state is no longer finite or moves absurdly fast (a diverged simulation)."""
        views = self.views
        # NaN and inf propagate through the sums, so one scalar test covers every entry.
        speed = float(views.qvel @ views.qvel) + 0.0 * float(views.qpos.sum())
        return not math.isfinite(speed) or speed > _BLOW_UP_SPEED**2 or bool(views.warnings[_BAD_QACC] > 0)

    def time(self) -> float:
        """Simulated seconds since the last reset."""
        return float(self.data.time)

    # ----------------------------------------------------------------- named accessors
    def joint_angles(self) -> np.ndarray:
        """Non-root joint positions in qpos order: an angle (rad) per hinge, a quaternion per ball."""
        return self.views.qpos[self.root_nq :].copy()

    def joint_velocities(self) -> np.ndarray:
        """Non-root joint velocities (rad/s): one per hinge, three (local frame) per ball."""
        return self.views.qvel[self.root_nv :].copy()

    def joint_angle(self, name: str) -> float:
        """One hinge joint's angle in radians."""
        joint = self.model.joint(name)
        return float(self.data.qpos[joint.qposadr[0]])

    def root_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Root body position (3,) in metres and orientation quaternion (w, x, y, z) in the world."""
        return self.views.root_xpos.copy(), self.views.root_xquat.copy()

    def root_velocity(self) -> tuple[np.ndarray, np.ndarray]:
        """Root linear velocity (3,) and angular velocity (3,), both in the world frame."""
        velocity = np.zeros(6)
        mujoco.mj_objectVelocity(
            self.model, self.data, mujoco.mjtObj.mjOBJ_BODY, self.root_body, velocity, 0
        )
        return velocity[3:].copy(), velocity[:3].copy()

    def root_axes(self) -> np.ndarray:
        """Root rotation matrix (3, 3); columns are the root's x, y, z axes in the world."""
        return self.views.root_xmat.reshape(3, 3).copy()

    def heading(self) -> float:
        """Yaw (rad) of the root's x axis projected on the ground."""
        axes = self.views.root_xmat
        return math.atan2(axes[3], axes[0])

    def tilt(self) -> float:
        """Angle (rad) between the root's up axis and the vertical."""
        return math.acos(min(1.0, max(-1.0, float(self.views.root_xmat[8]))))

    def center_of_mass(self) -> np.ndarray:
        """Whole-character centre of mass (3,) in the world."""
        return self.views.root_com.copy()

    def center_of_mass_velocity(self) -> np.ndarray:
        """Whole-character centre-of-mass velocity (3,) in the world."""
        mujoco.mj_subtreeVel(self.model, self.data)
        return self.data.subtree_linvel[self.root_body].copy()

    def end_effector_positions(self) -> np.ndarray:
        """World positions (k, 3) of the end effectors, in :attr:`end_effector_names` order."""
        return self.views.site_xpos[self._ee_sites]

    def foot_contacts(self) -> np.ndarray:
        """Whether each foot (:attr:`foot_names`) touches the terrain, shape (feet,) bool."""
        touching = [False] * len(self._foot_geoms)
        count = self.data.ncon
        if count and touching:
            foot_index, terrain = self._foot_index, self._terrain_geom
            for first, second in self.data.contact.geom[:count].tolist():
                if terrain[second] and foot_index[first] >= 0:
                    touching[foot_index[first]] = True
                if terrain[first] and foot_index[second] >= 0:
                    touching[foot_index[second]] = True
        return np.array(touching, dtype=bool)

    def ground_height(self, x: float | None = None, y: float | None = None) -> float:
        """Terrain height under (x, y); under the root when omitted."""
        if x is None or y is None:
            x, y = self.views.root_xpos[:2]
        return self.terrain.height(float(x), float(y), self.heights)

    def height_above_ground(self) -> float:
        """Root height above the terrain under it (metres)."""
        return float(self.views.root_xpos[2]) - self.ground_height()

    def fallen(self) -> bool:
        """True when the root is outside the spec's healthy height or tilt (see FallSpec)."""
        fall = self.spec.fall
        height = self.height_above_ground()
        if fall.min_height is not None and height < fall.min_height:
            return True
        if fall.max_height is not None and height > fall.max_height:
            return True
        return fall.max_tilt is not None and math.degrees(self.tilt()) > fall.max_tilt

    def lowest_point(self, data: mujoco.MjData | None = None, geoms=None) -> np.ndarray:
        """World point (3,) of the character's geometry (or of ``geoms``) lowest in z."""
        data = self.data if data is None else data
        best, best_point = math.inf, np.zeros(3)
        for geom in self._limb_geoms if geoms is None else geoms:
            radius, half = self.model.geom_size[geom][:2]
            centre = data.geom_xpos[geom]
            axis = data.geom_xmat[geom].reshape(3, 3)[:, 2]
            ends = (centre,) if self.model.geom_type[geom] == mujoco.mjtGeom.mjGEOM_SPHERE else (
                centre + half * axis, centre - half * axis
            )
            for end in ends:
                if end[2] - radius < best:
                    best, best_point = end[2] - radius, np.array([end[0], end[1], end[2] - radius])
        return best_point

    def kinematics(self, qpos: np.ndarray) -> mujoco.MjData:
        """Forward kinematics of ``qpos`` on a scratch copy (the simulation is untouched)."""
        self._reference.qpos[:] = qpos
        mujoco.mj_kinematics(self.model, self._reference)
        mujoco.mj_comPos(self.model, self._reference)
        return self._reference

    # ----------------------------------------------------------------- appearance
    def draw_appearance(self, rng: np.random.Generator, spec: AppearanceLike = None) -> Look | None:
        """Show a look drawn from ``spec`` (default: the scene's ``appearance``); return it.

        The default look draws nothing from ``rng`` and returns None.
        """
        spec = self.appearance_spec if spec is None else make_appearance(spec)
        self.apply_look(None if spec is None else draw_look(spec, rng))
        return self.look

    def apply_look(self, look: Look | None) -> None:
        """Show a drawn look (None: the default look)."""
        if look is not None and look.shadows and prepare_shadows(self.model, AppearanceSpec(shadows=1.0)):
            self.close()  # renderers size their shadow map when made
        if look is None:
            self._looks.reset()
        else:
            self._looks.apply(look)
        self.look = look

    # ----------------------------------------------------------------- rendering
    def render(
        self,
        height: int = 84,
        width: int = 84,
        camera: str | int = "track",
        ghost_qpos: np.ndarray | None = None,
        ghost_offset: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> np.ndarray:
        """An RGB frame (height, width, 3) uint8 from ``camera``.

        Args:
            ghost_qpos: If given, also draw the character in this pose as a translucent ghost
                (for instance the reference of an imitation task).
            ghost_offset: World shift (metres) of the ghost, to show it next to the character.
        """
        from visiongym.sims.gl import make_renderer

        key = (int(height), int(width))
        renderer = self._renderers.get(key)
        if renderer is None:
            buffer = (self.model.vis.global_.offheight, self.model.vis.global_.offwidth)
            if key[0] > buffer[0] or key[1] > buffer[1]:
                raise UsageError(
                    f"render size {key} exceeds the offscreen buffer {buffer}; build the scene "
                    "with a larger `offscreen`"
                )
            renderer = self._renderers[key] = make_renderer(self.model, *key)
            self._scene_option = mujoco.MjvOption()
            self._perturb = mujoco.MjvPerturb()
        renderer.update_scene(self.data, camera=camera)
        if ghost_qpos is not None:
            ghost = self.kinematics(ghost_qpos)
            scene = renderer.scene
            first = scene.ngeom
            mujoco.mjv_addGeoms(
                self.model, ghost, self._scene_option, self._perturb,
                mujoco.mjtCatBit.mjCAT_DYNAMIC, scene,
            )
            offset = np.asarray(ghost_offset, dtype=np.float32)
            for i in range(first, scene.ngeom):
                scene.geoms[i].rgba[:] = _GHOST_RGBA
                scene.geoms[i].pos[:] = scene.geoms[i].pos + offset
        return renderer.render()

    def close(self) -> None:
        """Free the renderers (safe to call twice)."""
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers.clear()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_renderers"] = {}
        state.pop("_scene_option", None)
        state.pop("_perturb", None)
        state.pop("_views", None)
        return state
