"""Convolutional encoders for pixel observations: Nature CNN, IMPALA ResNet and a small ResNet.

Layout, as in torchvision: helpers -> blocks -> models. Every model is an SB3
``BaseFeaturesExtractor`` that reads channel-first images in the 0..255 range (``uint8`` or
float) and returns ``features_dim`` features. Flattened sizes come from a dummy forward pass.
"""

from __future__ import annotations

import gymnasium as gym
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from visiongym.sims.errors import UsageError
from visiongym.vision.encoders.registry import register_model

__all__ = ["NatureCNN", "ImpalaResNet", "SmallResNet"]


def _image_shape(observation_space: gym.Space, name: str) -> tuple[int, int, int]:
    """Check for a channel-first (C, H, W) Box and return its shape."""
    if not isinstance(observation_space, gym.spaces.Box) or len(observation_space.shape) != 3:
        raise UsageError(
            f"{name} needs a channel-first image Box observation space (C, H, W); got "
            f"{observation_space}"
        )
    channels, height, width = observation_space.shape
    if channels > height or channels > width:
        raise UsageError(
            f"{name} expects channel-first images (C, H, W) but got shape "
            f"{observation_space.shape}; transpose HWC images first"
        )
    return channels, height, width


def _flat_size(trunk: nn.Module, shape: tuple[int, int, int]) -> int:
    with torch.no_grad():
        return int(trunk(torch.zeros(1, *shape)).flatten(1).shape[1])


class _PixelEncoder(BaseFeaturesExtractor):
    """Shared forward: 0..255 pixels -> 0..1 floats -> ``trunk`` -> flatten -> ``head``."""

    trunk: nn.Module
    head: nn.Module

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        x = observations.float().div_(255.0) if observations.dtype == torch.uint8 else (
            observations / 255.0
        )
        return self.head(self.trunk(x).flatten(1))

    def _finish(self, shape: tuple[int, int, int], features_dim: int) -> None:
        """Build the dense head from the trunk's output size (dummy forward pass)."""
        flat = _flat_size(self.trunk, shape)
        self.head = nn.Sequential(nn.Linear(flat, features_dim), nn.ReLU())


class _ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv0 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv1(torch.relu(self.conv0(torch.relu(x))))


class _ImpalaStage(nn.Module):
    """conv -> max-pool /2 -> two residual blocks (Espeholt et al., 2018)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.res0 = _ResidualBlock(out_channels)
        self.res1 = _ResidualBlock(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res1(self.res0(self.pool(self.conv(x))))


@register_model("nature_cnn")
class NatureCNN(_PixelEncoder):
    """DQN Nature CNN: conv 32·8×8/4 → 64·4×4/2 → 64·3×3/1 → linear ``features_dim`` (Mnih 2015).

    Args:
        observation_space: channel-first image Box; the input needs H, W >= 36.
        features_dim: size of the output features (512 in the paper).
    """

    def __init__(self, observation_space: gym.Space, features_dim: int = 512) -> None:
        super().__init__(observation_space, features_dim)
        shape = _image_shape(observation_space, "nature_cnn")
        if min(shape[1:]) < 36:
            raise UsageError(
                f"nature_cnn needs images of at least 36x36 pixels; got {shape[1]}x{shape[2]} "
                "(use small_resnet for tiny images)"
            )
        self.trunk = nn.Sequential(
            nn.Conv2d(shape[0], 32, 8, stride=4),
            nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2),
            nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=1),
            nn.ReLU(),
        )
        self._finish(shape, features_dim)


@register_model("impala_resnet")
class ImpalaResNet(_PixelEncoder):
    """IMPALA ResNet encoder: three stages (16, 32, 32 channels) of conv, pool, two residual blocks.

    Args:
        observation_space: channel-first image Box.
        features_dim: size of the output features (256 in the IMPALA paper).
        channels: output channels of each stage.
    """

    def __init__(
        self,
        observation_space: gym.Space,
        features_dim: int = 256,
        channels: tuple[int, ...] = (16, 32, 32),
    ) -> None:
        super().__init__(observation_space, features_dim)
        shape = _image_shape(observation_space, "impala_resnet")
        stages, previous = [], shape[0]
        for out in channels:
            stages.append(_ImpalaStage(previous, out))
            previous = out
        self.trunk = nn.Sequential(*stages, nn.ReLU())
        self._finish(shape, features_dim)


@register_model("small_resnet")
class SmallResNet(_PixelEncoder):
    """A light residual encoder for small images: stride-2 conv stem, two residual stages.

    Cheaper than the IMPALA ResNet and works down to 8x8 inputs (CatchBall, tiny pitches).

    Args:
        observation_space: channel-first image Box.
        features_dim: size of the output features.
        width: channels of the stem and residual blocks.
    """

    def __init__(self, observation_space: gym.Space, features_dim: int = 256, width: int = 32) -> None:
        super().__init__(observation_space, features_dim)
        shape = _image_shape(observation_space, "small_resnet")
        self.trunk = nn.Sequential(
            nn.Conv2d(shape[0], width, 3, stride=2, padding=1),
            _ResidualBlock(width),
            nn.Conv2d(width, width, 3, stride=2, padding=1),
            _ResidualBlock(width),
            nn.ReLU(),
        )
        self._finish(shape, features_dim)
