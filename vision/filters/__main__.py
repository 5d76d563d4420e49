"""``python -m visiongym.vision.filters``: filter a photo with ``conv2d``, check OpenCV, show CNN feature maps."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import tyro

from visiongym.envs.cli import run_command
from visiongym.vision.filters.images import load_image
from visiongym.vision.filters.kernels import FILTER_NAMES, apply_filter, max_difference

FilterName = Literal["box", "gaussian", "sharpen", "sobel_x", "sobel_y", "edges", "curve"]


@dataclass
class FiltersConfig:
    """Apply classic filters as convolutions, compare with OpenCV, and show a CNN's first layer."""

    image: str = "astronaut"
    """A shipped photo (astronaut, camera, coffee, chelsea, coins, rocket, china, flower...) or a path."""
    mode: Literal["rgb", "gray"] = "rgb"
    """Colour mode the filters run in (each channel is filtered separately)."""
    size: int = 256
    """Resize so the shorter side has this many pixels."""
    filters: tuple[FilterName, ...] = field(default_factory=lambda: FILTER_NAMES)
    """Filters to apply."""
    kernel_size: int = 5
    """Side of the box and Gaussian kernels (odd)."""
    sigma: float = 1.5
    """Gaussian standard deviation in pixels."""
    cnn: Path = Path("runs/classify/digits/lenet.pt")
    """Trained digits LeNet whose first layer is shown; trained briefly here when missing."""
    cnn_epochs: int = 8
    """Epochs of that brief training when the checkpoint is missing."""
    device: str = "auto"
    """Device for the brief CNN training."""
    out: Path = Path("runs/filters")
    """Output folder for the figures."""


def _display(image: np.ndarray, name: str) -> np.ndarray:
    """Map a filter output to [0, 1] for display (signed outputs: magnitude, rescaled)."""
    if name in ("sobel_x", "sobel_y", "curve", "edges"):
        image = np.abs(image)
        if image.ndim == 3:
            image = image.max(axis=2)
        top = np.percentile(image, 99.5) or 1.0
        return np.clip(image / top, 0, 1)
    return np.clip(image, 0, 1)


def save_grid(original: np.ndarray, outputs: dict[str, np.ndarray], path: Path) -> None:
    """Save the before/after grid: the photo, then each filter's output."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("original", original), *outputs.items()]
    columns = 4
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3.2 * rows))
    for axis in np.ravel(axes):
        axis.axis("off")
    for axis, (name, image) in zip(np.ravel(axes), panels, strict=False):
        shown = image if name == "original" else _display(image, name)
        axis.imshow(shown, cmap="gray" if shown.ndim == 2 else None, vmin=0, vmax=1)
        axis.set_title(name)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def first_layer_maps(config: FiltersConfig, grey: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Kernels and ReLU feature maps of the digits LeNet's first convolution on ``grey`` in [0, 1]."""
    from visiongym.vision.classify.digits import (
        CHECKPOINT_KIND,
        lenet,
        load_digit_splits,
        train_lenet,
    )
    from visiongym.vision.runtime import load_checkpoint, pick_device, seed_everything

    if config.cnn.is_file():
        model = lenet()
        model.load_state_dict(load_checkpoint(config.cnn, kind=CHECKPOINT_KIND)["state"])
        source = f"checkpoint {config.cnn}"
    else:
        seed_everything(0)
        model, history = train_lenet(
            load_digit_splits(), epochs=config.cnn_epochs, device=pick_device(config.device)
        )
        model.cpu()
        source = (
            f"LeNet trained here for {config.cnn_epochs} epochs (val acc {history.val_acc[-1]:.3f})"
        )
    conv = model.first_conv
    with torch.no_grad():
        maps = torch.relu(conv(torch.from_numpy(grey)[None, None].float()))[0].numpy()
    return conv.weight.detach()[:, 0].numpy(), maps, source


def save_feature_maps(kernels: np.ndarray, maps: np.ndarray, source: str, path: Path) -> None:
    """Save the first-layer kernels and their feature maps, 16 of each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = min(16, len(kernels))
    figure, axes = plt.subplots(4, 8, figsize=(16, 8.5))
    for index in range(count):
        kernel_axis = axes[2 * (index // 8), index % 8]
        map_axis = axes[2 * (index // 8) + 1, index % 8]
        bound = np.abs(kernels[index]).max() or 1.0
        kernel_axis.imshow(kernels[index], cmap="bwr", vmin=-bound, vmax=bound)
        kernel_axis.set_title(f"kernel {index}", fontsize=8)
        map_axis.imshow(maps[index], cmap="gray")
        map_axis.set_title(f"feature map {index}", fontsize=8)
    for axis in np.ravel(axes):
        axis.axis("off")
    figure.suptitle(f"First convolution of the digits CNN on the photo ({source})")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def run_filters(config: FiltersConfig) -> dict:
    """Filter the photo, measure the gap to OpenCV, save both figures; return the measurements."""
    config.out.mkdir(parents=True, exist_ok=True)
    photo = load_image(config.image, config.mode, size=config.size).astype(np.float32) / 255.0
    outputs, gaps = {}, {}
    for name in config.filters:
        outputs[name] = apply_filter(photo, name, config.kernel_size, config.sigma)
        gaps[name] = max_difference(photo, name, config.kernel_size, config.sigma)
    stem = Path(config.image).stem
    grid = config.out / f"{stem}_{config.mode}_filters.png"
    save_grid(photo, outputs, grid)
    grey = load_image(config.image, "gray", size=config.size).astype(np.float32) / 255.0
    kernels, maps, source = first_layer_maps(config, grey)
    maps_path = config.out / f"{stem}_first_layer.png"
    save_feature_maps(kernels, maps, source, maps_path)
    return {
        "gaps": gaps,
        "grid": str(grid),
        "feature_maps": str(maps_path),
        "cnn": source,
        "shape": photo.shape,
    }


def main(argv: list[str] | None = None) -> int:
    """CLI entry."""
    config = tyro.cli(FiltersConfig, args=argv)
    try:
        result = run_filters(config)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"image {config.image!r} ({config.mode}, {result['shape']}), values in [0, 1]")
    print("| filter | max |conv2d - OpenCV| |\n| --- | --- |")
    for name, gap in result["gaps"].items():
        print(f"| {name} | {gap:.2e} |")
    print(
        f"before/after grid: {result['grid']}\nfirst-layer feature maps: {result['feature_maps']} "
        f"({result['cnn']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
