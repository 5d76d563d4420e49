"""An MLP encoder for flat vector observations (a state vector, a detector's object list).

It lets the pixel agents' Q-head and training loop run on vectors unchanged, so an agent on the
state or on detected objects differs from one on pixels only in what it sees. Stacked vectors
(``k`` observations concatenated) are one longer vector here.
"""

from __future__ import annotations

import gymnasium as gym
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from visiongym.sims.errors import UsageError
from visiongym.vision.encoders.registry import register_model

__all__ = ["MLPEncoder"]


@register_model("mlp")
class MLPEncoder(BaseFeaturesExtractor):
    """``Linear -> ReLU`` layers of ``hidden`` sizes, then ``Linear -> ReLU`` to ``features_dim``.

    Args:
        observation_space: a 1-D Box (float values, used as they are).
        features_dim: size of the output features.
        hidden: sizes of the hidden layers before the output one.
    """

    def __init__(self, observation_space: gym.Space, features_dim: int = 256, hidden: tuple[int, ...] = (256,)) -> None:
        super().__init__(observation_space, features_dim)
        if not isinstance(observation_space, gym.spaces.Box) or len(observation_space.shape) != 1:
            raise UsageError(
                f"mlp encodes flat vector observations (a 1-D Box); got {observation_space}. For images "
                "choose an image encoder: nature_cnn, impala_resnet, small_resnet"
            )
        sizes = (int(observation_space.shape[0]), *hidden, features_dim)
        layers: list[nn.Module] = []
        for size_in, size_out in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(size_in, size_out), nn.ReLU()]
        self.net = nn.Sequential(*layers)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.net(observations.float())
