"""Players and matches of the self-play league: scripted teams at a skill, frozen policies.

A *player* drives one team of a :class:`~visiongym.envs.soccer_multi.SoccerParallelEnv` made
with ``controlled="both"``: a :class:`ScriptedPlayer` hands its agents to the scene's scripted
roles (action ``None``) at its ``skill``, a :class:`PolicyPlayer` feeds each of its agents'
team-frame observations through one shared SB3 policy. :func:`play_match` plays one match of
``max_cycles`` steps and returns the score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from visiongym.envs.soccer_multi import SoccerParallelEnv
from visiongym.sims.errors import UsageError

__all__ = ["ScriptedPlayer", "PolicyPlayer", "MatchResult", "play_match", "team_agents", "outcome"]


def team_agents(env: SoccerParallelEnv, team: int) -> list[str]:
    """The agent ids of team ``team`` (0 = A, 1 = B), in shirt order."""
    prefix = ("team_a_", "team_b_")[team]
    return [agent for agent in env.possible_agents if agent.startswith(prefix)]


def outcome(goals_for: int, goals_against: int) -> str:
    """``"win"``, ``"draw"`` or ``"loss"`` from one team's score."""
    return "win" if goals_for > goals_against else "loss" if goals_for < goals_against else "draw"


@dataclass(frozen=True)
class ScriptedPlayer:
    """The scene's scripted roles (keeper, chaser, ...) at ``skill`` in [0, 1]."""

    skill: float = 1.0

    def __post_init__(self) -> None:
        if not (isinstance(self.skill, (int, float)) and 0.0 <= self.skill <= 1.0):
            raise UsageError(f"scripted skill {self.skill!r} out of range; must lie in [0, 1]")

    @property
    def name(self) -> str:
        return f"scripted:{self.skill:g}"

    def actions(self, observations: np.ndarray) -> list[None]:
        return [None] * len(observations)


class PolicyPlayer:
    """A frozen SB3 actor-critic policy acting for every agent of a team (shared parameters).

    Args:
        name: the player's name in the pool and the league (``snapshot:3``, ``learner``).
        policy: an SB3 ``ActorCriticPolicy`` (discrete actions).
        normalizer: the training run's observation statistics
            (:class:`~visiongym.agents.sb3.policy.ObservationNormalizer`), or None.
        deterministic: take the most likely action instead of sampling it.
    """

    def __init__(self, name: str, policy, normalizer=None, deterministic: bool = False) -> None:
        self.name, self.policy, self.normalizer = name, policy, normalizer
        self.deterministic = deterministic

    def actions(self, observations: np.ndarray) -> np.ndarray:
        """Actions for a batch of observations (one row per agent)."""
        observations = np.asarray(observations, dtype=np.float32)
        if self.normalizer is not None:
            observations = self.normalizer(observations)
        with torch.no_grad():
            actions, _ = self.policy.predict(observations, deterministic=self.deterministic)
        return actions


@dataclass
class MatchResult:
    """One match from team A's point of view."""

    goals_a: int
    goals_b: int

    @property
    def outcome_a(self) -> str:
        return outcome(self.goals_a, self.goals_b)


def _scripted_pair_step(env: SoccerParallelEnv, skills: tuple[float, float]) -> None:
    """One scene step with both teams scripted at their own skills (the env has one skill)."""
    scene = env.scene
    rng = env.np_random
    commands = []
    for skill in skills:
        scene.skill = skill
        commands.append(scene.scripted_commands(rng))
    team_b = np.asarray(scene.teams) == 1
    scene.step(np.where(team_b[:, None], commands[1], commands[0]))


def play_match(env: SoccerParallelEnv, team_a: Any, team_b: Any, seed: int | None = None) -> MatchResult:
    """Play one match (``env.max_cycles`` steps) of ``team_a`` against ``team_b``; the score."""
    if env.max_cycles is None:
        raise UsageError("a match needs an env with a time limit (max_cycles); got max_cycles=None")
    observations, _ = env.reset(seed=seed)
    scene = env.scene
    default_skill = scene.skill
    players = (team_a, team_b)
    agents = (team_agents(env, 0), team_agents(env, 1))
    if not agents[0] or not agents[1]:
        raise UsageError("play_match needs an env that controls both teams (controlled='both')")
    scripted = [isinstance(player, ScriptedPlayer) for player in players]
    try:
        if all(scripted):
            skills = (team_a.skill, team_b.skill)
            for _ in range(env.max_cycles):
                _scripted_pair_step(env, skills)
            goals_a, goals_b = scene.score()
            return MatchResult(int(goals_a), int(goals_b))
        for player, is_scripted in zip(players, scripted, strict=True):
            if is_scripted:
                scene.skill = player.skill
        while env.agents:
            actions: dict[str, Any] = {}
            for player, ids in zip(players, agents, strict=True):
                for agent, action in zip(ids, player.actions(np.stack([observations[a] for a in ids])), strict=True):
                    actions[agent] = action if action is None else int(action)
            observations, _, _, _, infos = env.step(actions)
        goals_a, goals_b = infos[agents[0][0]]["score"]
        return MatchResult(int(goals_a), int(goals_b))
    finally:
        scene.skill = default_skill

