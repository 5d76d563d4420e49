"""Convolutional autoencoders: plain, denoising and sparse (L1 activity penalty).

The three share one network, a strided-convolution encoder and a transposed-convolution
decoder; they differ in how they are trained (:mod:`visiongym.vision.autoencoders.train`): the denoising
variant sees Gaussian-noised inputs and reconstructs the clean frame, the sparse variant adds
``l1_weight * mean(|code|)`` to the loss. Images enter as uint8 (0-255) or float in [0, 1];
reconstructions are float in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from visiongym.sims.errors import UsageError
from visiongym.vision.registry import Registry

__all__ = [
    "AUTOENCODERS",
    "VARIANTS",
    "AutoencoderSpec",
    "ConvAutoencoder",
    "build_autoencoder",
    "encoder_input",
    "list_autoencoders",
    "standardise_channels",
]

VARIANTS = ("conv", "denoising", "sparse", "restoring")


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


def standardise_channels(images: torch.Tensor) -> torch.Tensor:
    """Each channel of each image (N x C x H x W float) less its mean, over its std (at least
    1/255): unchanged by a per-channel gain and offset, such as a loss of contrast about the
    channel means or a colour cast."""
    mean = images.mean(dim=(2, 3), keepdim=True)
    std = images.std(dim=(2, 3), keepdim=True).clamp_min(1.0 / 255.0)
    return (images - mean) / std


def encoder_input(images: torch.Tensor, standardised: bool = False) -> torch.Tensor:
    """What an encoder's first stage reads: the frame (uint8 or [0, 1] float) at ``2 x - 1``,
    and with ``standardised`` its standardised channels (:func:`standardise_channels`) after it."""
    unit = to_unit_float(images)
    x = unit * 2.0 - 1.0
    return torch.cat([x, standardise_channels(unit)], dim=1) if standardised else x


class _Residual(nn.Module):
    """Two 3x3 convolutions with batch norm and a skip connection (same size, same width)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.body(x))


class _GlobalContext(nn.Module):
    """Per-channel scale and shift computed from the whole frame's feature means and stds.

    Convolutions see a neighbourhood; whether a pale pitch is a pale look or a washed-out frame
    (fog, low contrast, over-exposure) shows only in the frame's overall statistics. Starts as
    the identity (last layer zero), so it adds nothing until training finds it useful.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(2 * channels, channels), nn.ReLU(inplace=True), nn.Linear(channels, 2 * channels)
        )
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stats = torch.cat([x.mean(dim=(2, 3)), x.std(dim=(2, 3))], dim=1)
        scale, shift = self.mlp(stats).chunk(2, dim=1)
        return x * (1 + scale[..., None, None]) + shift[..., None, None]


def _down(
    in_channels: int, out_channels: int, blocks: int = 0, context: bool = False
) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        *(_Residual(out_channels) for _ in range(blocks)),
        *((_GlobalContext(out_channels),) if context else ()),
    )


class _Up(nn.Module):
    """Transposed convolution that doubles the size, then batch norm and ReLU."""

    def __init__(self, in_channels: int, out_channels: int, blocks: int = 0) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=1)
        self.refine = nn.Sequential(
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            *(_Residual(out_channels) for _ in range(blocks)),
        )

    def forward(self, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        # output_size picks the output_padding, so odd sizes (84 -> 42 -> 21 -> 11) invert exactly.
        return self.refine(self.up(x, output_size=size))


class ConvAutoencoder(nn.Module):
    """Strided-conv encoder to a spatial code, transposed-conv decoder back to the image.

    Args:
        image_size: (height, width) of the input.
        channels: feature channels per encoder stage (each stage halves the size).
        code_channels: channels of the code; code size is ``code_channels x H/2^k x W/2^k``
            for ``k = len(channels)`` stages.
        in_channels: image channels.
        blocks: residual blocks after each encoder stage and after each decoder upsampling
            but the last, full-resolution one (0 keeps the plain conv / transposed-conv stack).
        context: end each encoder stage with a global-context scale and shift
            (:class:`_GlobalContext`), for inputs whose brightness or contrast is off.
        standardised_input: feed the encoder, beside the frame, the frame with each channel
            standardised (its mean removed, divided by its std): content that a change of
            contrast or colour cast leaves as it was. The code and the decoder are unchanged.
    """

    def __init__(
        self,
        image_size: tuple[int, int] = (84, 84),
        channels: tuple[int, ...] = (32, 64, 128),
        code_channels: int = 32,
        in_channels: int = 3,
        blocks: int = 0,
        context: bool = False,
        standardised_input: bool = False,
    ) -> None:
        super().__init__()
        self.image_size = tuple(image_size)
        self.in_channels = in_channels
        self.standardised_input = standardised_input
        widths = (2 * in_channels if standardised_input else in_channels, *channels)
        self.downs = nn.ModuleList(
            _down(a, b, blocks, context) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.to_code = nn.Conv2d(channels[-1], code_channels, 1)
        self.from_code = nn.Sequential(
            nn.Conv2d(code_channels, channels[-1], 3, padding=1), nn.ReLU(inplace=True)
        )
        reversed_widths = (*reversed(channels), channels[0])
        pairs = list(zip(reversed_widths[:-1], reversed_widths[1:], strict=True))
        # No residual blocks at full resolution: they would cost more than the rest together.
        self.ups = nn.ModuleList(
            _Up(a, b, blocks if index < len(pairs) - 1 else 0)
            for index, (a, b) in enumerate(pairs)
        )
        self.head = nn.Conv2d(channels[0], in_channels, 3, padding=1)
        with torch.no_grad():
            sizes = [self.image_size]
            x = torch.zeros(1, widths[0], *self.image_size)
            for down in self.downs:
                x = down(x)
                sizes.append(tuple(x.shape[-2:]))
        self._sizes = sizes  # spatial size before each encoder stage, then the code's
        self.code_shape = (code_channels, *sizes[-1])

    @property
    def compression_ratio(self) -> float:
        """Input values per code value (e.g. 3 x 84 x 84 / (8 x 21 x 21) = 6.0)."""
        code = self.code_shape[0] * self.code_shape[1] * self.code_shape[2]
        return self.in_channels * self.image_size[0] * self.image_size[1] / code

    def encoder_input(self, images: torch.Tensor) -> torch.Tensor:
        """What the first encoder stage reads (:func:`encoder_input`)."""
        return encoder_input(images, self.standardised_input)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Images (uint8 or [0, 1] float, N x C x H x W) to codes (N x code_channels x h x w)."""
        if tuple(images.shape[-2:]) != self.image_size:
            raise UsageError(
                f"image size {tuple(images.shape[-2:])} does not match this autoencoder's "
                f"{self.image_size}; resize the input or train a model for that size"
            )
        x = self.encoder_input(images)
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


AUTOENCODERS: Registry[ConvAutoencoder] = Registry("autoencoder")
"""Architecture name -> builder (keyword-only ``image_size`` and :class:`ConvAutoencoder` options)."""


@AUTOENCODERS.register("spatial")
def spatial(*, image_size: tuple[int, int] = (84, 84), **kwargs) -> ConvAutoencoder:
    """Two stages (32, 64) with a residual block each, 8-channel code at 1/4 size: the default.

    At 84 x 84 the code is 8 x 21 x 21 = 3,528 values for 21,168 input values (6x smaller):
    a real bottleneck, but one that keeps where things are, which is what flat-coloured pitch
    frames with small players and a ball need to be reconstructed sharply.
    """
    return ConvAutoencoder(image_size, channels=(32, 64), code_channels=8, blocks=1, **kwargs)


@AUTOENCODERS.register("small")
def small(*, image_size: tuple[int, int] = (84, 84), **kwargs) -> ConvAutoencoder:
    """Three stages (32, 64, 128), 32-channel code at 1/8 size (32 x 11 x 11 at 84 px, 5.5x
    smaller than the input): a coarser, more abstract code, e.g. for a frozen agent encoder."""
    return ConvAutoencoder(image_size, channels=(32, 64, 128), code_channels=32, **kwargs)


@AUTOENCODERS.register("tiny")
def tiny(*, image_size: tuple[int, int] = (84, 84), **kwargs) -> ConvAutoencoder:
    """Three narrow stages (16, 32, 32), 16-channel code: for tests and quick CPU runs."""
    return ConvAutoencoder(image_size, channels=(16, 32, 32), code_channels=16, **kwargs)


@AUTOENCODERS.register("spatial_context")
def spatial_context(*, image_size: tuple[int, int] = (84, 84), **kwargs) -> ConvAutoencoder:
    """``spatial`` with a global-context scale and shift after each encoder stage (the same
    8 x 21 x 21 code, 13 % more weights): for restoring frames whose overall brightness,
    contrast or haze is off, which a neighbourhood alone cannot tell from a pale look."""
    return ConvAutoencoder(
        image_size, channels=(32, 64), code_channels=8, blocks=1, context=True, **kwargs
    )


@AUTOENCODERS.register("spatial_context_norm")
def spatial_context_norm(*, image_size: tuple[int, int] = (84, 84), **kwargs) -> ConvAutoencoder:
    """``spatial_context`` that also reads each frame with its channels standardised (three
    more input channels, the same code): the content of a low-contrast or colour-cast frame
    arrives as it would from the clean frame, and only the frame's overall levels are left to
    infer."""
    return ConvAutoencoder(
        image_size, channels=(32, 64), code_channels=8, blocks=1, context=True,
        standardised_input=True, **kwargs
    )


def list_autoencoders() -> tuple[str, ...]:
    """Registered architecture names."""
    return AUTOENCODERS.names()


def build_autoencoder(name: str, **kwargs) -> ConvAutoencoder:
    """Build a registered architecture by name."""
    return AUTOENCODERS.build(name, **kwargs)
