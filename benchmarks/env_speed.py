"""Env steps per second for tabletop soccer: state vs pixels, one process vs AsyncVectorEnv(N).

    python benchmarks/env_speed.py                       # 1v1, 2v2, 5v5; 1 and 2 processes
    python benchmarks/env_speed.py --scenarios 2v2 --num-envs 1 4 --seconds 5

Also reports the resident memory of each AsyncVectorEnv worker process, i.e. per env. Random actions; the scripted
players move everyone else, as in training.
"""

from __future__ import annotations

import functools
import os
import platform
import resource
import time
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import tyro

import visiongym  # noqa: F401
import visiongym.sims  # noqa: F401 - picks MUJOCO_GL, printed below


@dataclass
class Config:
    scenarios: list[str] = field(default_factory=lambda: ["1v1", "2v2", "5v5"])
    """Scenarios to measure."""
    obs_modes: list[str] = field(default_factory=lambda: ["state", "pixels"])
    """Observation modes to measure."""
    num_envs: list[int] = field(default_factory=lambda: [1, 2])
    """1 = a plain env in this process; N > 1 = gymnasium AsyncVectorEnv with N workers."""
    image_size: int = 84
    """Pixel observation size."""
    seconds: float = 3.0
    """Measuring time per configuration (after warm-up)."""


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, USS) of a process in MB, from Linux /proc/<pid>/smaps_rollup.

    RSS counts shared libraries (Mesa's LLVM, torch-free numpy, MuJoCo) in full in every
    process; USS is the memory private to the process, i.e. what one more env really costs.
    """
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":"):
                fields[parts[0][:-1]] = int(parts[1]) / 1024
    return fields.get("Rss", float("nan")), fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)


def steps_per_second(env: gym.Env, seconds: float) -> float:
    """Random-action steps per second of ``env`` over ``seconds`` (resetting when an episode ends)."""
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        steps += 1
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def measure_single(scenario: str, obs_mode: str, image_size: int, seconds: float) -> float:
    env = gym.make("visiongym/TabletopSoccer-v0", scenario=scenario, obs_mode=obs_mode, image_size=image_size)
    env.action_space.seed(0)
    env.reset(seed=0)
    for _ in range(50):
        env.step(env.action_space.sample())
    rate = steps_per_second(env, seconds)
    env.close()
    return rate


def measure_vector(scenario: str, obs_mode: str, image_size: int, seconds: float, n: int) -> tuple[float, float]:
    """Steps/s over all workers, and the mean resident memory of one worker process (one env)."""
    make_one = functools.partial(gym.make, "visiongym:visiongym/TabletopSoccer-v0", scenario=scenario,
                                 obs_mode=obs_mode, image_size=image_size)
    vec = gym.vector.AsyncVectorEnv(
        [make_one] * n,
        context="spawn",  # this process already rendered; forked children would inherit its EGL state
    )
    vec.action_space.seed(0)
    vec.reset(seed=0)
    for _ in range(20):
        vec.step(vec.action_space.sample())
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        vec.step(vec.action_space.sample())
        steps += n
    rate = steps / (time.perf_counter() - start)
    memory = np.mean([process_memory_mb(p.pid) for p in vec.processes], axis=0)
    vec.close()
    return rate, tuple(memory)


def main() -> None:
    config = tyro.cli(Config)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, "
          f"MUJOCO_GL={os.environ.get('MUJOCO_GL')}")
    print(f"{'scenario':8} {'obs':7} {'envs':>4} {'steps/s':>9} {'RSS MB':>7} {'USS MB':>7}")
    for scenario in config.scenarios:
        for obs_mode in config.obs_modes:
            for n in config.num_envs:
                if n == 1:
                    rate = measure_single(scenario, obs_mode, config.image_size, config.seconds)
                    mem = "      -       -"
                else:
                    rate, (rss, uss) = measure_vector(scenario, obs_mode, config.image_size, config.seconds, n)
                    mem = f"{rss:7.0f} {uss:7.0f}"
                print(f"{scenario:8} {obs_mode:7} {n:4d} {rate:9.0f} {mem}", flush=True)
    print("RSS/USS: memory of one AsyncVectorEnv worker process, which holds one env (Python, numpy, "
          "MuJoCo and, in pixel mode, its GL context); USS excludes pages shared with other processes")
    print(f"peak RSS of the main process: {rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
