"""The tabletop soccer scene: physics, kicks, referee and scripted players, behind named accessors.

A :class:`SoccerScene` owns one MuJoCo model and data. It knows nothing about rewards or agents:
it takes per-player commands and exposes the state through named accessors, as dm_control's
physics objects do. Cameras (:mod:`~visiongym.sims.soccer.cameras`), ground truth
(:mod:`~visiongym.sims.soccer.ground_truth`) and appearance (:mod:`~visiongym.sims.soccer.appearance`)
live in their own modules; the scene's methods of those names hand over to them. Renderers are
created lazily in the process that renders, so a scene pickles and moves into worker processes
before it has drawn anything.
"""

from __future__ import annotations

import dataclasses
import math

import mujoco
import numpy as np

from visiongym.sims.appearance import (
    AppearanceLike,
    AppearanceSpec,
    Look,
    make_appearance,
    prepare_shadows,
)
from visiongym.sims.camera import CameraModel, camera_model
from visiongym.sims.errors import UsageError, check_choice
from visiongym.sims.soccer import ground_truth as _ground_truth
from visiongym.sims.soccer.appearance import KIT_HUES, TEAM_COLOUR_MODES, Appearance
from visiongym.sims.soccer.builders import PitchSpec, SceneSpec, build_mjcf
from visiongym.sims.soccer.cameras import (
    CAMERAS,
    MAX_TILED,
    RendererCache,
    camera_id,
    check_image_size,
    render_tiled,
    tile_grid,
)
from visiongym.sims.soccer.ground_truth import (
    CLASS_NAMES,
    SurfaceSampler,
    instance_table,
    keypoint_labels,
)
from visiongym.sims.soccer.humans import KEYPOINT_NAMES, PLAYER_LOOKS, HumanPoser
from visiongym.sims.soccer.referee import Referee
from visiongym.sims.soccer.scripted import ROLES, default_lanes, default_roles, scripted_commands

# CLASS_NAMES, CAMERAS, KIT_HUES and TEAM_COLOUR_MODES are re-exported: they were defined here.
__all__ = ["SoccerScene", "CLASS_NAMES", "CAMERAS", "KIT_HUES", "TEAM_COLOUR_MODES", "PLAYER_LOOKS",
           "KEYPOINT_NAMES"]



def _read_only(view: np.ndarray) -> np.ndarray:
    view.flags.writeable = False
    return view


class SoccerScene:
    """A pitch with two teams of round robots and a ball.

    Args:
        team_size: players per team, or ``(team_a, team_b)``; a side may have 0 players.
        pitch_length: metres along x (team A attacks +x).
        pitch_width: metres along y.
        goal_width: goal mouth in metres; default a quarter of the width.
        image_size: (height, width) the offscreen buffer is first sized for.
        ego_cameras: give every player a head camera (``camera="ego"``). Every player also has a
            ``follow`` camera: orthographic, straight down, world-aligned, centred on the player
            and showing a square half the pitch length wide, and a ``heading`` camera: the same
            square turning with the player so that its facing is up, the player a quarter of
            the view above the bottom edge.
        max_speed: player top speed in m/s (commands are fractions of it).
        kick_speed: ball speed right after a full kick, m/s.
        control_dt: seconds per :meth:`step` (a whole number of the model's 10 ms physics steps).
        skill: scripted players' speed scale in [0, 1].
        roles: one role per player (``keeper``, ``chaser``, ``defender``, ``support``); default
            by shirt order.
        appearance: the distribution :meth:`draw_appearance` draws looks from: ``"default"``
            (the built-in look; draws nothing), ``"random"`` (``TRAIN``), ``"held_out"``, a shift
            name, ``key=value,...`` text or an :class:`~visiongym.sims.appearance.AppearanceSpec`
            (keys and bounds: :mod:`visiongym.sims.appearance`).
        players: what the players look like: ``"robot"`` (round robots) or ``"human"``
            (humanoids in team kits with shirt numbers, posed from the gait clips as they move
            and kick: :mod:`~visiongym.sims.soccer.humans`). Pictures only: the physics, and so
            every state, is the same bit for bit; :meth:`render_ground_truth` adds skeleton
            keypoints, surface points and per-player depth.
    """

    def __init__(
        self,
        team_size: int | tuple[int, int] = 2,
        pitch_length: float = 2.4,
        pitch_width: float = 1.6,
        goal_width: float | None = None,
        image_size: tuple[int, int] = (84, 84),
        ego_cameras: bool = True,
        max_speed: float = 0.9,
        kick_speed: float = 2.2,
        control_dt: float = 0.05,
        skill: float = 1.0,
        roles: tuple[str, ...] | None = None,
        appearance: AppearanceLike = "default",
        players: str = "robot",
    ) -> None:
        check_choice("players", players, PLAYER_LOOKS)
        sizes = (team_size, team_size) if isinstance(team_size, (int, np.integer)) else tuple(team_size)
        pitch = PitchSpec(
            length=pitch_length,
            width=pitch_width,
            goal_width=goal_width if goal_width is not None else pitch_width / 4,
        )
        capacity = pitch.capacity()
        if len(sizes) != 2 or any(not (0 <= int(s) <= capacity) for s in sizes) or sum(sizes) == 0:
            raise UsageError(
                f"team size {team_size!r} does not fit a {pitch_length}x{pitch_width} m pitch; each "
                f"team may field 0 to {capacity} players (at least one player in all)"
            )
        if not 0.0 <= skill <= 1.0:
            raise UsageError(f"skill {skill!r} out of range; must lie in [0, 1]")
        check_image_size(*image_size)
        self.spec = SceneSpec(pitch=pitch, team_sizes=(int(sizes[0]), int(sizes[1])),
                              offscreen=tuple(image_size), ego_cameras=ego_cameras, players=players)
        self.pitch = pitch
        self.team_sizes = self.spec.team_sizes
        self.n_players = sum(self.team_sizes)
        self.max_speed = max_speed
        self.max_turn = 6.0  # rad/s
        self.kick_speed = kick_speed
        self.skill = skill
        self.reach = pitch.player_radius + pitch.ball_radius + 0.035
        self.kick_cooldown = 0.3
        # The physics is always the robots' model. The human look draws a second model: the same
        # one (same ids, same qpos layout) plus each player's humanoid, never stepped.
        self.model = mujoco.MjModel.from_xml_string(build_mjcf(dataclasses.replace(self.spec, players="robot")))
        self.data = mujoco.MjData(self.model)
        #: The model and data that renders draw (the physics' own for robots).
        self.view_model, self.view_data = self.model, self.data
        if players == "human":
            self.view_model = mujoco.MjModel.from_xml_string(build_mjcf(self.spec))
            self.view_data = mujoco.MjData(self.view_model)
        self.n_substeps = max(1, round(control_dt / self.model.opt.timestep))
        self.control_dt = self.n_substeps * self.model.opt.timestep
        self.referee = Referee(pitch, self.control_dt)
        self.teams = np.array([0] * self.team_sizes[0] + [1] * self.team_sizes[1])
        self.numbers = np.array(
            list(range(1, self.team_sizes[0] + 1)) + list(range(1, self.team_sizes[1] + 1))
        )
        self.roles = default_roles(self.team_sizes[0]) + default_roles(self.team_sizes[1])
        if roles is not None:
            if len(roles) != self.n_players or set(roles) - set(ROLES):
                raise UsageError(
                    f"roles {roles!r} invalid; give {self.n_players} of: {', '.join(ROLES)}"
                )
            self.roles = list(roles)
        self.lanes = default_lanes(self.roles[: self.team_sizes[0]]) + default_lanes(self.roles[self.team_sizes[0] :])
        #: +1 for players attacking +x (team A), -1 for those attacking -x (team B).
        self.attack_signs = _read_only(np.where(self.teams == 0, 1.0, -1.0))
        self._cooldown = np.zeros(self.n_players)
        self.kick_targets: dict[int, tuple[float, float]] = {}
        self.kick_windows: dict[int, tuple[float, float, float]] = {}
        #: The distribution of looks (None: the default look only).
        self.appearance_spec = make_appearance(appearance)
        view = self.view_model
        prepare_shadows(view, self.appearance_spec)
        self._renderers = RendererCache(view)
        self.players = players
        #: Poses the humanoids before each render (None for robots).
        self.humans = HumanPoser(view, self.numbers, max_speed) if players == "human" else None
        player_geoms = None if self.humans is None else self.humans.geoms
        kit_geoms = None if self.humans is None else self.humans.kit_geoms_of(self.teams)
        self.appearance = Appearance(view, self.view_data, self.teams, pitch.width, kit_geoms=kit_geoms)
        #: Which geom belongs to which object of :meth:`render_ground_truth`, and what it is.
        self.instances = instance_table(view, self.teams, self.numbers, player_geoms)
        self._surfaces = SurfaceSampler(view, [self.instances.geoms_of(2 + i) for i in range(self.n_players)])
        self._gait_phase = np.zeros(self.n_players)
        self._gait_anchor = np.zeros((self.n_players, 2))
        self._bind()
        self.reset(np.random.default_rng(0))

    # ------------------------------------------------------------------ set-up helpers
    def _bind(self) -> None:
        """Views into MuJoCo's arrays (rebuilt after unpickling, since views do not survive it).

        The scene writes through the private views; the accessors hand out read-only views of
        the same memory, so reading the state every step copies nothing.
        """
        n = self.n_players
        adr = self.model.jnt_qposadr
        ball_x = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, "ball_x")
        assert adr[ball_x] == 0 and (n == 0 or adr[ball_x + 2] == 2), "unexpected joint layout"
        self._ball_qpos = self.data.qpos[0:2]
        self._ball_qvel = self.data.qvel[0:2]
        self._player_qpos = self.data.qpos[2 : 2 + 3 * n].reshape(n, 3)
        self._player_qvel = self.data.qvel[2 : 2 + 3 * n].reshape(n, 3)
        self._ctrl_flat = self.data.ctrl
        self._ctrl = self._ctrl_flat.reshape(n, 3)
        self._qpos, self._qvel = self.data.qpos, self.data.qvel
        self._views = {
            "ball_position": _read_only(self.data.qpos[0:2]),
            "ball_velocity": _read_only(self.data.qvel[0:2]),
            "player_positions": _read_only(self._player_qpos[:, :2]),
            "player_velocities": _read_only(self._player_qvel[:, :2]),
            "player_yaws": _read_only(self._player_qpos[:, 2]),
            "player_poses": _read_only(self._player_qpos[:]),
            "joint_positions": _read_only(self.data.qpos[:]),
            "joint_velocities": _read_only(self.data.qvel[:]),
        }

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        for key in ("_ball_qpos", "_ball_qvel", "_player_qpos", "_player_qvel", "_ctrl", "_ctrl_flat", "_qpos", "_qvel", "_views"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._bind()

    # ------------------------------------------------------------------ episode control
    def reset(self, rng: np.random.Generator, jitter: float = 0.03) -> None:
        """Kick-off formation (team A kicks off) with up to ``jitter`` metres of noise."""
        mujoco.mj_resetData(self.model, self.data)
        self.referee.reset()
        self._cooldown[:] = 0.0
        self._gait_phase[:] = 0.0
        self.last_kicker = -1
        self.kicks_taken = 0
        self.last_restart = ""
        self._aim = np.zeros(self.n_players)
        self._aim_stale = True
        self.kickoff(rng, kicking_team=0, jitter=jitter)

    def kickoff(self, rng: np.random.Generator, kicking_team: int = 0, jitter: float = 0.03) -> None:
        """Put every player in formation and the ball on the centre spot."""
        half_l, half_w = self.pitch.length / 2, self.pitch.width / 2
        for team in (0, 1):
            members = np.flatnonzero(self.teams == team)
            sign = -1.0 if team == 0 else 1.0
            for rank, i in enumerate(members):
                role = self.roles[i]
                if role == "keeper":
                    pos = np.array([sign * (half_l - 0.08), 0.0])
                elif rank == 1 or (len(members) == 1):
                    # The striker: at the ball if kicking off, else outside the centre circle.
                    distance = self.reach + 0.01 if team == kicking_team else self.pitch.goal_width / 2 + 0.12
                    pos = np.array([sign * distance, 0.0])
                else:
                    spread = np.linspace(-1, 1, max(len(members) - 2, 1) + 2)[1:-1]
                    y = spread[(rank - 2) % len(spread)] * half_w * 0.8
                    x = sign * half_l * (0.55 if role == "defender" else 0.25)
                    pos = np.array([x, y])
                pos = pos + rng.uniform(-jitter, jitter, 2)
                yaw = 0.0 if team == 0 else np.pi
                self.set_player(i, pos, yaw + rng.uniform(-0.2, 0.2))
        self.set_ball((0.0, 0.0))

    def set_ball(self, pos, vel=(0.0, 0.0)) -> None:
        """Place the ball at ``pos`` (x, y) with velocity ``vel``."""
        self._ball_qpos[:] = pos
        self._ball_qvel[:] = vel
        mujoco.mj_forward(self.model, self.data)

    def set_ball_visible(self, visible: bool) -> None:
        """Draw the ball in rendered frames, or not (an occluded ball; physics is unchanged)."""
        self.appearance.set_ball_visible(visible)

    def ball_visible(self) -> bool:
        """Whether :meth:`render` draws the ball."""
        return self.appearance.ball_visible()

    def set_player(self, index: int, pos, yaw: float = 0.0) -> None:
        """Place player ``index`` at ``pos`` (x, y) facing ``yaw`` radians, at rest."""
        if not 0 <= index < self.n_players:
            raise UsageError(f"player index {index} out of range; this scene has {self.n_players} players")
        self._player_qpos[index] = (pos[0], pos[1], yaw)
        self._player_qvel[index] = 0.0
        self._gait_anchor[index] = pos[:2]  # a placed player did not walk there
        mujoco.mj_forward(self.model, self.data)

    # ------------------------------------------------------------------ dynamics
    def step(self, commands: np.ndarray) -> int:
        """Advance one control step. Returns +1/-1 if team A/B scored during it, else 0.

        After a goal, a pinned ball or an escape the referee restarts play at once;
        ``last_restart`` says which (``"kickoff"``, ``"drop_ball"``, ``"escape"`` or ``""``).

        Args:
            commands: (n_players, 4) array of (vx, vy, turn, kick) in [-1, 1]; velocities in the
                world frame as fractions of ``max_speed``; a kick fires when ``kick > 0``.
        """
        # Plain floats per player: for a handful of players a few numpy calls on (n, 4) arrays
        # cost more than the arithmetic, and IEEE gives the same bytes either way.
        n = self.n_players
        if type(commands) is list and len(commands) == n:
            rows = commands  # rows of four floats (the multi-agent env's fast path): no array round trip
        else:
            commands = np.asarray(commands, dtype=np.float64)
            if commands.shape != (n, 4):
                raise UsageError(
                    f"commands have shape {commands.shape}; expected ({n}, 4) = "
                    "(players, [vx, vy, turn, kick])"
                )
            rows = commands.tolist()
        max_speed, max_turn = self.max_speed, self.max_turn
        ctrl, kicks, in_range = [], [], True
        try:
            for vx, vy, turn, kick_command in rows:
                if not (-1.0 <= vx <= 1.0 and -1.0 <= vy <= 1.0 and -1.0 <= turn <= 1.0 and -1.0 <= kick_command <= 1.0):
                    in_range = False  # NaN/inf refused, the rest clipped
                    break
                scale = max_speed / max(1.0, math.sqrt(vx * vx + vy * vy))
                ctrl += (vx * scale, vy * scale, turn * max_turn)
                kicks.append(kick_command > 0)
        except (TypeError, ValueError):  # a list whose rows are not four numbers: the array path refuses it
            return self.step(np.asarray(commands, dtype=np.float64))
        if not in_range:
            commands = np.asarray(rows, dtype=np.float64)
            if not np.isfinite(commands).all():
                raise UsageError("commands contain NaN or infinity")
            return self.step(np.clip(commands, -1.0, 1.0))
        self._ctrl_flat[:] = ctrl
        self._cooldown -= self.control_dt
        if True in kicks and self._may_kick(kicks):
            self._try_kick(np.array(kicks))
        mujoco.mj_step(self.model, self.data, nstep=self.n_substeps)
        ball = self._ball_qpos
        decision = self.referee.observe(ball.tolist(), math.hypot(*self._ball_qvel.tolist()))
        restart = decision.restart
        # Summed as Python floats (a tenth of numpy's cost on 14 values); any NaN or inf shows.
        if not math.isfinite(sum(self._qpos.tolist()) + sum(self._qvel.tolist())):
            restart = "escape"
            self.referee.escapes += 1
        self.last_restart = restart
        if restart == "kickoff":
            self.kickoff(np.random.default_rng(self.referee.elapsed_steps), kicking_team=1 if decision.goal > 0 else 0)
        elif restart == "drop_ball":
            x, y = ball
            inward = 0.2 + self.pitch.ball_radius
            new_y = np.sign(y) * max(0.0, abs(y) - inward) if abs(y) > self.pitch.width / 2 - inward else y
            new_x = np.sign(x) * min(abs(x), self.pitch.length / 2 - inward)
            self.set_ball((new_x, new_y))
        elif restart == "escape":
            mujoco.mj_resetData(self.model, self.data)
            self.kickoff(np.random.default_rng(self.referee.elapsed_steps))
        return decision.goal

    def _advance_gait(self) -> None:
        """Move each human's gait phase on by the distance it covered since the last update
        (backwards when it backed up). Done when drawing, not stepping, so that the physics
        costs what the robots' does; a render every control step follows the path."""
        position = self._player_qpos[:, :2]
        dx, dy = (position - self._gait_anchor).T
        yaw = self._player_qpos[:, 2]
        distance = np.hypot(dx, dy)
        backing = dx * np.cos(yaw) + dy * np.sin(yaw) < -0.3 * distance
        self._gait_phase += np.where(backing, -distance, distance) / self.humans.stride
        self._gait_anchor[:] = position

    def gait_phases(self) -> np.ndarray:
        """(n_players,) each human's gait phase in cycles (zeros for robots), brought up to date: a copy."""
        if self.humans is not None:
            self._advance_gait()
        return self._gait_phase.copy()

    def kick_weights(self) -> np.ndarray:
        """(n_players,) how far each player is into its kick pose, in [0, 1].

        A kick command starts the kick cool-down; the pose is held for the first 35 % of it and
        eases out over the rest.
        """
        progress = np.clip(1.0 - self._cooldown / self.kick_cooldown, 0.0, 1.0)
        ease = 0.5 * (1.0 + np.cos(np.pi * np.clip((progress - 0.35) / 0.65, 0.0, 1.0)))
        return np.where(self._cooldown > 0, ease, 0.0)

    def pose_humans(self) -> None:
        """Bring the drawn model up to the current state and pose the humanoids (done by every
        render and camera; a no-op for robots, whose drawn model is the physics' own)."""
        if self.humans is None:
            return
        self._advance_gait()
        view, data = self.view_model, self.view_data
        data.qpos[:] = self.data.qpos
        data.qvel[:] = self.data.qvel
        speeds = np.hypot(self._player_qvel[:, 0], self._player_qvel[:, 1])
        self.humans.pose(view, data, self._player_qpos, speeds, self._gait_phase, self.kick_weights())
        mujoco.mj_comPos(view, data)
        mujoco.mj_camlight(view, data)

    def player_keypoints(self) -> np.ndarray:
        """(n_players, K, 3) world positions of the humans' skeleton keypoints (:data:`KEYPOINT_NAMES`).

        Raises UsageError for robots, which have no skeleton.
        """
        if self.humans is None:
            raise UsageError("players='robot' have no skeleton; build the scene with players='human'")
        self.pose_humans()
        return self.humans.keypoints(self._player_qpos)

    def player_surface_points(self, count: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Points on each player's visible surface and their outward normals, world frame.

        Returns two (n_players, count, 3) float32 arrays: ``count`` points per player spread over
        its visual geoms by area (points inside another of its geoms are left out), fixed in each
        geom, so they move with the player's limbs.
        """
        self.pose_humans()
        return self._surfaces.sample(self.view_data, count)

    def _may_kick(self, kicks: list[bool]) -> bool:
        """Whether :meth:`_try_kick` could move the ball: a kicking player off its cool-down within
        reach (the distance in plain floats, with a margin far above their rounding). If none is,
        start the cool-down of those off it, as :meth:`_try_kick` would, and return False."""
        cooldown = self._cooldown.tolist()
        ready = [i for i, kick in enumerate(kicks) if kick and cooldown[i] <= 0]
        if not ready:
            return False
        bx, by = self._ball_qpos.tolist()
        poses = self._player_qpos.tolist()
        reach = self.reach + 1e-9
        if any(math.hypot(bx - poses[i][0], by - poses[i][1]) < reach for i in ready):
            return True
        self._cooldown[ready] = self.kick_cooldown
        return False

    def _try_kick(self, kicking: np.ndarray) -> None:
        """A kick is an impulse on the ball from a player close enough and facing it.

        The ball leaves along the kicker's facing direction, or towards the kicker's point in
        :attr:`kick_targets` (player index -> (x, y)) when it has one: an aimed shot. A kicker
        with an entry in :attr:`kick_windows` (player index -> (line_x, y_low, y_high)) kicks
        along its facing direction, but where that line would cross ``x = line_x`` outside
        ``[y_low, y_high]`` the ball is aimed at the nearest end of the window instead: a shot
        that stays inside the posts, on the side the kicker chose by facing it.
        """
        pos = self._player_qpos[:, :2]
        yaw = self._player_qpos[:, 2]
        facing = np.stack([np.cos(yaw), np.sin(yaw)], axis=1)
        to_ball = self._ball_qpos - pos
        distance = np.hypot(to_ball[:, 0], to_ball[:, 1])
        in_front = np.einsum("ij,ij->i", facing, to_ball) > np.cos(np.deg2rad(70)) * distance
        able = kicking & (distance < self.reach) & in_front & (self._cooldown <= 0)
        self._cooldown[kicking & (self._cooldown <= 0)] = self.kick_cooldown
        if not able.any():
            return
        kicker = int(np.flatnonzero(able)[np.argmin(distance[able])])
        direction = facing[kicker]
        if kicker in self.kick_targets:
            aim = np.asarray(self.kick_targets[kicker]) - self._ball_qpos
            direction = aim / max(1e-9, float(np.hypot(*aim)))
        elif kicker in self.kick_windows:
            line_x, low, high = self.kick_windows[kicker]
            ahead = line_x - self._ball_qpos[0]
            if direction[0] * ahead > 1e-9:  # only a kick towards the line is pulled into the window
                crossing = self._ball_qpos[1] + direction[1] * ahead / direction[0]
                aim = np.array([line_x, min(max(crossing, low), high)]) - self._ball_qpos
                direction = aim / max(1e-9, float(np.hypot(*aim)))
        new_velocity = direction * self.kick_speed + 0.3 * self._player_qvel[kicker, :2]
        speed = np.hypot(*new_velocity)
        if speed > self.kick_speed * 1.2:
            new_velocity *= self.kick_speed * 1.2 / speed
        # The impulse J = m * (v_new - v_old) changes the ball's momentum; in velocity terms:
        self._ball_qvel[:] = new_velocity
        self.last_kicker = kicker
        self.kicks_taken += 1
        self._aim_stale = True

    def scripted_commands(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """Commands (n_players, 4) for every player from its scripted role."""
        if rng is not None and self._aim_stale:
            # Each shooter picks a spot in the goal and keeps it until it has kicked.
            self._aim = rng.uniform(-1, 1, self.n_players)
            self._aim_stale = False
        noise = None if rng is None else self._aim
        return scripted_commands(
            self.roles, self._player_qpos[:, :2], self._player_qpos[:, 2], self._ball_qpos,
            self.attack_signs, self.pitch.length, self.pitch.goal_width, self.reach, self.skill,
            noise, self._ball_qvel, lanes=self.lanes, pitch_width=self.pitch.width,
        )

    # ------------------------------------------------------------------ named accessors
    # The state accessors return read-only views of MjData, not copies: they follow the
    # scene as it steps (copy one to keep a value) and cost nothing to call every step.
    def ball_position(self) -> np.ndarray:
        """Ball (x, y), metres: a read-only view that follows the scene."""
        return self._views["ball_position"]

    def ball_velocity(self) -> np.ndarray:
        """Ball (vx, vy), m/s: a read-only view that follows the scene."""
        return self._views["ball_velocity"]

    def player_positions(self) -> np.ndarray:
        """(n_players, 2) player (x, y), metres, in player order: a read-only view."""
        return self._views["player_positions"]

    def player_velocities(self) -> np.ndarray:
        """(n_players, 2) player (vx, vy), m/s: a read-only view."""
        return self._views["player_velocities"]

    def player_yaws(self) -> np.ndarray:
        """(n_players,) player facing, radians from +x: a read-only view."""
        return self._views["player_yaws"]

    def player_poses(self) -> np.ndarray:
        """(n_players, 3) player (x, y, yaw) in one contiguous read-only view (the fastest to read)."""
        return self._views["player_poses"]

    def joint_positions(self) -> np.ndarray:
        """Every joint's position (``qpos``) in one read-only view: the ball's (x, y), then each
        player's (x, y, yaw) in player order; what a caller that reads the whole state at once uses."""
        return self._views["joint_positions"]

    def joint_velocities(self) -> np.ndarray:
        """Every joint's velocity (``qvel``) in one read-only view, laid out as :meth:`joint_positions`."""
        return self._views["joint_velocities"]

    def team_players(self, team: int) -> np.ndarray:
        """Indices of team ``team``'s players (0 = A, 1 = B), in shirt order."""
        return np.flatnonzero(self.teams == team)

    def score(self) -> tuple[int, int]:
        return tuple(self.referee.goals)

    def time(self) -> float:
        return self.referee.time

    def last_goal(self) -> int:
        return self.referee.last_goal

    # ------------------------------------------------------------------ appearance
    def draw_appearance(self, rng: np.random.Generator, spec: AppearanceSpec | None = None,
                        team_colours: str = "kits") -> Look | None:
        """Show a look drawn from ``spec`` (default: the scene's ``appearance``); return it.

        The default look draws nothing from ``rng`` and returns None.
        ``team_colours="random"`` replaces the kit hues by two random contrasting ones.
        """
        spec = self.appearance_spec if spec is None else make_appearance(spec)
        if spec is None:
            self.appearance.apply(None)
            return None
        if prepare_shadows(self.view_model, spec):
            self._renderers.close()
        return self.appearance.draw(spec, rng, team_colours)

    def apply_look(self, look: Look | None) -> None:
        """Show a drawn look again (None: the default look)."""
        if look is not None and look.shadows and prepare_shadows(self.view_model, AppearanceSpec(shadows=1.0)):
            self._renderers.close()
        self.appearance.apply(look)

    def randomize_appearance(self, rng: np.random.Generator, camera_jitter: float = 0.06,
                             team_colours: str = "kits") -> None:
        """A look from the training distribution (``TRAIN``) with the broadcast camera's height
        and distance jittered by ``camera_jitter``.

        Args:
            rng: the random source.
            camera_jitter: relative jitter of the broadcast camera's position.
            team_colours: ``"kits"``: a random shade inside each team's hue band
                (:data:`KIT_HUES`: team A reds, team B blues), so which team a player belongs
                to stays visible in every frame; ``"random"``: any two well-separated hues, so
                only the contrast between the teams is visible.
        """
        self.appearance.randomize(rng, camera_jitter, team_colours)

    def reset_appearance(self) -> None:
        """Back to the default colours and camera."""
        self.appearance.reset()

    # ------------------------------------------------------------------ cameras and rendering
    def camera_id(self, camera: str, player: int = 0) -> int:
        """MuJoCo id of view ``camera`` (of player ``player`` for ``ego``, ``follow``, ``heading``)."""
        return camera_id(self.view_model, camera, player, self.n_players, self.spec.ego_cameras)

    def camera(self, camera: str = "broadcast", height: int = 84, width: int = 84, player: int = 0) -> CameraModel:
        """The exact camera model of a view, to project points or unproject depth."""
        self.pose_humans()
        return camera_model(self.view_model, self.view_data, self.camera_id(camera, player), height, width)

    def render(self, camera: str = "broadcast", height: int = 84, width: int = 84, player: int = 0,
               out: np.ndarray | None = None) -> np.ndarray:
        """An RGB frame, uint8 (height, width, 3)."""
        cam = self.camera_id(camera, player)
        self.pose_humans()
        renderer = self._renderers.get(height, width)
        renderer.update_scene(self.view_data, cam)
        return renderer.render(out=out)

    def render_players(self, camera: str, height: int, width: int, players) -> np.ndarray:
        """Frames (len(players), height, width, 3) uint8 of each player's own view ``camera``
        (``ego``, ``follow`` or ``heading``), drawn in one pass of one renderer; each is the frame
        :meth:`render` gives for that player."""
        check_image_size(height, width)
        cams = [self.camera_id(camera, int(player)) for player in players]
        rows, columns = tile_grid(len(cams), height, width)
        if len(cams) == 1 or rows * height > MAX_TILED or columns * width > MAX_TILED:
            return np.stack([self.render(camera, height, width, player=int(p)) for p in players])
        self.pose_humans()
        renderer = self._renderers.get(rows * height, columns * width, tiled=True)
        return render_tiled(renderer, self.view_data, cams, height, width)

    def render_ground_truth(self, camera: str = "broadcast", height: int = 128, width: int = 128,
                            player: int = 0) -> dict[str, np.ndarray]:
        """An RGB frame with exact labels for the vision stack.

        Returns a dict with ``rgb`` (H, W, 3) uint8; ``depth`` (H, W) float32, metres along the
        camera axis; ``class_mask`` (H, W) uint8 indices into :data:`CLASS_NAMES`;
        ``instance_mask`` (H, W) int32 (0 background, k object k); and, for each object visible in
        at least one pixel, ``instance_ids``, ``boxes`` (K, 4) float32 xyxy in pixel edges (the
        tight box of the object's mask), ``labels`` (class index), ``teams`` (0 A, 1 B, -1),
        ``numbers`` (shirt number or -1) and ``visible_pixels``.

        With ``players="human"`` also, per player in player order (instance ``2 + i``):
        ``keypoints`` (n, K, 3) float32 (u, v, visibility) of :data:`KEYPOINT_NAMES` in pixel
        coordinates (pixel centres at +0.5; visibility 2: the keypoint's pixel shows this
        player's own surface in front of it, 1: in the image but hidden, 0: outside the image or
        behind the camera), ``keypoints_3d`` (n, K, 3) float32 world metres, ``keypoints_depth``
        (n, K) float32 metres along the camera axis, ``player_depth`` (n,) the depth of the
        mid-hip point, and ``surface_points``/``surface_normals`` (n, 256, 3) float32 in the
        world frame (:meth:`player_surface_points`).
        """
        cam = self.camera_id(camera, player)
        renderer = self._renderers.get(height, width)
        self.pose_humans()
        truth = _ground_truth.render_ground_truth(renderer, self.view_data, cam, self.instances)
        if self.humans is not None:
            world = self.humans.keypoints(self._player_qpos)
            camera_model_ = camera_model(self.view_model, self.view_data, cam, height, width)
            keypoints, depths = keypoint_labels(camera_model_, world, truth["depth"], truth["instance_mask"],
                                                self.humans.keypoint_radius)
            hips = [KEYPOINT_NAMES.index("left_hip"), KEYPOINT_NAMES.index("right_hip")]
            _, player_depth = camera_model_.project(world[:, hips].mean(axis=1))
            points, normals = self._surfaces.sample(self.view_data, 256)
            truth.update(keypoints=keypoints, keypoints_3d=world.astype(np.float32), keypoints_depth=depths,
                         player_depth=player_depth.astype(np.float32), surface_points=points,
                         surface_normals=normals)
        return truth

    def close(self) -> None:
        """Release GL contexts; safe to call twice."""
        self._renderers.close()

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter exit
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass

