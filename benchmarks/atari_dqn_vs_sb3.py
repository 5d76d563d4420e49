"""Our DQN against Stable-Baselines3's DQN on an Atari game, each with its own Atari wrappers.

Both learn the same game with SB3 RL Zoo's Atari DQN hyperparameters (buffer 100k, Adam 1e-4,
batch 32, one update every 4 steps, target copy every 1,000 steps, epsilon to 0.01 over the first
10% of the run, 4 stacked 84x84 grey frames, Huber loss, gradient norm 10), with a shorter
``--learning-starts`` so a small budget trains at all. The agents:

- ``sb3-dqn``: SB3 as its users run it: ``make_atari_env`` (SB3's ``AtariWrapper``),
  ``VecFrameStack(4)``, ``DQN("CnnPolicy")``, ``evaluate_policy`` on whole games with raw scores;
- ``dqn-vanilla``: ``visiongym.agents.train dqn`` on the same id with the suite's Atari wrappers
  and its CPU defaults (pipelined updates, channels-last, allocator setting), Double, Dueling,
  n-step and shifts off: SB3's algorithm;
- ``dqn``: ours with its own algorithm defaults (Double, Dueling, 10-step, DrQ shifts) and the
  same schedule.

A name may end in ``@N``: that agent gets N torch threads (default: torch's choice, one per core).
On a 2-core machine that other jobs share, SB3 with two threads spends its time waiting at
OpenMP barriers (about 10 SPS against about 95 with one, measured on this machine), so
``sb3-dqn@1`` is the fair, fastest SB3 reference there.

Every agent runs in a fresh process of its own, after an untimed warm-up run (imports, first
kernels); rounds alternate the order (AB BA ...) so a drifting machine load hits both alike. SPS is
env steps over the wall time of the whole training call (env set-up included). Each final policy
plays ``--eval-episodes`` whole games (no life-loss ends, raw rewards, greedy).

    python benchmarks/atari_dqn_vs_sb3.py --steps 10000 --seeds 1 2
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import tyro
from dqn_vs_sb3 import spawn_worker  # benchmarks/ is the script's folder, first on sys.path

AGENTS = ("sb3-dqn", "dqn-vanilla", "dqn")


@dataclass
class Args:
    """Benchmark settings."""

    env: str = "PongNoFrameskip-v4"
    """Atari id (the NoFrameskip-v4 ids are what SB3's AtariWrapper and CleanRL expect)."""
    steps: int = 10_000
    """Env steps (agent steps, 4 frames each) per agent and seed."""
    learning_starts: int = 1_000
    """Steps before the first update (RL Zoo uses 100,000 for 10M-step runs)."""
    seeds: tuple[int, ...] = (1,)
    """Seeds; every agent runs each."""
    agents: tuple[str, ...] = ("sb3-dqn@1", "dqn-vanilla", "dqn")
    """Agents to run (NAME or NAME@THREADS); the first is the reference of the SPS ratio."""
    eval_episodes: int = 3
    """Whole games each final policy plays."""
    warmup_steps: int = 300
    """Untimed run in each process first (0 disables it)."""
    output: Path | None = Path("benchmarks/results/atari_dqn_vs_sb3.csv")
    """CSV of every run (None: do not write)."""
    worker: str | None = None
    """Internal: run this agent (NAME:SEED) in this process and print its figures as JSON."""


def run_sb3(args: Args, seed: int, steps: int, learning_starts: int, episodes: int) -> tuple[float, list[float]]:
    from stable_baselines3 import DQN
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import VecFrameStack

    import visiongym.envs.registration as registration

    registration.check_env_id(args.env)  # imports ale_py
    start = time.perf_counter()
    env = VecFrameStack(make_atari_env(args.env, n_envs=1, seed=seed), 4)
    model = DQN("CnnPolicy", env, buffer_size=100_000, learning_rate=1e-4, batch_size=32,
                learning_starts=learning_starts, target_update_interval=1_000, train_freq=4, gradient_steps=1,
                exploration_fraction=0.1, exploration_final_eps=0.01, max_grad_norm=10, seed=seed, device="cpu",
                optimize_memory_usage=False)
    model.learn(steps)
    seconds = time.perf_counter() - start
    if episodes == 0:
        return seconds, []
    eval_env = VecFrameStack(make_atari_env(args.env, n_envs=1, seed=seed + 10_000, wrapper_kwargs={
        "terminal_on_life_loss": False, "clip_reward": False}), 4)
    returns, _ = evaluate_policy(model, eval_env, n_eval_episodes=episodes, deterministic=True,
                                 return_episode_rewards=True)
    return seconds, [float(value) for value in returns]


def run_ours(name: str, threads: int, args: Args, seed: int, steps: int, learning_starts: int, episodes: int,
             runs: Path) -> tuple[float, list[float]]:
    from visiongym.agents.config import DQNConfig
    from visiongym.agents.evaluate import EvaluateConfig, run_evaluation
    from visiongym.agents.train import train

    algorithm = dict(double=False, dueling=False, n_step=1, augment_pad=0) if name == "dqn-vanilla" else {}
    config = DQNConfig(env=args.env, seed=seed, total_steps=steps, buffer_size=100_000, learning_rate=1e-4,
                       adam_eps=1e-8, batch_size=32, learning_starts=learning_starts, train_frequency=4,
                       target_update_interval=1_000, exploration_steps=int(0.1 * steps), epsilon_end=0.01,
                       max_grad_norm=10.0, frame_stack=4, eval_interval=0, checkpoint_interval=10**9,
                       save_replay=False, video=False, progress=False, runs_dir=runs, run_name=f"{name}-{seed}",
                       device="cpu", threads=threads, **algorithm)
    start = time.perf_counter()
    path = train(config)
    seconds = time.perf_counter() - start
    if episodes == 0:
        return seconds, []
    result = run_evaluation(EvaluateConfig(path / "checkpoints" / "last.pt", episodes=episodes, seed=seed + 10_000,
                                           device="cpu"))
    return seconds, list(result.returns)


def split_agent(label: str) -> tuple[str, int]:
    """``"sb3-dqn@1"`` -> ``("sb3-dqn", 1)``; without ``@N`` the threads are 0 (torch's choice)."""
    name, _, threads = label.partition("@")
    if name not in AGENTS or (threads and not threads.isdigit()):
        raise SystemExit(f"error: agent {label!r} unknown; choose from: {', '.join(AGENTS)} (optionally @THREADS)")
    return name, int(threads or 0)


def worker(args: Args) -> None:
    label, _, seed_text = args.worker.partition(":")
    name, threads = split_agent(label)
    seed = int(seed_text)
    if threads:
        import torch

        torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as runs:
        def run(steps: int, learning_starts: int, episodes: int) -> tuple[float, list[float]]:
            if name == "sb3-dqn":
                return run_sb3(args, seed, steps, learning_starts, episodes)
            return run_ours(name, threads, args, seed, steps, learning_starts, episodes, Path(runs) / str(steps))

        if args.warmup_steps > 0:
            run(args.warmup_steps, args.warmup_steps // 3, 0)
        seconds, returns = run(args.steps, args.learning_starts, args.eval_episodes)
    print("RESULT " + json.dumps({"agent": label, "seed": seed, "steps": args.steps, "seconds": round(seconds, 1),
                                  "sps": round(args.steps / seconds, 1), "returns": returns}), flush=True)


def main(args: Args) -> list[dict]:
    for label in args.agents:
        split_agent(label)  # an unknown name fails here, before any run
    rows = []
    for index, seed in enumerate(args.seeds):
        for name in args.agents if index % 2 == 0 else args.agents[::-1]:
            row = spawn_worker(__file__, f"{name}:{seed}")
            row["mean_return"] = round(sum(row["returns"]) / max(1, len(row["returns"])), 2)
            rows.append(row)
            print(json.dumps(row), flush=True)
    reference = args.agents[0]
    print(f"\n{args.env}, {args.steps} steps, seeds {list(args.seeds)}, learning starts {args.learning_starts}")
    print(f"{'agent':<12} {'SPS (mean)':>10} {'x ' + reference:>12} {'eval return (per seed)':>24}")
    mean_sps = {name: sum(r["sps"] for r in rows if r["agent"] == name) / len(args.seeds) for name in args.agents}
    for name in args.agents:
        per_seed = [r["mean_return"] for r in rows if r["agent"] == name]
        print(f"{name:<12} {mean_sps[name]:>10.1f} {mean_sps[name] / mean_sps[reference]:>12.2f} "
              f"{', '.join(f'{value:.1f}' for value in per_seed):>24}")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        with args.output.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, ["agent", "seed", "steps", "seconds", "sps", "sps_ratio", "mean_return",
                                             "returns"])
            writer.writeheader()
            for row in rows:
                same_seed = next(r for r in rows if r["agent"] == reference and r["seed"] == row["seed"])
                writer.writerow({**row, "sps_ratio": round(row["sps"] / same_seed["sps"], 3),
                                 "returns": " ".join(str(value) for value in row["returns"])})
        print(f"wrote {args.output}")
    return rows


if __name__ == "__main__":
    cli_args = tyro.cli(Args)
    if cli_args.worker is not None:
        worker(cli_args)
    else:
        main(cli_args)
