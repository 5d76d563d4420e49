"""``python -m visiongym.vision.metric``: triplet-loss player re-identification on rendered crops."""

from __future__ import annotations

import sys

import tyro

from visiongym.envs.cli import run_command
from visiongym.vision.metric.reid import MetricConfig, print_metric, run_metric


def main(argv: list[str] | None = None) -> int:
    """CLI entry."""
    config = tyro.cli(MetricConfig, args=argv)
    print_metric(run_metric(config))
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
