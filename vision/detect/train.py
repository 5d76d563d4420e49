"""Train a detector on rendered frames: ``python -m visiongym.vision.detect.train``.

Examples::

    python -m visiongym.vision.detect.train --data data/soccer --model grid_small --epochs 30
    python -m visiongym.vision.detect.train --data data/soccer --model faster_rcnn --epochs 10

Frames go through ``transforms.v2`` augmentation (flip, affine jitter, colour jitter; boxes move
with the pixels), plus, by default, the robust photometric set: an AugMix-style mixture of
photometric ops, mild blurs, sensor noise, JPEG and grey, every range outside the robustness
suite's scored severities (``--no-robust``: the mild blur/noise/JPEG set; ``--no-photometric``:
neither). With ``render-data``'s default ``--appearance random`` the frames also vary in light,
textures, tints, kits and camera: the robust defaults. Every epoch logs losses and validation mAP to TensorBoard and writes the
checkpoint atomically; the same ``--run-dir`` resumes. At the end the test split is scored
(mAP@0.5:0.95, mAP@0.5, AP per class) and CPU inference speed is measured.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import ConcatDataset, Dataset

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError
from visiongym.vision.data.dataset import SoccerDetection, detection_loader, detection_transforms
from visiongym.vision.data.format import DETECTION_CLASSES
from visiongym.vision.detect.engine import CHECKPOINT_KIND, MODELS, Detector, evaluate, measure_fps
from visiongym.vision.detect.model import DETECTORS
from visiongym.vision.metrics import print_table
from visiongym.vision.runs import RunOptions, prepare_run, set_threads, train_epoch
from visiongym.vision.runtime import pick_device, resume_epoch, seed_everything

__all__ = ["DetectorTrainConfig", "train_detector"]

DetectorName = DETECTORS.choices()
"""The ``--model`` choices: every registered detector."""


@dataclass
class DetectorTrainConfig(RunOptions):
    """Train the grid detector or Faster R-CNN (no pretrained weights) on rendered frames."""

    data: Path = Path("data/soccer")
    """Dataset folder written by visiongym.vision.data.render_soccer."""
    model: DetectorName = "grid_small"
    """Detector (builders in visiongym.vision.detect.model): grid_fine has a stride-2 grid, for the small ball."""
    image_size: int = 128
    """Frames are resized to this square size."""
    epochs: int = 30
    """Passes over the training frames."""
    steps: int | None = None
    """Optimiser steps instead of whole epochs (the schedule spans them; the last epoch stops
    early), so runs on training sets of other sizes can get the same number of steps."""
    batch_size: int = 16
    """Frames per step."""
    lr: float = 3e-3
    """AdamW peak learning rate (one-cycle schedule); Faster R-CNN uses a tenth."""
    train_limit: int | None = None
    """Use only the first frames of the train split (e.g. 500 for the GAN experiment)."""
    eval_limit: int | None = None
    """Use only the first frames of the val/test splits."""
    extra_data: tuple[Path, ...] = ()
    """More dataset folders whose train splits are added in full (e.g. generated frames:
    visiongym gan mix, visiongym layout generate); val and test come from --data."""
    augment: bool = True
    """Random flips, affine and colour jitter."""
    photometric: bool = True
    """With augment, also random blur, noise and JPEG compression (pixels only; --no-photometric turns it off)."""
    robust: bool = True
    """With photometric, the wider robust set: an AugMix-style mixture of photometric ops, mild
    Gaussian/box/line/down-up blurs, sensor noise, JPEG and grey, every range outside the
    robustness suite's scored severities (--no-robust: the mild blur/noise/JPEG set)."""
    radial_blur: bool = False
    """With robust, also a weak zoom blur (largest zoom 1.02-1.06; the suite's zoom_blur starts at 1.10)."""
    consistency: float = 0.0
    """AugMix's Jensen-Shannon consistency weight (the paper's lambda is 12); above 0, each
    training frame comes as --views views (clean, and augmented copies through independent
    draws of the photometric set), the detection loss is taken on the clean view and this
    weight times the views' per-cell divergence is added (grid detectors; about --views times
    the compute a step). 0 trains on single augmented frames."""
    views: int = 3
    """Views per frame with --consistency above 0 (AugMix: 3, the clean one and two augmented)."""
    seed: int = 0
    """Seed for torch, NumPy and Python."""
    run_dir: Path | None = None
    """Run folder (default runs/<data>__<model>__<seed>__<time>); an existing checkpoint there resumes."""
    fps_frames: int = 50
    """Test frames timed for the inference-speed figure (0 skips it)."""


def train_detector(config: DetectorTrainConfig) -> dict[str, float]:
    """Train (or resume), score on the test split, print the table; return the test scores."""
    if config.model not in MODELS:
        raise UsageError(f"model {config.model!r} unknown; choose one of: {', '.join(MODELS)}")
    if config.consistency < 0:
        raise UsageError(f"consistency={config.consistency} must be 0 (off) or positive (AugMix: 12)")
    views = 1
    if config.consistency > 0:
        if config.views < 2:
            raise UsageError(f"views={config.views} must be at least 2 with --consistency")
        if not (config.augment and config.photometric):
            raise UsageError(
                "--consistency needs the photometric augmentation to make its views; "
                "drop --no-augment / --no-photometric, or set --consistency 0"
            )
        if config.model == "faster_rcnn":
            raise UsageError(
                f"--consistency needs a grid detector, not {config.model!r}; choose one of: "
                f"{', '.join(m for m in MODELS if m != 'faster_rcnn')}"
            )
        views = config.views
    set_threads(config.threads)
    seed_everything(config.seed)
    device = pick_device(config.device)
    size = config.image_size
    train_transforms = detection_transforms(
        config.augment, size, config.photometric, config.robust, config.radial_blur, views
    )
    train_set: Dataset = SoccerDetection(
        config.data, "train", train_transforms, masks=False, limit=config.train_limit
    )
    # A single folder (the field's type before it took several) is still accepted from code.
    extra = (config.extra_data,) if isinstance(config.extra_data, (str, Path)) else config.extra_data
    if extra:
        train_set = ConcatDataset(
            [
                train_set,
                *(
                    SoccerDetection(folder, "train", train_transforms, masks=False)
                    for folder in extra
                ),
            ]
        )
    val_set = SoccerDetection(
        config.data, "val", detection_transforms(False, size), masks=False, limit=config.eval_limit
    )
    run_dir, writer = prepare_run(config, config.data, config.model, config.run_dir)
    checkpoint_path = run_dir / "detector.pt"

    detector = Detector(config.model, size, DETECTION_CLASSES).to(device)
    lr = config.lr / 10 if config.model == "faster_rcnn" else config.lr
    optimizer = torch.optim.AdamW(detector.parameters(), lr=lr, weight_decay=5e-4)
    loader = detection_loader(train_set, config.batch_size, shuffle=True, seed=config.seed)
    steps_per_epoch = len(loader)
    if config.steps is not None and config.steps < 1:
        raise UsageError(f"steps={config.steps} must be at least 1 (or None: --epochs whole epochs)")
    total_steps = config.steps or config.epochs * steps_per_epoch
    epochs = -(-total_steps // steps_per_epoch)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=total_steps, pct_start=0.15
    )
    start_epoch = resume_epoch(
        checkpoint_path, detector.net, optimizer, scheduler, CHECKPOINT_KIND, model=config.model, image_size=size
    )

    from tqdm import tqdm

    step = start_epoch * steps_per_epoch
    started = time.perf_counter()
    bar = tqdm(range(start_epoch, epochs), desc=config.model, disable=not config.progress)
    for epoch in bar:
        step, loss = train_epoch(
            detector, loader, optimizer, scheduler, writer, step, total_steps, device,
            loss_kwargs={"consistency": config.consistency} if views > 1 else None,
        )
        writer.add_scalar(
            "charts/frames_per_s",
            (step - start_epoch * steps_per_epoch)
            * config.batch_size
            / (time.perf_counter() - started),
            step,
        )
        scores = evaluate(detector, detection_loader(val_set, 32, shuffle=False))
        writer.add_scalar("val/map_50", scores["map_50"], step)
        writer.add_scalar("val/map", scores["map"], step)
        bar.set_postfix(loss=f"{loss.item():.3f}", val_map50=f"{scores['map_50']:.3f}")
        detector.save(
            checkpoint_path,
            epoch=epoch + 1,
            optimizer=optimizer.state_dict(),
            scheduler=scheduler.state_dict(),
        )

    test_set = SoccerDetection(
        config.data, "test", detection_transforms(False, size), masks=False, limit=config.eval_limit
    )
    scores = evaluate(detector, detection_loader(test_set, 32, shuffle=False))
    if config.fps_frames > 0:
        frames = torch.stack([test_set[i][0] for i in range(min(config.fps_frames, len(test_set)))])
        scores[f"fps_{device.type}"] = measure_fps(detector, frames)
    for name, value in scores.items():
        writer.add_scalar(f"test/{name.replace('/', '_')}", value, step)
    writer.close()
    print_table(
        f"{config.model} on {len(test_set)} test frames ({size}x{size})", {config.model: scores}
    )
    print(f"checkpoint {checkpoint_path}")
    return scores


def main(argv: list[str] | None = None) -> None:
    import tyro

    train_detector(tyro.cli(DetectorTrainConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
