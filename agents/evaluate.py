"""Evaluate a trained agent: mean return, goal rate and episode length with 95% CIs.

    python -m visiongym.agents.evaluate runs/CatchBall-v0__dqn__1__20261129-050000 --episodes 20
    python -m visiongym.agents.evaluate runs/.../checkpoints/last.pt --episodes 50 --video eval.mp4
    python -m visiongym.agents.evaluate runs/... --appearance held_out   # or light_dim, camera_high, ...

A multi-agent run (``ppo --engine rllib --multi-agent``) plays its team A against scripted
opponents and reports wins, draws, losses and the goal difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro

from visiongym.agents.common.envs import make_env, parse_env_kwargs, wrapper_options
from visiongym.agents.common.evaluation import EvaluationResult, evaluate
from visiongym.agents.policies import load_policy, read_checkpoint
from visiongym.envs.cli import run_command
from visiongym.envs.play import appearance_argument
from visiongym.sims.errors import UsageError

__all__ = ["EvaluateConfig", "run_evaluation", "main"]


@dataclass
class EvaluateConfig:
    """Evaluate a run folder or checkpoint."""

    path: tyro.conf.Positional[Path]
    """Run folder (uses checkpoints/best.pt, else last.pt) or a checkpoint file."""
    episodes: int = 20
    """Episodes to play."""
    seed: int = 12_345
    """Seed of the first episode (episode i uses seed + i)."""
    env_kwargs: tuple[str, ...] = ()
    """KEY=VALUE overrides of the env arguments saved with the checkpoint."""
    video: Path | None = None
    """Write the first episode to this mp4/gif file."""
    device: str = "auto"
    """Device for the policy network."""
    epsilon: float = 0.0
    """Random-action probability (DQN family)."""
    info_keys: tuple[str, ...] = ()
    """Numeric info keys to average per step and report as mean_<key>, e.g. reward_pose."""
    appearance: str | None = None
    """Evaluate on another look (soccer, LearnToMove): random, held_out, a shift name (light_dim,
    camera_high, ...), key=value,... or default; unset keeps the run's own."""


def run_evaluation(config: EvaluateConfig) -> EvaluationResult:
    """Load the policy, play ``config.episodes`` episodes and return the per-episode figures."""
    payload = read_checkpoint(config.path)
    meta = payload["meta"]
    env_kwargs = {**meta.get("env_kwargs", {}), **parse_env_kwargs(config.env_kwargs)}
    if config.appearance is not None:
        env_kwargs["appearance"] = appearance_argument(config.appearance)
    if meta.get("multi_agent"):  # an RLlib team: matches against scripted opponents
        from visiongym.agents.rllib.multi import evaluate_checkpoint

        if config.video is not None:
            raise UsageError(f"--video {config.video}: the evaluation of a multi-agent run writes no video")

        return evaluate_checkpoint(payload, config.episodes, config.seed, env_kwargs, device=config.device)
    thunk = make_env(meta["env_id"], env_kwargs, render_mode="rgb_array", **wrapper_options(meta.get("config", {}), training=False))
    probe = thunk()
    policy = load_policy(config.path, probe, device=config.device, epsilon=config.epsilon)
    probe.close()
    result, _ = evaluate(policy, thunk, config.episodes, config.seed, config.video, info_keys=config.info_keys)
    return result


def main(argv: list[str] | None = None) -> EvaluationResult:
    config = tyro.cli(EvaluateConfig, args=argv, description=__doc__)
    result = run_evaluation(config)
    print(result.report())
    return result


if __name__ == "__main__":
    run_command(main)
