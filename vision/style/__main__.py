"""``python -m visiongym.vision.style``: paint one photo in the style of another (Gatys et al.)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import tyro

from visiongym.envs.cli import run_command
from visiongym.vision.runs import RunOptions
from visiongym.vision.style.gatys import FeatureExtractor, stylize

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


@dataclass
class StyleConfig(RunOptions):
    """Neural style transfer: content loss at conv4_2, Gram-matrix style loss at conv1_1..conv5_1."""

    content: str = "chelsea"
    """Content photo: a shipped name (chelsea, astronaut, coffee, china...) or a path."""
    style: str = "flower"
    """Style photo: a shipped name (flower, hubble, brick, gravel...) or a path."""
    size: int = 128
    """Shorter side of the content image in pixels (the style image is resized likewise)."""
    weights: str = "suite"
    """'suite' (small VGG19-layout net trained by this suite, offline), 'imagenet' (torchvision's VGG19, must be cached) or a VGG19 state_dict path."""
    optimizer: Literal["lbfgs", "adam"] = "lbfgs"
    """Optimiser of the image pixels."""
    steps: int = 150
    """Loss evaluations (L-BFGS) or Adam updates."""
    style_weight: float = 1e5
    """Weight of the style loss (the content loss has weight 1)."""
    init: Literal["content", "noise"] = "content"
    """Start from the content photo or from noise."""
    lr: float = 0.02
    """Adam step size."""
    suite_vgg: Path = Path("runs/style/suite_vgg.pt")
    """Where the suite VGG is kept; trained (about a minute or two on a CPU) when missing."""
    suite_vgg_steps: int = 400
    """Training steps of the suite VGG when it must be trained."""
    seed: int = 0
    """Seed (noise initialisation, suite VGG training)."""
    out: Path = Path("runs/style")
    """Output folder."""


def build_extractor(config: StyleConfig, device: torch.device) -> tuple[FeatureExtractor, str]:
    """The feature network asked for, and an honest one-line description of it."""
    from visiongym.vision.classify.arch import build_architecture
    from visiongym.vision.style.suite_vgg import SUITE_VGG_LABEL, load_or_train_suite_vgg

    if config.weights == "suite":
        model, info = load_or_train_suite_vgg(
            config.suite_vgg, device, config.suite_vgg_steps, config.progress
        )
        label = SUITE_VGG_LABEL.format(widths=tuple(info["widths"]), classes=info["classes"])
        label += f" (patch accuracy {info['patch_accuracy']:.2f})"
        return FeatureExtractor(model.features, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)).to(device), label
    model = build_architecture("vgg19", config.weights)
    source = (
        "torchvision VGG19, ImageNet weights"
        if config.weights == "imagenet"
        else f"VGG19 from {config.weights}"
    )
    return FeatureExtractor(model.features, IMAGENET_MEAN, IMAGENET_STD).to(device), source


def _to_tensor(image: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1)[None].float().div(255).to(device)


def run_style(config: StyleConfig) -> dict:
    """Stylise, save the grid, the loss curves and the results; return them."""
    from visiongym.vision.classify.training import torch_threads
    from visiongym.vision.filters.images import load_image
    from visiongym.vision.runtime import pick_device, seed_everything

    seed_everything(config.seed)
    device = pick_device(config.device)
    content_image = load_image(config.content, "rgb", size=config.size)
    style_image = load_image(config.style, "rgb", size=config.size)
    config.out.mkdir(parents=True, exist_ok=True)
    with torch_threads(config.threads):
        extractor, label = build_extractor(config, device)
        result = stylize(
            extractor,
            _to_tensor(content_image, device),
            _to_tensor(style_image, device),
            steps=config.steps,
            optimizer=config.optimizer,
            style_weight=config.style_weight,
            init=config.init,
            lr=config.lr,
            seed=config.seed,
            progress=config.progress,
        )
    output = (result.image[0].permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)
    stem = f"{Path(config.content).stem}_in_{Path(config.style).stem}_{config.weights if config.weights in ('suite', 'imagenet') else 'file'}"
    import imageio.v3 as iio

    iio.imwrite(config.out / f"{stem}.png", output)
    _save_figure(content_image, style_image, output, result, label, config.out / f"{stem}_grid.png")
    results = {
        "features": label,
        "device": str(device),
        "seconds_per_image": result.seconds,
        "steps": config.steps,
        "optimizer": config.optimizer,
        "size": list(content_image.shape[:2]),
        "content_loss": [result.content_losses[0], result.content_losses[-1]],
        "style_loss": [result.style_losses[0], result.style_losses[-1]],
        "image": str(config.out / f"{stem}.png"),
        "grid": str(config.out / f"{stem}_grid.png"),
    }
    (config.out / f"{stem}.json").write_text(
        json.dumps(
            {
                **results,
                "content_losses": result.content_losses,
                "style_losses": result.style_losses,
            },
            indent=1,
        )
    )
    return results


def _save_figure(content, style, output, result, label: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 4, figsize=(16, 4.2))
    for axis, image, title in zip(
        axes[:3], (content, style, output), ("content", "style", "result"), strict=True
    ):
        axis.imshow(image)
        axis.set_title(title)
        axis.axis("off")
    axes[3].plot(result.content_losses, label="content loss")
    axes[3].plot(result.style_losses, label="style loss")
    axes[3].set(yscale="log", xlabel="loss evaluation", title=f"{result.seconds:.1f} s per image")
    axes[3].legend()
    figure.suptitle("features: " + label, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    """CLI entry."""
    from visiongym.vision.classify.arch import WeightsUnavailableError

    config = tyro.cli(StyleConfig, args=argv)
    try:
        results = run_style(config)
    except (FileNotFoundError, ValueError, WeightsUnavailableError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"features: {results['features']}")
    print(
        f"content loss {results['content_loss'][0]:.4g} -> {results['content_loss'][1]:.4g}; "
        f"style loss {results['style_loss'][0]:.4g} -> {results['style_loss'][1]:.4g}"
    )
    print(
        f"{results['seconds_per_image']:.1f} s per {results['size'][0]}x{results['size'][1]} image "
        f"({results['steps']} {results['optimizer']} steps on {results['device']})"
    )
    print(f"image: {results['image']}\ngrid: {results['grid']}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
