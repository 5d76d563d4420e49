"""Gatys et al. neural style transfer: content loss on deep features, style loss on Gram matrices.

The image itself is optimised (L-BFGS or Adam) so that its features at ``content_layers`` match
the content photo's and the Gram matrices of its features at ``style_layers`` match the style
photo's. Layer names follow VGG19 (``conv1_1`` ... ``conv5_4``), for torchvision's VGG19 and the
suite's small VGG alike.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from visiongym.sims.errors import UsageError

__all__ = [
    "VGG19_LAYER_NAMES",
    "FeatureExtractor",
    "StyleResult",
    "gram_matrix",
    "content_loss",
    "style_loss",
    "stylize",
]

_VGG19_BLOCKS = (2, 2, 4, 4, 4)


def _vgg19_names() -> list[str]:
    names = []
    for block, convs in enumerate(_VGG19_BLOCKS, start=1):
        for conv in range(1, convs + 1):
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
        names.append(f"pool{block}")
    return names


# Names of the 37 modules of torchvision's ``vgg19().features``, in order.
VGG19_LAYER_NAMES = tuple(_vgg19_names())


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix ``G = F Fᵀ / (C·H·W)`` of ``(N, C, H, W)`` features, one ``(C, C)`` per image."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error between feature maps (the course's "fonction de coût de contenu")."""
    return F.mse_loss(features, target)


def style_loss(features: torch.Tensor, target_gram: torch.Tensor) -> torch.Tensor:
    """Mean squared error between the Gram matrix of ``features`` and a target Gram matrix."""
    return F.mse_loss(gram_matrix(features), target_gram)


class FeatureExtractor(nn.Module):
    """Run a VGG ``features`` stack and return the activations of named layers.

    Args:
        features: an ``nn.Sequential`` laid out as VGG19's features (names from
            :data:`VGG19_LAYER_NAMES`).
        mean: per-channel mean the network was trained with (images arrive in [0, 1]).
        std: per-channel standard deviation.
    """

    def __init__(self, features: nn.Sequential, mean, std) -> None:
        super().__init__()
        if len(features) != len(VGG19_LAYER_NAMES):
            raise UsageError(
                f"features has {len(features)} modules; a VGG19 layout has {len(VGG19_LAYER_NAMES)}"
            )
        self.features = features.eval().requires_grad_(False)
        for module in self.features:
            if isinstance(module, nn.ReLU):
                module.inplace = False  # the conv outputs are read after the ReLU runs
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
        unknown = set(layers) - set(VGG19_LAYER_NAMES)
        if unknown:
            raise UsageError(
                f"layer(s) {sorted(unknown)} unknown; choose from: {', '.join(VGG19_LAYER_NAMES)}"
            )
        wanted, last = set(layers), max(VGG19_LAYER_NAMES.index(name) for name in layers)
        out, x = {}, (image - self.mean) / self.std
        for index, (name, module) in enumerate(zip(VGG19_LAYER_NAMES, self.features, strict=True)):
            x = module(x)
            if name in wanted:
                out[name] = x
            if index == last:
                break
        return out


@dataclass
class StyleResult:
    """The stylised image and the loss curves."""

    image: torch.Tensor
    content_losses: list[float] = field(default_factory=list)
    style_losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def stylize(
    extractor: FeatureExtractor,
    content: torch.Tensor,
    style: torch.Tensor,
    *,
    steps: int = 150,
    optimizer: str = "lbfgs",
    content_layers: tuple[str, ...] = ("conv4_2",),
    style_layers: tuple[str, ...] = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"),
    content_weight: float = 1.0,
    style_weight: float = 1e5,
    init: str = "content",
    lr: float = 0.02,
    seed: int = 0,
    progress: bool = True,
) -> StyleResult:
    """Optimise an image with the content of ``content`` and the style of ``style``.

    Args:
        extractor: the feature network.
        content: ``(1, 3, H, W)`` image in [0, 1].
        style: ``(1, 3, H', W')`` image in [0, 1] (any size).
        steps: loss evaluations (L-BFGS) or updates (Adam).
        optimizer: ``"lbfgs"`` or ``"adam"``.
        content_layers: layers whose features must match the content image's.
        style_layers: layers whose Gram matrices must match the style image's.
        content_weight: weight of the content loss.
        style_weight: weight of the style loss.
        init: start from the ``"content"`` image or from uniform ``"noise"``.
        lr: Adam step size (pixels in [0, 1]).
        seed: seed of the noise initialisation.
        progress: show a progress bar.
    """
    from tqdm.auto import tqdm

    if optimizer not in ("lbfgs", "adam"):
        raise UsageError(f"optimizer {optimizer!r} unknown; choose one of: lbfgs, adam")
    if init not in ("content", "noise"):
        raise UsageError(f"init {init!r} unknown; choose one of: content, noise")
    start = time.perf_counter()
    with torch.no_grad():
        content_targets = extractor(content, content_layers)
        style_targets = {k: gram_matrix(v) for k, v in extractor(style, style_layers).items()}
    generator = torch.Generator().manual_seed(seed)
    initial = (
        content.clone()
        if init == "content"
        else torch.rand(content.shape, generator=generator).to(content)
    )
    image = initial.contiguous().requires_grad_(True)
    result = StyleResult(image=image)
    layers = tuple(dict.fromkeys(content_layers + style_layers))
    bar = tqdm(total=steps, desc=f"style ({optimizer})", disable=not progress, leave=False)

    def closure() -> torch.Tensor:
        optim.zero_grad(set_to_none=True)
        features = extractor(image.clamp(0, 1), layers)
        c_loss = sum(content_loss(features[k], content_targets[k]) for k in content_layers)
        s_loss = sum(style_loss(features[k], style_targets[k]) for k in style_layers)
        total = content_weight * c_loss + style_weight * s_loss
        total.backward()
        result.content_losses.append(float(c_loss.detach()))
        result.style_losses.append(float(s_loss.detach()))
        bar.update(1)
        return total

    if optimizer == "lbfgs":
        optim = torch.optim.LBFGS(
            [image],
            lr=1.0,
            max_iter=steps,
            max_eval=steps,
            history_size=20,
            tolerance_grad=0.0,
            tolerance_change=0.0,
        )
        optim.step(closure)
    else:
        optim = torch.optim.Adam([image], lr=lr)
        for _ in range(steps):
            optim.step(closure)
    bar.close()
    result.image = image.detach().clamp(0, 1)
    result.seconds = time.perf_counter() - start
    return result
