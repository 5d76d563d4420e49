"""Score upscalers: ``visiongym superres evaluate`` (``python -m visiongym.vision.superres.evaluate``).

Example::

    visiongym superres evaluate runs/sr_srresnet/superres.pt runs/sr_srgan/superres.pt \\
        --data data/sr128 --detector runs/sr_detector/detector.pt --grid runs/sr_eval

For each LR source (``downsampled`` and ``rendered``, :mod:`visiongym.vision.superres.data`) the
held-out frames are upscaled by bicubic interpolation and by every checkpoint, stored as 8-bit
images and scored: PSNR and SSIM on the Y channel with a border of ``scale`` pixels removed, PSNR
on RGB (:mod:`visiongym.vision.superres.quality`), and, with ``--detector``, the detector's mAP@0.5
and AP@0.5 per class on the upscaled frames against the true boxes (the row ``hr`` scores the
true frames: the ceiling). ``--grid`` writes, per LR source, ``grid_<source>.png`` (rows: LR
(nearest), bicubic, each model, HR) and ``ball_<source>.png`` (the same rows, zoomed 4x on the ball).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import tyro
from torch.nn import functional as F

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError
from visiongym.vision.metrics import print_table
from visiongym.vision.runs import RunOptions, load_state, set_threads
from visiongym.vision.runtime import CheckpointError, load_checkpoint, pick_device
from visiongym.vision.superres.data import LR_SOURCES, SRPairs, load_pairs
from visiongym.vision.superres.models import SRResNet, bicubic_upscale, build_generator
from visiongym.vision.superres.quality import quantize, sr_scores

__all__ = [
    "CHECKPOINT_KIND",
    "SuperResEvaluateConfig",
    "load_superres",
    "upscale",
    "sample_rows",
    "ball_crops",
    "evaluate_superres",
]

CHECKPOINT_KIND = "superres"
BICUBIC = "bicubic"


def load_superres(
    path: str | Path, device: str | torch.device = "cpu", scale: int | None = None
) -> tuple[SRResNet, dict]:
    """Load a ``visiongym superres train`` checkpoint; return ``(generator in eval mode, meta)``.

    With ``scale``, a checkpoint trained for another factor is refused, naming the one it has.
    """
    payload = load_checkpoint(path, kind=CHECKPOINT_KIND, map_location="cpu")
    meta = payload["meta"]
    if scale is not None and meta["scale"] != scale:
        raise CheckpointError(
            f"checkpoint {str(path)!r} was trained for {meta['scale']}x super-resolution "
            f"({meta['hr_size'] // meta['scale']} -> {meta['hr_size']} px), not {scale}x; "
            f"use --scale {meta['scale']}, or train a {scale}x model (visiongym superres train --scale {scale})"
        )
    generator = build_generator(
        meta["arch"], scale=meta["scale"], global_residual=meta["global_residual"]
    )
    load_state(
        generator, payload["state"]["generator"], path, meta["arch"], "visiongym superres train"
    )
    return generator.to(pick_device(device)).eval(), meta


@torch.no_grad()
def upscale(
    generator: SRResNet | None, low_res: torch.Tensor, scale: int, batch_size: int = 32
) -> torch.Tensor:
    """uint8 upscales of uint8 LR frames by ``generator`` (None: bicubic), batch by batch."""
    if generator is None:
        return quantize(bicubic_upscale(low_res, scale))
    device = next(generator.parameters()).device
    was_training = generator.training
    generator.eval()
    out = [
        quantize(generator(low_res[i : i + batch_size].to(device)).cpu())
        for i in range(0, len(low_res), batch_size)
    ]
    generator.train(was_training)
    return torch.cat(out)


def sample_rows(
    low_res: torch.Tensor, upscaled: Sequence[torch.Tensor], high_res: torch.Tensor
) -> list[torch.Tensor]:
    """Grid rows as [0, 1] floats: LR (nearest, at the HR size), each upscale, HR."""
    scale = high_res.shape[-1] // low_res.shape[-1]
    nearest = F.interpolate(low_res.float(), scale_factor=scale, mode="nearest")
    return [row.float() / 255.0 for row in (nearest, *upscaled, high_res)]


def ball_crops(
    rows: Sequence[torch.Tensor], centres: Sequence[tuple[float, float]], window: int = 32
) -> list[torch.Tensor]:
    """``window``-pixel crops of every row around each frame's ball centre, zoomed to the frame size."""
    size = rows[0].shape[-1]
    zoomed = []
    for row in rows:
        tiles = []
        for frame, (cx, cy) in zip(row, centres, strict=False):
            x0 = int(np.clip(round(cx - window / 2), 0, size - window))
            y0 = int(np.clip(round(cy - window / 2), 0, frame.shape[-2] - window))
            tiles.append(frame[:, y0 : y0 + window, x0 : x0 + window])
        zoomed.append(F.interpolate(torch.stack(tiles), size=(size, size), mode="nearest"))
    return zoomed


@dataclass
class SuperResEvaluateConfig(RunOptions):
    """Score bicubic and super-resolution checkpoints on held-out frames: PSNR, SSIM, detector AP."""

    checkpoints: tyro.conf.Positional[tuple[Path, ...]] = ()
    """Checkpoints written by visiongym superres train (none: bicubic only)."""
    data: Path = Path("data/soccer")
    """Dataset folder (visiongym render-data); its frames are the HR truth."""
    split: str = "test"
    """Split to score."""
    scale: int = 4
    """Upscaling factor; every checkpoint must have been trained for it."""
    lr_sources: tuple[str, ...] = LR_SOURCES
    """LR frames to upscale: downsampled (bicubic, antialiased) and/or rendered (the simulator at the low size)."""
    detector: Path | None = None
    """A visiongym detect train checkpoint: adds mAP@0.5 and AP@0.5 per class on the upscaled frames."""
    limit: int | None = None
    """Use only the first frames of the split."""
    grid: Path | None = None
    """Folder for grid_<source>.png and ball_<source>.png (LR | bicubic | models | HR)."""
    grid_frames: int = 6
    """Frames in each grid."""


def evaluate_superres(config: SuperResEvaluateConfig) -> dict[str, dict[str, float]]:
    """Score every upscaler on every LR source; print the table and return ``{row: scores}``.

    Rows are ``<upscaler> (<LR source>)``: ``bicubic``, then each checkpoint by its model
    (``srresnet``, ``srgan``; ``srresnet-rendered`` when trained on rendered LR frames), and ``hr``
    (the true frames) when a detector is given.
    """
    set_threads(config.threads)
    if not config.lr_sources:
        raise UsageError(f"no lr source given; choose from: {', '.join(LR_SOURCES)}")
    for source in config.lr_sources:
        if source not in LR_SOURCES:
            raise UsageError(
                f"lr source {source!r} unknown; choose one of: {', '.join(LR_SOURCES)}"
            )
    device = pick_device(config.device)
    models: dict[str, SRResNet | None] = {BICUBIC: None}
    for path in config.checkpoints:
        generator, meta = load_superres(path, device, scale=config.scale)
        # "srresnet", or "srresnet-rendered" for a model trained on rendered LR frames.
        name = meta["model"] + (
            "" if meta["lr_source"] == "downsampled" else f"-{meta['lr_source']}"
        )
        models[name if name not in models else f"{name}-{Path(path).parent.name}"] = generator
    scorer = frames = None
    if config.detector is not None:
        from visiongym.vision.robustness.scorers import DetectorScorer
        from visiongym.vision.robustness.shifts import load_eval_frames

        scorer = DetectorScorer(config.detector, str(device), class_metrics=True)
        frames = load_eval_frames(config.data, config.split, config.limit)

    def detection(images: torch.Tensor) -> dict[str, float]:
        if scorer is None:
            return {}
        shown = replace(frames, images=list(images.permute(0, 2, 3, 1).numpy()))
        scores = scorer.score(shown)
        return {
            "map_50": scores["map_50"],
            **{k.replace("/", "_"): v for k, v in scores.items() if k.startswith("ap50/")},
        }

    rows: dict[str, dict[str, float]] = {}
    for source in config.lr_sources:
        pairs: SRPairs = load_pairs(
            config.data, config.split, config.scale, source, config.limit, config.progress
        )
        if scorer is not None and not rows:
            rows["hr"] = detection(pairs.hr)
        upscaled = {}
        for name, generator in models.items():
            upscaled[name] = upscale(generator, pairs.lr, config.scale)
            rows[f"{name} ({source})"] = {
                **sr_scores(upscaled[name], pairs.hr, config.scale),
                **detection(upscaled[name]),
            }
        if config.grid is not None:
            _save_grids(config, source, pairs, upscaled)
    print_table(
        f"{config.scale}x super-resolution on {config.data}/{config.split} ({len(pairs)} frames; "
        f"PSNR/SSIM on Y, {config.scale}-pixel border removed)",
        rows,
    )
    return rows


def _save_grids(
    config: SuperResEvaluateConfig, source: str, pairs: SRPairs, upscaled: dict[str, torch.Tensor]
) -> None:
    from visiongym.vision.autoencoders.evaluate import save_grid
    from visiongym.vision.data.format import CLASS_NAMES, read_split

    count = config.grid_frames
    rows = sample_rows(pairs.lr[:count], [u[:count] for u in upscaled.values()], pairs.hr[:count])
    save_grid(config.grid / f"grid_{source}.png", rows, count)
    coco = read_split(config.data, config.split)
    images = sorted(coco["images"], key=lambda image: image["id"])[: len(pairs)]
    balls = {
        a["image_id"]: a["bbox"]
        for a in coco["annotations"]
        if a["category_id"] == CLASS_NAMES.index("ball")
    }
    picked = [i for i, image in enumerate(images) if image["id"] in balls][:count]
    if picked:
        boxes = [balls[images[i]["id"]] for i in picked]
        centres = [(x + w / 2, y + h / 2) for x, y, w, h in boxes]
        index = torch.tensor(picked)
        rows = sample_rows(pairs.lr[index], [u[index] for u in upscaled.values()], pairs.hr[index])
        save_grid(config.grid / f"ball_{source}.png", ball_crops(rows, centres), len(picked))
    print(f"grids: {config.grid / f'grid_{source}.png'}, {config.grid / f'ball_{source}.png'}")


def main(argv: list[str] | None = None) -> None:
    evaluate_superres(tyro.cli(SuperResEvaluateConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
