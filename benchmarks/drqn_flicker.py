"""DRQN against a one-frame feed-forward DQN when observations flicker.

Both agents see one frame a step of an env wrapped in ``FlickerObservation`` (each frame is
blanked with probability ``--flicker``). Without memory a blank frame says nothing about where
the ball is, so the feed-forward DQN has to guess on those steps; DRQN's LSTM carries the last
view forward. Prints each agent's success rate, with a 95% Wilson interval, on the flickering
env.

    python benchmarks/drqn_flicker.py --steps 6000

The soccer version hides only the ball (``--hide-ball``) instead of blanking whole frames::

    python benchmarks/drqn_flicker.py --env visiongym/TabletopSoccer-v0 --flicker 0 --hide-ball 0.8 \
        --env-kwargs scenario=empty_goal obs_mode=pixels camera=top image_size=48 kick_aim=goal \
        shaping=True max_episode_steps=100 --output benchmarks/results/drqn_hide_ball_soccer.json
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch  # noqa: E402
import tyro  # noqa: E402

from visiongym.agents.config import DQNConfig, DRQNConfig  # noqa: E402
from visiongym.agents.evaluate import EvaluateConfig, run_evaluation  # noqa: E402
from visiongym.agents.train import train  # noqa: E402


@dataclass
class Args:
    """Benchmark settings."""

    env: str = "visiongym/CatchBall-v0"
    """Env id (any discrete pixel env: e.g. visiongym/TabletopSoccer-v0 with --env-kwargs)."""
    env_kwargs: tuple[str, ...] = ("rows=6", "columns=5", "image_size=36")
    """KEY=VALUE env arguments."""
    flicker: float = 0.5
    """Probability that a frame is blanked."""
    hide_ball: float = 0.0
    """Probability that the soccer ball is left out of a frame (OccludeBall; soccer env only)."""
    steps: int = 6_000
    """Env steps per agent."""
    seed: int = 1
    """Seed of both runs."""
    episodes: int = 100
    """Evaluation episodes."""
    threads: int = 1
    """torch CPU threads."""
    output: Path | None = Path("benchmarks/results/drqn_flicker.json")
    """Where to write the figures (None: do not write)."""


def main(args: Args) -> list[dict]:
    torch.set_num_threads(args.threads)
    common = dict(env=args.env, env_kwargs=args.env_kwargs, flicker=args.flicker, hide_ball=args.hide_ball, seed=args.seed,
                  total_steps=args.steps, num_envs=4, frame_stack=1, features_dim=128, buffer_size=20_000,
                  learning_starts=500, n_step=3, target_update_interval=200, exploration_steps=args.steps // 3,
                  learning_rate=1e-3, augment_pad=2, eval_interval=0, video=False, checkpoint_interval=10**9,
                  progress=False, threads=args.threads, save_replay=False)
    rows = []
    with tempfile.TemporaryDirectory() as runs:
        configs = {
            "dqn (1 frame)": DQNConfig(**common, runs_dir=Path(runs), run_name="dqn", train_frequency=2,
                                       pipeline="off"),  # the recorded figures predate --pipeline
            "drqn": DRQNConfig(**common, runs_dir=Path(runs), run_name="drqn", lstm_hidden=128, burn_in=2,
                               sequence_length=6, batch_size=16, train_frequency=4),
        }
        for name, config in configs.items():
            start = time.perf_counter()
            run = train(config)
            seconds = time.perf_counter() - start
            result = run_evaluation(EvaluateConfig(path=run, episodes=args.episodes, device="cpu"))
            summary = result.summary()
            rows.append({"agent": name, "flicker": args.flicker, "hide_ball": args.hide_ball, "steps": args.steps,
                         "success_rate": summary["success_rate"], "ci95": [round(summary["success_ci_low"], 3),
                                                                         round(summary["success_ci_high"], 3)],
                         "mean_return": round(summary["mean_return"], 3), "train_seconds": round(seconds, 1)})
            print(json.dumps(rows[-1]), flush=True)
    print(f"\n{'agent':<14} {'success':>8}  95% CI         ({args.steps} steps, flicker {args.flicker}, "
          f"hide_ball {args.hide_ball}, seed {args.seed})")
    for row in rows:
        print(f"{row['agent']:<14} {row['success_rate']:>8.0%}  {row['ci95'][0]:.0%}-{row['ci95'][1]:.0%}")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows}, indent=1))
    return rows


if __name__ == "__main__":
    main(tyro.cli(Args))
