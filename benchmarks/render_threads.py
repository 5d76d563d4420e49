"""Pixel env steps per second with Mesa's software rasteriser threaded or not (``LP_NUM_THREADS``).

``visiongym.sims.gl.configure_gl`` sets ``LP_NUM_THREADS=0`` (draw in the calling thread) unless the user
set it; Mesa's own default is one rasteriser thread per CPU. This script measures both, each
in fresh processes (Mesa reads the variable when it creates its first context), in interleaved
rounds so a drifting machine load hits both alike, and prints the median steps per second. It
also checks that both settings draw the same bytes (a hash of 20 seeded frames per size).

    python benchmarks/render_threads.py
    python benchmarks/render_threads.py --sizes 48 84 --rounds 3 --seconds 3
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np  # noqa: E402
import tyro  # noqa: E402


@dataclass
class Args:
    sizes: list[int] = field(default_factory=lambda: [48, 84, 128, 256])
    """Square observation sizes of TabletopSoccer-v0 (empty_goal, broadcast camera)."""
    rounds: int = 2
    """Interleaved rounds (each setting once per round, order reversed every other round)."""
    seconds: float = 2.0
    """Measuring time per size, after 5 warm-up steps."""
    worker: bool = False
    """Internal: measure in this process with the LP_NUM_THREADS it was started with."""


def measure(args: Args) -> dict:
    """Steps per second per size, and a digest of 20 seeded frames of every size."""
    import gymnasium as gym

    import visiongym  # noqa: F401 - registers the envs; visiongym.sims.gl sets LP_NUM_THREADS if unset

    rates, digest = {}, hashlib.sha256()
    for size in args.sizes:
        env = gym.make("visiongym/TabletopSoccer-v0", scenario="empty_goal", obs_mode="pixels", image_size=size)
        observation, _ = env.reset(seed=0)
        env.action_space.seed(0)
        for _ in range(20):
            digest.update(observation.tobytes())
            observation, *_ = env.step(env.action_space.sample())
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()
            steps += 1
        rates[size] = steps / (time.perf_counter() - start)
        env.close()
    return {"rates": rates, "digest": digest.hexdigest()}


def main(args: Args) -> dict[str, dict[int, float]]:
    cpus = os.cpu_count() or 1
    settings = {"0 (our default)": "0", f"{cpus} (Mesa's default: one per CPU)": str(cpus)}
    runs: dict[str, list[dict[int, float]]] = {name: [] for name in settings}
    digests = set()
    for round_index in range(args.rounds):
        order = list(settings) if round_index % 2 == 0 else list(reversed(settings))
        for name in order:
            env = {**os.environ, "LP_NUM_THREADS": settings[name]}
            command = [sys.executable, __file__, "--worker", "--seconds", str(args.seconds),
                       "--sizes", *map(str, args.sizes)]
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
            result = json.loads(done.stdout.splitlines()[-1])
            runs[name].append({int(size): rate for size, rate in result["rates"].items()})
            digests.add(result["digest"])
    medians = {name: {size: float(np.median([run[size] for run in rows])) for size in args.sizes}
               for name, rows in runs.items()}
    fast, slow = list(settings)
    print(f"TabletopSoccer-v0 pixels, one env, steps/s (median of {args.rounds} rounds), MUJOCO_GL="
          f"{os.environ.get('MUJOCO_GL', 'auto')}")
    print(f"{'LP_NUM_THREADS':<36}" + "".join(f"{size:>9} px" for size in args.sizes))
    for name in settings:
        print(f"{name:<36}" + "".join(f"{medians[name][size]:>12.0f}" for size in args.sizes))
    print(f"{'ratio':<36}" + "".join(f"{medians[fast][s] / medians[slow][s]:>11.2f}x" for s in args.sizes))
    print("frames: " + ("the same bytes in every run" if len(digests) == 1 else "DIFFER between runs"))
    return medians


if __name__ == "__main__":
    cli = tyro.cli(Args)
    if cli.worker:
        print(json.dumps(measure(cli)))
    else:
        main(cli)
