"""Returns at equal env steps: our DQN against SB3's DQN on the empty-goal learning task.

    python benchmarks/dqn_vs_sb3_learning.py --steps 100000 --seeds 1
    python benchmarks/dqn_vs_sb3_learning.py --steps 50000 --seeds 1 2 3

``dqn_vs_sb3.py`` times the two libraries over a few thousand steps, before either has learned
anything. This one trains both long enough to learn, on the settings of the empty-goal learning
goal (``TabletopSoccer-v0``, ``scenario=empty_goal``, pixels from the ``follow`` camera at 48 px,
aimed kicks, shaping weight 5, 200-step episodes, 4 envs), with the same seeds, encoder
(Nature CNN, 256 features), 2 stacked frames, replay 100k, batch 64, Adam 5e-4, 3-step returns,
one update per 4 transitions, hard target update every 1,000 transitions, ε 1 → 0.01 over the
first 10k transitions and gradient-norm clipping at 10. Ours adds what SB3's DQN does not have
(Double DQN, Dueling head, DrQ shifts); SB3 gets its own 3-step replay (``n_steps=3``).
The shifts turned out to cost more than they give at 48 px; the ablation without them:

    python benchmarks/dqn_vs_sb3_learning.py --steps 50000 --seeds 1 2 3 4 5 \
        --ours "empty_goal_follow48_shaping5_noshift_seed{seed}" --ours-args=--augment-pad=0 \
        --out benchmarks/results/ablation/dqn_vs_sb3_learning_noshift

Both evaluate every ``--eval-interval`` steps on the same fixed episode seeds. Prints the goal
rate and return of each at every evaluation step, averaged over ``--seeds``, and writes the
curves of each seed (``<out>_seed<N>.csv`` / ``.png``). Finished runs in ``--runs-dir`` are reused, interrupted ones resumed.
"""

from __future__ import annotations

import csv
import shlex
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tyro
from rl_compare import compare_agents


@dataclass
class Args:
    """Benchmark settings."""

    steps: int = 100_000
    """Env steps per agent (summed over the 4 envs)."""
    seeds: tuple[int, ...] = (1,)
    """Seeds; each trains both agents, and the table averages over them."""
    eval_interval: int = 5_000
    """Env steps between evaluations."""
    eval_episodes: int = 20
    """Episodes per evaluation (the same fixed seeds for both)."""
    runs_dir: Path = Path("runs")
    """Folder of the two run folders (existing finished runs are reused)."""
    ours: str = "empty_goal_follow48_shaping5_seed{seed}"
    """Run folder names of our DQN (seed 1: the learning-goal run of BENCHMARKS.md)."""
    sb3: str = "empty_goal_follow48_shaping5_sb3dqn_seed{seed}"
    """Run folder names of SB3's DQN."""
    out: Path = Path("benchmarks/results/dqn_vs_sb3_learning")
    """Stem of the curve CSV/PNG."""
    ours_args: tuple[str, ...] = ()
    """Extra ``visiongym.agents.train`` arguments for our DQN, after the shared ones (the later value of a
    repeated option wins), for ablations, e.g. ``--ours-args=--augment-pad=0`` with another
    ``--ours`` run name; several in one quoted value: ``--ours-args="--augment-pad=0 --pipeline=on"``."""


def main(args: Args) -> dict[str, dict[int, list[tuple[float, float]]]]:
    exploration = 10_000
    env = [
        "--env", "visiongym/TabletopSoccer-v0", "--env-kwargs", "scenario=empty_goal", "obs_mode=pixels",
        "camera=follow", "image_size=48", "shaping=5", "kick_aim=goal", "max_episode_steps=200",
    ]
    # (goal rate, mean return) of each agent at each evaluation step, one entry per seed
    curves: dict[str, dict[int, list[tuple[float, float]]]] = {"ours": {}, "sb3": {}}
    for seed in args.seeds:
        common = [
            *env, "--seed", str(seed), "--num-envs", "4", "--frame-stack", "2", "--features-dim", "256",
            "--buffer-size", "100000", "--batch-size", "64", "--learning-rate", "5e-4",
            "--eval-interval", str(args.eval_interval), "--eval-episodes", str(args.eval_episodes),
            "--checkpoint-interval", "20000", "--threads", "1", "--no-progress",
        ]
        names = {"ours": args.ours.format(seed=seed), "sb3": args.sb3.format(seed=seed)}
        variants = {
            names["ours"]: [
                "dqn", *common, "--n-step", "3", "--train-frequency", "4", "--target-update-interval", "1000",
                "--learning-starts", "1000", "--exploration-steps", str(exploration), "--augment-pad", "2",
                "--max-grad-norm", "10",
                "--pipeline", "off",  # the recorded runs predate --pipeline; --ours-args=--pipeline=on to compare
                *[part for item in args.ours_args for part in shlex.split(item)],
            ],
            names["sb3"]: [
                "sb3-dqn", *common, "--hyperparameters", "n_steps=3", "train_freq=1", "gradient_steps=1",
                "target_update_interval=1000", "learning_starts=1000",
                f"exploration_fraction={exploration / args.steps}", "exploration_final_eps=0.01", "max_grad_norm=10",
            ],
        }
        out = args.out.with_name(f"{args.out.name}_seed{seed}")
        compare_agents(variants, args.runs_dir, out, args.steps,
                       f"empty_goal, follow 48 px, seed {seed}: our DQN vs SB3's DQN")
        for row in csv.DictReader(out.with_suffix(".csv").open()):
            agent = "ours" if row["agent"] == names["ours"] else "sb3"
            step = int(row["step"])
            if step <= args.steps:
                curves[agent].setdefault(step, []).append((float(row["success_rate"]), float(row["mean_return"])))
    steps = sorted(step for step in set(curves["ours"]) & set(curves["sb3"])
                   if len(curves["ours"][step]) == len(curves["sb3"][step]) == len(args.seeds))
    print(f"\nMean over seeds {', '.join(map(str, args.seeds))} ({args.eval_episodes} evaluation episodes each):")
    print("| env steps | ours: goal rate | SB3: goal rate | ours: return | SB3: return |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for step in steps:
        ours, sb3 = np.mean(curves["ours"][step], axis=0), np.mean(curves["sb3"][step], axis=0)
        print(f"| {step} | {ours[0]:.0%} | {sb3[0]:.0%} | {ours[1]:.3f} | {sb3[1]:.3f} |")
    area = {agent: float(np.mean([np.mean(curves[agent][step], axis=0)[0] for step in steps])) for agent in curves}
    print(f"mean goal rate over those evaluations (area under the curve): ours {area['ours']:.1%}, "
          f"SB3 {area['sb3']:.1%}")
    return curves


if __name__ == "__main__":
    main(tyro.cli(Args))
