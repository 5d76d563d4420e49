"""Scenarios and tasks of ``visiongym/TabletopSoccer-v0``: empty goal, penalty, matches.

The environment (:mod:`visiongym.envs.soccer`) glues a :class:`~visiongym.sims.soccer.SoccerScene`
to one task, as dm_control does (and as :mod:`visiongym.envs.learn_to_move_tasks` does for
LearnToMove). A task sets up the episode (where players and ball start), turns a scene step into
reward terms and says when the episode is over. It reads the scene through its named accessors
only, and computes the terms for each of its controlled players, so that an environment that
controls several players uses the same tasks.

One step of a task, after ``goal = scene.step(commands)``::

    task.after_step(scene)             # bookkeeping: step count, shots
    terms = task.rewards(scene, goal)  # player -> {"reward_scoring": ..., ...}
    done = task.terminated(scene, goal)

:meth:`SoccerTask.reward` does the three for the first controlled player and returns
``(reward, terminated, truncated, terms)``, the shape of a LearnToMove task's ``reward``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from visiongym.sims.errors import UsageError, check_choice
from visiongym.sims.soccer import SoccerScene

__all__ = [
    "SCENARIOS",
    "REWARD_TERMS",
    "Scenario",
    "SoccerTask",
    "EmptyGoalTask",
    "PenaltyTask",
    "MatchTask",
    "make_task",
    "sum_terms",
]

#: Names of the reward terms, as they appear in ``info`` (``reward_<name>``).
REWARD_TERMS = ("scoring", "ball_progress", "ball_approach")


def sum_terms(terms: dict[str, float]) -> float:
    """A player's reward: its terms (``reward_<name>`` -> value) added up."""
    # Added left to right, as the env always has: sum() compensates since Python 3.12, which can
    # change the last bit of a reward (and the seed pins).
    total = 0.0
    for value in terms.values():
        total += value
    return total


class SoccerTask:
    """Shared parts: scoring, potential-based shaping, and a goal ending the episode when asked.

    Rewards, per controlled player, from the point of view of its team: ``scoring`` +1 when its
    team scores and -1 when it concedes; with ``shaping`` > 0, ``ball_progress`` (``shaping`` x the
    change of minus the ball's distance to the goal the team attacks) and ``ball_approach`` (half
    that weight x the change of minus the player's distance to the ball), distances in pitch
    lengths. Both shaping terms are potential-based, so they telescope and cannot be farmed, and
    they are zero on a step on which the referee restarted play.

    Args:
        players: the controlled players (scene indices, at least one).
        shaping: weight of the shaping terms; 0 turns them off.
        terminate_on_goal: a goal ends the episode; None takes the task's default
            (:attr:`ends_on_goal`).
    """

    #: The scenario family.
    name = ""
    #: Whether a goal ends the episode unless the env says otherwise.
    ends_on_goal = False
    #: Whether the task places a fixed cast (its team sizes cannot be overridden).
    fixed_teams = False

    def __init__(self, players: Sequence[int], shaping: float = 0.0, terminate_on_goal: bool | None = None):
        if len(players) == 0:
            raise UsageError("a soccer task needs at least one controlled player; got none")
        self.players = tuple(int(p) for p in players)
        #: weight of the shaping terms, fixed for the task's life (without it no potential is measured)
        self.shaping = float(shaping)
        self.terminate_on_goal = self.ends_on_goal if terminate_on_goal is None else bool(terminate_on_goal)
        #: Scene steps since the episode started.
        self.steps = 0
        self._potentials: dict[int, tuple[float, float]] = {}
        self._sides: dict[int, tuple[int, float]] = {}  # player -> (goal sign, x of the goal it attacks)

    def reset(self, scene: SoccerScene, rng: np.random.Generator) -> None:
        """Prepare the episode; the scene is already in its kick-off formation."""
        self.place(scene, rng)
        self.steps = 0
        # Plain Python numbers, looked up once: numpy scalars cost more than the arithmetic.
        self._sides = {
            player: (1 if scene.teams[player] == 0 else -1, float(scene.attack_signs[player]) * (scene.pitch.length / 2))
            for player in self.players
        }
        self.reset_potentials(scene)

    def reset_potentials(self, scene: SoccerScene) -> None:
        """Measure the shaping potentials afresh (after players or ball were moved by hand)."""
        self._potentials = {player: self.potentials(scene, player) for player in self.players}

    def place(self, scene: SoccerScene, rng: np.random.Generator) -> None:
        """Put players and ball where the episode starts; by default the kick-off formation stays."""

    def potentials(self, scene: SoccerScene, player: int) -> tuple[float, float]:
        """Shaping potentials of ``player``: minus the ball's distance to the goal its team attacks,
        and minus its own distance to the ball, both in pitch lengths."""
        return self._measure(player, scene.ball_position().tolist(), scene.player_positions()[player].tolist(),
                             scene.pitch.length)

    def _measure(self, player: int, ball: list[float], me: list[float], length: float) -> tuple[float, float]:
        # Python floats (the same values as numpy's float64 arithmetic, at a fraction of its cost)
        to_goal = math.hypot(self._sides[player][1] - ball[0], ball[1])
        to_ball = math.hypot(ball[0] - me[0], ball[1] - me[1])
        return -to_goal / length, -to_ball / length

    def after_step(self, scene: SoccerScene) -> None:
        """Note what happened in the scene step just taken; call once per step, first."""
        self.steps += 1

    def rewards(self, scene: SoccerScene, goal: int) -> dict[int, dict[str, float]]:
        """Each controlled player's reward terms (``reward_<name>``) for the step just taken.

        Args:
            scene: the scene, after its step.
            goal: what :meth:`SoccerScene.step` returned (+1 team A scored, -1 team B, 0 none).
        """
        if not self.shaping:  # scoring only: the potentials are never read, so not measured
            return {player: {"reward_scoring": float(goal * sign), "reward_ball_progress": 0.0,
                             "reward_ball_approach": 0.0} for player, (sign, _) in self._sides.items()}
        restart = bool(scene.last_restart)
        ball, positions, length = scene.ball_position().tolist(), scene.player_positions().tolist(), scene.pitch.length
        terms = {}
        for player in self.players:
            scoring = float(goal * self._sides[player][0])
            progress = approach = 0.0
            potentials = self._measure(player, ball, positions[player], length)
            if self.shaping and not restart:
                before = self._potentials[player]
                progress = self.shaping * (potentials[0] - before[0])
                approach = 0.5 * self.shaping * (potentials[1] - before[1])
            self._potentials[player] = potentials
            terms[player] = {"reward_scoring": scoring, "reward_ball_progress": progress,
                             "reward_ball_approach": approach}
        return terms

    def terminated(self, scene: SoccerScene, goal: int) -> bool:
        """Whether the episode is over after the step just taken."""
        return bool(goal != 0 and self.terminate_on_goal)

    def reward(self, scene: SoccerScene, goal: int) -> tuple[float, bool, bool, dict[str, float]]:
        """One step for the first controlled player: reward, terminated, truncated, reward terms."""
        self.after_step(scene)
        terms = self.rewards(scene, goal)[self.players[0]]
        return sum_terms(terms), self.terminated(scene, goal), False, terms


class MatchTask(SoccerTask):
    """A match from kick-off; after a goal the referee restarts play with a kick-off."""

    name = "match"


class EmptyGoalTask(SoccerTask):
    """One attacker, the ball in front of it, an empty goal; a goal ends the episode.

    Starting state: the attacker (team A's only player) anywhere in the middle 30 % of the
    pitch's length and half of its width, facing up to 0.5 rad off +x; the ball ahead of it, just
    out of reach to a quarter of the half length beyond.
    """

    name = "empty_goal"
    ends_on_goal = True
    fixed_teams = True

    def place(self, scene: SoccerScene, rng: np.random.Generator) -> None:
        half_length, half_width = scene.pitch.length / 2, scene.pitch.width / 2
        attacker = int(scene.team_players(0)[0])
        x = rng.uniform(-0.3, 0.3) * half_length
        y = rng.uniform(-0.5, 0.5) * half_width
        yaw = rng.uniform(-0.5, 0.5)
        scene.set_player(attacker, (x, y), yaw)
        ahead = scene.reach + rng.uniform(0.02, 0.25) * half_length
        scene.set_ball((x + ahead * math.cos(yaw), y + ahead * math.sin(yaw) * 0.5))


class PenaltyTask(SoccerTask):
    """One shot from the penalty spot against the keeper.

    Starting state: the ball on the penalty spot, the taker (team A's player) just behind it and
    in reach, facing it from up to 0.6 rad (34 degrees) off the line to the goal (GRF: the taker
    starts on the ball); the keeper (team B's player) on its line, up to 5 cm off centre.
    The episode ends on a goal, once the keeper has played the ball (a save, or the taker ran the
    ball into him), or once the taker's shot has come to rest (slower than 0.1 m/s, more than
    two steps after the kick).
    """

    name = "penalty"
    ends_on_goal = True
    fixed_teams = True

    def __init__(self, players: Sequence[int], shaping: float = 0.0, terminate_on_goal: bool | None = None):
        super().__init__(players, shaping, terminate_on_goal)
        self.taker = self.keeper = -1
        self.shot_step = -1  # step of the taker's first kick, -1 before it
        self._kicks_seen = 0

    def place(self, scene: SoccerScene, rng: np.random.Generator) -> None:
        self.taker, self.keeper = int(scene.team_players(0)[0]), int(scene.team_players(1)[0])
        self.shot_step, self._kicks_seen = -1, scene.kicks_taken
        half_length = scene.pitch.length / 2
        spot = half_length - 0.5 * (half_length / 1.2)
        scene.set_ball((spot, 0.0))
        offset = rng.uniform(-0.6, 0.6)
        distance = scene.reach - 0.015
        scene.set_player(self.taker, (spot - distance * math.cos(offset), -distance * math.sin(offset)), offset)
        scene.set_player(self.keeper, (half_length - 0.08, rng.uniform(-0.05, 0.05)), math.pi)

    def after_step(self, scene: SoccerScene) -> None:
        super().after_step(scene)
        if scene.kicks_taken > self._kicks_seen and scene.last_kicker == self.taker and self.shot_step < 0:
            self.shot_step = self.steps
        self._kicks_seen = scene.kicks_taken

    def terminated(self, scene: SoccerScene, goal: int) -> bool:
        if super().terminated(scene, goal):
            return True
        saved = scene.last_kicker not in (-1, self.taker)
        stopped = (self.shot_step >= 0 and self.steps - self.shot_step > 2
                   and math.hypot(*scene.ball_velocity()) < 0.1)
        return bool(saved or stopped)


@dataclass(frozen=True)
class Scenario:
    """A GRF-academy-style set-up: team sizes, roles and the task that runs it."""

    team_sizes: tuple[int, int]
    task: type[SoccerTask]
    description: str
    roles: tuple[str, ...] | None = None

    @property
    def academy(self) -> bool:
        """An academy drill (fixed cast, a goal ends it) rather than a match."""
        return self.task.fixed_teams


SCENARIOS: dict[str, Scenario] = {
    "empty_goal": Scenario((1, 0), EmptyGoalTask, "one attacker, the ball in front, an empty goal"),
    "penalty": Scenario((1, 1), PenaltyTask, "one shot from the penalty spot against the scripted keeper",
                        roles=("chaser", "keeper")),
    "1v1": Scenario((1, 1), MatchTask, "one against one from kick-off"),
    "2v2": Scenario((2, 2), MatchTask, "keeper + chaser on each side"),
    "3v3": Scenario((3, 3), MatchTask, "keeper, chaser and defender on each side"),
    "5v5": Scenario((5, 5), MatchTask, "five a side"),
}


def make_task(scenario: str, players: Sequence[int], shaping: float = 0.0,
              terminate_on_goal: bool | None = None) -> SoccerTask:
    """The task of ``scenario`` for the controlled ``players``."""
    check_choice("scenario", scenario, SCENARIOS)
    return SCENARIOS[scenario].task(players, shaping=shaping, terminate_on_goal=terminate_on_goal)
