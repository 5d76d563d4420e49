"""One command to train any agent of the suite.

    python -m agents.train dqn --env visiongym/TabletopSoccer-v0 \\
        --env-kwargs scenario=empty_goal obs_mode=pixels
    python -m agents.train ppo --env visiongym/CatchBall-v0 --total-steps 20000
    python -m agents.train --resume runs/CatchBall-v0__dqn__1__20261129-050000 [--total-steps N]

Algorithms: dqn, drqn (ours), ppo, a2c, sac, sb3-dqn, qrdqn, recurrent-ppo (Stable-Baselines3 and
sb3-contrib, with our encoders). ``python -m agents.train dqn --help`` documents every field.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Union

import tyro

from agents.common.run import Run
from agents.config import CONFIGS, TrainConfig
from envs.cli import run_command

__all__ = ["train", "main"]


def train(config: TrainConfig) -> Path:
    """Train ``config`` (a config from :data:`agents.config.CONFIGS`); returns the run folder."""
    if config.algo == "dqn":
        from agents.dqn.trainer import DQNTrainer

        return DQNTrainer(config).train()
    if config.algo == "drqn":
        from agents.dqn.drqn import DRQNTrainer

        return DRQNTrainer(config).train()
    if config.algo in CONFIGS:
        from agents.sb3.trainer import SB3Trainer

        return SB3Trainer(config).train()
    raise ValueError(f"algorithm {config.algo!r} unknown; choose one of: {', '.join(CONFIGS)}")


def _resume_config(argv: list[str]) -> TrainConfig:
    """``--resume RUN [--total-steps N] [--no-progress]`` without naming the algorithm."""
    args = list(argv)
    run_path = Path(args[args.index("--resume") + 1])
    config = Run.open(run_path).config
    config.resume = run_path
    if "--total-steps" in args:
        config.total_steps = int(args[args.index("--total-steps") + 1])
    if "--no-progress" in args:
        config.progress = False
    return config


def main(argv: list[str] | None = None) -> Path:
    """Parse the command line (tyro subcommands, one per algorithm) and train."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--resume":
        return train(_resume_config(argv))
    if argv and not argv[0].startswith("-") and argv[0] not in CONFIGS:
        raise ValueError(f"algorithm {argv[0]!r} unknown; choose one of: {', '.join(CONFIGS)}")
    choices = Union[tuple(Annotated[cls, tyro.conf.subcommand(name)] for name, cls in CONFIGS.items())]  # noqa: UP007
    config = tyro.cli(choices, args=argv, description=__doc__)
    path = train(config)
    print(f"run folder: {path}")
    return path


if __name__ == "__main__":
    run_command(main)
