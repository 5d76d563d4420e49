"""pix2pix for layouts (Isola et al. 2017), with a look code: U-Net generator, PatchGAN critic.

- :class:`LayoutGenerator`: a U-Net from the layout (:func:`~.layout.layout_tensor`: one-hot
  classes and instance edges) to an RGB frame in [-1, 1]. The skips carry where every object is
  down to full resolution (the last layer sees the layout itself), so a 3-pixel ball stays a
  3-pixel ball. The *look* (light, pitch and table tints, kit shades, textures) is not in the
  layout, so a look code ``z`` modulates every decoder block (FiLM: a per-channel scale and shift
  after a parameter-free group norm, the AdaIN of MUNIT and StyleGAN). With ``skips=False`` it is
  pix2pix's "encoder-decoder" ablation: no skips and a head that does not see the layout, so
  everything the frame shows passes through every decoder block (what GAN Dissection needs to
  find the units that draw an object, :mod:`visiongym.vision.dissect`).
- :class:`LookEncoder`: a frame -> the mean and log-variance of its look code, trained with a KL
  term towards N(0, I) as in BicycleGAN's cVAE-GAN, so that at generation time ``z ~ N(0, I)``
  draws new looks and an encoded frame re-uses its look.
- :class:`PatchDiscriminator`: (layout, frame) -> a grid of real/fake logits, one per
  overlapping patch, with spectral norm.

Builders are registered in :data:`LAYOUT_GANS` and return a :class:`LayoutGAN` holding all three.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm

from visiongym.sims.errors import UsageError
from visiongym.vision.layout2img.layout import LAYOUT_CHANNELS
from visiongym.vision.registry import Registry

__all__ = [
    "LAYOUT_GANS",
    "LayoutGAN",
    "LayoutGenerator",
    "LookEncoder",
    "PatchDiscriminator",
    "to_uint8",
]


def _groups(channels: int) -> int:
    return next(g for g in (8, 4, 2, 1) if channels % g == 0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float frames -> uint8 (on the CPU)."""
    return ((images.detach() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).cpu()


def _down(in_channels: int, out_channels: int, norm: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, 4, 2, 1, bias=not norm)]
    if norm:
        layers.append(nn.GroupNorm(_groups(out_channels), out_channels))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


class _LookUp(nn.Module):
    """Transposed conv (x2), parameter-free group norm, FiLM by the look code, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, look_dim: int) -> None:
        super().__init__()
        self.conv = nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1, bias=False)
        self.norm = nn.GroupNorm(_groups(out_channels), out_channels, affine=False)
        self.film = nn.Linear(look_dim, 2 * out_channels)
        nn.init.zeros_(self.film.weight)  # starts as the identity: scale 1, shift 0
        nn.init.zeros_(self.film.bias)

    def forward(self, x: torch.Tensor, look: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.conv(x))
        scale, shift = self.film(look)[..., None, None].chunk(2, dim=1)
        return F.relu(x * (1 + scale) + shift)


class LayoutGenerator(nn.Module):
    """Layout (N, LAYOUT_CHANNELS, S, S) and look code (N, look_dim) -> frame in [-1, 1].

    Args:
        image_size: square side; must be divisible by ``2 ** len(widths)``.
        widths: channels of the encoder stages (each halves the size); the decoder mirrors them.
        up_widths: channels out of each up block (``up_widths[k]`` out of block k, which brings
            stage k + 1 to the size of stage k); by default the mirror, ``widths[max(k - 1, 0)]``.
        look_dim: size of the look code.
        skips: the U-Net's skips (and the layout fed to the head); without them the layout
            reaches the frame only through the bottleneck and every up block.
        coords: two more input channels, each pixel's y and x in [-1, 1] (CoordConv): where the
            pitch ends and the stands begin is not in the layout, and without skips from a deep
            stage a shallow encoder-decoder cannot tell from its receptive field where it is.
    """

    def __init__(
        self,
        image_size: int = 128,
        widths: tuple[int, ...] = (32, 64, 128, 128, 128),
        look_dim: int = 8,
        skips: bool = True,
        coords: bool = False,
        up_widths: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__()
        levels = len(widths)
        up_widths = up_widths or tuple(widths[max(k - 1, 0)] for k in range(levels))
        if levels < 2 or image_size % 2**levels or image_size // 2**levels < 2:
            raise UsageError(
                f"image_size {image_size} does not fit a {levels}-stage U-Net; use a multiple of "
                f"{2 ** levels} of at least {2 ** (levels + 1)} (e.g. 64 or 128)"
            )
        self.image_size = image_size
        self.look_dim = look_dim
        self.skips = skips
        self.coords = coords
        channels = (LAYOUT_CHANNELS + (2 if coords else 0), *widths)
        self.down = nn.ModuleList(
            _down(channels[k], channels[k + 1], norm=k > 0) for k in range(levels)
        )
        # Up block k brings stage k + 1 back to the size of stage k; below the bottleneck its
        # input is the previous up block's output concatenated with the skip of the same size.
        self.up = nn.ModuleList(
            _LookUp(
                widths[k] if k == levels - 1 else up_widths[k + 1] + (widths[k] if skips else 0), up_widths[k], look_dim
            )
            for k in range(levels)
        )
        self.head = nn.Conv2d(up_widths[0] + (LAYOUT_CHANNELS if skips else 0), 3, 3, padding=1)

    def forward(self, layout: torch.Tensor, look: torch.Tensor) -> torch.Tensor:
        x = layout
        if self.coords:
            line = torch.linspace(-1.0, 1.0, layout.shape[-1], device=layout.device, dtype=layout.dtype)
            ys, xs = torch.meshgrid(line, line, indexing="ij")
            x = torch.cat([layout, torch.stack([ys, xs]).expand(len(layout), -1, -1, -1)], 1)
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
        for k in reversed(range(len(self.up))):
            skip = self.skips and k < len(self.up) - 1
            x = self.up[k](torch.cat([x, skips[k]], 1) if skip else x, look)
        return torch.tanh(self.head(torch.cat([x, layout], 1) if self.skips else x))


class LookEncoder(nn.Module):
    """Frame (uint8 or [-1, 1]) -> mean and log-variance of its look code, each (N, look_dim)."""

    def __init__(self, look_dim: int = 8, widths: tuple[int, ...] = (16, 32, 64, 64)) -> None:
        super().__init__()
        channels = (3, *widths)
        self.net = nn.Sequential(
            *(_down(channels[k], channels[k + 1], norm=k > 0) for k in range(len(widths))),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.out = nn.Linear(widths[-1], 2 * look_dim)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if images.dtype == torch.uint8:
            images = images.float() / 127.5 - 1.0
        mean, log_var = self.out(self.net(images)).chunk(2, dim=1)
        return mean, log_var.clamp(-10.0, 10.0)


class PatchDiscriminator(nn.Module):
    """(layout, frame in [-1, 1]) -> real/fake logits (N, 1, s, s), one per overlapping patch."""

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128)) -> None:
        super().__init__()
        channels = (LAYOUT_CHANNELS + 3, *widths)
        layers: list[nn.Module] = []
        for k in range(len(widths)):
            layers += [spectral_norm(nn.Conv2d(channels[k], channels[k + 1], 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        layers.append(spectral_norm(nn.Conv2d(widths[-1], 1, 3, 1, 1)))
        self.net = nn.Sequential(*layers)

    def forward(self, layout: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([layout, images], 1))


class LayoutGAN(nn.Module):
    """The generator, the look encoder and the critic of one model, saved and loaded together."""

    def __init__(
        self,
        image_size: int = 128,
        widths: tuple[int, ...] = (32, 64, 128, 128, 128),
        look_dim: int = 8,
        encoder_widths: tuple[int, ...] = (16, 32, 64, 64),
        critic_widths: tuple[int, ...] = (32, 64, 128),
        skips: bool = True,
        coords: bool = False,
        up_widths: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__()
        self.generator = LayoutGenerator(image_size, widths, look_dim, skips, coords, up_widths)
        self.look_encoder = LookEncoder(look_dim, encoder_widths)
        self.discriminator = PatchDiscriminator(critic_widths)

    @property
    def image_size(self) -> int:
        return self.generator.image_size

    @property
    def look_dim(self) -> int:
        return self.generator.look_dim

    def random_looks(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``count`` look codes drawn from N(0, I), the prior the encoder was pulled towards."""
        return torch.randn(count, self.look_dim, generator=generator)

    @torch.no_grad()
    def encode_looks(self, images: torch.Tensor) -> torch.Tensor:
        """The mean look code of each frame (uint8 N x 3 x S x S)."""
        return self.look_encoder(images)[0]

    @torch.no_grad()
    def generate(self, layout: torch.Tensor, looks: torch.Tensor) -> torch.Tensor:
        """Frames (uint8, on the CPU) for a layout batch and one look code each."""
        device = next(self.parameters()).device
        was_training = self.generator.training
        self.generator.eval()
        images = self.generator(layout.to(device), looks.to(device))
        self.generator.train(was_training)
        return to_uint8(images)


LAYOUT_GANS: Registry[LayoutGAN] = Registry("layout generator")
"""Layout-to-frame models by name; ``build(name, image_size=...)``."""


@LAYOUT_GANS.register("pix2pix")
def pix2pix(*, image_size: int = 128, look_dim: int = 8) -> LayoutGAN:
    """U-Net 32-64-128-128-128 (5 stages), look code of 8, PatchGAN 32-64-128."""
    return LayoutGAN(image_size, (32, 64, 128, 128, 128), look_dim)


@LAYOUT_GANS.register("pix2pix_small")
def pix2pix_small(*, image_size: int = 128, look_dim: int = 8) -> LayoutGAN:
    """Half the channels of ``pix2pix``: about 3x faster on a CPU."""
    return LayoutGAN(image_size, (16, 32, 64, 64, 64), look_dim, (16, 32, 32, 32), (16, 32, 64))


@LAYOUT_GANS.register("encoder_decoder_small")
def encoder_decoder_small(*, image_size: int = 128, look_dim: int = 8) -> LayoutGAN:
    """pix2pix's encoder-decoder (no skips, the head blind to the layout) with pixel coordinates as
    input, 3 stages 32-128-128: a 16 x 16 bottleneck at 128 px, then up blocks of 128, 96 and 16
    units. For dissection: every object passes through ``up.2`` (128 units at a quarter of the
    side) and ``up.1`` (96 units at half the side, where a player spans a few cells)."""
    return LayoutGAN(image_size, (32, 128, 128), look_dim, (16, 32, 32, 32), (16, 32, 64), skips=False, coords=True,
                     up_widths=(16, 96, 128))


@LAYOUT_GANS.register("encoder_decoder_tiny")
def encoder_decoder_tiny(*, image_size: int = 64, look_dim: int = 4) -> LayoutGAN:
    """``pix2pix_tiny`` without its skips, for tests."""
    return LayoutGAN(image_size, (8, 16, 32), look_dim, (8, 16), (8, 16), skips=False, coords=True)


@LAYOUT_GANS.register("pix2pix_tiny")
def pix2pix_tiny(*, image_size: int = 64, look_dim: int = 4) -> LayoutGAN:
    """Three stages of 8-16-32 channels, for tests and smoke runs."""
    return LayoutGAN(image_size, (8, 16, 32), look_dim, (8, 16), (8, 16))
