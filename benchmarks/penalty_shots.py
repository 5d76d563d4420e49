"""Where the scripted keeper saves: goal rate of penalties aimed at fixed points on the goal line.

    python benchmarks/penalty_shots.py --episodes 100

Each episode of ``visiongym/TabletopSoccer-Penalty-v0`` (state observations, facing kicks) is
played by "step towards the ball twice, then kick" with the controlled player's kick aimed at
``(goal line, ±offset)`` (alternating sides), for each offset in ``--offsets`` (metres from the
goal's centre; the half mouth is 0.2 m on the default pitch). It shows how far off centre a shot
has to go to beat the keeper, which is what ``kick_aim="on_target"`` (95 % of the half mouth at
most) and a learning agent have to reach.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym  # noqa: E402
import tyro  # noqa: E402

import visiongym  # noqa: E402,F401

STEP_EAST, KICK = 1, 9


@dataclass
class Args:
    """Benchmark settings."""

    offsets: tuple[float, ...] = (0.0, 0.1, 0.15, 0.16, 0.17, 0.18, 0.19, 0.2)
    """Aim points, metres off the goal's centre."""
    episodes: int = 100
    """Penalties per offset (episode seeds 2000, 2001, ...)."""


def main(args: Args) -> dict[float, float]:
    env = gym.make("visiongym/TabletopSoccer-Penalty-v0", obs_mode="state")
    scene, controlled = env.unwrapped.scene, env.unwrapped.controlled
    half_mouth = scene.pitch.goal_width / 2
    rates = {}
    print(f"| aim off centre (m) | of the half mouth | goal rate ({args.episodes} penalties) |")
    print("| ---: | ---: | ---: |")
    for offset in args.offsets:
        goals = 0
        for episode in range(args.episodes):
            env.reset(seed=2000 + episode)
            side = 1 if episode % 2 else -1
            scene.kick_targets[controlled] = (scene.pitch.length / 2, side * offset)
            done, t = False, 0
            while not done:
                _, _, terminated, truncated, info = env.step(STEP_EAST if t < 2 else KICK)
                done, t = terminated or truncated, t + 1
            goals += info["goal"] > 0
        rates[offset] = goals / args.episodes
        print(f"| {offset:.2f} | {offset / half_mouth:.0%} | {rates[offset]:.0%} |", flush=True)
    env.close()
    return rates


if __name__ == "__main__":
    main(tyro.cli(Args))
