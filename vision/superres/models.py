"""SRResNet generators and the SRGAN discriminator (Ledig et al., CVPR 2017), sized for a CPU.

The generator follows SRResNet: a 9x9 convolution, ``blocks`` residual blocks (conv, batch norm,
PReLU, conv, batch norm, skip), a long skip over them, one ``conv -> PixelShuffle(2) -> PReLU``
step per factor of two, and a 9x9 convolution to RGB. One deviation, on by default
(``global_residual``): the network predicts the difference to the bicubic upscale of its input,
and its last convolution starts at zero, so an untrained model *is* bicubic and a short CPU run
only has to learn the correction (VDSR's global residual). The discriminator is SRGAN's, narrower
and ending in global average pooling, so it scores crops and whole frames alike.

Images enter as uint8 (0-255) or float in [0, 1]; generators return float in [0, 1] (clamped in
eval mode, unclamped in training so the loss sees the raw output).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from visiongym.sims.errors import UsageError
from visiongym.vision.registry import Registry

__all__ = [
    "SR_ARCHS",
    "SRResNet",
    "SRDiscriminator",
    "bicubic_upscale",
    "build_generator",
    "to_unit",
]


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 0-255 to float 0-1; float input is taken to be in [0, 1] already."""
    return images.float() / 255.0 if images.dtype == torch.uint8 else images.float()


def bicubic_upscale(low_res: torch.Tensor, scale: int) -> torch.Tensor:
    """Bicubic upscaling by ``scale`` (PyTorch's kernel, a = -0.75), float [0, 1], unclamped."""
    return F.interpolate(to_unit(low_res), scale_factor=scale, mode="bicubic", align_corners=False)


class _Residual(nn.Module):
    """SRResNet's block: conv, BN, PReLU, conv, BN, plus the input."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1),
            nn.BatchNorm2d(width),
            nn.PReLU(width),
            nn.Conv2d(width, width, 3, padding=1),
            nn.BatchNorm2d(width),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SRResNet(nn.Module):
    """SRResNet generator for an integer power-of-two ``scale``.

    Args:
        scale: upscaling factor (2, 4 or 8).
        width: feature channels.
        blocks: residual blocks at low resolution.
        global_residual: add the bicubic upscale of the input to the output (see the module doc).
    """

    def __init__(
        self, scale: int = 4, width: int = 64, blocks: int = 16, global_residual: bool = True
    ) -> None:
        super().__init__()
        if scale < 2 or scale & (scale - 1):
            raise UsageError(f"scale {scale!r} unsupported; choose one of: 2, 4, 8")
        self.scale = scale
        self.global_residual = global_residual
        self.head = nn.Sequential(nn.Conv2d(3, width, 9, padding=4), nn.PReLU(width))
        self.body = nn.Sequential(
            *(_Residual(width) for _ in range(blocks)),
            nn.Conv2d(width, width, 3, padding=1),
            nn.BatchNorm2d(width),
        )
        self.upsample = nn.Sequential(
            *(
                nn.Sequential(
                    nn.Conv2d(width, 4 * width, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(width)
                )
                for _ in range(int(math.log2(scale)))
            )
        )
        self.tail = nn.Conv2d(width, 3, 9, padding=4)
        if global_residual:
            nn.init.zeros_(self.tail.weight)
            nn.init.zeros_(self.tail.bias)

    def forward(self, low_res: torch.Tensor) -> torch.Tensor:
        """Low-resolution images N x 3 x h x w -> N x 3 x (scale h) x (scale w), float [0, 1]."""
        x = to_unit(low_res)
        features = self.head(x * 2.0 - 1.0)
        out = self.tail(self.upsample(features + self.body(features)))
        out = out + bicubic_upscale(x, self.scale) if self.global_residual else out * 0.5 + 0.5
        return out if self.training else out.clamp(0.0, 1.0)


class SRDiscriminator(nn.Module):
    """SRGAN's discriminator: stride-1/stride-2 conv pairs, LeakyReLU 0.2, batch norm, then a
    global average pool and two linear layers to one real/fake logit per image.

    Args:
        widths: channels of each conv pair (each pair halves the size).
    """

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128, 256)) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(3, widths[0], 3, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        channels = widths[0]
        for index, width in enumerate(widths):
            if index:  # the first pair's stride-1 conv is the input layer above, without BN
                layers += [
                    nn.Conv2d(channels, width, 3, padding=1),
                    nn.BatchNorm2d(width),
                    nn.LeakyReLU(0.2, inplace=True),
                ]
            layers += [
                nn.Conv2d(width, width, 3, stride=2, padding=1),
                nn.BatchNorm2d(width),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            channels = width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(channels, 4 * channels),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(4 * channels, 1),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Images (uint8 or float [0, 1]) -> one logit per image."""
        return self.classifier(self.features(to_unit(images) * 2.0 - 1.0)).squeeze(1)


SR_ARCHS: Registry[SRResNet] = Registry("super-resolution architecture")
"""Architecture name -> generator builder (keyword-only ``scale`` and :class:`SRResNet` options)."""


@SR_ARCHS.register("paper")
def paper(*, scale: int = 4, **kwargs) -> SRResNet:
    """The paper's size: 64 channels, 16 residual blocks (1.5 M parameters); a GPU configuration."""
    return SRResNet(scale, width=64, blocks=16, **kwargs)


@SR_ARCHS.register("small")
def small(*, scale: int = 4, **kwargs) -> SRResNet:
    """32 channels, 6 residual blocks (0.21 M parameters): the CPU default."""
    return SRResNet(scale, width=32, blocks=6, **kwargs)


@SR_ARCHS.register("tiny")
def tiny(*, scale: int = 4, **kwargs) -> SRResNet:
    """16 channels, 2 residual blocks: for tests."""
    return SRResNet(scale, width=16, blocks=2, **kwargs)


def build_generator(name: str, **kwargs) -> SRResNet:
    """Build a registered generator architecture by name."""
    return SR_ARCHS.build(name, **kwargs)
