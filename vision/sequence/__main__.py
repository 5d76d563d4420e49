"""``python -m vision.sequence {arithmetic}``: LSTM sequence prediction."""

from __future__ import annotations

import sys

import tyro

from vision.sequence.arithmetic import ArithmeticConfig, print_arithmetic, run_arithmetic


def main(argv: list[str] | None = None) -> int:
    """Parse the subcommand and run it."""
    config = tyro.extras.subcommand_cli_from_dict(
        {"arithmetic": ArithmeticConfig},
        args=argv,
        description="LSTM sequence prediction: 'arithmetic' (6,7,8 -> 9 and 2,4,8 -> 16).",
    )
    print_arithmetic(run_arithmetic(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
