"""What a soccer env does for each player it controls: its frame, its state vector, its actions.

Both soccer envs use these, so a player of the single-agent env (:mod:`visiongym.envs.soccer`)
and an agent of the multi-agent one (:mod:`visiongym.envs.soccer_multi`) see the same vector,
decode actions the same way and aim kicks the same way.

*Team frame*: every player sees the pitch as if its team attacked +x. For team A that is the
world frame; for team B it is the world turned by 180 degrees about the centre spot (x and y
negated, headings plus pi), a rotation, so left stays left. Observations and actions are both
in the team frame, so a policy trained on one side plays the other unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from visiongym.envs.soccer_actions import DISCRETE_ACTIONS, discrete_values
from visiongym.envs.soccer_tasks import SCENARIOS
from visiongym.sims.errors import UsageError, check_choice
from visiongym.sims.soccer import SoccerScene

__all__ = ["OBS_MODES", "ACTION_TYPES", "KICK_AIMS", "check_options", "image_shape", "make_scene", "state_size", "others_of", "StateVectors", "action_to_command",
           "aim_kicks"]

OBS_MODES = ("state", "pixels", "pixels_state")
ACTION_TYPES = ("discrete", "continuous")
KICK_AIMS = ("facing", "goal", "on_target")
_N_DISCRETE = len(DISCRETE_ACTIONS)
_DISCRETE_CHOICES = "choose 0 no-op, 1-8 move (E, NE, N, NW, W, SW, S, SE) or 9 kick"


def check_options(scenario: str, obs_mode: str, action_type: str, camera: str, kick_aim: str,
                  cameras: Sequence[str]) -> None:
    """Refuse an unknown scenario, observation mode, action type, camera (of ``cameras``) or kick aim."""
    check_choice("scenario", scenario, SCENARIOS)
    check_choice("obs_mode", obs_mode, OBS_MODES)
    check_choice("action_type", action_type, ACTION_TYPES)
    check_choice("camera", camera, cameras)
    check_choice("kick_aim", kick_aim, KICK_AIMS)


def image_shape(image_size: int | tuple[int, int]) -> tuple[int, int]:
    """``image_size`` as (height, width), refusing a side outside [16, 1024]."""
    if isinstance(image_size, (int, np.integer)):
        image_size = (int(image_size), int(image_size))
    image_size = tuple(int(v) for v in image_size)
    if len(image_size) != 2 or not all(16 <= v <= 1024 for v in image_size):
        raise UsageError(f"image_size {image_size!r} out of range; each side must lie in [16, 1024]")
    return image_size


def make_scene(scenario: str, image_size: tuple[int, int], pitch_scale: float = 1.0,
               team_size: int | tuple[int, int] | None = None, skill: float = 1.0, ego_cameras: bool = False,
               appearance: Any = "default", players: str = "robot") -> SoccerScene:
    """The scene of ``scenario``: its team sizes (or ``team_size`` for a match) and roles, on a
    pitch 2.4 x 1.6 m times ``pitch_scale``, its buffers sized for ``image_size`` observations."""
    check_choice("scenario", scenario, SCENARIOS)
    if not 0.25 <= pitch_scale <= 8:
        raise UsageError(f"pitch_scale {pitch_scale!r} out of range; must lie in [0.25, 8]")
    sizes = SCENARIOS[scenario].team_sizes
    if team_size is not None:
        if SCENARIOS[scenario].task.fixed_teams:
            raise UsageError(f"team_size applies to matches only; scenario {scenario!r} has fixed teams")
        sizes = (team_size, team_size) if isinstance(team_size, (int, np.integer)) else tuple(team_size)
    return SoccerScene(
        team_size=sizes,
        pitch_length=2.4 * pitch_scale,
        pitch_width=1.6 * pitch_scale,
        image_size=image_size,
        ego_cameras=ego_cameras,
        skill=skill,
        roles=SCENARIOS[scenario].roles,
        appearance=appearance,
        players=players,
    )


def state_size(n_others: int) -> int:
    """Length of a player's state vector in a scene with ``n_others`` other players."""
    return 14 + 4 * n_others + 2


def others_of(scene: SoccerScene, player: int) -> list[int]:
    """The other players in state-vector order: teammates in shirt order, then opponents."""
    team = scene.teams[player]
    mates = [int(i) for i in scene.team_players(team) if i != player]
    return mates + [int(i) for i in scene.team_players(1 - team)]


class StateVectors:
    """State vectors of some players, in their team frames, read from the scene once per call.

    | index | field |
    |---|---|
    | 0-1 | ball position (x, y) |
    | 2-3 | ball velocity |
    | 4-5 | own position |
    | 6-7 | own velocity |
    | 8-9 | own heading (cos, sin) |
    | 10-11 | ball relative to the player |
    | 12-13 | opponents' goal centre relative to the player |
    | next 4 per teammate | teammate position, velocity (shirt order, the player skipped) |
    | next 4 per opponent | opponent position, velocity (shirt order) |
    | -2 | fraction of the episode time limit left (1 when unknown) |
    | -1 | own goals minus conceded, clipped to [-5, 5] / 5 |

    Positions are divided by half the pitch length, velocities by the player top speed, all in
    the player's team frame (module docstring).

    Args:
        scene: the scene.
        players: the players to observe (scene indices).
    """

    def __init__(self, scene: SoccerScene, players: Sequence[int]) -> None:
        self.scene = scene
        self.players = tuple(int(p) for p in players)
        self.others = {player: others_of(scene, player) for player in self.players}
        self.flipped = {player: bool(scene.teams[player] == 1) for player in self.players}
        self.size = state_size(scene.n_players - 1)
        self._plan = _GatherPlan(scene, self.players, self.others, self.flipped)

    def __call__(self, time_left: float) -> dict[int, np.ndarray]:
        """Each player's vector; ``time_left`` is the fraction of the time limit left."""
        return dict(zip(self.players, self.array(time_left), strict=True))

    def array(self, time_left: float) -> np.ndarray:
        """The vectors as one fresh (len(players), size) float32 array, rows in ``players`` order."""
        plan, scene = self._plan, self.scene
        goals_a, goals_b = scene.referee.goals
        extras = []
        yaws = scene.player_yaws() if plan.observed is None else scene.player_yaws()[plan.observed]
        for yaw in yaws.tolist():
            extras += (math.cos(yaw), math.sin(yaw))
        extras += (0.0, plan.half_length, -plan.half_length, time_left,
                   max(-5, min(5, goals_a - goals_b)) / 5, max(-5, min(5, goals_b - goals_a)) / 5)
        values, nq = plan.values, plan.nq  # scratch: read within this call only
        values[:nq] = scene.joint_positions()
        values[nq:2 * nq] = scene.joint_velocities()
        values[2 * nq:] = extras
        # float64 arithmetic, then one rounding to float32, as plain Python floats would give
        operands = values[plan.operands]  # minuends, subtrahends
        return ((operands[0] - operands[1]) * plan.scale).astype(np.float32)


class _GatherPlan:
    """Where each entry of each player's state vector comes from, as ``(values[minuend] -
    values[subtrahend]) * scale`` over one flat float64 ``values`` array built per step: the
    joint positions, the joint velocities, (cos, sin) of each observed player's heading, then
    ``0, h, -h, time left, team A's score entry, team B's`` (``h`` half the pitch length).

    Every entry is the float64 expression of the plain formula, rearranged only by exact steps
    (``-a * s == a * -s``, ``(-b) - (-a) == a - b``, ``h - (-x) == x - (-h)``, ``a - 0 == a``),
    so a vector has the same bytes as one computed a float at a time; team B's frame (the world
    turned by 180 degrees) is a sign in ``scale`` or swapped operands.
    """

    def __init__(self, scene: SoccerScene, players: Sequence[int], others: dict[int, list[int]],
                 flipped: dict[int, bool]) -> None:
        self.nq = nq = scene.model.nq
        self.half_length = scene.pitch.length / 2
        scale, vscale = 1.0 / self.half_length, 1.0 / scene.max_speed
        # the players whose headings the vectors hold (None: all, in order)
        self.observed = None if tuple(players) == tuple(range(scene.n_players)) else np.array(players, np.intp)
        extra = 2 * nq  # first index after the joint velocities
        zero, half, minus_half, time_left = (extra + 2 * len(players) + k for k in range(4))

        def x_of(player: int) -> int:  # qpos index of a player's x (the ball's is 0)
            return 2 + 3 * player

        rows = []
        for row, player in enumerate(players):
            sign = -1.0 if flipped[player] else 1.0
            own = x_of(player)
            entries = [(0, zero, sign * scale), (1, zero, sign * scale),
                       (nq, zero, sign * vscale), (nq + 1, zero, sign * vscale)]  # the ball
            for mover in [player] + others[player]:
                at = x_of(mover)
                entries += [(at, zero, sign * scale), (at + 1, zero, sign * scale),
                            (nq + at, zero, sign * vscale), (nq + at + 1, zero, sign * vscale)]
            own_entries, others_entries = entries[4:8], entries[8:]
            cos_sin = [(extra + 2 * row, zero, sign), (extra + 2 * row + 1, zero, sign)]
            if flipped[player]:  # (-bx) - (-x) = x - bx; h - (-x) = x - (-h); -(-y) = y
                relative = [(own, 0, scale), (own + 1, 1, scale), (own, minus_half, scale), (own + 1, zero, scale)]
            else:
                relative = [(0, own, scale), (1, own + 1, scale), (half, own, scale), (own + 1, zero, -scale)]
            score = time_left + (2 if flipped[player] else 1)
            rows.append(entries[:4] + own_entries + cos_sin + relative + others_entries
                        + [(time_left, zero, 1.0), (score, zero, 1.0)])
        table = np.array(rows)  # (players, size, 3): minuend, subtrahend, scale
        assert table.shape == (len(players), state_size(scene.n_players - 1), 3), table.shape
        #: (2, players, size) indices into ``values``: the minuends, then the subtrahends
        self.operands = np.moveaxis(table[..., :2], -1, 0).astype(np.intp, order="C")
        self.scale = np.ascontiguousarray(table[..., 2])
        self.values = np.zeros(2 * nq + 2 * len(players) + 6)


def action_to_command(action, action_type: str, yaw: float,
                      flipped: bool = False) -> tuple[float, float, float, float] | np.ndarray:
    """The scene command (vx, vy, turn, kick) of one player's action, refusing a bad action: four
    floats for a discrete action, a (4,) array for a continuous one.

    Args:
        action: an index of ``Discrete(10)`` or a ``Box(-1, 1, (4,))`` vector, in the team frame.
        action_type: ``discrete`` or ``continuous``.
        yaw: the player's heading in the world frame.
        flipped: the player is on team B (its team frame is the world turned by 180 degrees).
    """
    if action_type == "discrete":
        if type(action) is int or isinstance(action, np.integer):  # the common case, checked cheaply
            index = int(action)
            if not 0 <= index < _N_DISCRETE:
                raise UsageError(f"action {action!r} outside Discrete(10); {_DISCRETE_CHOICES}")
            if not flipped:  # _discrete, inlined: this runs for every agent every step
                return discrete_values(index, yaw)
            vx, vy, turn, kick = discrete_values(index, yaw + math.pi)
            return -vx, -vy, turn, kick
        if isinstance(action, np.ndarray) and action.shape not in ((), (1,)):
            raise UsageError(f"action {action!r} has shape {action.shape}; expected a scalar in [0, 10)")
        try:
            index = int(np.asarray(action).reshape(()))
        except (TypeError, ValueError) as error:
            raise UsageError(f"action {action!r} is not an integer in [0, 10)") from error
        if not (0 <= index < len(DISCRETE_ACTIONS)) or index != np.asarray(action).reshape(()):
            raise UsageError(f"action {action!r} outside Discrete(10); {_DISCRETE_CHOICES}")
        return _discrete(index, yaw, flipped)
    check_choice("action_type", action_type, ACTION_TYPES)
    action = np.asarray(action, dtype=np.float64)
    if action.shape != (4,):
        raise UsageError(f"action has shape {action.shape}; expected (4,) = (vx, vy, turn, kick)")
    if not np.isfinite(action).all() or np.abs(action).max() > 1.0 + 1e-6:
        raise UsageError(f"action {action.tolist()} outside Box(-1, 1, (4,)); every entry must lie in [-1, 1]")
    if flipped:
        action = action.copy()
        action[:2] = -action[:2]
    return action


def _discrete(index: int, yaw: float, flipped: bool) -> tuple[float, float, float, float]:
    if not flipped:
        return discrete_values(index, yaw)
    vx, vy, turn, kick = discrete_values(index, yaw + math.pi)  # turning is the same in both frames
    return -vx, -vy, turn, kick


def aim_kicks(scene: SoccerScene, player: int, kick_aim: str) -> None:
    """Aim ``player``'s kicks: ``facing`` (as it faces), ``goal`` (at the centre of the goal it
    attacks) or ``on_target`` (as it faces, kept just inside the posts)."""
    check_choice("kick_aim", kick_aim, KICK_AIMS)
    goal_x = float(scene.attack_signs[player]) * scene.pitch.length / 2
    if kick_aim == "goal":
        scene.kick_targets[player] = (goal_x, 0.0)
    elif kick_aim == "on_target":
        inside = 0.95 * scene.pitch.goal_width / 2
        scene.kick_windows[player] = (goal_x, -inside, inside)
