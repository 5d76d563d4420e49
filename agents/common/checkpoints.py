"""Evaluation, the best model and checkpoint metadata: the one path every trainer takes.

A policy checkpoint (``checkpoints/last.pt``, ``checkpoints/best.pt``) is
``save_checkpoint(path, algo, state, **meta)`` with the meta of :func:`checkpoint_meta`: the
algorithm, the env and its arguments, the seed and the full config (for the record and for the
env wrappers), plus what the algorithm's loader needs to rebuild the policy without the config.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from visiongym.agents.common.envs import make_env, wrapper_options
from visiongym.agents.common.evaluation import Policy, evaluate
from visiongym.agents.common.run import Run
from visiongym.agents.config import TrainConfig, config_to_dict
from visiongym.vision.runtime import load_checkpoint, save_checkpoint

__all__ = ["checkpoint_meta", "RunEvaluator", "EVAL_SEED_OFFSET"]

EVAL_SEED_OFFSET = 100_000
"""Evaluation episodes use seeds ``seed + EVAL_SEED_OFFSET + i``, apart from the training envs'."""


def checkpoint_meta(config: TrainConfig, env_kwargs: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The meta of every policy checkpoint of ``config``'s run; ``fields`` add the loader's own."""
    return {"algo": config.algo, "env_id": config.env, "env_kwargs": env_kwargs, "seed": config.seed,
            "config": config_to_dict(config), **fields}


class RunEvaluator:
    """Periodic evaluation of a run: evaluations.csv, TensorBoard, videos and ``best.pt``.

    The best mean return so far comes from the run's ``best.pt`` (so a resumed run only replaces
    it with a better policy); wall times count from when the evaluator was made.
    """

    def __init__(self, run: Run, config: TrainConfig, env_kwargs: dict[str, Any]) -> None:
        self.run, self.config, self.env_kwargs = run, config, env_kwargs
        self.start_time = time.time()
        best = run.checkpoints / "best.pt"
        self.best_return = -math.inf
        if best.is_file():
            self.best_return = float(load_checkpoint(best)["meta"].get("mean_return", -math.inf))

    def save(self, name: str, state: dict[str, Any], meta: dict[str, Any], step: int, **extra: Any) -> Path:
        """Write ``checkpoints/<name>`` atomically: ``state`` with ``meta`` and the step."""
        return save_checkpoint(self.run.checkpoints / name, self.config.algo, state, **meta, step=step, **extra)

    def evaluate(self, policy: Policy, step: int, meta: dict[str, Any],
                 policy_state: Callable[[], dict[str, Any]]) -> dict[str, float]:
        """Play ``eval_episodes`` episodes, log them, and save ``policy_state()`` as ``best.pt``
        when the mean return beats the best so far. Returns the summary."""
        c = self.config
        thunk = make_env(c.env, self.env_kwargs, render_mode="rgb_array", **wrapper_options(c, training=False))
        video = self.run.videos / f"eval_{step:09d}.mp4" if c.video else None
        result, _ = evaluate(policy, thunk, c.eval_episodes, seed=c.seed + EVAL_SEED_OFFSET, video_path=video,
                             info_keys=c.eval_info_keys)
        return self.record(result.summary(), step, meta, policy_state)

    def record(self, summary: dict[str, float], step: int, meta: dict[str, Any],
               policy_state: Callable[[], dict[str, Any]]) -> dict[str, float]:
        """Log an evaluation's ``summary`` (csv, TensorBoard) and save ``policy_state()`` as
        ``best.pt`` when its mean return beats the best so far. Returns the summary."""
        self.run.log_evaluation(step, summary, time.time() - self.start_time)
        if summary["mean_return"] > self.best_return:
            self.best_return = summary["mean_return"]
            self.save("best.pt", policy_state(), meta, step, mean_return=summary["mean_return"])
        return summary
