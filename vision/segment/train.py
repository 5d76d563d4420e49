"""Train a segmenter on rendered frames: ``visiongym segment train``.

Examples::

    visiongym segment train --data data/soccer --model unet --epochs 20
    visiongym segment train --data data/soccer --model fcn --epochs 20
    visiongym segment train --data data/soccer --model maskrcnn --steps 600

Frames go through the detector's ``transforms.v2`` augmentation
(:func:`visiongym.vision.data.dataset.detection_transforms`: flip, affine jitter, colour jitter,
and by default blur, noise and JPEG); the instance masks are ``tv_tensors.Mask`` and move with
the pixels (nearest-neighbour, so they stay exact labels), and class masks are painted from them.
The U-Net and the FCN minimise pixel cross-entropy plus soft Dice; Mask R-CNN its own losses.
Every epoch logs losses and validation mIoU to TensorBoard and writes the checkpoint atomically;
the same ``--run-dir`` resumes. At the end the test split is scored (mIoU, IoU per class, player
mask IoU), the table printed, and ``samples.png`` (frame | truth | prediction) written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError
from visiongym.vision.data.dataset import SoccerDetection, detection_loader, detection_transforms
from visiongym.vision.data.format import CLASS_NAMES
from visiongym.vision.metrics import print_table
from visiongym.vision.runs import RunOptions, prepare_run, set_threads, train_epoch
from visiongym.vision.runtime import (
    init_from_checkpoint,
    pick_device,
    resume_epoch,
    seed_everything,
)
from visiongym.vision.segment.engine import CHECKPOINT_KIND, Segmenter, evaluate, save_grid
from visiongym.vision.segment.instances import InstanceMethod
from visiongym.vision.segment.models import SEGMENTERS, TASKS

__all__ = ["SegmentTrainConfig", "train_segmenter", "segmentation_split", "init_weights"]

SegmenterName = SEGMENTERS.choices()
"""The ``--model`` choices: every registered segmenter."""


@dataclass
class SegmentTrainConfig(RunOptions):
    """Train a U-Net or FCN (class masks) or Mask R-CNN (instance masks) on rendered frames."""

    data: Path = Path("data/soccer")
    """Dataset folder written by visiongym render-data."""
    model: SegmenterName = "unet"
    """Segmenter (builders in visiongym.vision.segment.models): unet, unet_tiny, fcn (class masks),
    unet_contact (the unet with a contact head that splits touching players; --init-from a unet),
    maskrcnn (CPU-sized Mask R-CNN), maskrcnn_r50 (torchvision's ResNet-50 FPN, for a GPU)."""
    image_size: int = 128
    """Frames are resized to this square size."""
    epochs: int = 20
    """Passes over the training frames."""
    steps: int | None = None
    """Optimiser steps instead of whole epochs (the schedule spans them; the last epoch stops
    early): the way to give two models the same budget."""
    batch_size: int = 16
    """Frames per step."""
    lr: float = 3e-3
    """AdamW peak learning rate (one-cycle schedule); Mask R-CNN uses a tenth."""
    train_limit: int | None = None
    """Use only the first frames of the train split."""
    eval_limit: int | None = None
    """Use only the first frames of the val/test splits."""
    augment: bool = True
    """Random flips, affine and colour jitter (masks move with the pixels)."""
    photometric: bool = True
    """With augment, also random blur, noise and JPEG compression (pixels only)."""
    seed: int = 0
    """Seed for torch, NumPy and Python."""
    run_dir: Path | None = None
    """Run folder (default runs/<data>__<model>__<seed>__<time>); an existing checkpoint there resumes."""
    samples: int = 6
    """Test frames drawn in samples.png (0 skips it)."""
    class_weight_power: float = 0.5
    """U-Net/FCN cross-entropy weights are (pixel share of the class) ** -this: 0.5 (1/sqrt) is
    the default; lower (0.25) draws small objects less fat, 0 is unweighted."""
    init_from: Path | None = None
    """Start from the weights of this segmenter checkpoint: every tensor whose name and shape fit
    (a unet checkpoint for unet_contact: all but the new contact head, which starts fresh).
    Ignored when the run folder already holds a checkpoint (that one resumes)."""
    instances: InstanceMethod = "split"
    """How the semantic models' class masks become player instances when scored: split (touching
    players split by the distance transform, cut-off pieces re-attached), contact (split at the
    contact head's contacts: unet_contact only) or components (connected components)."""


def segmentation_split(
    data: Path, split: str, size: int, augment: bool = False, photometric: bool = True, limit: int | None = None
) -> SoccerDetection:
    """A split with instance masks, resized to ``size`` (and augmented when ``augment``)."""
    return SoccerDetection(data, split, detection_transforms(augment, size, photometric), masks=True, limit=limit)


def init_weights(segmenter: Segmenter, path: Path) -> int:
    """Copy into ``segmenter`` every tensor of the checkpoint at ``path`` whose name and shape fit;
    print and return how many of the model's tensors came from it."""
    return init_from_checkpoint(segmenter.net, path, CHECKPOINT_KIND,
                                hint=f" {segmenter.name!r}; start from a checkpoint of the same "
                                "architecture (e.g. unet for unet_contact)")


def train_segmenter(config: SegmentTrainConfig) -> dict[str, float]:
    """Train (or resume), score on the test split, print the table; return the test scores."""
    SEGMENTERS.check(config.model)
    if config.steps is not None and config.steps < 1:
        raise UsageError(f"steps={config.steps} must be at least 1 (or None: --epochs whole epochs)")
    set_threads(config.threads)
    seed_everything(config.seed)
    device = pick_device(config.device)
    size = config.image_size
    train_set = segmentation_split(config.data, "train", size, config.augment, config.photometric, config.train_limit)
    val_set = segmentation_split(config.data, "val", size, limit=config.eval_limit)
    run_dir, writer = prepare_run(config, config.data, config.model, config.run_dir)
    checkpoint_path = run_dir / "segmenter.pt"

    segmenter = Segmenter(config.model, size, CLASS_NAMES).to(device)
    segmenter.class_weight_power = config.class_weight_power
    if config.init_from is not None and not checkpoint_path.exists():
        init_weights(segmenter, config.init_from)
    lr = config.lr / 10 if TASKS[config.model] == "instance" else config.lr
    optimizer = torch.optim.AdamW(segmenter.parameters(), lr=lr, weight_decay=1e-4)
    batches = detection_loader(train_set, config.batch_size, shuffle=True, seed=config.seed)
    steps_per_epoch = len(batches)
    total_steps = config.steps or config.epochs * steps_per_epoch
    epochs = -(-total_steps // steps_per_epoch)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps, pct_start=0.15)
    start_epoch = resume_epoch(
        checkpoint_path, segmenter.net, optimizer, scheduler, CHECKPOINT_KIND, model=config.model, image_size=size
    )

    from tqdm import tqdm

    step = start_epoch * steps_per_epoch
    started = time.perf_counter()
    bar = tqdm(range(start_epoch, epochs), desc=config.model, disable=not config.progress)
    for epoch in bar:
        step, loss = train_epoch(segmenter, batches, optimizer, scheduler, writer, step, total_steps, device)
        elapsed = time.perf_counter() - started
        writer.add_scalar("charts/frames_per_s", (step - start_epoch * steps_per_epoch) * config.batch_size / elapsed, step)
        scores = evaluate(segmenter, detection_loader(val_set, 32, shuffle=False), config.instances)
        writer.add_scalar("val/miou", scores["miou"], step)
        writer.add_scalar("val/player_iou", scores["player_iou"], step)
        bar.set_postfix(loss=f"{loss.item():.3f}", val_miou=f"{scores['miou']:.3f}")
        segmenter.save(checkpoint_path, epoch=epoch + 1, optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict())

    test_set = segmentation_split(config.data, "test", size, limit=config.eval_limit)
    scores = evaluate(segmenter, detection_loader(test_set, 32, shuffle=False), config.instances)
    for name, value in scores.items():
        writer.add_scalar(f"test/{name.replace('/', '_')}", value, step)
    if config.samples > 0:
        images, targets = next(iter(detection_loader(test_set, config.samples, shuffle=False)))
        grid = save_grid(run_dir / "samples.png", segmenter, images, targets)
        with Image.open(grid) as picture:
            writer.add_image("test/samples", np.asarray(picture.convert("RGB")), step, dataformats="HWC")
    writer.close()
    print_table(f"{config.model} on {len(test_set)} test frames ({size}x{size})", {config.model: scores})
    print(f"checkpoint {checkpoint_path}")
    return scores


def main(argv: list[str] | None = None) -> None:
    import tyro

    train_segmenter(tyro.cli(SegmentTrainConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
