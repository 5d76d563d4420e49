"""``visiongym calibrate``: the broadcast camera of frames, from their pitch lines alone.

Examples::

    visiongym calibrate --demo                            # render 8 frames per look and calibrate them
    visiongym calibrate --data data/soccer --split test   # a dataset written by render-data
    visiongym calibrate --frame picture.png               # one picture (no exact camera: no errors)

Writes a run folder (default ``runs/calibrate__<source>__<time>``) with ``config.yaml``,
``cameras/<frame>.json`` (the estimated camera, its homography, the fit's figures and, when the
exact camera is known, the errors against it), ``overlays/<frame>.png`` (pitch markings as the
estimated camera sees them in magenta, as the exact one does in cyan, detected line pixels
yellow, the detected outline orange), ``summary.json`` and TensorBoard events; and prints one
row of figures per look. Frames whose pitch is not visible enough are skipped with a warning and
counted (the share calibrated: ``calibrated``). Method and error definitions: ``docs/vision/calibrate.md``.
"""

from __future__ import annotations

import itertools
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError

__all__ = ["CalibrateConfig", "run_calibration", "main", "DEMO_LOOKS"]

#: The looks ``--demo`` renders by default: the built-in one, the training distribution (camera
#: jitter included) and the held-out one (every factor outside training).
DEMO_LOOKS = ("default", "random", "held_out")
#: Frames per look ``--demo`` renders unless told.
DEMO_FRAMES = 8


@dataclass
class CalibrateConfig:
    """Calibrate the broadcast camera of frames from their pitch lines (no clicks)."""

    data: Path | None = None
    """A dataset folder written by ``visiongym render-data --camera broadcast``."""
    split: Literal["train", "val", "test"] = "test"
    """The dataset split to calibrate."""
    frame: Path | None = None
    """One PNG picture to calibrate (no exact camera, so no errors)."""
    demo: bool = False
    """Render frames under --looks and calibrate them."""
    looks: tuple[str, ...] = DEMO_LOOKS
    """Looks rendered by --demo: default, random, held_out, a shift name (camera_orbit, ...) or key=value,..."""
    frames: int | None = None
    """Frames per look with --demo (default 8); the most frames read from --data (default: all)."""
    size: int = 256
    """Frame side with --demo, pixels."""
    seed: int = 0
    """Seed of the --demo frames."""
    pictures: int = 4
    """Overlay pictures written per look."""
    out: Path | None = None
    """Run folder (default runs/calibrate__<source>__<time>)."""
    progress: bool = True
    """Show a progress bar."""


def _frames(config: CalibrateConfig):
    from visiongym.vision.calibrate.frames import dataset_frames, frame_from_png, render_frames

    sources = [name for name, given in (("--data", config.data is not None), ("--frame", config.frame is not None),
                                        ("--demo", config.demo)) if given]
    if len(sources) != 1:
        raise UsageError(f"give exactly one of --data, --frame, --demo (got {', '.join(sources) or 'none'})")
    if config.frames is not None and config.frames < 1:
        raise UsageError(f"frames={config.frames} must be at least 1 (leave it out for all of a dataset's frames)")
    if config.demo:
        per_look = config.frames or DEMO_FRAMES
        from visiongym.sims.appearance import make_appearance
        from visiongym.sims.soccer.cameras import check_image_size

        check_image_size(config.size, config.size)
        if not config.looks:
            raise UsageError("looks is empty; give one or more of: default, random, held_out, a shift name")
        for look in config.looks:
            make_appearance(look)
        frames = itertools.chain.from_iterable(render_frames(look, per_look, config.size, config.seed)
                                               for look in config.looks)
        return "demo", frames, per_look * len(config.looks)
    if config.frame is not None:
        return Path(config.frame).stem, iter([frame_from_png(config.frame)]), 1
    limit = config.frames
    info = json.loads((Path(config.data) / "dataset.json").read_text()) if (Path(config.data) / "dataset.json").is_file() else {}
    expected = info.get("splits", {}).get(config.split, {}).get("frames")
    total = min(expected, limit) if expected and limit else expected or limit
    return Path(config.data).name, dataset_frames(config.data, config.split, limit), total


def run_calibration(config: CalibrateConfig) -> dict[str, dict[str, float]]:
    """Calibrate the frames ``config`` names; write the run folder; return the summary rows."""
    from torch.utils.tensorboard import SummaryWriter

    from visiongym.sims.soccer.builders import PitchSpec
    from visiongym.vision.calibrate.report import calibrate_frames, summary_rows
    from visiongym.vision.runs import config_dict, create_run_folder, run_name

    source, frames, total = _frames(config)
    out = Path(config.out) if config.out is not None else Path("runs") / run_name("calibrate", source)
    out = create_run_folder(out.parent, out.name, config_dict(config))
    writer = SummaryWriter(str(out))
    try:
        records = calibrate_frames(frames, PitchSpec(), out=out, pictures=config.pictures,
                                   progress=config.progress, total=total, writer=writer)
        rows = summary_rows(records)
        for look, row in rows.items():
            for key, value in row.items():
                writer.add_scalar(f"summary/{look}/{key}", value, 0)
    finally:
        writer.close()
    (out / "summary.json").write_text(json.dumps(rows, indent=2))
    skipped = sum(not r["calibrated"] for r in records)
    return rows, out, skipped


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    import tyro

    from visiongym.vision.metrics import print_table

    config = tyro.cli(CalibrateConfig, args=argv)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        rows, out, skipped = run_calibration(config)
    print_table("camera calibration from the pitch lines (rows: looks)", rows)
    if skipped:
        print(f"{skipped} frame(s) not calibrated (pitch not visible enough or no fit); see the warnings above")
    print(f"wrote {out}")
    return rows


if __name__ == "__main__":
    run_command(main)
