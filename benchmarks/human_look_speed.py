"""Env steps per second of tabletop soccer with the robot look against the human look.

    python benchmarks/human_look_speed.py                     # 2v2, state and pixels, 84 px
    python benchmarks/human_look_speed.py --scenarios 1v1 5v5 --image-size 128 --rounds 5

One process, one thread. Each configuration is measured in ``rounds`` short rounds, robot and
human alternating, and the median is printed, so a busy machine slows both looks alike. Random
actions; the scripted players move everyone else, as in training. ``players="human"`` changes
pictures only, so its state-mode rate should match the robots' (it adds one gait-phase update a
step); its pixel-mode rate pays for posing the humanoids and drawing about 30 geoms a player.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import dataclass, field

import gymnasium as gym
import tyro
from env_speed import steps_per_second  # benchmarks/ is on the path when this script runs

import visiongym  # noqa: F401 - registers the envs
import visiongym.sims  # noqa: F401 - picks MUJOCO_GL, printed below

LOOKS = ("robot", "human")


@dataclass
class Config:
    scenarios: list[str] = field(default_factory=lambda: ["2v2"])
    """Scenarios to measure."""
    obs_modes: list[str] = field(default_factory=lambda: ["state", "pixels"])
    """Observation modes to measure."""
    image_size: int = 84
    """Pixel observation size."""
    camera: str = "broadcast"
    """Observation camera of the pixel mode."""
    seconds: float = 1.0
    """Measuring time of one round."""
    rounds: int = 3
    """Rounds per configuration and look (the median is printed)."""


def make(scenario: str, obs_mode: str, players: str, config: Config) -> gym.Env:
    env = gym.make("visiongym/TabletopSoccer-v0", scenario=scenario, obs_mode=obs_mode,
                   image_size=config.image_size, camera=config.camera, players=players)
    env.action_space.seed(0)
    env.reset(seed=0)
    for _ in range(20):  # warm-up: the renderer's context, the humanoid rig
        env.step(env.action_space.sample())
    return env


def main(config: Config) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print(f"# {platform.node()} {platform.processor() or platform.machine()}, "
          f"MUJOCO_GL={os.environ.get('MUJOCO_GL')}, {time.strftime('%Y-%m-%d %H:%M')}, "
          f"{config.image_size} px {config.camera}, median of {config.rounds} x {config.seconds:g} s")
    print(f"{'scenario':<9} {'obs_mode':<8} {'robot steps/s':>14} {'human steps/s':>14} {'human/robot':>12}")
    for scenario in config.scenarios:
        for obs_mode in config.obs_modes:
            envs = {look: make(scenario, obs_mode, look, config) for look in LOOKS}
            rates: dict[str, list[float]] = {look: [] for look in LOOKS}
            for _ in range(config.rounds):
                for look in LOOKS:
                    rates[look].append(steps_per_second(envs[look], config.seconds))
            for env in envs.values():
                env.close()
            robot, human = (statistics.median(rates[look]) for look in LOOKS)
            print(f"{scenario:<9} {obs_mode:<8} {robot:>14.0f} {human:>14.0f} {human / robot:>12.2f}")


if __name__ == "__main__":
    main(tyro.cli(Config))
