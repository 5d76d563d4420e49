"""A frame classifier on rendered frames: ``visiongym classify frames`` (``python -m visiongym.vision.classify.frames``).

Example::

    visiongym render-data --frames 800 --size 64 --workers 1 --out data/frames64
    visiongym classify frames --data data/frames64 --threads 1

An encoder of :mod:`visiongym.vision.encoders` (``nature_cnn``, ``small_resnet`` or
``impala_resnet``, trained from scratch) with one linear head per label task of
:mod:`visiongym.vision.classify.frame_labels` (default: ``ball_third`` and ``players``), all
learned together with the sum of the tasks' cross-entropies. Frames go through the detector's
``transforms.v2`` augmentation (flips, affine and colour jitter; blur, noise and JPEG with
``--photometric``; the boxes move with the pixels and the labels are computed from the moved
boxes, so a flipped frame's ball changes third). Every epoch logs losses and validation
accuracy to TensorBoard and writes the checkpoint atomically (kind ``frame_classifier``: the
encoder's name, input size, features size and every task's class names); the same
``--run-dir`` resumes. At the end the test split is
scored (accuracy per task, their mean, and the accuracy of always answering the commonest
training class) and ``predictions.png`` shows test frames with predicted and true labels.

The checkpoint plugs into ``visiongym robustness --model`` (accuracy; error = 1 - accuracy) and
its encoder output is the feature space of the GAN metrics (:mod:`visiongym.vision.gan.metrics`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError
from visiongym.vision.classify.frame_labels import FRAME_TASKS, frame_labels, task_class_names
from visiongym.vision.runs import RunOptions, load_state, log_losses, prepare_run, set_threads
from visiongym.vision.runtime import (
    load_checkpoint,
    pick_device,
    resume_epoch,
    save_checkpoint,
    seed_everything,
)

__all__ = [
    "CHECKPOINT_KIND",
    "ENCODER_CHOICES",
    "FrameClassifier",
    "FrameClassifierConfig",
    "load_frame_classifier",
    "accuracies",
    "train_frame_classifier",
]

CHECKPOINT_KIND = "frame_classifier"
ENCODER_CHOICES = ("nature_cnn", "small_resnet", "impala_resnet")
"""The encoders a frame classifier trains from scratch (``autoencoder`` needs a pretrained file)."""
DEFAULT_TASKS = ("ball_third", "players")


class FrameClassifier(nn.Module):
    """An image encoder with one linear head per frame label task.

    Args:
        encoder: one of :data:`ENCODER_CHOICES`.
        image_size: square input side in pixels.
        tasks: ``{task: class names}`` (:func:`~visiongym.vision.classify.frame_labels.task_class_names`).
        features_dim: size of the encoder's output, the features every head reads.
    """

    def __init__(
        self, encoder: str, image_size: int, tasks: dict[str, list[str]], features_dim: int = 128
    ) -> None:
        super().__init__()
        import gymnasium as gym

        from visiongym.vision.encoders import build_model

        if encoder not in ENCODER_CHOICES:
            raise UsageError(
                f"encoder {encoder!r} unknown; choose one of: {', '.join(ENCODER_CHOICES)}"
            )
        if not tasks:
            raise UsageError(
                f"a frame classifier needs at least one task; choose from: {', '.join(FRAME_TASKS.names())}"
            )
        self.encoder_name = encoder
        self.image_size = image_size
        self.features_dim = features_dim
        self.tasks = {name: list(names) for name, names in tasks.items()}
        space = gym.spaces.Box(0, 255, (3, image_size, image_size), np.uint8)
        self.encoder = build_model(encoder, observation_space=space, features_dim=features_dim)
        self.heads = nn.ModuleDict(
            {name: nn.Linear(features_dim, len(names)) for name, names in tasks.items()}
        )

    def _check(self, images: torch.Tensor) -> None:
        if tuple(images.shape[-3:]) != (3, self.image_size, self.image_size):
            raise UsageError(
                f"image batch of shape {tuple(images.shape)} does not fit the frame classifier; "
                f"give (N, 3, {self.image_size}, {self.image_size}) frames"
            )

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The encoder's output (N, features_dim) for 0..255 images (N, 3, S, S)."""
        self._check(images)
        return self.encoder(images)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits per task for a uint8 batch (N, 3, S, S)."""
        features = self.features(images)
        return {name: head(features) for name, head in self.heads.items()}

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int = 256) -> dict[str, np.ndarray]:
        """Class index per task and frame, in eval mode, batch by batch."""
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        chunks: dict[str, list[np.ndarray]] = {name: [] for name in self.tasks}
        for start in range(0, len(images), batch_size):
            logits = self(images[start : start + batch_size].to(device))
            for name, value in logits.items():
                chunks[name].append(value.argmax(1).cpu().numpy())
        self.train(was_training)
        return {
            name: np.concatenate(parts) if parts else np.zeros(0, np.int64)
            for name, parts in chunks.items()
        }

    def save(self, path: str | Path, epoch: int = 0, **extra_state: Any) -> Path:
        """Write an atomic checkpoint (kind ``frame_classifier``): weights plus ``extra_state``."""
        return save_checkpoint(
            path,
            CHECKPOINT_KIND,
            {"model": self.state_dict(), **extra_state},
            encoder=self.encoder_name,
            image_size=self.image_size,
            features_dim=self.features_dim,
            tasks=self.tasks,
            epoch=epoch,
        )


def load_frame_classifier(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[FrameClassifier, dict[str, Any]]:
    """Load a ``frame_classifier`` checkpoint; return ``(classifier in eval mode, meta)``."""
    payload = load_checkpoint(path, kind=CHECKPOINT_KIND)
    meta = payload["meta"]
    model = FrameClassifier(
        meta["encoder"], int(meta["image_size"]), meta["tasks"], int(meta["features_dim"])
    )
    load_state(model, payload["state"]["model"], path, meta["encoder"], "visiongym classify frames")
    return model.to(pick_device(device)).eval(), meta


def accuracies(
    predictions: dict[str, np.ndarray], labels: dict[str, np.ndarray]
) -> dict[str, float]:
    """``accuracy_<task>`` per task and ``accuracy``, their mean."""
    scores = {
        f"accuracy_{name}": float(np.mean(predictions[name] == labels[name])) for name in labels
    }
    scores = {"accuracy": float(np.mean(list(scores.values()))), **scores}
    return scores


@dataclass
class FrameClassifierConfig(RunOptions):
    """Train an encoder (from scratch) with linear heads on frame labels of a rendered dataset."""

    data: Path = Path("data/soccer")
    """Dataset folder written by visiongym render-data."""
    tasks: tuple[str, ...] = DEFAULT_TASKS
    """Label tasks, one linear head each: ball_third, ball_cell, players (visiongym.vision.classify.frame_labels)."""
    encoder: Literal["nature_cnn", "small_resnet", "impala_resnet"] = "impala_resnet"
    """Encoder of visiongym.vision.encoders, trained from scratch (impala_resnet: at 64 px, with
    augmentation, the one of the three that learned in a short run; docs/vision/frame_classifier.md)."""
    image_size: int = 64
    """Frames are resized to this square size."""
    features_dim: int = 128
    """Size of the encoder's output: the features the heads (and the GAN metrics) read."""
    epochs: int = 40
    """Passes over the training frames."""
    batch_size: int = 32
    """Frames per step."""
    lr: float = 1e-3
    """AdamW peak learning rate (one-cycle schedule)."""
    augment: bool = True
    """Random flips, affine and colour jitter (labels recomputed from the moved boxes)."""
    photometric: bool = False
    """With augment, also random blur, noise and JPEG compression (off by default: at 64 px they smear
    the 1-pixel ball and 2 x 3-pixel players; impala_resnet's validation accuracy after 13 epochs
    was 0.46 with them, 0.73 without; docs/vision/frame_classifier.md)."""
    train_limit: int | None = None
    """Use only the first frames of the train split."""
    eval_limit: int | None = None
    """Use only the first frames of the val/test splits."""
    seed: int = 0
    """Seed for torch, NumPy and Python."""
    run_dir: Path | None = None
    """Run folder (default runs/<data>__frames-<encoder>__<seed>__<time>); an existing checkpoint there resumes."""


def _loader(
    root: Path, split: str, config: FrameClassifierConfig, train: bool, limit: int | None
) -> DataLoader:
    """Batches of (uint8 images, {task: labels}) with the labels computed after augmentation."""
    from visiongym.vision.data.dataset import SoccerDetection, detection_transforms

    transforms = detection_transforms(
        train and config.augment, config.image_size, config.photometric
    )
    dataset = SoccerDetection(root, split, transforms, masks=False, limit=limit)
    if len(dataset) == 0:
        raise UsageError(f"split {split!r} of {str(root)!r} has no frames")
    size = (config.image_size, config.image_size)

    def collate(batch):
        images, targets = zip(*batch, strict=True)
        targets = [{"boxes": t["boxes"].numpy(), "labels": t["labels"].numpy()} for t in targets]
        labels = frame_labels(targets, [size] * len(targets), config.tasks)
        return torch.stack([torch.as_tensor(i) for i in images]), {
            k: torch.from_numpy(v) for k, v in labels.items()
        }

    return DataLoader(
        dataset,
        batch_size=config.batch_size if train else 256,
        shuffle=train,
        collate_fn=collate,
        generator=torch.Generator().manual_seed(config.seed),
        drop_last=train and len(dataset) > config.batch_size,
    )


def _gather(loader: DataLoader) -> tuple[torch.Tensor, dict[str, np.ndarray]]:
    parts = list(loader)
    images = torch.cat([images for images, _ in parts])
    labels = {
        name: torch.cat([labels[name] for _, labels in parts]).numpy() for name in parts[0][1]
    }
    return images, labels


def _majority(
    train_labels: dict[str, np.ndarray], labels: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Predict every frame as the commonest training class of each task."""
    return {
        name: np.full(len(labels[name]), np.bincount(train_labels[name]).argmax())
        for name in labels
    }


def save_predictions(
    path: Path,
    model: FrameClassifier,
    images: torch.Tensor,
    labels: dict[str, np.ndarray],
    count: int = 16,
) -> Path:
    """A picture of ``count`` frames (2x), each captioned per task with ``predicted (true)``,
    green when right and red when wrong."""
    from PIL import Image, ImageDraw

    images = images[:count]
    predictions = model.predict(images)
    scale, line = 2, 11
    side = model.image_size * scale
    caption = line * len(model.tasks) + 2
    columns = min(8, len(images))
    rows = -(-len(images) // columns)
    sheet = Image.new("RGB", (columns * (side + 4), rows * (side + caption + 4)), "white")
    draw = ImageDraw.Draw(sheet)
    for index, image in enumerate(images):
        x = (index % columns) * (side + 4)
        y = (index // columns) * (side + caption + 4)
        frame = Image.fromarray(image.permute(1, 2, 0).numpy()).resize((side, side), Image.NEAREST)
        sheet.paste(frame, (x, y))
        for row, (name, names) in enumerate(model.tasks.items()):
            guess, truth = int(predictions[name][index]), int(labels[name][index])
            colour = (0, 130, 0) if guess == truth else (200, 0, 0)
            draw.text(
                (x + 1, y + side + row * line), f"{names[guess]} ({names[truth]})", fill=colour
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return path


def train_frame_classifier(config: FrameClassifierConfig) -> dict[str, float]:
    """Train (or resume), score the test split, print the table; return the test scores."""
    tasks = task_class_names(config.tasks)
    set_threads(config.threads)
    seed_everything(config.seed)
    device = pick_device(config.device)
    train_loader = _loader(config.data, "train", config, True, config.train_limit)
    val_images, val_labels = _gather(_loader(config.data, "val", config, False, config.eval_limit))
    run_dir, writer = prepare_run(config, config.data, f"frames-{config.encoder}", config.run_dir)
    checkpoint_path = run_dir / "frame_classifier.pt"

    model = FrameClassifier(config.encoder, config.image_size, tasks, config.features_dim).to(
        device
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=1e-4)
    steps_per_epoch = len(train_loader)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=config.lr,
        total_steps=max(1, config.epochs * steps_per_epoch),
        pct_start=0.15,
    )
    start_epoch = resume_epoch(
        checkpoint_path, model, optimizer, scheduler, CHECKPOINT_KIND,
        encoder=config.encoder, image_size=config.image_size, features_dim=config.features_dim, tasks=tasks,
    )

    from tqdm import tqdm

    step = start_epoch * steps_per_epoch
    started = time.perf_counter()
    bar = tqdm(
        range(start_epoch, config.epochs),
        desc=f"frames-{config.encoder}",
        disable=not config.progress,
    )
    for epoch in bar:
        model.train()
        for images, labels in train_loader:
            logits = model(images.to(device))
            terms = {name: F.cross_entropy(logits[name], labels[name].to(device)) for name in tasks}
            loss = sum(terms.values())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            log_losses(writer, step, {"total": loss, **terms})
        writer.add_scalar(
            "charts/frames_per_s",
            (step - start_epoch * steps_per_epoch)
            * config.batch_size
            / (time.perf_counter() - started),
            step,
        )
        val = accuracies(model.predict(val_images), val_labels)
        for name, value in val.items():
            writer.add_scalar(f"val/{name}", value, step)
        bar.set_postfix(loss=f"{loss.item():.3f}", val_accuracy=f"{val['accuracy']:.3f}")
        model.save(
            checkpoint_path,
            epoch=epoch + 1,
            optimizer=optimizer.state_dict(),
            scheduler=scheduler.state_dict(),
        )

    test_images, test_labels = _gather(
        _loader(config.data, "test", config, False, config.eval_limit)
    )
    _, train_labels = _gather(_loader(config.data, "train", config, False, config.train_limit))
    scores = accuracies(model.predict(test_images), test_labels)
    majority = accuracies(_majority(train_labels, test_labels), test_labels)
    for name, value in scores.items():
        writer.add_scalar(f"test/{name}", value, step)
    picture = save_predictions(run_dir / "predictions.png", model, test_images, test_labels)
    from PIL import Image

    with Image.open(picture) as sheet:
        writer.add_image(
            "test/predictions", np.asarray(sheet.convert("RGB")), step, dataformats="HWC"
        )
    writer.close()
    from visiongym.vision.metrics import print_table

    print_table(
        f"frame classifier {config.encoder} ({config.image_size}x{config.image_size}) on {len(test_images)} test frames",
        {config.encoder: scores, "commonest training class": majority},
    )
    print(f"checkpoint {checkpoint_path}; predictions (predicted (true)) {picture}")
    return {**scores, **{f"majority_{k}": v for k, v in majority.items()}}


def main(argv: list[str] | None = None) -> None:
    import tyro

    train_frame_classifier(tyro.cli(FrameClassifierConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
