"""``python -m visiongym.vision.classify {digits,arch}``: digit recognition, or the architecture tour."""

from __future__ import annotations

import sys

import tyro

from visiongym.envs.cli import run_command
from visiongym.vision.classify.arch import ArchConfig, WeightsUnavailableError, print_arch, run_arch
from visiongym.vision.classify.digits import DigitsConfig, print_digits, run_digits


def main(argv: list[str] | None = None) -> int:
    """Parse the subcommand and run it."""
    config = tyro.extras.subcommand_cli_from_dict(
        {"digits": DigitsConfig, "arch": ArchConfig},
        args=argv,
        description="Course classification modules: 'digits' (LeNet vs SVM) and 'arch' (VGG, ResNet...).",
    )
    if isinstance(config, DigitsConfig):
        print_digits(run_digits(config))
        return 0
    try:
        results = run_arch(config)
    except WeightsUnavailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    (config.out / "summary.md").write_text(print_arch(results) + "\n")
    print(f"saved: {config.out}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
