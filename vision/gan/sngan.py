"""SNGAN networks (Miyato et al., ICLR 2018): the paper's standard CNN critic and its ResNets.

``sngan`` pairs the DCGAN generator with a spectrally normalised CNN critic
(:class:`CNNDiscriminator`): the DCGAN critic's stride-2 convolutions with spectral norm on
every layer in place of batch norm, LeakyReLU(0.1), a linear layer on the 4 x 4 features. It
costs about what DCGAN costs, so it trains in CPU minutes.

``sngan_resnet`` is the ResNet pair of the paper's appendix B.4. The generator maps noise to 4 x 4 with a linear layer, then doubles the resolution in residual
blocks (batch norm, ReLU, nearest upsampling, 3 x 3 convolutions), and ends with batch norm,
ReLU, a 3 x 3 convolution and tanh. The discriminator has spectral normalisation on every layer
(``torch.nn.utils.parametrizations.spectral_norm``) and no batch norm: residual blocks with
average-pool downsampling to 8 x 8, one more block, ReLU, a sum over positions and a linear
layer. Weights are Xavier-uniform, gain sqrt(2) in the residual branches and 1 elsewhere, as
in the authors' code. Channels follow DCGAN's rule: ``width`` at the finest resolution,
doubling at each coarser one.
"""

from __future__ import annotations

import math
from itertools import pairwise

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm

from visiongym.vision.gan.models import ImageGenerator, check_image_size, to_signed

__all__ = ["CNNDiscriminator", "ResGenerator", "ResDiscriminator"]


def _xavier(layer: nn.Module, gain: float) -> nn.Module:
    nn.init.xavier_uniform_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


def _sn(layer: nn.Module, gain: float) -> nn.Module:
    return spectral_norm(_xavier(layer, gain))


class CNNDiscriminator(nn.Module):
    """SNGAN's CNN critic: images (uint8 or [-1, 1] float) -> one score per image.

    The DCGAN critic's layout (4 x 4 stride-2 convolutions down to 4 x 4, channels doubling from
    ``width``) with spectral norm on every layer in place of batch norm and LeakyReLU(0.1), as
    in the paper's standard CNN. The paper's table 3 also puts a 3 x 3 stride-1 convolution
    before each stride-2 one; that costs six times as much and left too few steps for a CPU run
    (150 steps in the time DCGAN took 1,000), so it is left out.
    """

    def __init__(self, *, image_size: int = 64, width: int = 32) -> None:
        super().__init__()
        stages = check_image_size(image_size)
        self.image_size = image_size
        layers: list[nn.Module] = []
        channels, previous = width, 3
        for _ in range(stages):  # halve the resolution down to 4 x 4
            layers += [_sn(nn.Conv2d(previous, channels, 4, 2, 1), 1.0), nn.LeakyReLU(0.1, True)]
            previous, channels = channels, channels * 2
        self.features = nn.Sequential(*layers)
        self.linear = _sn(nn.Linear(previous * 16, 1), 1.0)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.linear(self.features(to_signed(images)).flatten(1)).flatten()


class UpBlock(nn.Module):
    """BN-ReLU-upsample-conv3-BN-ReLU-conv3, plus upsample-conv1 on the shortcut."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.conv1 = _xavier(nn.Conv2d(in_channels, out_channels, 3, 1, 1), math.sqrt(2))
        self.norm2 = nn.BatchNorm2d(out_channels)
        self.conv2 = _xavier(nn.Conv2d(out_channels, out_channels, 3, 1, 1), math.sqrt(2))
        self.shortcut = _xavier(nn.Conv2d(in_channels, out_channels, 1), 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.interpolate(F.relu(self.norm1(x)), scale_factor=2)
        h = self.conv2(F.relu(self.norm2(self.conv1(h))))
        return h + self.shortcut(F.interpolate(x, scale_factor=2))


class DownBlock(nn.Module):
    """[ReLU]-conv3-ReLU-conv3-[avgpool], plus conv1-[avgpool] on the shortcut (spectral norm).

    The first block of the discriminator (``first=True``) sees the image itself: no ReLU before
    its first convolution, and the shortcut pools before its convolution (the paper's
    "optimized block").
    """

    def __init__(
        self, in_channels: int, out_channels: int, down: bool, first: bool = False
    ) -> None:
        super().__init__()
        self.down, self.first = down, first
        self.conv1 = _sn(nn.Conv2d(in_channels, out_channels, 3, 1, 1), math.sqrt(2))
        self.conv2 = _sn(nn.Conv2d(out_channels, out_channels, 3, 1, 1), math.sqrt(2))
        self.learn_shortcut = down or in_channels != out_channels
        if self.learn_shortcut:
            self.shortcut = _sn(nn.Conv2d(in_channels, out_channels, 1), 1.0)

    def _pool(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 2) if self.down else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(x if self.first else F.relu(x))
        h = self._pool(self.conv2(F.relu(h)))
        if not self.learn_shortcut:
            return h + x
        skip = self.shortcut(self._pool(x)) if self.first else self._pool(self.shortcut(x))
        return h + skip


class ResGenerator(ImageGenerator):
    """SNGAN generator: noise -> linear to 4 x 4 -> residual up blocks -> BN-ReLU-conv3-tanh."""

    def __init__(self, *, latent_dim: int = 128, image_size: int = 64, width: int = 32) -> None:
        super().__init__()
        stages = check_image_size(image_size)
        self.latent_dim, self.image_size = latent_dim, image_size
        channels = [width * 2 ** max(stages - 1 - i, 0) for i in range(stages + 1)]
        self.top_channels = channels[0]
        self.linear = _xavier(nn.Linear(latent_dim, 16 * channels[0]), 1.0)
        self.blocks = nn.Sequential(*(UpBlock(a, b) for a, b in pairwise(channels)))
        self.norm = nn.BatchNorm2d(channels[-1])
        self.to_rgb = _xavier(nn.Conv2d(channels[-1], 3, 3, 1, 1), 1.0)

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        h = self.linear(noise).view(len(noise), self.top_channels, 4, 4)
        return torch.tanh(self.to_rgb(F.relu(self.norm(self.blocks(h)))))


class ResDiscriminator(nn.Module):
    """SNGAN discriminator: images (uint8 or [-1, 1] float) -> one hinge-loss score per image."""

    def __init__(self, *, image_size: int = 64, width: int = 32) -> None:
        super().__init__()
        stages = check_image_size(image_size)
        self.image_size = image_size
        blocks: list[nn.Module] = [DownBlock(3, width, down=True, first=True)]
        channels = width
        for _ in range(stages - 2):  # down to 8 x 8
            blocks.append(DownBlock(channels, channels * 2, down=True))
            channels *= 2
        blocks.append(DownBlock(channels, channels, down=False))
        self.blocks = nn.Sequential(*blocks)
        self.linear = _sn(nn.Linear(channels, 1), 1.0)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.blocks(to_signed(images))).sum(dim=(2, 3))
        return self.linear(h).flatten()
