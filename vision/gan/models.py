"""The GAN models of the suite by name: DCGAN (the course's baseline) and SNGAN (stronger).

DCGAN (Radford et al. 2016): a transposed-convolution generator and a strided-conv critic. Layout
as in the paper: no pooling, batch norm in both nets (not on the generator output or the
discriminator input), ReLU in the generator with tanh output, LeakyReLU(0.2) in the
discriminator, weights from N(0, 0.02). The SNGAN critics (``sngan``: the DCGAN generator
against a spectrally normalised CNN; ``sngan_resnet``: ResNets on both sides) are in
:mod:`visiongym.vision.gan.sngan`. The image side must be a power of two >= 16.

Each model is registered in :data:`GANS` as a :class:`GanSpec`: its two network builders and
its training recipe (loss, learning rates, Adam betas, discriminator steps per generator step)::

    spec = GANS.build("sngan")
    generator = spec.generator(latent_dim=128, image_size=64, width=32)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from visiongym.sims.errors import UsageError
from visiongym.vision.registry import Registry

__all__ = [
    "GANS",
    "GanSpec",
    "ImageGenerator",
    "Generator",
    "Discriminator",
    "init_weights",
    "check_image_size",
]


def check_image_size(image_size: int) -> int:
    """The number of x2 upsampling stages from 4 x 4 to ``image_size``; refuse other sizes."""
    stages = int(math.log2(image_size)) - 2 if image_size > 0 else 0
    if image_size < 16 or 2 ** (stages + 2) != image_size:
        raise UsageError(
            f"image_size {image_size} unsupported; use a power of two >= 16 (32, 64, 128)"
        )
    return stages


def to_signed(images: torch.Tensor) -> torch.Tensor:
    """uint8 frames (0-255) -> [-1, 1] floats; float input is taken as already in [-1, 1]."""
    return images.float() / 127.5 - 1.0 if images.dtype == torch.uint8 else images


class ImageGenerator(nn.Module):
    """Base of the generators: noise (N x latent_dim) -> images in [-1, 1] (N x 3 x S x S)."""

    latent_dim: int
    image_size: int

    @torch.no_grad()
    def sample(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``count`` frames as uint8 (N x 3 x S x S), in eval mode, noise drawn on the CPU."""
        device = next(self.parameters()).device
        noise = torch.randn(count, self.latent_dim, generator=generator).to(device)
        was_training = self.training
        self.eval()
        images = self(noise)
        self.train(was_training)
        return ((images + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).cpu()


class Generator(ImageGenerator):
    """DCGAN generator: noise -> 4 x 4 by a transposed conv, then x2 stages, tanh."""

    def __init__(self, latent_dim: int = 64, image_size: int = 64, width: int = 32) -> None:
        super().__init__()
        stages = check_image_size(image_size)
        self.latent_dim = latent_dim
        self.image_size = image_size
        channels = width * 2 ** (stages - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, channels, 4, 1, 0, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(True),
        ]
        for _ in range(stages - 1):
            layers += [
                nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(channels // 2),
                nn.ReLU(True),
            ]
            channels //= 2
        layers += [nn.ConvTranspose2d(channels, 3, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        return self.net(noise[:, :, None, None])


class Discriminator(nn.Module):
    """DCGAN discriminator: images (uint8 or [-1, 1] float) -> real/fake logit per image.

    No batch norm on the first layer (it would learn the input's statistics, not its content).
    """

    def __init__(self, image_size: int = 64, width: int = 32) -> None:
        super().__init__()
        stages = check_image_size(image_size)
        self.image_size = image_size
        layers: list[nn.Module] = [nn.Conv2d(3, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        channels = width
        for _ in range(stages - 1):
            layers += [
                nn.Conv2d(channels, channels * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(channels * 2),
                nn.LeakyReLU(0.2, True),
            ]
            channels *= 2
        layers += [nn.Conv2d(channels, 1, 4, 1, 0)]
        self.net = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(to_signed(images)).flatten()


def init_weights(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights N(0, 0.02), batch-norm scale N(1, 0.02), bias 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


@dataclass(frozen=True)
class GanSpec:
    """A GAN model: its networks and the recipe it is trained with by default."""

    generator: Callable[..., ImageGenerator]
    """``(*, latent_dim, image_size, width) -> generator``, initialised as the model's paper does."""
    discriminator: Callable[..., nn.Module]
    """``(*, image_size, width) -> discriminator`` returning one score per image, initialised."""
    loss: str
    """``nonsaturating`` (binary cross-entropy) or ``hinge``."""
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    n_dis: int = 1
    """Discriminator updates per generator update."""


GANS: Registry[GanSpec] = Registry("GAN model")


def _dcgan_generator(*, latent_dim: int, image_size: int, width: int) -> Generator:
    generator = Generator(latent_dim, image_size, width)
    generator.apply(init_weights)
    return generator


def _dcgan_discriminator(*, image_size: int, width: int) -> Discriminator:
    discriminator = Discriminator(image_size, width)
    discriminator.apply(init_weights)
    return discriminator


@GANS.register("dcgan")
def dcgan() -> GanSpec:
    """DCGAN with its paper's recipe: Adam 2e-4, beta1 0.5, non-saturating loss, one D step."""
    return GanSpec(
        generator=_dcgan_generator,
        discriminator=_dcgan_discriminator,
        loss="nonsaturating",
    )


@GANS.register("sngan")
def sngan() -> GanSpec:
    """SNGAN (Miyato et al. 2018) on a CPU budget: the DCGAN generator against a spectrally
    normalised CNN critic, hinge loss, Adam 2e-4 betas (0.5, 0.999), one critic step (the
    paper's setting C, among its best for the CNN)."""
    from visiongym.vision.gan.sngan import CNNDiscriminator

    return GanSpec(
        generator=_dcgan_generator,
        discriminator=CNNDiscriminator,
        loss="hinge",
    )


@GANS.register("sngan_resnet")
def sngan_resnet() -> GanSpec:
    """SNGAN's ResNet pair, hinge loss, Adam 2e-4 betas (0, 0.9), five critic steps per generator
    step, as in the paper: the strongest, and some 25 times the cost of ``sngan`` a step (a GPU
    model)."""
    from visiongym.vision.gan.sngan import ResDiscriminator, ResGenerator

    return GanSpec(
        generator=ResGenerator,
        discriminator=ResDiscriminator,
        loss="hinge",
        betas=(0.0, 0.9),
        n_dis=5,
    )
