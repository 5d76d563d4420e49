"""Steps per second of LearnToMove-v0 per preset, in state and pixel mode, beside Gymnasium's
Walker2d-v5 and Ant-v5 measured in the same run.

Environments differ in physics step and frame skip, so the table also gives physics steps per
second (env SPS x frame_skip), the fair per-physics-step comparison. Random actions, one process,
one thread; episodes reset when they end.

    python benchmarks/learn_to_move_speed.py --seconds 5
"""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from visiongym.sims.gl import configure_gl

configure_gl()

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

import visiongym  # noqa: E402, F401


@dataclass
class Config:
    """Benchmark settings."""

    seconds: float = 5.0
    """Wall-clock seconds measured per configuration (after a warm-up), split over the rounds."""
    rounds: int = 3
    """Measure every configuration this many times, round-robin, and keep the median: on a
    shared machine the load drifts, and interleaving gives every env the same conditions."""
    characters: tuple[str, ...] = ("walker", "quadruped", "humanoid", "snake")
    """LearnToMove presets to measure."""
    task: str = "run"
    """LearnToMove task."""
    image_size: int = 84
    """Pixel observation size (square)."""
    baselines: tuple[str, ...] = ("Walker2d-v5", "Ant-v5")
    """Gymnasium environments measured in the same run."""
    csv: Path | None = field(default_factory=lambda: Path("benchmarks/results/learn_to_move_speed.csv"))
    """Where to write the table (None: do not write)."""


def _warm_up(env: gym.Env, pixels_from_render: bool) -> None:
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(20):  # renderer creation, caches
        env.step(env.action_space.sample())
        if pixels_from_render:
            env.render()


def _measure(env: gym.Env, seconds: float, pixels_from_render: bool = False) -> float:
    actions = [env.action_space.sample() for _ in range(256)]
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        _, _, terminated, truncated, _ = env.step(actions[steps % 256])
        if pixels_from_render:
            env.render()
        steps += 1
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def main(config: Config) -> list[dict]:
    import torch

    torch.set_num_threads(1)
    rows = []
    jobs = [("LearnToMove", c, mode) for c in config.characters for mode in ("state", "pixels")]
    jobs += [("gymnasium", b, mode) for b in config.baselines for mode in ("state", "pixels")]
    size = config.image_size
    opened = []
    for family, name, mode in jobs:
        if family == "LearnToMove":
            env = gym.make("visiongym/LearnToMove-v0", character=name, task=config.task, obs_mode=mode,
                           image_size=size)
            label = f"LearnToMove {name}"
        else:
            kwargs = {"render_mode": "rgb_array", "width": size, "height": size} if mode == "pixels" else {}
            env = gym.make(name, **kwargs)
            label = name
        from_render = family == "gymnasium" and mode == "pixels"
        _warm_up(env, from_render)
        opened.append((label, mode, env, from_render))
    measured: dict[int, list[float]] = {i: [] for i in range(len(opened))}
    with tqdm(total=config.rounds * len(opened), desc="measuring") as bar:
        for _ in range(config.rounds):
            for i, (_, _, env, from_render) in enumerate(opened):
                measured[i].append(_measure(env, config.seconds / config.rounds, from_render))
                bar.update()
    for i, (label, mode, env, _) in enumerate(opened):
        sps = float(np.median(measured[i]))
        base = env.unwrapped
        frame_skip = base.frame_skip
        timestep = float(base.model.opt.timestep) if hasattr(base, "model") else base.scene.timestep
        rows.append({
            "env": label, "mode": mode, "sps": round(sps, 1), "frame_skip": frame_skip,
            "timestep_ms": timestep * 1000, "physics_steps_per_s": round(sps * frame_skip),
            "simulated_s_per_s": round(sps * frame_skip * timestep, 1),
        })
        env.close()
    header = f"{'env':26s} {'mode':7s} {'SPS':>8s} {'skip':>5s} {'dt ms':>6s} {'phys/s':>8s} {'sim s/s':>8s}"
    print(header)
    for row in rows:
        print(f"{row['env']:26s} {row['mode']:7s} {row['sps']:8.1f} {row['frame_skip']:5d} "
              f"{row['timestep_ms']:6.1f} {row['physics_steps_per_s']:8d} {row['simulated_s_per_s']:8.1f}")
    print(f"cpu count {os.cpu_count()}, MUJOCO_GL={os.environ.get('MUJOCO_GL')}")
    if config.csv is not None:
        config.csv.parent.mkdir(parents=True, exist_ok=True)
        with open(config.csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return rows


if __name__ == "__main__":
    import tyro

    np.set_printoptions(precision=3)
    main(tyro.cli(Config))
