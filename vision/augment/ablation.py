"""What augmentation buys with little data: LeNet on 10 digits per class, with and without it.

The same small CNN as ``visiongym.vision.classify digits`` is trained on a small labelled subset, once
without augmentation, once with every geometric transform and noise together, and once with each
transform alone, over several seeds; accuracy is measured on the full held-out test split.
Horizontal flips are left out of the "all" set: a flipped 2 or 7 is not a digit.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from visiongym.sims.errors import UsageError
from visiongym.vision.augment.transforms import TRANSFORM_NAMES, make_pipeline
from visiongym.vision.runs import RunOptions

__all__ = ["AblationConfig", "per_sample", "small_subset", "run_ablation", "print_ablation"]

TransformName = Literal["flip", "rotation", "scale", "crop", "translation", "noise"]


def per_sample(names: tuple[str, ...], strength: float, p: float):
    """A batch function that draws fresh augmentation parameters for every image."""
    pipeline = make_pipeline(names, strength, p)

    def apply(batch: torch.Tensor) -> torch.Tensor:
        return torch.stack([pipeline(image).as_subclass(torch.Tensor).float() for image in batch])

    return apply


def small_subset(labels: torch.Tensor, per_class: int, seed: int) -> torch.Tensor:
    """Indices of ``per_class`` examples of every class, drawn with ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for label in labels.unique():
        pool = torch.nonzero(labels == label).flatten()
        if len(pool) < per_class:
            raise UsageError(
                f"class {int(label)} has {len(pool)} examples, fewer than per_class={per_class}"
            )
        chosen.append(pool[torch.randperm(len(pool), generator=generator)[:per_class]])
    return torch.cat(chosen)


@dataclass
class AblationConfig(RunOptions):
    """Small-data ablation: digits CNN trained on a few labels with and without augmentation."""

    per_class: int = 10
    """Labelled training images per digit."""
    transforms: tuple[TransformName, ...] = ("rotation", "scale", "translation", "noise")
    """Transforms in the 'all' setting."""
    single: bool = False
    """Also train with each transform alone (one more run per transform and seed)."""
    image_size: int = 16
    """Digits are upsampled (bilinear) from 8x8 to this side, so that rotations and shifts are not all aliasing."""
    strength: float = 0.5
    """Range of each transform (see visiongym.vision.augment.transforms.make_transform)."""
    p: float = 0.8
    """Chance each transform is applied to an image."""
    epochs: int = 100
    """Epochs over the small training set."""
    seeds: tuple[int, ...] = field(default_factory=lambda: (0, 1, 2))
    """One run per seed and setting (subset, initialisation and augmentation draws)."""
    out: Path = Path("runs/augment/ablation")
    """Output folder (bar chart and results)."""


def run_ablation(config: AblationConfig) -> dict:
    """Train every setting for every seed; save a bar chart and the table; return the results."""
    from tqdm.auto import tqdm

    from visiongym.vision.classify.digits import lenet, load_digit_splits
    from visiongym.vision.classify.training import evaluate, fit_classifier, torch_threads
    from visiongym.vision.runtime import pick_device, seed_everything

    unknown = set(config.transforms) - set(TRANSFORM_NAMES)
    if unknown:
        raise UsageError(
            f"transform(s) {sorted(unknown)} unknown; choose from: {', '.join(TRANSFORM_NAMES)}"
        )
    device = pick_device(config.device)
    settings: dict[str, tuple[str, ...]] = {"none": (), "all": tuple(config.transforms)}
    if config.single:
        settings.update({name: (name,) for name in config.transforms})
    data = load_digit_splits(seed=0)
    if config.image_size != 8:
        resize = lambda x: torch.nn.functional.interpolate(  # noqa: E731
            x, size=config.image_size, mode="bilinear", align_corners=False
        )
        data.train_x, data.test_x = resize(data.train_x), resize(data.test_x)
    accuracy: dict[str, list[float]] = {name: [] for name in settings}
    start = time.perf_counter()
    runs = [(name, seed) for seed in config.seeds for name in settings]
    with torch_threads(config.threads):
        for name, seed in tqdm(runs, desc="ablation", disable=not config.progress):
            subset = small_subset(data.train_y, config.per_class, seed)
            seed_everything(seed)
            model = lenet(image_size=config.image_size)
            augment = (
                per_sample(settings[name], config.strength, config.p) if settings[name] else None
            )
            fit_classifier(
                model,
                (data.train_x[subset], data.train_y[subset]),
                epochs=config.epochs,
                batch_size=32,
                weight_decay=1e-4,
                augment=augment,
                device=device,
                progress=False,
                generator=torch.Generator().manual_seed(seed),
            )
            accuracy[name].append(evaluate(model.cpu(), data.test_x, data.test_y)[1])
    results = {
        "per_class": config.per_class,
        "test_images": len(data.test_y),
        "seeds": list(config.seeds),
        "epochs": config.epochs,
        "strength": config.strength,
        "p": config.p,
        "device": str(device),
        "seconds": time.perf_counter() - start,
        "table": {
            name: {
                "transforms": list(settings[name]),
                "mean": float(np.mean(v)),
                "std": float(np.std(v)),
                "runs": v,
            }
            for name, v in accuracy.items()
        },
    }
    config.out.mkdir(parents=True, exist_ok=True)
    _plot(results, config.out / "ablation.png")
    (config.out / "results.json").write_text(json.dumps(results, indent=2))
    results["figure"] = str(config.out / "ablation.png")
    return results


def _plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["table"])
    means = [results["table"][n]["mean"] for n in names]
    stds = [results["table"][n]["std"] for n in names]
    figure, axis = plt.subplots(figsize=(8, 3.8))
    axis.bar(names, means, yerr=stds, color=["grey", "tab:green"] + ["tab:blue"] * (len(names) - 2))
    axis.set(
        ylabel="test accuracy",
        ylim=(max(0.0, min(means) - 0.1), 1.0),
        title=f"digits, {results['per_class']} labels per class, {len(results['seeds'])} seeds",
    )
    axis.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def print_ablation(results: dict) -> None:
    """Print the accuracy table."""
    print(
        f"digits CNN, {results['per_class']} labelled images per class, test on "
        f"{results['test_images']} images, seeds {results['seeds']}"
    )
    print("| augmentation | test accuracy (mean ± std) |\n| --- | --- |")
    for name, row in results["table"].items():
        print(f"| {name} | {row['mean']:.4f} ± {row['std']:.4f} |")
    print(f"{results['seconds']:.0f} s on {results['device']}; figure: {results['figure']}")
