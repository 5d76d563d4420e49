"""``visiongym tabletop``: Soccer on Your Tabletop, end to end.

Examples::

    visiongym tabletop --demo --frames 24 --oracle segment,depth --out runs/tabletop
    visiongym tabletop --demo --segment-checkpoint seg.pt --depth-checkpoint depth.pt --out runs/tabletop
    visiongym tabletop --video game.mp4 --segment-checkpoint seg.pt --depth-checkpoint depth.pt --out runs/game

Calibrates each frame from its pitch lines, segments the players, predicts each one's depth
about its billboard, lifts it to a textured point cloud on the pitch, tracks players with ids,
and writes ``--out`` (per-frame PLY files, ``reconstruction.json``, ``ar_view.mp4`` and
``scores.json``) atomically. On a demo clip it prints the end-to-end scores against the
simulator's exact 3-D, saying which stages were learned and which oracle. Method, outputs and
scores: ``docs/vision/tabletop.md``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError

__all__ = ["TabletopConfig", "run_tabletop", "main", "score_rows"]


@dataclass
class TabletopConfig:
    """Reconstruct a broadcast clip in 3-D and re-render it on a tabletop."""

    out: Path = Path("runs/tabletop")
    """Output folder (written atomically: complete or absent)."""
    demo: bool = False
    """Render a broadcast clip of a scripted game (human look) as the input."""
    video: Path | None = None
    """A video file to reconstruct instead (mp4, avi, mov, mkv, webm, gif); needs checkpoints."""
    frames: int = 24
    """Frames of the --demo clip (the most read from --video)."""
    size: int = 256
    """Frame side of the --demo clip, pixels."""
    team_size: int = 2
    """Players per team in the --demo clip."""
    seed: int = 0
    """Seed of the --demo game."""
    oracle: str = "none"
    """Stages replaced by the simulator's exact labels (demo only), comma-separated from
    calibrate, segment, depth; none: every stage learned/classical."""
    segment_checkpoint: Path | None = None
    """A ``visiongym segment train`` checkpoint (U-Net/FCN/Mask R-CNN)."""
    depth_checkpoint: Path | None = None
    """A ``visiongym depth train`` checkpoint (stacked hourglass)."""
    subsample: int = 2
    """Points per mask pixel along each axis (a denser textured cloud)."""
    device: str = "cpu"
    """Device of the learned stages: auto, cpu, cuda."""
    threads: int = 1
    """CPU threads for torch."""
    progress: bool = True
    """Show a progress bar."""


SCORE_KEYS = ("ground_cm", "ground_cm_p90", "chamfer_cm", "accuracy_cm", "completeness_cm", "id_switches",
              "recall", "camera_pos_cm", "skipped_frames")


def stage_label(stages: dict) -> str:
    """``calibrate=classical segment=oracle depth=learned``: which stages were learned and which oracle."""
    return " ".join(f"{k}={v}" for k, v in stages.items() if k in ("calibrate", "segment", "depth"))


def score_rows(scores: dict, stages: dict) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """The end-to-end tables' rows: the scores, and frames per second of each stage."""
    label = stage_label(stages)
    return ({label: {k: scores[k] for k in SCORE_KEYS if k in scores}},
            {label: dict(scores.get("fps", {}))})


def run_tabletop(config: TabletopConfig):
    """Read or render the clip, reconstruct it and write ``config.out``; return the result."""
    import torch

    from visiongym.vision.tabletop.clip import read_video, render_demo_clip
    from visiongym.vision.tabletop.pipeline import (
        atomic_folder,
        load_stages,
        reconstruct,
        write_outputs,
    )
    from visiongym.vision.tabletop.stages import parse_oracle

    if config.demo == (config.video is not None):
        raise UsageError("give exactly one input: --demo (render a clip) or --video FILE")
    if config.subsample < 1:
        raise UsageError(f"subsample={config.subsample} must be at least 1")
    torch.set_num_threads(max(1, config.threads))
    oracle = parse_oracle(config.oracle)
    clip = None if config.demo else read_video(config.video, max_frames=config.frames)
    # Checkpoints are read before a demo clip is rendered: a wrong file fails at once.
    models = load_stages(oracle, config.segment_checkpoint, config.depth_checkpoint, config.device,
                         has_truth=config.demo)
    if clip is None:
        clip = render_demo_clip(config.frames, config.size, team_size=config.team_size, seed=config.seed)
    with atomic_folder(config.out) as folder:
        result = reconstruct(clip, oracle, subsample=config.subsample, progress=config.progress, models=models)
        write_outputs(folder, clip, result)
    return result


def main(argv: list[str] | None = None):
    import tyro

    from visiongym.vision.metrics import print_table
    from visiongym.vision.tabletop.pipeline import PitchSkippedWarning

    config = tyro.cli(TabletopConfig, args=argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PitchSkippedWarning)
        result = run_tabletop(config)
    skipped = [w for w in caught if issubclass(w.category, PitchSkippedWarning)]
    for warning in skipped:
        print(f"warning: {warning.message}")
    quality, speed = score_rows(result.scores, result.stages)
    print_table("tabletop reconstruction against exact 3-D (cm)", quality)
    print_table("frames per second of each stage (this CPU)", speed)
    if skipped:
        print(f"{len(skipped)} frame(s) skipped (no pitch visible or no camera fit)")
    print(f"wrote {config.out}")
    return result


if __name__ == "__main__":
    run_command(main)
