"""Convolutional autoencoders: plain, denoising and sparse (L1 activity penalty).

The three share one network, a strided-convolution encoder and a transposed-convolution
decoder; they differ in how they are trained (:mod:`vision.autoencoders.train`): the denoising
variant sees Gaussian-noised inputs and reconstructs the clean frame, the sparse variant adds
``l1_weight * mean(|code|)`` to the loss. Images enter as uint8 (0-255) or float in [0, 1];
reconstructions are float in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

__all__ = [
    "VARIANTS",
    "AutoencoderSpec",
    "ConvAutoencoder",
    "build_autoencoder",
    "list_autoencoders",
]

VARIANTS = ("conv", "denoising", "sparse")


@dataclass(frozen=True)
class AutoencoderSpec:
    """What a variant trains with; stored in checkpoints so evaluation repeats it."""

    variant: str
    noise_sigma: float = 0.0
    """Std of Gaussian input noise on the [0, 1] scale (denoising variant)."""
    l1_weight: float = 0.0
    """Weight of the L1 penalty on the code (sparse variant)."""


def to_unit_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 0-255 to float 0-1; float input is assumed to be in [0, 1] already."""
    if images.dtype == torch.uint8:
        return images.float().div_(255.0)
    return images.float()


def _down(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class _Up(nn.Module):
    """Transposed convolution that doubles the size, then batch norm and ReLU."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=1)
        self.refine = nn.Sequential(nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        # output_size picks the output_padding, so odd sizes (84 -> 42 -> 21 -> 11) invert exactly.
        return self.refine(self.up(x, output_size=size))


class ConvAutoencoder(nn.Module):
    """Strided-conv encoder to a spatial code, transposed-conv decoder back to the image.

    Args:
        image_size: (height, width) of the input.
        channels: feature channels per encoder stage (each stage halves the size).
        code_channels: channels of the code; code size is ``code_channels x H/2^k x W/2^k``.
        in_channels: image channels.
    """

    def __init__(
        self,
        image_size: tuple[int, int] = (84, 84),
        channels: tuple[int, ...] = (32, 64, 128),
        code_channels: int = 32,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        self.image_size = tuple(image_size)
        self.in_channels = in_channels
        widths = (in_channels, *channels)
        self.downs = nn.ModuleList(
            _down(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.to_code = nn.Conv2d(channels[-1], code_channels, 1)
        self.from_code = nn.Sequential(
            nn.Conv2d(code_channels, channels[-1], 3, padding=1), nn.ReLU(inplace=True)
        )
        reversed_widths = (*reversed(channels), channels[0])
        self.ups = nn.ModuleList(
            _Up(a, b) for a, b in zip(reversed_widths[:-1], reversed_widths[1:], strict=True)
        )
        self.head = nn.Conv2d(channels[0], in_channels, 3, padding=1)
        with torch.no_grad():
            sizes = [self.image_size]
            x = torch.zeros(1, in_channels, *self.image_size)
            for down in self.downs:
                x = down(x)
                sizes.append(tuple(x.shape[-2:]))
        self._sizes = sizes  # spatial size before each encoder stage, then the code's
        self.code_shape = (code_channels, *sizes[-1])

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Images (uint8 or [0, 1] float, N x C x H x W) to codes (N x code_channels x h x w)."""
        if tuple(images.shape[-2:]) != self.image_size:
            raise ValueError(
                f"image size {tuple(images.shape[-2:])} does not match this autoencoder's "
                f"{self.image_size}; resize the input or train a model for that size"
            )
        x = to_unit_float(images) * 2.0 - 1.0
        for down in self.downs:
            x = down(x)
        return self.to_code(x)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        """Codes to reconstructions in [0, 1]."""
        x = self.from_code(code)
        for up, size in zip(self.ups, reversed(self._sizes[:-1]), strict=True):
            x = up(x, size)
        return torch.sigmoid(self.head(x))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(reconstruction, code)``."""
        code = self.encode(images)
        return self.decode(code), code


_REGISTRY: dict[str, Callable[..., ConvAutoencoder]] = {}


def _register(name: str) -> Callable:
    def wrap(builder: Callable[..., ConvAutoencoder]) -> Callable[..., ConvAutoencoder]:
        _REGISTRY[name] = builder
        return builder

    return wrap


@_register("small")
def small(*, image_size: tuple[int, int] = (84, 84), **kwargs) -> ConvAutoencoder:
    """Three stages (32, 64, 128), 32-channel code: the default."""
    return ConvAutoencoder(image_size, channels=(32, 64, 128), code_channels=32, **kwargs)


@_register("tiny")
def tiny(*, image_size: tuple[int, int] = (84, 84), **kwargs) -> ConvAutoencoder:
    """Three narrow stages (16, 32, 32), 16-channel code: for tests and quick CPU runs."""
    return ConvAutoencoder(image_size, channels=(16, 32, 32), code_channels=16, **kwargs)


def list_autoencoders() -> tuple[str, ...]:
    """Registered architecture names."""
    return tuple(_REGISTRY)


def build_autoencoder(name: str, **kwargs) -> ConvAutoencoder:
    """Build a registered architecture by name."""
    if name not in _REGISTRY:
        raise ValueError(f"autoencoder {name!r} unknown; choose one of: {', '.join(_REGISTRY)}")
    return _REGISTRY[name](**kwargs)
