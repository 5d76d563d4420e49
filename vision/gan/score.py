"""Score generated frames against real ones: ``visiongym gan score`` (``python -m visiongym.vision.gan.score``).

Example::

    visiongym gan score --samples runs/gan/dcgan.pt --data data/soccer --features runs/fc/frame_classifier.pt \\
        --detector runs/det/detector.pt --count 300

``--samples`` is a GAN checkpoint (``visiongym gan train``, DCGAN or SNGAN, its EMA generator; ``--count`` frames are drawn from
it with ``--seed``), a folder of PNG or ``.npz`` files, or one ``.npz`` file (uint8 frames,
(N, H, W, 3) or (N, 3, H, W), under the key ``images`` or as its only array). The real frames
are the first ``--count`` of ``--split`` (the reference) and the ``--count`` after them (the
floor set), resized to the generated frames' size first, so both sets reach the feature network
through the same resizing. Prints the FID, KID, precision/recall table (generated against real,
and real against real: the floor) and, with ``--detector``, objects per frame per class; writes
``scores.json``, ``samples.png`` (generated rows over a real row) and ``config.yaml`` to
``--out``. The metrics and their caveats (these FIDs are not comparable with published ones) are
described in :mod:`visiongym.vision.gan.metrics`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError
from visiongym.vision.gan.metrics import (
    as_uint8_batch,
    load_feature_network,
    object_classes,
    score_samples,
)
from visiongym.vision.runs import RunOptions, config_dict, run_name, set_threads, write_run_config
from visiongym.vision.runtime import pick_device

__all__ = ["GanScoreConfig", "load_samples", "score_gan"]

SAMPLE_SUFFIXES = (".png", ".npz")


@dataclass(kw_only=True)  # --samples and --features are required, after RunOptions' defaults
class GanScoreConfig(RunOptions):
    """FID, KID, precision/recall and detector object counts of generated frames, with the real-vs-real floor."""

    samples: Path
    """A GAN checkpoint (visiongym gan train), a folder of .png/.npz frames, or one .npz file."""
    features: Path
    """Feature network: a frame classifier checkpoint (visiongym classify frames)."""
    data: Path = Path("data/soccer")
    """Dataset folder of the real frames (visiongym render-data)."""
    split: str = "train"
    """Split of the real frames: the first --count are the reference, the next --count the floor set."""
    detector: Path | None = None
    """Detector checkpoint (visiongym detect train) for the objects-per-frame counts."""
    count: int = 300
    """Frames in each set (generated, real reference, real floor); fewer if the inputs have fewer."""
    score_threshold: float = 0.5
    """Detections at least this confident are counted."""
    k: int = 3
    """Nearest neighbours of the precision/recall manifolds."""
    kid_subsets: int = 50
    """KID: random subsets averaged."""
    kid_subset_size: int | None = None
    """KID: frames per subset (default min(100, count))."""
    seed: int = 0
    """Seed of the generator's noise and of KID's subsets."""
    out: Path | None = None
    """Output folder (default runs/gan_score/<samples>__<seed>__<time>)."""


def _read_npz(path: Path) -> np.ndarray:
    with np.load(path) as archive:
        keys = list(archive.keys())
        if "images" not in keys and len(keys) != 1:
            raise UsageError(
                f"{str(path)!r} holds arrays {keys}; store the frames under the key 'images'"
            )
        array = archive["images" if "images" in keys else keys[0]]
    if array.ndim == 3:
        array = array[None]
    if array.ndim == 4 and array.shape[1] == 3 and array.shape[-1] != 3:
        array = array.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(array)


def load_samples(path: str | Path, count: int, seed: int = 0, device: str = "cpu") -> torch.Tensor:
    """Up to ``count`` generated frames as uint8 (N, 3, H, W), from a DCGAN checkpoint, a folder of
    PNG/NPZ files (sorted by name) or one NPZ file."""
    from visiongym.vision.data.format import read_image

    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SAMPLE_SUFFIXES)
        if not files:
            raise UsageError(f"folder {str(path)!r} holds no {' or '.join(SAMPLE_SUFFIXES)} files")
        frames: list[np.ndarray] = []
        for file in files:
            frames.extend(_read_npz(file) if file.suffix.lower() == ".npz" else [read_image(file)])
            if len(frames) >= count:
                break
        return as_uint8_batch(np.stack(frames[:count]))
    if path.suffix.lower() == ".npz" and path.is_file():
        return as_uint8_batch(_read_npz(path)[:count])
    if not path.is_file():
        raise UsageError(
            f"samples {str(path)!r} do not exist; give a GAN checkpoint, a folder of .png/.npz frames or an .npz file"
        )
    from visiongym.vision.gan import load_generator, sample

    generator, _ = load_generator(path, device)
    return as_uint8_batch(sample(generator, count, seed))


def _print(scores: dict[str, float], title: str) -> None:
    from visiongym.vision.metrics import print_table

    names = ("fid", "kid_mean", "kid_std", "precision", "recall")
    print_table(
        title,
        {
            "generated vs real": {name: scores[name] for name in names},
            "real vs real (floor)": {name: scores[f"floor_{name}"] for name in names},
        },
    )
    classes = object_classes(scores)
    if classes:
        print_table(
            "detected objects per frame",
            {
                name: {
                    "generated": scores[f"objects_{name}_generated"],
                    "real": scores[f"objects_{name}_real"],
                    "ratio": scores[f"objects_{name}_ratio"],
                }
                for name in classes
            },
        )


def score_gan(config: GanScoreConfig) -> dict[str, Any]:
    """Load everything, score, print, write ``scores.json`` and ``samples.png``; return the scores."""
    from tqdm import tqdm

    from visiongym.vision.autoencoders.evaluate import save_grid
    from visiongym.vision.data.dataset import load_frames

    set_threads(config.threads)
    if config.count < 2 * (config.k + 1):
        raise UsageError(f"count={config.count} is too small; use at least {2 * (config.k + 1)}")
    device = pick_device(config.device)
    with tqdm(total=4, desc="gan score", disable=not config.progress) as bar:
        feature_net = load_feature_network(config.features, device)
        fake = load_samples(config.samples, config.count, config.seed, device)
        bar.update()
        size = int(fake.shape[-1])
        real = load_frames(config.data, config.split, size=size, limit=2 * config.count)
        count = min(config.count, len(fake), len(real) // 2)
        if count < config.k + 1:
            raise UsageError(
                f"split {config.split!r} of {str(config.data)!r} has {len(real)} frames and the samples "
                f"{len(fake)}: too few for a reference and a floor set of {config.k + 1} frames or more"
            )
        fake, reference, floor = fake[:count], real[:count], real[count : 2 * count]
        bar.update()
        detector = None
        if config.detector is not None:
            from visiongym.vision.detect.engine import load_detector

            detector, _ = load_detector(config.detector, device)
        bar.update()
        scores = score_samples(
            fake,
            reference,
            feature_net,
            detector,
            real_floor_images=floor,
            k=config.k,
            kid_subsets=config.kid_subsets,
            kid_subset_size=config.kid_subset_size,
            score_threshold=config.score_threshold,
            seed=config.seed,
        )
        bar.update()
    out = config.out or Path("runs/gan_score") / run_name(
        config.samples.stem or config.samples.name, config.seed
    )
    write_run_config(out, config_dict(config))
    (out / "scores.json").write_text(json.dumps({"features": feature_net.name, **scores}, indent=2))
    save_grid(
        out / "samples.png",
        [fake[:8].float() / 255, fake[8:16].float() / 255, reference[:8].float() / 255],
    )
    _print(
        scores,
        f"{count} generated vs {count} real frames ({config.split}, {size}x{size}) in the features of "
        f"the {feature_net.name} (not comparable with published FIDs)",
    )
    print(f"wrote {out / 'scores.json'}, {out / 'samples.png'} (2 generated rows, 1 real row)")
    return scores


def main(argv: list[str] | None = None) -> None:
    import tyro

    score_gan(tyro.cli(GanScoreConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
