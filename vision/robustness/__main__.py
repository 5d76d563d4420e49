"""Score a vision checkpoint under domain shift: ``python -m visiongym.vision.robustness --model ...``.

Examples::

    python -m visiongym.vision.robustness --model runs/det/detector.pt --data data/soccer
    python -m visiongym.vision.robustness --model runs/ae/autoencoder.pt --baseline runs/ae0/autoencoder.pt \\
        --corruptions gaussian_noise fog jpeg_compression --severities 1 3 5

See :mod:`visiongym.vision.robustness` and the Robustness section of ``docs/vision.md``.
"""

from __future__ import annotations

from visiongym.envs.cli import run_command
from visiongym.vision.robustness.suite import RobustnessConfig, run_robustness


def main(argv: list[str] | None = None) -> None:
    import tyro

    run_robustness(tyro.cli(RobustnessConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
