"""Depth networks: the stacked hourglass of the paper (per-player crops) and a small U-Net (frames).

:class:`StackedHourglass` follows Newell et al. (2016) as the paper's code uses it: a stem
(7 x 7 convolution, residual blocks, pooling to the output stride), then ``stacks`` hourglasses,
each a recursive down/up path of pre-activation residual blocks with a skip at every scale,
followed by a 1 x 1 head; every stack's prediction is mapped back into the features for the next
(intermediate supervision). Input: RGB (uint8, normalised inside) plus the mask channel; output:
one map per stack of ``out_channels`` at ``crop_size / stride``. ``out_channels`` is ``B + 1``
classes for the paper's classification, 2 (relative depth in bins, mask logit) for the
regression ablation.

:class:`DepthUNet` regresses log-depth of a whole frame (trained with the scale-invariant loss).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from visiongym.vision.registry import Registry

__all__ = ["Residual", "Hourglass", "StackedHourglass", "DepthUNet", "DEPTH_MODELS"]

DEPTH_MODELS: Registry[nn.Module] = Registry("depth model")


def _normalise(rgb: torch.Tensor) -> torch.Tensor:
    return (rgb.float() / 255.0 - 0.5) / 0.25 if rgb.dtype == torch.uint8 else (rgb - 0.5) / 0.25


class Residual(nn.Module):
    """Pre-activation bottleneck residual block (BN-ReLU-conv, 1x1 / 3x3 / 1x1)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        mid = max(cout // 2, 1)
        self.body = nn.Sequential(
            nn.BatchNorm2d(cin), nn.ReLU(inplace=True), nn.Conv2d(cin, mid, 1),
            nn.BatchNorm2d(mid), nn.ReLU(inplace=True), nn.Conv2d(mid, mid, 3, padding=1),
            nn.BatchNorm2d(mid), nn.ReLU(inplace=True), nn.Conv2d(mid, cout, 1),
        )
        self.skip = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.skip(x)


class Hourglass(nn.Module):
    """One hourglass of ``depth`` levels: skip branch + (pool, residual, inner, residual, upsample)."""

    def __init__(self, depth: int, features: int) -> None:
        super().__init__()
        self.skip = Residual(features, features)
        self.down = Residual(features, features)
        self.inner = Hourglass(depth - 1, features) if depth > 1 else Residual(features, features)
        self.up = Residual(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = self.up(self.inner(self.down(F.max_pool2d(x, 2))))
        return self.skip(x) + F.interpolate(low, size=x.shape[-2:], mode="nearest")


class StackedHourglass(nn.Module):
    """``stacks`` hourglasses with intermediate supervision; ``forward`` returns one output per stack."""

    def __init__(self, out_channels: int, stacks: int = 2, features: int = 64, depth: int = 3,
                 stride: int = 2, in_channels: int = 4) -> None:
        super().__init__()
        self.out_channels, self.stacks, self.stride = out_channels, stacks, stride
        half = features // 2
        stem: list[nn.Module] = [nn.Conv2d(in_channels, half, 7, stride=2 if stride > 1 else 1, padding=3),
                                 nn.BatchNorm2d(half), nn.ReLU(inplace=True), Residual(half, half)]
        if stride == 4:
            stem.append(nn.MaxPool2d(2))
        stem += [Residual(half, half), Residual(half, features)]
        self.stem = nn.Sequential(*stem)
        self.hourglasses = nn.ModuleList(Hourglass(depth, features) for _ in range(stacks))
        self.features = nn.ModuleList(
            nn.Sequential(Residual(features, features), nn.Conv2d(features, features, 1),
                          nn.BatchNorm2d(features), nn.ReLU(inplace=True))
            for _ in range(stacks)
        )
        self.heads = nn.ModuleList(nn.Conv2d(features, out_channels, 1) for _ in range(stacks))
        self.remap_features = nn.ModuleList(nn.Conv2d(features, features, 1) for _ in range(stacks - 1))
        self.remap_outputs = nn.ModuleList(nn.Conv2d(out_channels, features, 1) for _ in range(stacks - 1))

    def forward(self, rgb: torch.Tensor, mask: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(torch.cat([_normalise(rgb), mask.float()[:, None] if mask.dim() == 3 else mask.float()], 1))
        outputs = []
        for k in range(self.stacks):
            features = self.features[k](self.hourglasses[k](x))
            output = self.heads[k](features)
            outputs.append(output)
            if k < self.stacks - 1:
                x = x + self.remap_features[k](features) + self.remap_outputs[k](output)
        return outputs


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class DepthUNet(nn.Module):
    """A small U-Net: RGB frame (uint8) -> log-depth map at the same size."""

    def __init__(self, width: int = 16, levels: int = 4) -> None:
        super().__init__()
        channels = [width * 2**k for k in range(levels)]
        self.down = nn.ModuleList(_block(3 if k == 0 else channels[k - 1], channels[k]) for k in range(levels))
        self.up = nn.ModuleList(_block(channels[k] + channels[k + 1], channels[k]) for k in range(levels - 1))
        self.head = nn.Conv2d(channels[0], 1, 1)

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        x, skips = _normalise(rgb), []
        for k, block in enumerate(self.down):
            x = block(x if k == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        for k in reversed(range(len(self.up))):
            x = self.up[k](torch.cat([skips[k], F.interpolate(x, size=skips[k].shape[-2:], mode="bilinear",
                                                              align_corners=False)], 1))
        return self.head(x)[:, 0]


@DEPTH_MODELS.register("hourglass")
def hourglass(*, out_channels: int, stacks: int = 2, features: int = 64, depth: int = 3, stride: int = 2) -> StackedHourglass:
    return StackedHourglass(out_channels, stacks=stacks, features=features, depth=depth, stride=stride)


@DEPTH_MODELS.register("unet")
def unet(*, width: int = 16, levels: int = 4) -> DepthUNet:
    return DepthUNet(width=width, levels=levels)
