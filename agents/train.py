"""One command to train any agent of the suite.

    python -m visiongym.agents.train dqn --env visiongym/TabletopSoccer-v0 \\
        --env-kwargs scenario=empty_goal obs_mode=pixels
    python -m visiongym.agents.train ppo --env visiongym/CatchBall-v0 --total-steps 20000
    python -m visiongym.agents.train ppo --engine rllib --env visiongym/TabletopSoccer-2v2-v0 --multi-agent
    python -m visiongym.agents.train --resume runs/CatchBall-v0__dqn__1__20261129-050000 [--total-steps N] [--no-progress]

The algorithms are those of :data:`visiongym.agents.algorithms.ALGORITHMS` (``--help`` lists them);
``python -m visiongym.agents.train dqn --help`` documents every field.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Annotated, Union

import tyro

from visiongym.agents.algorithms import ALGORITHMS, get_algorithm
from visiongym.agents.common.run import Run
from visiongym.agents.config import CONFIGS, TrainConfig
from visiongym.envs.cli import run_command

__all__ = ["train", "main"]


def train(config: TrainConfig) -> Path:
    """Train ``config`` (a config from :data:`visiongym.agents.config.CONFIGS`); returns the run folder."""
    engine = getattr(config, "engine", None)
    if getattr(config, "multi_agent", False) and engine != "rllib":
        from visiongym.agents.selfplay.trainer import SelfPlayTrainer

        return SelfPlayTrainer(config).train()
    if getattr(config, "self_play", False):
        from visiongym.agents.config import check_options
        from visiongym.sims.errors import UsageError

        check_options(config)  # --self-play with an algorithm other than ppo: say that first
        raise UsageError("--self-play needs --multi-agent (the multi-agent soccer env)")
    return get_algorithm(config.algo).load("trainer", engine)(config).train()


def _resume_config(argv: list[str]) -> TrainConfig:
    """``--resume RUN [--total-steps N] [--max-minutes M] [--no-progress]``: the run's saved config.

    The algorithm and every other setting come from the run's ``config.yaml``; only the budget and
    the progress bar can change. Anything else is refused (argparse: usage line, exit status 2)
    rather than silently ignored.
    """
    parser = argparse.ArgumentParser(
        prog="python -m visiongym.agents.train --resume",
        description="Continue a stopped run from its last checkpoint, with its saved config.",
    )
    parser.add_argument("--resume", type=Path, required=True, metavar="RUN", help="the run folder")
    parser.add_argument("--total-steps", type=int, help="new total budget in env steps")
    parser.add_argument("--max-minutes", type=float, help="new wall-clock budget (SB3 algorithms)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    config = Run.open(args.resume).config
    config.resume = args.resume
    if args.total_steps is not None:
        config.total_steps = args.total_steps
    if args.max_minutes is not None:
        if not hasattr(config, "max_minutes"):
            parser.error(f"--max-minutes is not an option of {config.algo}")
        config.max_minutes = args.max_minutes
    if args.no_progress:
        config.progress = False
    return config


def main(argv: list[str] | None = None) -> Path:
    """Parse the command line (tyro subcommands, one per algorithm) and train."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--resume":
        return train(_resume_config(argv))
    if argv and not argv[0].startswith("-"):
        get_algorithm(argv[0])  # an unknown name gets the one-line error, not tyro's usage text
    choices = Union[tuple(  # noqa: UP007
        Annotated[cls, tyro.conf.subcommand(name, description=ALGORITHMS[name].description)]
        for name, cls in CONFIGS.items()
    )]
    config = tyro.cli(choices, args=argv, description=__doc__)
    path = train(config)
    print(f"run folder: {path}")
    return path


if __name__ == "__main__":
    run_command(main)
