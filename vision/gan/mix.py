"""Mix GAN-generated frames into detector training: ``python -m visiongym.vision.gan.mix``.

A GAN draws frames but no labels. This module labels them with a detector trained on the real
frames (pseudo-labels: detections above ``--score-threshold``) and writes them as a ``train``
split in the dataset format of :mod:`visiongym.vision.data.format` (boxes; box-shaped masks), so
``python -m visiongym.vision.detect.train --extra-data <out>`` mixes them in. Example::

    python -m visiongym.vision.gan.mix --generator runs/gan/dcgan.pt --detector runs/det500/detector.pt \\
        --count 500 --out data/gan_frames
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from visiongym.envs.cli import run_command
from visiongym.vision.data.format import (
    CLASS_NAMES,
    FORMAT_VERSION,
    coco_annotation,
    coco_categories,
    write_image,
)
from visiongym.vision.detect.engine import load_detector
from visiongym.vision.gan.generate import load_generator

__all__ = ["MixConfig", "write_generated_dataset"]


@dataclass
class MixConfig:
    """Generate frames with a GAN, pseudo-label them with a detector, write a dataset folder."""

    generator: Path
    """GAN checkpoint (visiongym gan train: dcgan or sngan; its EMA generator draws the frames)."""
    detector: Path
    """Detector checkpoint (visiongym.vision.detect.train) used to label the generated frames."""
    out: Path = Path("data/gan_frames")
    """Output dataset folder (train split only)."""
    count: int = 500
    """Frames to generate."""
    score_threshold: float = 0.5
    """Keep detections at least this confident as labels."""
    seed: int = 0
    """Noise seed."""
    device: str = "auto"
    """cpu, cuda, mps or auto."""


@torch.no_grad()
def write_generated_dataset(config: MixConfig) -> dict[str, float]:
    """Write the folder; return counts (frames, labels per frame)."""
    generator, gan_meta = load_generator(config.generator, config.device)
    detector, _ = load_detector(config.detector, config.device)
    size = detector.image_size
    noise_seed = torch.Generator().manual_seed(config.seed)
    images, annotations = [], []
    split = config.out / "train"
    for start in range(0, config.count, 64):
        frames = generator.sample(min(64, config.count - start), noise_seed)
        if frames.shape[-1] != size:  # the GAN works at a lower resolution than the detector
            frames = (
                F.interpolate(
                    frames.float(), size=(size, size), mode="bilinear", align_corners=False
                )
                .round()
                .clamp(0, 255)
                .to(torch.uint8)
            )
        detections = detector.predict(
            frames.to(next(detector.parameters()).device), score_threshold=config.score_threshold
        )
        for offset, (frame, found) in enumerate(zip(frames, detections, strict=True)):
            image_id = start + offset
            file_name = f"images/{image_id:06d}.png"
            write_image(split / file_name, frame.permute(1, 2, 0).numpy())
            images.append(
                {
                    "id": image_id,
                    "file_name": file_name,
                    "width": size,
                    "height": size,
                    "source": gan_meta["model"],
                    "pseudo_labels": True,
                }
            )
            for box, label in zip(
                found["boxes"].cpu().tolist(), found["labels"].cpu().tolist(), strict=True
            ):
                x0, y0, x1, y1 = (float(np.clip(v, 0, size)) for v in box)
                if x1 - x0 < 1 or y1 - y0 < 1:
                    continue
                binary = np.zeros((size, size), bool)
                binary[int(y0) : int(np.ceil(y1)), int(x0) : int(np.ceil(x1))] = True
                annotation = coco_annotation(
                    len(annotations) + 1, image_id, int(label), (x0, y0, x1, y1), binary
                )
                annotations.append({**annotation, "pseudo_label": True})
    split.mkdir(parents=True, exist_ok=True)
    coco = {
        "info": {
            "description": f"{gan_meta['model']} frames with detector pseudo-labels",
            "version": FORMAT_VERSION,
        },
        "images": images,
        "annotations": annotations,
        "categories": coco_categories(),
    }
    (split / "annotations.json").write_text(json.dumps(coco))
    info = {
        "format_version": FORMAT_VERSION,
        "source": gan_meta["model"],
        "size": size,
        "depth": "none",
        "depth_units": None,
        "class_names": list(CLASS_NAMES),
        "seed": config.seed,
        "splits": {"train": {"frames": config.count}},
        "generator": str(config.generator),
        "labeller": str(config.detector),
        "gan_image_size": gan_meta["image_size"],
    }
    (config.out / "dataset.json").write_text(json.dumps(info, indent=2))
    return {
        "frames": float(config.count),
        "labels_per_frame": len(annotations) / max(config.count, 1),
    }


def main(argv: list[str] | None = None) -> None:
    import tyro

    config = tyro.cli(MixConfig, args=argv)
    counts = write_generated_dataset(config)
    print(
        f"wrote {int(counts['frames'])} generated frames ({counts['labels_per_frame']:.2f} pseudo-labels a frame) to {config.out}"
    )


if __name__ == "__main__":
    run_command(main)
