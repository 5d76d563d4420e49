"""StarGAN frames as detector augmentation: ``visiongym translate augment``.

Each training frame of a dataset is translated by StarGAN to a label drawn uniformly per
attribute and written, with the frame's own boxes and masks (a look changes colours, not
geometry), as the ``train`` split of a new dataset folder, which
``visiongym detect train --extra-data <out>`` mixes in. ``--source simulator`` writes instead
the frames the simulator renders for the same states under the same labels: what a perfect
translator would give, the upper bound of the experiment. Example::

    visiongym translate augment --checkpoint runs/stargan/translator.pt --data data/translate --out data/translate_aug
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch.nn import functional as F

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError
from visiongym.vision.data.format import read_split, write_image
from visiongym.vision.runs import RunOptions, set_threads
from visiongym.vision.runtime import pick_device
from visiongym.vision.translate.frames import read_states
from visiongym.vision.translate.looks import (
    ATTRIBUTES,
    check_attributes,
    describe_label,
    draw_attribute_values,
)

__all__ = ["TranslateAugmentConfig", "write_translated_dataset"]


@dataclass(kw_only=True)  # --data is required, after RunOptions' defaulted fields
class TranslateAugmentConfig(RunOptions):
    """Write a dataset of a dataset's training frames in new looks: StarGAN's translations or the simulator's truth."""

    data: Path
    """The detector's training dataset (visiongym render-data)."""
    checkpoint: Path | None = None
    """StarGAN translator.pt (visiongym translate train --model stargan); not needed with --source simulator."""
    source: Literal["stargan", "simulator"] = "stargan"
    """stargan: translate the frames; simulator: render the same states under the same labels (the upper bound)."""
    attributes: tuple[str, ...] = ()
    """Attributes whose values are drawn (default: the checkpoint's; with --source simulator: all)."""
    out: Path = Path("data/translate_augment")
    """Output dataset folder (train split only)."""
    limit: int | None = None
    """Translate only the first training frames."""
    seed: int = 0
    """Seed of the labels drawn."""


def write_translated_dataset(config: TranslateAugmentConfig) -> dict[str, float]:
    """Write the folder; return the frame count."""
    set_threads(config.threads)
    info, records = read_states(config.data, "train", config.limit)
    size = int(info["size"])
    if config.source == "stargan":
        if config.checkpoint is None:
            raise UsageError("--source stargan needs --checkpoint (a StarGAN translator.pt)")
        from visiongym.vision.translate.train import load_translator

        translator, _ = load_translator(config.checkpoint, pick_device(config.device), kind="stargan")
        names = translator.attributes
        if config.attributes and tuple(config.attributes) != names:
            raise UsageError(f"the checkpoint translates attributes {', '.join(names)}, not {', '.join(config.attributes)}")
    else:
        names = check_attributes(config.attributes or tuple(ATTRIBUTES))
    labels = draw_attribute_values(names, len(records), np.random.default_rng(np.random.SeedSequence([config.seed, 41])))
    if config.source == "stargan":
        from visiongym.vision.data.dataset import load_frames

        model_size = translator.meta["image_size"]
        frames = translator.translate(load_frames(config.data, "train", size=model_size, limit=len(records)),
                                      torch.from_numpy(labels))
        if model_size != size:
            frames = F.interpolate(frames.float(), size=(size, size), mode="bilinear", align_corners=False)
            frames = frames.round().clamp(0, 255).to(torch.uint8)
    else:
        from visiongym.vision.translate.stargan import render_labelled

        frames = render_labelled(info, records, names, labels, size, progress=config.progress, desc="render").images
    ids = {record["id"] for record in records}
    coco = read_split(config.data, "train")
    split = config.out / "train"
    images = []
    for record, frame, label in zip(records, frames, labels, strict=True):
        write_image(split / record["file_name"], frame.permute(1, 2, 0).numpy())
        images.append({**record, "translated_by": config.source, "attributes": describe_label(names, label)})
    coco.update(images=images, annotations=[a for a in coco["annotations"] if a["image_id"] in ids])
    coco["info"] = {**coco.get("info", {}), "description": f"{config.data} train frames in new looks ({config.source})"}
    (split / "annotations.json").write_text(json.dumps(coco))
    dataset_info = {**info, "splits": {"train": {"frames": len(images)}}, "depth": "none", "translated_from": str(config.data),
                    "translated_by": config.source, "checkpoint": str(config.checkpoint) if config.checkpoint else None,
                    "attributes": list(names)}
    (config.out / "dataset.json").write_text(json.dumps(dataset_info, indent=2))
    return {"frames": float(len(images))}


def main(argv: list[str] | None = None) -> None:
    import tyro

    config = tyro.cli(TranslateAugmentConfig, args=argv)
    counts = write_translated_dataset(config)
    print(f"wrote {int(counts['frames'])} frames ({config.source}) to {config.out}")


if __name__ == "__main__":
    run_command(main)
