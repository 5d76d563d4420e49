"""The tabletop soccer scene: physics, kicks, referee, scripted players, cameras, ground truth.

A :class:`SoccerScene` owns one MuJoCo model and data. It knows nothing about rewards or agents:
it takes per-player commands and exposes the state through named accessors, as dm_control's
physics objects do. Renderers are created lazily in the process that renders, so a scene pickles
and moves into worker processes before it has drawn anything.
"""

from __future__ import annotations

import colorsys
import math
from typing import Any

import mujoco
import numpy as np

from visiongym.sims.camera import CameraModel, camera_model
from visiongym.sims.errors import UsageError
from visiongym.sims.gl import make_renderer
from visiongym.sims.soccer.builders import PitchSpec, SceneSpec, build_mjcf, look_at_xyaxes
from visiongym.sims.soccer.referee import Referee
from visiongym.sims.soccer.scripted import ROLES, default_lanes, default_roles, scripted_commands

CLASS_NAMES = ("background", "ball", "team_a", "team_b", "goal")
CAMERAS = ("broadcast", "top", "ego", "follow", "heading")
TEAM_COLOUR_MODES = ("kits", "random")
# Hue bands (fractions of the colour wheel) of the two kits: team A wears reds and oranges, team
# B blues. Disjoint bands make "team A" a property of the pixels.
KIT_HUES = {0: (-0.08, 0.08), 1: (0.52, 0.68)}
MIN_IMAGE, MAX_IMAGE = 16, 1024

__all__ = ["SoccerScene", "CLASS_NAMES", "CAMERAS", "KIT_HUES", "TEAM_COLOUR_MODES"]


def _check_image_size(height: int, width: int) -> None:
    for name, value in (("height", height), ("width", width)):
        if not (isinstance(value, (int, np.integer)) and MIN_IMAGE <= value <= MAX_IMAGE):
            raise UsageError(
                f"image {name} {value!r} out of range; must be an integer in [{MIN_IMAGE}, {MAX_IMAGE}]"
            )


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
        control_dt: seconds per :meth:`step` (a whole number of 5 ms physics steps).
        skill: scripted players' speed scale in [0, 1].
        roles: one role per player (``keeper``, ``chaser``, ``defender``, ``support``); default
            by shirt order.
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
    ) -> None:
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
        _check_image_size(*image_size)
        self.spec = SceneSpec(pitch=pitch, team_sizes=(int(sizes[0]), int(sizes[1])),
                              offscreen=tuple(image_size), ego_cameras=ego_cameras)
        self.pitch = pitch
        self.team_sizes = self.spec.team_sizes
        self.n_players = sum(self.team_sizes)
        self.max_speed = max_speed
        self.max_turn = 6.0  # rad/s
        self.kick_speed = kick_speed
        self.skill = skill
        self.reach = pitch.player_radius + pitch.ball_radius + 0.035
        self.kick_cooldown = 0.3
        self.model = mujoco.MjModel.from_xml_string(build_mjcf(self.spec))
        self.data = mujoco.MjData(self.model)
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
        self._attack_signs = np.where(self.teams == 0, 1.0, -1.0)
        self._cooldown = np.zeros(self.n_players)
        self.kick_targets: dict[int, tuple[float, float]] = {}
        self.kick_windows: dict[int, tuple[float, float, float]] = {}
        self._renderers: dict[tuple[int, int], Any] = {}
        self._appearance0 = (self.model.geom_rgba.copy(), self.model.cam_pos.copy(),
                             self.model.cam_quat.copy())
        self._build_lookup_tables()
        self._bind()
        self.reset(np.random.default_rng(0))

    # ------------------------------------------------------------------ set-up helpers
    def _bind(self) -> None:
        """Views into MuJoCo's arrays (rebuilt after unpickling, since views do not survive it)."""
        n = self.n_players
        adr = self.model.jnt_qposadr
        ball_x = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, "ball_x")
        assert adr[ball_x] == 0 and (n == 0 or adr[ball_x + 2] == 2), "unexpected joint layout"
        self._ball_qpos = self.data.qpos[0:2]
        self._ball_qvel = self.data.qvel[0:2]
        self._player_qpos = self.data.qpos[2 : 2 + 3 * n].reshape(n, 3)
        self._player_qvel = self.data.qvel[2 : 2 + 3 * n].reshape(n, 3)
        self._ctrl = self.data.ctrl.reshape(n, 3)

    def _build_lookup_tables(self) -> None:
        m = self.model
        n = self.n_players

        def geom_id(name: str) -> int:
            return mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, name)

        # Instances: 1 = ball, 2..n+1 = players, n+2 = west goal, n+3 = east goal.
        self.instance_class = np.zeros(n + 4, np.uint8)
        self.instance_team = np.full(n + 4, -1, np.int64)
        self.instance_number = np.full(n + 4, -1, np.int64)
        lookup = np.zeros(m.ngeom + 1, np.int32)  # index geom_id + 1 (so -1 -> background)
        lookup[geom_id("ball") + 1] = lookup[geom_id("ball_patch") + 1] = 1
        self._ball_geoms = [geom_id("ball"), geom_id("ball_patch")]
        self.instance_class[1] = CLASS_NAMES.index("ball")
        for i in range(n):
            k = 2 + i
            for part in ("body", "cap", "nose"):
                lookup[geom_id(f"p{i}_{part}") + 1] = k
            self.instance_class[k] = CLASS_NAMES.index("team_a" if self.teams[i] == 0 else "team_b")
            self.instance_team[k] = self.teams[i]
            self.instance_number[k] = self.numbers[i]
        for k, side in ((n + 2, "west"), (n + 3, "east")):
            body = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, f"goal_{side}")
            lookup[np.flatnonzero(m.geom_bodyid == body) + 1] = k
            self.instance_class[k] = CLASS_NAMES.index("goal")
        self._geom_to_instance = lookup
        self._team_geoms = [
            [geom_id(f"p{i}_body") for i in range(n) if self.teams[i] == team] for team in (0, 1)
        ]
        self._pitch_geom = geom_id("pitch")
        self._table_geom = geom_id("table")

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_renderers"] = {}
        for key in ("_ball_qpos", "_ball_qvel", "_player_qpos", "_player_qvel", "_ctrl"):
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
        self.model.geom_rgba[self._ball_geoms, 3] = 1.0 if visible else 0.0

    def ball_visible(self) -> bool:
        """Whether :meth:`render` draws the ball."""
        return bool(self.model.geom_rgba[self._ball_geoms[0], 3] > 0)

    def set_player(self, index: int, pos, yaw: float = 0.0) -> None:
        """Place player ``index`` at ``pos`` (x, y) facing ``yaw`` radians, at rest."""
        if not 0 <= index < self.n_players:
            raise UsageError(f"player index {index} out of range; this scene has {self.n_players} players")
        self._player_qpos[index] = (pos[0], pos[1], yaw)
        self._player_qvel[index] = 0.0
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
        commands = np.asarray(commands, dtype=np.float64)
        if commands.shape != (self.n_players, 4):
            raise UsageError(
                f"commands have shape {commands.shape}; expected ({self.n_players}, 4) = "
                "(players, [vx, vy, turn, kick])"
            )
        if not (np.abs(commands) <= 1.0).all():  # slow path: NaN/inf refused, the rest clipped
            if not np.isfinite(commands).all():
                raise UsageError("commands contain NaN or infinity")
            commands = np.clip(commands, -1.0, 1.0)
        vx, vy = commands[:, 0], commands[:, 1]
        scale = self.max_speed / np.maximum(1.0, np.sqrt(vx * vx + vy * vy))
        ctrl = self._ctrl
        ctrl[:, 0] = vx * scale
        ctrl[:, 1] = vy * scale
        ctrl[:, 2] = commands[:, 2] * self.max_turn
        self._cooldown -= self.control_dt
        kicking = commands[:, 3] > 0
        if kicking.any():
            self._try_kick(kicking)
        mujoco.mj_step(self.model, self.data, nstep=self.n_substeps)
        ball = self._ball_qpos
        decision = self.referee.observe(ball, math.hypot(self._ball_qvel[0], self._ball_qvel[1]))
        if not math.isfinite(self.data.qpos.sum() + self.data.qvel.sum()):
            decision.restart = "escape"
            self.referee.escapes += 1
        self.last_restart = decision.restart
        if decision.restart == "kickoff":
            self.kickoff(np.random.default_rng(self.referee.elapsed_steps), kicking_team=1 if decision.goal > 0 else 0)
        elif decision.restart == "drop_ball":
            x, y = ball
            inward = 0.2 + self.pitch.ball_radius
            new_y = np.sign(y) * max(0.0, abs(y) - inward) if abs(y) > self.pitch.width / 2 - inward else y
            new_x = np.sign(x) * min(abs(x), self.pitch.length / 2 - inward)
            self.set_ball((new_x, new_y))
        elif decision.restart == "escape":
            mujoco.mj_resetData(self.model, self.data)
            self.kickoff(np.random.default_rng(self.referee.elapsed_steps))
        return decision.goal

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
            self._attack_signs, self.pitch.length, self.pitch.goal_width, self.reach, self.skill,
            noise, self._ball_qvel, lanes=self.lanes, pitch_width=self.pitch.width,
        )

    # ------------------------------------------------------------------ named accessors
    def ball_position(self) -> np.ndarray:
        return self._ball_qpos.copy()

    def ball_velocity(self) -> np.ndarray:
        return self._ball_qvel.copy()

    def player_positions(self) -> np.ndarray:
        return self._player_qpos[:, :2].copy()

    def player_velocities(self) -> np.ndarray:
        return self._player_qvel[:, :2].copy()

    def player_yaws(self) -> np.ndarray:
        return self._player_qpos[:, 2].copy()

    def score(self) -> tuple[int, int]:
        return tuple(self.referee.goals)

    def time(self) -> float:
        return self.referee.time

    def last_goal(self) -> int:
        return self.referee.last_goal

    # ------------------------------------------------------------------ appearance
    def randomize_appearance(self, rng: np.random.Generator, camera_jitter: float = 0.06,
                             team_colours: str = "kits") -> None:
        """Random team colours, pitch and table tint, and a jittered broadcast camera.

        Args:
            rng: the random source.
            camera_jitter: relative jitter of the broadcast camera's position.
            team_colours: ``"kits"``: a random shade inside each team's hue band
                (:data:`KIT_HUES`: team A reds, team B blues), so which team a player belongs
                to stays visible in every frame; ``"random"``: any two well-separated hues, so
                only the contrast between the teams is visible.
        """
        if team_colours not in TEAM_COLOUR_MODES:
            raise UsageError(
                f"team_colours {team_colours!r} unknown; choose one of: {', '.join(TEAM_COLOUR_MODES)}"
            )
        rgba, cam_pos, cam_quat = (a.copy() for a in self._appearance0)
        if team_colours == "kits":
            hues = [rng.uniform(*KIT_HUES[team]) % 1.0 for team in (0, 1)]
        else:
            hue_a = rng.uniform(0, 1)
            hues = [hue_a, (hue_a + rng.uniform(0.3, 0.7)) % 1.0]
        for team, hue in enumerate(hues):
            colour = colorsys.hsv_to_rgb(hue, rng.uniform(0.6, 1.0), rng.uniform(0.55, 0.95))
            for g in self._team_geoms[team]:
                rgba[g, :3] = colour
        rgba[self._pitch_geom, :3] = np.clip(rgba[self._pitch_geom, :3] * rng.uniform(0.75, 1.25, 3), 0, 1)
        rgba[self._table_geom, :3] = np.clip(rgba[self._table_geom, :3] * rng.uniform(0.6, 1.4, 3), 0, 1)
        cam = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, "broadcast")
        position = cam_pos[cam] * (1 + rng.uniform(-camera_jitter, camera_jitter, 3))
        target = np.array([rng.uniform(-0.1, 0.1), rng.uniform(-0.25, 0.0), 0.0]) * self.pitch.width
        axes = np.array(look_at_xyaxes(position, target).split(), float).reshape(2, 3)
        matrix = np.stack([axes[0], axes[1], np.cross(axes[0], axes[1])], axis=1)
        mujoco.mju_mat2Quat(cam_quat[cam], matrix.ravel())
        cam_pos[cam] = position
        self.model.geom_rgba[:] = rgba
        self.model.cam_pos[:] = cam_pos
        self.model.cam_quat[:] = cam_quat
        mujoco.mj_forward(self.model, self.data)

    def reset_appearance(self) -> None:
        """Back to the default colours and camera."""
        self.model.geom_rgba[:], self.model.cam_pos[:], self.model.cam_quat[:] = self._appearance0
        mujoco.mj_forward(self.model, self.data)

    # ------------------------------------------------------------------ cameras and rendering
    def camera_id(self, camera: str, player: int = 0) -> int:
        if camera not in CAMERAS:
            raise UsageError(f"camera {camera!r} unknown; choose one of: {', '.join(CAMERAS)}")
        if camera in ("ego", "follow", "heading"):
            if camera == "ego" and not self.spec.ego_cameras:
                raise UsageError("this scene was built with ego_cameras=False; 'ego' is unavailable")
            if not 0 <= player < self.n_players:
                raise UsageError(f"player {player} out of range; this scene has {self.n_players} players")
            name = f"{camera}_{player}"
        else:
            name = camera
        return mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, name)

    def camera(self, camera: str = "broadcast", height: int = 84, width: int = 84, player: int = 0) -> CameraModel:
        """The exact camera model of a view, to project points or unproject depth."""
        return camera_model(self.model, self.data, self.camera_id(camera, player), height, width)

    def _renderer(self, height: int, width: int):
        _check_image_size(height, width)
        key = (height, width)
        if key not in self._renderers:
            vis = self.model.vis.global_
            vis.offheight = max(vis.offheight, height)
            vis.offwidth = max(vis.offwidth, width)
            self._renderers[key] = make_renderer(self.model, height, width)
        return self._renderers[key]

    def render(self, camera: str = "broadcast", height: int = 84, width: int = 84, player: int = 0,
               out: np.ndarray | None = None) -> np.ndarray:
        """An RGB frame, uint8 (height, width, 3)."""
        cam = self.camera_id(camera, player)
        renderer = self._renderer(height, width)
        renderer.update_scene(self.data, cam)
        return renderer.render(out=out)

    def render_ground_truth(self, camera: str = "broadcast", height: int = 128, width: int = 128,
                            player: int = 0) -> dict[str, np.ndarray]:
        """An RGB frame with exact labels for the vision stack.

        Returns a dict with ``rgb`` (H, W, 3) uint8; ``depth`` (H, W) float32, metres along the
        camera axis; ``class_mask`` (H, W) uint8 indices into :data:`CLASS_NAMES`;
        ``instance_mask`` (H, W) int32 (0 background, k object k); and, for each object visible in
        at least one pixel, ``instance_ids``, ``boxes`` (K, 4) float32 xyxy in pixel edges (the
        tight box of the object's mask), ``labels`` (class index), ``teams`` (0 A, 1 B, -1),
        ``numbers`` (shirt number or -1) and ``visible_pixels``.
        """
        cam = self.camera_id(camera, player)
        renderer = self._renderer(height, width)
        renderer.update_scene(self.data, cam)
        rgb = renderer.render()
        renderer.enable_depth_rendering()
        try:
            renderer.update_scene(self.data, cam)
            depth = renderer.render().astype(np.float32)
        finally:
            renderer.disable_depth_rendering()
        renderer.enable_segmentation_rendering()
        try:
            renderer.update_scene(self.data, cam)
            seg = renderer.render()
        finally:
            renderer.disable_segmentation_rendering()
        is_geom = seg[..., 1] == int(mujoco.mjtObj.mjOBJ_GEOM)
        instance_mask = np.where(is_geom, self._geom_to_instance[np.clip(seg[..., 0], -1, None) + 1], 0)
        instance_mask = instance_mask.astype(np.int32)
        class_mask = self.instance_class[instance_mask]
        ids, boxes, counts = _mask_boxes(instance_mask)
        return {
            "rgb": rgb,
            "depth": depth,
            "class_mask": class_mask,
            "instance_mask": instance_mask,
            "instance_ids": ids,
            "boxes": boxes,
            "labels": self.instance_class[ids].astype(np.int64),
            "teams": self.instance_team[ids],
            "numbers": self.instance_number[ids],
            "visible_pixels": counts,
        }

    def close(self) -> None:
        """Release GL contexts; safe to call twice."""
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers = {}

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter exit
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass


def _mask_boxes(instance_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tight xyxy boxes (pixel edges) and pixel counts of every instance present in a mask."""
    rows, cols = np.nonzero(instance_mask)
    if rows.size == 0:
        return np.zeros(0, np.int64), np.zeros((0, 4), np.float32), np.zeros(0, np.int64)
    ids = instance_mask[rows, cols]
    order = np.argsort(ids, kind="stable")
    ids, rows, cols = ids[order], rows[order], cols[order]
    unique, starts, counts = np.unique(ids, return_index=True, return_counts=True)
    boxes = np.stack(
        [
            np.minimum.reduceat(cols, starts),
            np.minimum.reduceat(rows, starts),
            np.maximum.reduceat(cols, starts) + 1,
            np.maximum.reduceat(rows, starts) + 1,
        ],
        axis=1,
    ).astype(np.float32)
    return unique.astype(np.int64), boxes, counts.astype(np.int64)
