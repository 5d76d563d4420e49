"""Our DQN against Stable-Baselines3's DQN: same env, seed, network and schedule.

Prints the wall-clock steps per second of each (whole training run: collection, updates,
setup), their ratio, and the evaluation return / goal rate of each final policy at the same
number of env steps. Four agents run, each in a fresh process of its own (the allocator setting
below is process-wide, and a shared process would let one agent pay another's start-up):

- ``sb3-dqn``: SB3's DQN as it ships (our encoder, SB3's replay and update, glibc defaults);
- ``sb3-dqn-alloc``: the same with the allocator setting our trainers make
  (``visiongym.vision.runtime.tune_cpu_allocator``), to show how much of the gap that setting is;
- ``dqn-vanilla``: ours with Double, Dueling, n-step and shifts off (SB3's algorithm);
- ``dqn``: ours with its defaults (Double, Dueling, 10-step, DrQ shifts), one-thread updates;
- ``dqn-vanilla-pipeline``, ``dqn-pipeline``: the same two with ``--pipeline on`` (a helper thread
  runs the s' passes and prepares the next batch beside the update, so they use a second core;
  ``dqn-pipeline`` is what ``visiongym.agents.train dqn`` does by default on a 2-core CPU). The others run
  with ``--pipeline off``.

An agent name may end in ``@N`` to give that agent N torch threads instead of ``--threads``
(``sb3-dqn@2``: SB3 on two cores, the fair reference for the pipelined agents on a 2-core CPU).

    python benchmarks/dqn_vs_sb3.py --steps 4000 --image-size 64
    python benchmarks/dqn_vs_sb3.py --agents sb3-dqn sb3-dqn@2 dqn-vanilla-pipeline dqn-pipeline
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch  # noqa: E402
import tyro  # noqa: E402

from visiongym.agents.common.envs import make_env, parse_env_kwargs  # noqa: E402
from visiongym.agents.common.evaluation import evaluate  # noqa: E402
from visiongym.agents.config import CONFIGS, DQNConfig  # noqa: E402
from visiongym.agents.policies import load_policy  # noqa: E402
from visiongym.agents.train import train  # noqa: E402

AGENTS = ("sb3-dqn", "sb3-dqn-alloc", "dqn-vanilla", "dqn", "dqn-vanilla-pipeline", "dqn-pipeline")
DEFAULT_AGENTS = AGENTS[:4]


def split_agent(name: str, threads: int) -> tuple[str, int]:
    """``"sb3-dqn@2"`` -> ``("sb3-dqn", 2)``; a name without ``@N`` gets ``threads``."""
    base, _, count = name.partition("@")
    if base not in AGENTS or (count and not count.isdigit()):
        raise ValueError(f"unknown agent {name!r}; choose from: {', '.join(AGENTS)} (optionally with @THREADS)")
    return base, int(count) if count else threads


@dataclass
class Args:
    """Benchmark settings."""

    env: str = "visiongym/TabletopSoccer-v0"
    """Env id."""
    env_kwargs: tuple[str, ...] = ("scenario=empty_goal", "obs_mode=pixels", "shaping=True")
    """KEY=VALUE env arguments (image_size is added from --image-size)."""
    image_size: int = 64
    """Observation side in pixels."""
    steps: int = 4_000
    """Env steps per agent."""
    learning_starts: int = 1_000
    """Steps before the first update (both agents)."""
    train_frequency: int = 4
    """Env steps per gradient step (both agents)."""
    buffer_size: int = 20_000
    """Replay capacity (both agents)."""
    frame_stack: int = 4
    """Stacked frames (both agents)."""
    batch_size: int = 32
    """Minibatch size (both agents)."""
    num_envs: int = 1
    """Vector envs (both agents); --train-frequency stays in transitions (SB3 gets
    train_freq = train_frequency / num_envs vector steps)."""
    features_dim: int = 512
    """Encoder output size (both agents)."""
    vectorization: str = "sync"
    """sync or async vector envs (both agents; async: one process per env, SB3's SubprocVecEnv;
    ours then steps the envs while the network updates)."""
    seed: int = 1
    """Seed for both agents."""
    eval_episodes: int = 10
    """Evaluation episodes of each final policy."""
    threads: int = 1
    """torch CPU threads."""
    device: str = "auto"
    """Training device for both."""
    rounds: int = 1
    """Rounds of the three runs; round 2 runs them in reverse order (ABC CBA ...), so a machine
    load that drifts during the benchmark hits every agent alike. SPS is averaged over rounds."""
    warmup_steps: int = 300
    """Untimed run of every agent first (imports, MuJoCo and renderer set-up, first kernels), so
    the first timed run does not pay the process's one-time costs. 0 disables it."""
    output: Path | None = Path("benchmarks/results/dqn_vs_sb3.json")
    """Where to write the figures as JSON (None: do not write)."""
    amp: bool = False
    """Mixed precision for our agents' updates (CUDA only)."""
    compile: bool = False
    """torch.compile our agents' Q-network (CUDA only)."""
    agents: tuple[str, ...] = DEFAULT_AGENTS
    """Agents to run, the first being the reference of the ratios; NAME@N runs one with N torch
    threads."""
    worker: str | None = None
    """Internal: run this one agent in this process and print its figures as JSON."""


def run_agent(label: str, args: Args, runs: Path) -> dict:
    name, threads = split_agent(label, args.threads)
    env_kwargs = (*args.env_kwargs, f"image_size={args.image_size}")
    common = dict(env=args.env, env_kwargs=env_kwargs, seed=args.seed, total_steps=args.steps,
                  eval_interval=0, checkpoint_interval=10**9, runs_dir=runs, run_name=name, progress=False,
                  threads=threads, device=args.device, frame_stack=args.frame_stack,
                  buffer_size=args.buffer_size, learning_rate=1e-4, save_replay=False, num_envs=args.num_envs,
                  features_dim=args.features_dim, batch_size=args.batch_size, vectorization=args.vectorization,
                  tune_allocator=name != "sb3-dqn")
    exploration = int(0.25 * args.steps)
    if name.startswith("dqn"):
        extra = dict(double=False, dueling=False, n_step=1, augment_pad=0) if name.startswith("dqn-vanilla") else {}
        extra["pipeline"] = "on" if name.endswith("-pipeline") else "off"
        config = DQNConfig(**common, learning_starts=args.learning_starts, train_frequency=args.train_frequency,
                           target_update_interval=1_000, exploration_steps=exploration,
                           amp=args.amp, compile=args.compile, **extra)
    else:
        if args.train_frequency % args.num_envs and args.num_envs % args.train_frequency:
            raise ValueError(f"train_frequency {args.train_frequency} and num_envs {args.num_envs}: one must divide the other")
        hyper = (f"learning_starts={args.learning_starts}",
                 f"train_freq={max(1, args.train_frequency // args.num_envs)}",
                 f"gradient_steps={max(1, args.num_envs // args.train_frequency)}", "target_update_interval=1000",
                 f"exploration_fraction={exploration / args.steps}", "exploration_final_eps=0.01",
                 "max_grad_norm=10")
        config = CONFIGS["sb3-dqn"](**common, hyperparameters=hyper, video=False)
    start = time.perf_counter()
    path = train(config)
    seconds = time.perf_counter() - start
    thunk = make_env(args.env, parse_env_kwargs(env_kwargs))
    probe = thunk()
    policy = load_policy(path / "checkpoints" / "last.pt", probe, device="cpu")
    probe.close()
    result, _ = evaluate(policy, thunk, args.eval_episodes, seed=10_000)
    summary = result.summary()
    return {"agent": label, "seconds": round(seconds, 1), "sps": round(args.steps / seconds, 1),
            "mean_return": round(summary["mean_return"], 3), "goal_rate": summary["success_rate"]}


def worker(args: Args) -> None:
    """One agent in this fresh process: an untimed warm-up run, then the timed one."""
    name = args.worker
    torch.set_num_threads(split_agent(name, args.threads)[1])
    with tempfile.TemporaryDirectory() as runs:
        if args.warmup_steps > 0:
            warmup = dataclasses.replace(args, steps=args.warmup_steps, learning_starts=args.warmup_steps // 3,
                                         eval_episodes=1)
            run_agent(name, warmup, Path(runs) / "warmup")
        row = run_agent(name, args, Path(runs) / "timed")
    print("RESULT " + json.dumps(row), flush=True)


def spawn_worker(script: str | Path, worker: str) -> dict:
    """Run ``script`` again in a fresh process with this command line and ``--worker worker``;
    returns the JSON of its last ``RESULT`` line (benchmarks/atari_dqn_vs_sb3.py uses it too)."""
    command = [sys.executable, str(Path(script).resolve()), *sys.argv[1:], "--worker", worker]
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{worker} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("RESULT "))


def spawn(name: str) -> dict:
    return spawn_worker(__file__, name)


def main(args: Args) -> list[dict]:
    for name in args.agents:
        split_agent(name, args.threads)  # an unknown name fails here, before any run
    names = args.agents
    runs_by_agent: dict[str, list[dict]] = {name: [] for name in names}
    for round_index in range(args.rounds):
        for name in names if round_index % 2 == 0 else names[::-1]:
            row = spawn(name)
            runs_by_agent[name].append(row)
            print(json.dumps({"round": round_index + 1, **row}), flush=True)
    rows = []
    for name in names:
        first = runs_by_agent[name][0]  # same seed every round: the returns repeat, the timing does not
        sps = [row["sps"] for row in runs_by_agent[name]]
        rows.append({**first, "sps": round(sum(sps) / len(sps), 1), "sps_per_round": sps})
    reference = rows[0]["sps"]
    print(f"\n{'agent':<14} {'SPS':>7} {'x ' + names[0]:>10} {'return':>8} {'goal rate':>9}  "
          f"({args.steps} steps, seed {args.seed})")
    for row in rows:
        print(f"{row['agent']:<14} {row['sps']:>7.1f} {row['sps'] / reference:>10.2f} {row['mean_return']:>8.3f} "
              f"{row['goal_rate']:>9.0%}")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items() if not k.startswith("worker")},
                                           "rows": rows}, indent=1))
    return rows


if __name__ == "__main__":
    cli_args = tyro.cli(Args)
    if cli_args.worker is not None:
        worker(cli_args)
    else:
        main(cli_args)
