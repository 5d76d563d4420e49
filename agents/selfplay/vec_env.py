"""A Stable-Baselines3 ``VecEnv`` over multi-agent soccer matches against pool opponents.

Each of ``len(env_fns)`` matches (a :class:`~visiongym.envs.soccer_multi.SoccerParallelEnv`
with ``controlled="both"``) gives one vector slot per learner player, so one shared SB3
policy acts for every player of the learning team (parameter sharing, as SuperSuit's
``pettingzoo_env_to_vec_env_v1`` does). The other team is driven by an opponent drawn from the
:class:`~visiongym.agents.selfplay.pool.OpponentPool` at each kick-off; with ``swap_sides`` the
learner plays team B in half the matches (the env's team frame makes both sides look alike).
Opponent policies act in batches: one forward pass per opponent per step.

When a match ends, the first slot of that match carries ``info["selfplay"]`` (opponent, side,
goals for and against, result), and the result is recorded in the pool.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

from visiongym.agents.selfplay.matches import ScriptedPlayer, outcome, team_agents
from visiongym.agents.selfplay.pool import OpponentPool, parse_opponent
from visiongym.sims.errors import UsageError

__all__ = ["SelfPlayVecEnv"]


class SelfPlayVecEnv(VecEnv):
    """Learner slots of several matches, opponents from ``pool``.

    Args:
        env_fns: thunks that each make one ``SoccerParallelEnv(controlled="both", obs_mode="state")``.
        pool: the opponent pool (sampled per match, told each result).
        load_player: opponent name -> player (:class:`~visiongym.agents.selfplay.matches.PolicyPlayer`
            for ``snapshot:<k>``); scripted names need no loader.
        swap_sides: let the learner play team B in half the matches.
        seed: seeds the first kick-offs (``seed + i``) and the opponent and side draws.
    """

    def __init__(self, env_fns: Sequence[Callable[[], Any]], pool: OpponentPool,
                 load_player: Callable[[str], Any] | None = None, swap_sides: bool = True, seed: int = 0) -> None:
        self.envs = [fn() for fn in env_fns]
        first = self.envs[0]
        teams = [team_agents(first, 0), team_agents(first, 1)]
        if not teams[0] or len(teams[0]) != len(teams[1]):
            raise UsageError(f"self-play needs both teams controlled and of one size; got {first.possible_agents}")
        if first.obs_mode != "state":
            raise UsageError(f"self-play trains on state vectors; got obs_mode={first.obs_mode!r} (use obs_mode=state)")
        self.team_size = len(teams[0])
        self.pool, self.load_player, self.swap_sides = pool, load_player, swap_sides
        self.rng = np.random.default_rng(seed)
        self._players: dict[str, Any] = {}
        agent = teams[0][0]
        super().__init__(len(self.envs) * self.team_size, first.observation_space(agent), first.action_space(agent))
        self._seeds = [seed + i for i in range(len(self.envs))]
        self.opponents = [""] * len(self.envs)
        self.sides = [0] * len(self.envs)
        self._observations: list[dict[str, np.ndarray]] = [{} for _ in self.envs]
        self._actions: np.ndarray | None = None

    # ------------------------------------------------------------------ opponents
    def player(self, name: str) -> Any:
        """The (cached) player of pool member ``name``."""
        if name not in self._players:
            kind, value = parse_opponent(name)
            if kind == "scripted":
                self._players[name] = ScriptedPlayer(float(value))
            elif self.load_player is None:
                raise UsageError(f"opponent {name!r} needs a player loader (load_player)")
            else:
                self._players[name] = self.load_player(name)
        return self._players[name]

    def _kickoff(self, index: int, seed: int | None) -> None:
        env = self.envs[index]
        self.opponents[index] = self.pool.sample(self.rng)
        self.sides[index] = int(self.rng.integers(2)) if self.swap_sides else 0
        player = self.player(self.opponents[index])
        if isinstance(player, ScriptedPlayer):
            env.scene.skill = player.skill
        self._observations[index], _ = env.reset(seed=seed)

    def _slots(self, index: int) -> list[str]:
        return team_agents(self.envs[index], self.sides[index])

    def _stacked(self, index: int) -> np.ndarray:
        return np.stack([self._observations[index][agent] for agent in self._slots(index)])

    # ------------------------------------------------------------------ VecEnv API
    def reset(self) -> np.ndarray:
        for index in range(len(self.envs)):
            self._kickoff(index, self._seeds[index])
        self._reset_seeds()
        return np.concatenate([self._stacked(i) for i in range(len(self.envs))])

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self):
        actions = self._actions.reshape(len(self.envs), self.team_size)
        opponent_actions = self._opponent_actions()
        n = self.team_size
        observations = np.empty((self.num_envs, *self.observation_space.shape), dtype=self.observation_space.dtype)
        rewards = np.zeros(self.num_envs, dtype=np.float32)
        dones = np.zeros(self.num_envs, dtype=bool)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for index, env in enumerate(self.envs):
            side = self.sides[index]
            mine, theirs = team_agents(env, side), team_agents(env, 1 - side)
            joint = {agent: int(a) for agent, a in zip(mine, actions[index], strict=True)}
            joint.update(zip(theirs, opponent_actions[index], strict=True))
            obs, reward, terminated, truncated, info = env.step(joint)
            self._observations[index] = obs
            slot = slice(index * n, (index + 1) * n)
            rewards[slot] = [reward[agent] for agent in mine]
            observations[slot] = self._stacked(index)
            if env.agents:
                continue
            dones[slot] = True
            goals_for, goals_against = info[mine[0]]["score"]
            result = outcome(goals_for, goals_against)
            self.pool.record(self.opponents[index], result)
            ended_by_time = any(truncated.values()) and not any(terminated.values())
            for k, agent in enumerate(mine):
                infos[index * n + k] = {"terminal_observation": obs[agent], "TimeLimit.truncated": ended_by_time}
            infos[index * n]["selfplay"] = {"opponent": self.opponents[index], "side": side, "result": result,
                                            "goals_for": int(goals_for), "goals_against": int(goals_against)}
            self._kickoff(index, None)
            observations[slot] = self._stacked(index)
        return observations, rewards, dones, infos

    def _opponent_actions(self) -> list[list[Any]]:
        """Each match's opponent actions; one batched call per opponent policy."""
        out: list[list[Any]] = [[] for _ in self.envs]
        groups: dict[str, list[int]] = {}
        for index, name in enumerate(self.opponents):
            groups.setdefault(name, []).append(index)
        for name, indices in groups.items():
            player = self.player(name)
            if isinstance(player, ScriptedPlayer):
                for index in indices:
                    out[index] = [None] * self.team_size
                continue
            batch = np.concatenate([
                np.stack([self._observations[i][a] for a in team_agents(self.envs[i], 1 - self.sides[i])])
                for i in indices])
            actions = np.asarray(player.actions(batch)).reshape(len(indices), self.team_size)
            for row, index in enumerate(indices):
                out[index] = [int(a) for a in actions[row]]
        return out

    def forget_player(self, name: str) -> None:
        """Drop a cached opponent (its snapshot file changed)."""
        self._players.pop(name, None)

    def close(self) -> None:
        for env in self.envs:
            env.close()

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        return [getattr(self.envs[i // self.team_size], attr_name) for i in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        for i in self._get_indices(indices):
            setattr(self.envs[i // self.team_size], attr_name, value)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        return [getattr(self.envs[i // self.team_size], method_name)(*method_args, **method_kwargs)
                for i in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]
