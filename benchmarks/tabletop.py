"""Soccer on Your Tabletop end to end (issue 18 §5): a rendered broadcast clip reconstructed in
3-D and scored against the simulator's exact 3-D, with oracle stages and learned ones.

    python benchmarks/tabletop.py                                       # 24 frames at 256 px, oracle rows only
    python benchmarks/tabletop.py --segment-checkpoint seg.pt --depth-checkpoint depth.pt

One clip (a scripted 2v2 game, human look, broadcast camera) is rendered once and run through
:func:`visiongym.vision.tabletop.reconstruct` several times, single-threaded:

1. every stage oracle (exact camera, masks, depth): the error of lifting and tracking alone;
2. the camera calibrated from the pitch lines (classical, tracked from frame to frame), masks
   and depth oracle;
3. the flat baseline: every player a camera-facing cut-out on its billboard (no depth);
4. with ``--depth-checkpoint``: the learned depth on calibrated cameras and exact masks;
5. with ``--segment-checkpoint``: the learned masks (depth oracle);
6. with both: every stage estimated.

Rows 3-6 reuse row 2's cameras (their calibrate time is row 2's). Definitions of the figures:
``docs/vision/tabletop.md``. The tables go to ``benchmarks/results/tabletop_<size>.csv``.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # single-threaded, as the issue asks

import csv  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
import tyro  # noqa: E402

from visiongym.vision.metrics import print_table  # noqa: E402
from visiongym.vision.tabletop import reconstruct, render_demo_clip  # noqa: E402
from visiongym.vision.tabletop.__main__ import SCORE_KEYS, stage_label  # noqa: E402
from visiongym.vision.tabletop.pipeline import load_stages, write_outputs  # noqa: E402
from visiongym.vision.tabletop.stages import FlatDepth  # noqa: E402


@dataclass
class Benchmark:
    frames: int = 24
    """Frames of the clip."""
    size: int = 256
    """Frame side, pixels."""
    seed: int = 0
    """Seed of the game."""
    segment_checkpoint: Path | None = None
    """A ``visiongym segment train`` checkpoint (adds the learned-segmentation rows)."""
    depth_checkpoint: Path | None = None
    """A ``visiongym depth train`` checkpoint (adds the learned-depth rows)."""
    results: Path = Path("benchmarks/results")
    """Where the CSV goes."""


def main(args: Benchmark) -> dict[str, dict[str, float]]:
    torch.set_num_threads(1)
    start = time.perf_counter()
    clip = render_demo_clip(args.frames, args.size, seed=args.seed)
    print(f"rendered {args.frames} frames of {args.size} px in {time.perf_counter() - start:.1f} s")
    runs = [(("calibrate", "segment", "depth"), None, None), (("segment", "depth"), None, None),
            (("segment",), None, "billboard")]
    if args.depth_checkpoint:
        runs.append((("segment",), None, args.depth_checkpoint))
    if args.segment_checkpoint:
        runs.append((("depth",), args.segment_checkpoint, None))
    if args.depth_checkpoint and args.segment_checkpoint:
        runs.append(((), args.segment_checkpoint, args.depth_checkpoint))
    quality, speed, cameras = {}, {}, None
    for oracle, segment, depth in runs:
        if depth == "billboard":  # the flat baseline: no depth model at all
            models = {**load_stages(("segment", "depth")), "depth": FlatDepth()}
        else:
            models = load_stages(oracle, segment, depth)
        reuse = cameras if "calibrate" not in oracle else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = reconstruct(clip, oracle, models=models, cameras=reuse, progress=False)
        if "calibrate" not in oracle and cameras is None:
            cameras = [frame.camera for frame in result.frames]
            calibrate_seconds = result.times["calibrate"]
        elif reuse is not None:
            result.times["calibrate"] = calibrate_seconds
        with tempfile.TemporaryDirectory() as folder:  # the outputs, for the render stage's time
            write_outputs(Path(folder), clip, result)
        label = stage_label(result.stages)
        quality[label] = {k: result.scores[k] for k in SCORE_KEYS if k in result.scores}
        speed[label] = {k: args.frames / v if v > 0 else float("inf") for k, v in result.times.items()}
        speed[label]["total"] = args.frames / sum(result.times.values())
    print_table(f"tabletop end to end, {args.frames} frames at {args.size} px (cm; stages: oracle/learned)", quality)
    print_table("frames per second of each stage (one thread; render: PLY files, json and the AR video)", speed)
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"tabletop_{args.size}.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        columns = list(SCORE_KEYS) + [f"fps_{k}" for k in next(iter(speed.values()))]
        writer.writerow(["stages", *columns])
        for label in quality:
            row = {**quality[label], **{f"fps_{k}": v for k, v in speed[label].items()}}
            writer.writerow([label, *[f"{row.get(c, float('nan')):.4g}" for c in columns]])
    print(f"wrote {path}")
    return quality


if __name__ == "__main__":
    main(tyro.cli(Benchmark))
