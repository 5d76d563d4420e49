"""Camera calibration from the pitch lines (issue 18 §4): how close the no-click estimate of the
broadcast camera comes to the exact one, over rendered frames of three looks.

    python benchmarks/calibration.py                          # 10 frames per look at 256 px, minutes
    python benchmarks/calibration.py --frames 30 --size 128   # more frames, the datasets' size

Per look (``default``: the built-in look and camera; ``random``: the training distribution, whose
camera jitter moves the broadcast camera by a few per cent and degrees; ``held_out``: every
factor outside training, the camera included) it renders ``--frames`` broadcast frames with their
exact MuJoCo camera, calibrates each with :func:`visiongym.vision.calibrate.calibrate_frame`
(single-threaded) and prints one row of figures (definitions: ``docs/vision/calibrate.md``):
share calibrated, reprojection error (mean, 90th percentile, worst point), camera position error
(cm, % of the camera's distance), orientation, field-of-view and focal-length errors, seconds
per frame. Overlay pictures and per-frame cameras go to ``--out``; the table to
``benchmarks/results/calibration_<size>.csv``.

    python benchmarks/calibration.py --frames 6 --looks camera_high camera_orbit camera_roll camera_fov --tag camera_shifts
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # single-threaded, as the issue asks

import csv  # noqa: E402
import itertools  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import tyro  # noqa: E402

from visiongym.sims.soccer.builders import PitchSpec  # noqa: E402
from visiongym.vision.calibrate.frames import render_frames  # noqa: E402
from visiongym.vision.calibrate.report import SUMMARY_COLUMNS, calibrate_frames, summary_rows  # noqa: E402
from visiongym.vision.metrics import print_table  # noqa: E402


@dataclass
class Benchmark:
    """No-click broadcast-camera calibration against the exact camera, per look."""

    frames: int = 10
    """Frames per look."""
    size: int = 256
    """Square frame side, pixels."""
    looks: tuple[str, ...] = ("default", "random", "held_out")
    """Looks to render (any appearance name)."""
    seed: int = 0
    """Frame i of a look is drawn from SeedSequence([seed, i])."""
    out: Path = Path("runs/calibration_benchmark")
    """Folder for overlays and per-frame cameras."""
    results: Path = Path("benchmarks/results")
    """Folder of the CSV table."""
    tag: str = ""
    """Suffix of the CSV's name (calibration_<size>_<tag>.csv), e.g. for other looks."""
    progress: bool = True


def main(args: Benchmark) -> dict[str, dict[str, float]]:
    frames = itertools.chain.from_iterable(render_frames(look, args.frames, args.size, args.seed)
                                           for look in args.looks)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        records = calibrate_frames(frames, PitchSpec(), out=args.out / f"size{args.size}", pictures=3,
                                   progress=args.progress, total=args.frames * len(args.looks))
    rows = summary_rows(records)
    print_table(f"calibration from the pitch lines: {args.frames} frames per look, {args.size} px "
                "(rows: looks)", rows)
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"calibration_{args.size}{'_' + args.tag if args.tag else ''}.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["look", *SUMMARY_COLUMNS])
        for look, row in rows.items():
            writer.writerow([look, *(f"{row[c]:.4g}" if c in row else "" for c in SUMMARY_COLUMNS)])
    print(f"wrote {path} and overlays under {args.out / f'size{args.size}'}")
    return rows


if __name__ == "__main__":
    main(tyro.cli(Benchmark))
