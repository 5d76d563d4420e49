"""``python -m visiongym.vision.sequence {arithmetic,ball}``: LSTM sequence prediction."""

from __future__ import annotations

import sys

import tyro

from visiongym.envs.cli import run_command
from visiongym.vision.sequence.arithmetic import ArithmeticConfig, print_arithmetic, run_arithmetic
from visiongym.vision.sequence.ball import BallConfig, print_ball, run_ball


def main(argv: list[str] | None = None) -> int:
    """Parse the subcommand and run it."""
    config = tyro.extras.subcommand_cli_from_dict(
        {"arithmetic": ArithmeticConfig, "ball": BallConfig},
        args=argv,
        description="LSTM sequence prediction: 'arithmetic' (6,7,8 -> 9 and 2,4,8 -> 16) and "
        "'ball' (soccer ball trajectories vs constant velocity).",
    )
    if isinstance(config, BallConfig):
        print_ball(run_ball(config))
    else:
        print_arithmetic(run_arithmetic(config))
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
