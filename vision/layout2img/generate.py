"""Generate a labelled dataset from new simulator layouts: ``visiongym layout generate``.

Example (2,000 frames from layouts the generator never saw)::

    visiongym layout generate --checkpoint runs/layout/layout2img.pt --frames 2000 --seed 1 --out data/generated
    visiongym detect train --data data/soccer --train-limit 200 --extra-data data/generated

The simulator draws each layout as ``visiongym render-data`` draws a frame (team sizes,
formation or scatter, scripted play, camera jitter), with the generator's training dataset's
camera, size, team colours and looks, from the stream ``SeedSequence([seed, split, i])``; a
``--seed`` other than that dataset's gives states it never held. Only the layout is kept: the
class and instance masks (and from them the boxes) of the simulator's ground truth. The scene
renders its RGB frame on the way (it has no mask-only render); that frame is discarded, and
the frame written is the generator's, drawn with a random look code (``--looks random``) or the
mean look (``--looks mean``).

The output is a dataset folder in the render-data format (:mod:`visiongym.vision.data.format`)
whose boxes and masks are the layout's own, exact by construction; ``source`` is ``layout2img``
and each image record keeps its layout ``seed`` and ``look_code``. All frames go to ``train``
unless ``--val-fraction`` / ``--test-fraction`` ask for other splits (for ``detect train --data``
itself; ``--extra-data`` reads only ``train``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError
from visiongym.vision.data.format import (
    CLASS_NAMES,
    FORMAT_VERSION,
    SPLITS,
    annotations_from_ground_truth,
    write_image,
    write_split_annotations,
)
from visiongym.vision.data.render_soccer import frame_rng, split_sizes
from visiongym.vision.data.sources import make_source
from visiongym.vision.layout2img.layout import layout_tensor
from visiongym.vision.layout2img.train import load_layout_gan
from visiongym.vision.runs import RunOptions, set_threads
from visiongym.vision.runtime import seed_everything

__all__ = ["LayoutGenerateConfig", "LayoutSampler", "generate_dataset"]

SOURCE = "layout2img"


@dataclass(kw_only=True)  # --checkpoint is required, after RunOptions' defaulted fields
class LayoutGenerateConfig(RunOptions):
    """Draw new layouts from the simulator and generate a labelled frame for each."""

    checkpoint: Path
    """Generator checkpoint written by visiongym layout train."""
    out: Path = Path("data/layout_generated")
    """Output dataset folder (render-data format)."""
    frames: int = 2000
    """Frames to generate, over all splits."""
    seed: int = 1
    """Layout seed: frame i of split s is the state of SeedSequence([seed, s, i]); it must differ
    from the generator's training data seed, whose layouts it has seen."""
    looks: Literal["random", "mean"] = "random"
    """random: a look code from N(0, I) per frame; mean: the zero code for every frame."""
    val_fraction: float = 0.0
    """Share of frames in a val split (0: none)."""
    test_fraction: float = 0.0
    """Share of frames in a test split (0: none)."""
    batch_size: int = 32
    """Layouts per generator call."""


class LayoutSampler:
    """New layouts from the simulator, with the settings of a generator's training dataset.

    Args:
        data: the ``data`` meta of a layout2img checkpoint (``source``, ``camera``, ``size``,
            ``team_colours``, ``appearance``).
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self._source = make_source(
            data.get("source") or "soccer",
            data.get("camera") or "broadcast",
            int(data["size"]),
            data.get("team_colours") or "kits",
            data.get("appearance") or "random",
        )

    def __call__(self, seed: int, split: str, index: int) -> dict[str, Any]:
        """The layout of frame ``index`` of ``split``: the ground truth without ``rgb`` and ``depth``."""
        ground_truth = dict(self._source.frame(frame_rng(seed, split, index)))
        del ground_truth["rgb"], ground_truth["depth"]
        return ground_truth

    def close(self) -> None:
        self._source.close()


def _write_batch(
    model, layouts: list[dict[str, Any]], records: list[dict[str, Any]], looks: torch.Tensor, folder: Path
) -> None:
    """Generate one batch of frames and write them with their records."""
    class_masks = torch.from_numpy(np.stack([np.asarray(g["class_mask"], np.uint8) for g in layouts]))
    instance_masks = torch.from_numpy(np.stack([np.asarray(g["instance_mask"], np.int32) for g in layouts]))
    frames = model.generate(layout_tensor(class_masks, instance_masks), looks)
    for frame, record in zip(frames, records, strict=True):
        write_image(folder / record["image"]["file_name"], frame.permute(1, 2, 0).numpy())


def generate_dataset(config: LayoutGenerateConfig) -> dict[str, Any]:
    """Write the dataset folder; return its ``dataset.json`` contents."""
    if config.frames < 1:
        raise UsageError(f"frames={config.frames} must be at least 1")
    if config.batch_size < 1:
        raise UsageError(f"batch_size={config.batch_size} must be at least 1")
    set_threads(config.threads)
    seed_everything(config.seed)
    model, meta = load_layout_gan(config.checkpoint, config.device)
    data = meta["data"]
    if config.seed == data.get("seed"):
        raise UsageError(
            f"seed {config.seed} is the seed of the generator's training data, whose layouts it has "
            f"seen; choose another --seed for new layouts"
        )
    sizes = {
        split: count
        for split, count in split_sizes(config.frames, config.val_fraction, config.test_fraction).items()
        if count > 0
    }
    looks = torch.Generator().manual_seed(config.seed)
    sampler = LayoutSampler(data)
    started = time.perf_counter()
    from tqdm import tqdm

    try:
        with tqdm(total=config.frames, desc="generate", unit="frame", disable=not config.progress) as bar:
            for split, count in sizes.items():
                records = []
                for start in range(0, count, config.batch_size):
                    indices = range(start, min(start + config.batch_size, count))
                    layouts = [sampler(config.seed, split, index) for index in indices]
                    if config.looks == "random":
                        codes = model.random_looks(len(layouts), looks)
                    else:
                        codes = torch.zeros(len(layouts), model.look_dim)
                    batch = []
                    for index, layout, code in zip(indices, layouts, codes, strict=True):
                        layout_meta = dict(layout.get("meta", {}))
                        # The simulator's look of the layout: its camera pose shaped the masks,
                        # its colours belong to the discarded render, not to this frame.
                        layout_look = layout_meta.pop("look", None)
                        image = {
                            "id": index,
                            "file_name": f"images/{index:06d}.png",
                            "width": int(model.image_size),
                            "height": int(model.image_size),
                            "seed": [config.seed, SPLITS.index(split), index],
                            **layout_meta,
                            "source": SOURCE,
                            "layout_source": layout_meta.get("source"),
                            "layout_look": layout_look,
                            "look_code": [round(float(v), 5) for v in code],
                        }
                        batch.append({"image": image, "annotations": annotations_from_ground_truth(layout, index, 0)})
                    _write_batch(model, layouts, batch, codes, config.out / split)
                    records += batch
                    bar.update(len(batch))
                write_split_annotations(
                    config.out, split, records, f"visiongym layout2img frames from new layouts, {split} split"
                )
    finally:
        sampler.close()
    info = {
        "format_version": FORMAT_VERSION,
        "source": SOURCE,
        "layout_source": data.get("source"),
        "camera": data.get("camera"),
        "size": int(model.image_size),
        "depth": "none",
        "depth_units": None,
        "masks": "exact",
        "team_colours": data.get("team_colours"),
        "appearance": data.get("appearance"),
        "class_names": list(CLASS_NAMES),
        "seed": config.seed,
        "splits": {
            split: {"frames": count, "seed_prefix": [config.seed, SPLITS.index(split)]}
            for split, count in sizes.items()
        },
        "generator": str(config.checkpoint),
        "generator_model": meta["model"],
        "looks": config.looks,
        "render_seconds": round(time.perf_counter() - started, 2),
    }
    config.out.mkdir(parents=True, exist_ok=True)
    (config.out / "dataset.json").write_text(json.dumps(info, indent=2))
    return info


def main(argv: list[str] | None = None) -> None:
    import tyro

    config = tyro.cli(LayoutGenerateConfig, args=argv)
    info = generate_dataset(config)
    splits = ", ".join(f"{name} {entry['frames']}" for name, entry in info["splits"].items())
    print(
        f"wrote {config.frames} generated frames ({splits}) from new layouts to {config.out} "
        f"in {info['render_seconds']} s"
    )


if __name__ == "__main__":
    run_command(main)
