"""``visiongym train ppo --multi-agent [--self-play]``: shared-parameter PPO against a pool.

The SB3 trainer (:class:`~visiongym.agents.sb3.trainer.SB3Trainer`: run folder, TensorBoard,
VecNormalize, atomic checkpoints, ``--resume``) with three changes:

- the vector env is :class:`~visiongym.agents.selfplay.vec_env.SelfPlayVecEnv`: one slot per
  learner player of ``--num-envs`` matches of the multi-agent soccer env, the other team an
  opponent drawn from the :class:`~visiongym.agents.selfplay.pool.OpponentPool` per match;
- every ``--pool-check-interval`` steps, if the learner's win rate against the newest snapshot
  passes ``--pool-threshold``, a frozen copy joins the pool (``--self-play``; RLlib's self-play
  example); the pool lives in ``<run>/pool/`` and is saved with every checkpoint;
- evaluation plays ``--eval-episodes`` matches against ``--eval-opponent`` (default the scripted
  team at skill 1, the env's default), alternating sides: ``evaluations.csv`` gets the win rate
  (``success_rate``, Wilson 95% interval), draws, losses and goals; ``best.pt`` keeps the
  policy with the best win rate.

TensorBoard: ``selfplay/win_rate/<opponent>`` (the pool's window), ``selfplay/snapshots``,
``selfplay/goal_difference``, beside SB3's ``rollout/*`` and ``train/*``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from visiongym.agents.common.checkpoints import EVAL_SEED_OFFSET
from visiongym.agents.common.evaluation import wilson_interval
from visiongym.agents.common.run import Run
from visiongym.agents.config import SB3Config
from visiongym.agents.sb3.policy import ObservationNormalizer, build_policy_network
from visiongym.agents.sb3.trainer import SB3Trainer
from visiongym.agents.selfplay.matches import PolicyPlayer, ScriptedPlayer, play_match
from visiongym.agents.selfplay.pool import OpponentPool, parse_opponent
from visiongym.agents.selfplay.vec_env import SelfPlayVecEnv
from visiongym.envs.soccer_multi import parallel_env_from_id, soccer_env_ids
from visiongym.sims.errors import UsageError
from visiongym.vision.runtime import load_checkpoint

__all__ = ["SelfPlayTrainer", "make_match_env", "load_policy_player", "evaluate_matches", "MULTI_AGENT_SCENARIOS"]

MULTI_AGENT_SCENARIOS = ("1v1", "2v2")


def make_match_env(env_id: str, env_kwargs: dict[str, Any]):
    """The multi-agent env of a soccer id, both teams controlled, state vectors."""
    ids = soccer_env_ids()
    matches = [i for i, (kwargs, _) in ids.items() if kwargs.get("scenario") in MULTI_AGENT_SCENARIOS]
    if env_id not in matches:
        raise UsageError(f"--multi-agent env {env_id!r} unknown; choose one of: {', '.join(matches)}")
    for key in ("controlled", "obs_mode"):
        if key in env_kwargs:
            raise UsageError(f"--env-kwargs {key}=... is set by --multi-agent (both teams controlled, state "
                             f"vectors); got {key}={env_kwargs[key]!r}")
    return parallel_env_from_id(env_id, **{**env_kwargs, "controlled": "both", "obs_mode": "state"})


def load_policy_player(path: Path, name: str, deterministic: bool = False) -> PolicyPlayer:
    """A policy checkpoint (a snapshot, ``last.pt``, ``best.pt``) as a player."""
    payload = load_checkpoint(path)
    policy = build_policy_network(payload["meta"], torch.device("cpu"))
    policy.load_state_dict(payload["state"]["policy"])
    policy.set_training_mode(False)
    state = payload["state"].get("observation_normalizer")
    normalizer = ObservationNormalizer.from_state_dict(state) if state is not None else None
    return PolicyPlayer(name, policy, normalizer, deterministic=deterministic)


def evaluate_matches(env, player, opponent, matches: int, seed: int) -> dict[str, float]:
    """``matches`` matches of ``player`` against ``opponent``, sides alternating; the summary
    (``success_rate`` is the win rate, with its Wilson 95% interval)."""
    wins = draws = 0
    goals_for, goals_against = [], []
    for i in range(matches):
        if i % 2 == 0:
            result = play_match(env, player, opponent, seed=seed + i)
            scored, conceded = result.goals_a, result.goals_b
        else:
            result = play_match(env, opponent, player, seed=seed + i)
            scored, conceded = result.goals_b, result.goals_a
        wins += scored > conceded
        draws += scored == conceded
        goals_for.append(scored)
        goals_against.append(conceded)
    low, high = wilson_interval(wins, matches)
    difference = np.asarray(goals_for, float) - np.asarray(goals_against, float)
    half = 1.96 * difference.std(ddof=1) / np.sqrt(matches) if matches > 1 else float("nan")
    return {
        "mean_return": float(difference.mean()), "return_ci95": float(half),
        "success_rate": wins / matches, "success_ci_low": low, "success_ci_high": high,
        "mean_length": float(env.max_cycles), "length_ci95": 0.0, "episodes": matches,
        "draw_rate": draws / matches, "loss_rate": (matches - wins - draws) / matches,
        "goals_for": float(np.mean(goals_for)), "goals_against": float(np.mean(goals_against)),
    }


class SelfPlayTrainer(SB3Trainer):
    """``SelfPlayTrainer(config).train()`` -> run folder (``config.multi_agent`` set)."""

    def __init__(self, config: SB3Config) -> None:
        super().__init__(config)
        c = self.config
        if not c.multi_agent:
            raise UsageError("SelfPlayTrainer needs --multi-agent")
        if c.algo != "ppo":
            raise UsageError(f"--multi-agent trains ppo; got {c.algo!r}")
        if c.vectorization != "sync":
            raise UsageError("--multi-agent steps its matches in this process; use --vectorization sync")
        if parse_opponent(c.eval_opponent)[0] == "snapshot" and not c.self_play:
            raise UsageError(f"--eval-opponent {c.eval_opponent} needs --self-play (snapshots)")
        make_match_env(c.env, self.env_kwargs).close()  # refuse a bad env before a run folder exists

    # ------------------------------------------------------------------ env and pool
    def make_venv(self):
        from stable_baselines3.common.vec_env import VecMonitor

        c = self.config
        if self.run is None:
            self.run = Run.create(c)
        self.pool = OpponentPool(
            self.run.path / "pool", c.pool_scripted_levels,
            scripted_fraction=c.pool_scripted_fraction if c.self_play else 1.0,
            latest_fraction=c.pool_latest_fraction, threshold=c.pool_threshold, window=c.pool_window,
            min_matches=c.pool_min_matches, max_snapshots=c.pool_max_snapshots,
        )
        if self.resuming:
            self.pool.load()
        thunks = [lambda: make_match_env(c.env, self.env_kwargs) for _ in range(c.num_envs)]
        venv = SelfPlayVecEnv(thunks, self.pool, load_player=self.load_member, swap_sides=c.swap_sides, seed=c.seed)
        self.selfplay_env = venv
        venv = VecMonitor(venv)
        self.raw_observation_space = venv.observation_space
        self.image, self.frame_stack = False, 1
        return self._normalize(venv)

    def load_member(self, name: str) -> PolicyPlayer:
        """A snapshot of the pool as an opponent (sampling its actions, as in training)."""
        _, number = parse_opponent(name)
        if number not in self.pool.snapshots:
            raise UsageError(f"opponent {name!r} is not in the pool; it has: {', '.join(self.pool.members)}")
        return load_policy_player(self.pool.snapshot_path(int(number)), name)

    def build(self) -> None:
        super().build()
        if self.config.self_play and not self.pool.snapshots:
            self.pool.add_snapshot(self._policy_state(), self.meta, self.model.num_timesteps)
        self.eval_env = make_match_env(self.config.env, self.env_kwargs)

    def promote(self) -> str | None:
        """Freeze the learner into the pool if it beats the newest snapshot; the new name or None."""
        if not (self.config.self_play and self.pool.should_promote()):
            return None
        name = self.pool.add_snapshot(self._policy_state(), self.meta, self.model.num_timesteps)
        print(f"step {self.model.num_timesteps}: promoted {name} (pool: {', '.join(self.pool.members)})")
        return name

    # ------------------------------------------------------------------ evaluation and checkpoints
    def learner(self, deterministic: bool = False) -> PolicyPlayer:
        return PolicyPlayer("learner", self.model.policy, self.observation_normalizer(), deterministic=deterministic)

    def evaluate(self) -> dict[str, float]:
        c = self.config
        kind, value = parse_opponent(c.eval_opponent)
        opponent = ScriptedPlayer(float(value)) if kind == "scripted" else self.load_member(c.eval_opponent)
        self.model.policy.set_training_mode(False)
        summary = evaluate_matches(self.eval_env, self.learner(), opponent, c.eval_episodes,
                                   seed=c.seed + EVAL_SEED_OFFSET)
        step = self.model.num_timesteps
        evaluator = self.evaluator
        self.run.log_evaluation(step, summary, time.time() - evaluator.start_time)
        if summary["success_rate"] > evaluator.best_return:
            evaluator.best_return = summary["success_rate"]
            evaluator.save("best.pt", self._policy_state(), self.meta, step, mean_return=summary["success_rate"])
        return summary

    def checkpoint(self) -> Path:
        path = super().checkpoint()
        self.pool.save()
        return path

    def make_callback(self):
        return _SelfPlayCallback(self)

    def train(self) -> Path:
        path = super().train()
        self.eval_env.close()
        return path


def _SelfPlayCallback(trainer: SelfPlayTrainer):  # noqa: N802 - reads as a class at the call site
    from visiongym.agents.sb3.trainer import _make_callback_class

    base = _make_callback_class()

    class SelfPlayCallback(base):
        """The SB3 trainer's charts, evaluations and checkpoints, plus match results and promotions."""

        def _on_step(self) -> bool:
            t, c = self.trainer, self.trainer.config
            after = self.model.num_timesteps
            before = after - self.training_env.num_envs
            for info in self.locals.get("infos", []):
                match = info.get("selfplay")
                if match is None:
                    continue
                rate, _ = t.pool.win_rate(match["opponent"])
                t.run.log({f"selfplay/win_rate/{match['opponent']}": rate,
                           "selfplay/goal_difference": match["goals_for"] - match["goals_against"]}, after)
            if c.self_play and c.pool_check_interval and after // c.pool_check_interval > before // c.pool_check_interval:
                t.promote()
                t.run.log({"selfplay/snapshots": len(t.pool.snapshots)}, after)
            return super()._on_step()

    return SelfPlayCallback(trainer)
