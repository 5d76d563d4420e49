"""``python -m visiongym.vision.transfer``: pretrain on one rendered task, transfer three ways to another."""

from __future__ import annotations

import sys

import tyro

from visiongym.envs.cli import run_command
from visiongym.vision.transfer.experiment import TransferConfig, print_transfer, run_transfer


def main(argv: list[str] | None = None) -> int:
    """CLI entry."""
    config = tyro.cli(TransferConfig, args=argv)
    print_transfer(run_transfer(config))
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
