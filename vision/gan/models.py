"""DCGAN (Radford et al. 2016): a transposed-convolution generator and a strided-conv critic.

Layout as in the paper: no pooling, batch norm in both nets (not on the generator output or the
discriminator input), ReLU in the generator with tanh output, LeakyReLU(0.2) in the
discriminator, weights from N(0, 0.02). The image side must be a power of two >= 16.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from visiongym.sims.errors import UsageError

__all__ = ["Generator", "Discriminator", "init_weights"]


def _check_size(image_size: int) -> int:
    stages = int(math.log2(image_size)) - 2
    if image_size < 16 or 2 ** (stages + 2) != image_size:
        raise UsageError(
            f"image_size {image_size} unsupported; use a power of two >= 16 (32, 64, 128)"
        )
    return stages


class Generator(nn.Module):
    """Noise (N x latent_dim) -> images in [-1, 1] (N x 3 x S x S)."""

    def __init__(self, latent_dim: int = 64, image_size: int = 64, width: int = 32) -> None:
        super().__init__()
        stages = _check_size(image_size)
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

    @torch.no_grad()
    def sample(self, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``count`` frames as uint8 (N x 3 x S x S)."""
        device = next(self.parameters()).device
        noise = torch.randn(count, self.latent_dim, generator=generator).to(device)
        was_training = self.training
        self.eval()
        images = self(noise)
        self.train(was_training)
        return ((images + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).cpu()


class Discriminator(nn.Module):
    """Images (uint8 or [-1, 1] float) -> real/fake logit per image."""

    def __init__(self, image_size: int = 64, width: int = 32) -> None:
        super().__init__()
        stages = _check_size(image_size)
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
        if images.dtype == torch.uint8:
            images = images.float() / 127.5 - 1.0
        return self.net(images).flatten()


def init_weights(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights N(0, 0.02), batch-norm scale N(1, 0.02), bias 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
