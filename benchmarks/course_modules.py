"""Run the course modules' default commands one after the other and print their results.

    python benchmarks/course_modules.py                       # every module (tens of minutes on a CPU)
    python benchmarks/course_modules.py --modules filters digits

Each module runs exactly as ``python -m vision.<module> <subcommand>`` would with its defaults,
and its figures land under ``runs/`` as usual. The printed wall time per module includes
rendering, training and plotting.
"""

from __future__ import annotations

import argparse
import time

COMMANDS = {
    "filters": ("visiongym.vision.filters.__main__", []),
    "digits": ("visiongym.vision.classify.__main__", ["digits", "--no-progress"]),
    "arch": ("visiongym.vision.classify.__main__", ["arch", "--layers", "none"]),
    "arithmetic": ("visiongym.vision.sequence.__main__", ["arithmetic", "--no-progress"]),
    "ball": ("visiongym.vision.sequence.__main__", ["ball", "--no-progress"]),
    "style": ("visiongym.vision.style.__main__", ["--no-progress"]),
    "augment_show": ("visiongym.vision.augment.__main__", ["show"]),
    "augment_ablation": ("visiongym.vision.augment.__main__", ["ablation", "--no-progress"]),
    "metric": ("visiongym.vision.metric.__main__", ["--no-progress"]),
    "transfer": ("visiongym.vision.transfer.__main__", ["--no-progress"]),
}


def main() -> None:
    """Parse ``--modules`` and run them."""
    import importlib

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", nargs="+", choices=list(COMMANDS), default=list(COMMANDS))
    args = parser.parse_args()
    for name in args.modules:
        module, argv = COMMANDS[name]
        print(f"\n=== {name}: python -m {module.removesuffix('.__main__')} {' '.join(argv)}")
        start = time.perf_counter()
        code = importlib.import_module(module).main(argv)
        print(f"=== {name}: exit {code}, {time.perf_counter() - start:.0f} s wall")


if __name__ == "__main__":
    main()
