"""``make demo`` before agents exist: a scripted 2 vs 2 match, recorded to a video.

    python -m visiongym.envs.demo --seconds 30 --out videos/demo_2v2.mp4
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro

from visiongym.envs.cli import run_command
from visiongym.envs.play import PlayConfig, play


@dataclass
class DemoConfig:
    """Record a scripted tabletop-soccer match."""

    scenario: str = "2v2"
    """Scenario to play."""
    seconds: float = 30.0
    """Match length in simulated seconds."""
    out: Path = Path("videos/demo_2v2.mp4")
    """Video file (.mp4 or .gif)."""
    seed: int = 0
    """Seed of the match."""


def main(argv: list[str] | None = None) -> None:
    config = tyro.cli(DemoConfig, args=argv)
    steps = int(config.seconds * 20)
    play(PlayConfig(scenario=config.scenario, policy="scripted", record=config.out,
                    max_steps=steps, seed=config.seed,
                    env_kwargs=["action_type='continuous'"]))


if __name__ == "__main__":
    run_command(main)
