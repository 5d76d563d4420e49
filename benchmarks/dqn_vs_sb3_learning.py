"""Returns at equal env steps: our DQN against SB3's DQN on the empty-goal learning task.

    python benchmarks/dqn_vs_sb3_learning.py --steps 100000

``dqn_vs_sb3.py`` times the two libraries over a few thousand steps, before either has learned
anything. This one trains both long enough to learn, on the settings of the empty-goal learning
goal (``TabletopSoccer-v0``, ``scenario=empty_goal``, pixels from the ``follow`` camera at 48 px,
aimed kicks, shaping weight 5, 200-step episodes, 4 envs), with the same seed, encoder
(Nature CNN, 256 features), 2 stacked frames, replay 100k, batch 64, Adam 5e-4, 3-step returns,
one update per 4 transitions, hard target update every 1,000 transitions, ε 1 → 0.01 over the
first 10k transitions and gradient-norm clipping at 10. Ours adds what SB3's DQN does not have
(Double DQN, Dueling head, DrQ shifts); SB3 gets its own 3-step replay (``n_steps=3``).

Both evaluate every ``--eval-interval`` steps on the same fixed episode seeds. Prints the goal
rate and return of each at every evaluation step, and writes the curves
(``<out>.csv`` / ``<out>.png``). Finished runs in ``--runs-dir`` are reused, interrupted ones resumed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import tyro
from rl_compare import compare_agents


@dataclass
class Args:
    """Benchmark settings."""

    steps: int = 100_000
    """Env steps per agent (summed over the 4 envs)."""
    seed: int = 1
    """Seed of both agents."""
    eval_interval: int = 5_000
    """Env steps between evaluations."""
    eval_episodes: int = 20
    """Episodes per evaluation (the same fixed seeds for both)."""
    runs_dir: Path = Path("runs")
    """Folder of the two run folders (existing finished runs are reused)."""
    ours: str = "empty_goal_follow48_shaping5_seed1"
    """Run folder name of our DQN (the learning-goal run of BENCHMARKS.md by default)."""
    sb3: str = "empty_goal_follow48_shaping5_sb3dqn_seed1"
    """Run folder name of SB3's DQN."""
    out: Path = Path("benchmarks/results/dqn_vs_sb3_learning")
    """Stem of the curve CSV/PNG."""


def main(args: Args) -> None:
    exploration = 10_000
    env = [
        "--env", "visiongym/TabletopSoccer-v0", "--env-kwargs", "scenario=empty_goal", "obs_mode=pixels",
        "camera=follow", "image_size=48", "shaping=5", "kick_aim=goal", "max_episode_steps=200",
    ]
    common = [
        *env, "--seed", str(args.seed), "--num-envs", "4", "--frame-stack", "2", "--features-dim", "256",
        "--buffer-size", "100000", "--batch-size", "64", "--learning-rate", "5e-4",
        "--eval-interval", str(args.eval_interval), "--eval-episodes", str(args.eval_episodes),
        "--checkpoint-interval", "20000", "--threads", "1", "--no-progress",
    ]
    variants = {
        args.ours: [
            "dqn", *common, "--n-step", "3", "--train-frequency", "4", "--target-update-interval", "1000",
            "--learning-starts", "1000", "--exploration-steps", str(exploration), "--augment-pad", "2",
            "--max-grad-norm", "10",
        ],
        args.sb3: [
            "sb3-dqn", *common, "--hyperparameters", "n_steps=3", "train_freq=1", "gradient_steps=1",
            "target_update_interval=1000", "learning_starts=1000",
            f"exploration_fraction={exploration / args.steps}", "exploration_final_eps=0.01", "max_grad_norm=10",
        ],
    }
    compare_agents(variants, args.runs_dir, args.out, args.steps,
                   f"empty_goal, follow 48 px, seed {args.seed}: our DQN vs SB3's DQN")
    curves: dict[str, dict[int, tuple[float, float]]] = {}
    for row in csv.DictReader(args.out.with_suffix(".csv").open()):
        curves.setdefault(row["agent"], {})[int(row["step"])] = (float(row["success_rate"]), float(row["mean_return"]))
    ours, sb3 = curves[args.ours], curves[args.sb3]
    print("\n| env steps | ours: goal rate | SB3: goal rate | ours: return | SB3: return |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for step in sorted(set(ours) & set(sb3)):
        print(f"| {step} | {ours[step][0]:.0%} | {sb3[step][0]:.0%} | {ours[step][1]:.3f} | {sb3[step][1]:.3f} |")


if __name__ == "__main__":
    main(tyro.cli(Args))
