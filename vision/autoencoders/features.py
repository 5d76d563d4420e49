"""A frozen pretrained autoencoder encoder as a Stable-Baselines3 feature extractor.

Example::

    from stable_baselines3 import PPO
    from vision.autoencoders.features import FrozenEncoderExtractor

    model = PPO("CnnPolicy", env, policy_kwargs=dict(
        features_extractor_class=FrozenEncoderExtractor,
        features_extractor_kwargs=dict(checkpoint="runs/.../autoencoder.pt", features_dim=256)))

The encoder's weights never change (``requires_grad=False``, kept in eval mode so batch-norm
statistics stay those of pretraining); only a linear projection of the flattened code is trained.
SB3 hands image observations over as float in [0, 1] (channel-first), which the encoder accepts.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from vision.autoencoders.evaluate import load_autoencoder

__all__ = ["FrozenEncoderExtractor"]


class FrozenEncoderExtractor(BaseFeaturesExtractor):
    """Frozen AE encoder, flatten, trainable ``Linear -> ReLU`` to ``features_dim``.

    Args:
        observation_space: channel-first image Box (SB3 transposes HWC images for us).
        checkpoint: autoencoder checkpoint from ``vision.autoencoders.train``.
        features_dim: output size.
        freeze: keep encoder weights fixed (False fine-tunes them end to end).
    """

    def __init__(
        self,
        observation_space: gym.spaces.Box,
        checkpoint: str | Path,
        features_dim: int = 256,
        freeze: bool = True,
    ) -> None:
        super().__init__(observation_space, features_dim)
        autoencoder, meta = load_autoencoder(checkpoint, "cpu")
        shape = tuple(observation_space.shape)
        expected = (autoencoder.in_channels, *autoencoder.image_size)
        if shape != expected:
            raise ValueError(
                f"observation shape {shape} does not match the autoencoder's input {expected} "
                f"(checkpoint {str(checkpoint)!r}); render the env at image_size={autoencoder.image_size}"
            )
        self.encoder = autoencoder
        del self.encoder.ups, self.encoder.head, self.encoder.from_code  # decoder is not needed
        self.freeze = freeze
        if freeze:
            self.encoder.requires_grad_(False)
        self.project = nn.Sequential(
            nn.Flatten(),
            nn.Linear(int(torch.tensor(autoencoder.code_shape).prod()), features_dim),
            nn.ReLU(),
        )
        self.meta = meta

    def train(self, mode: bool = True) -> FrozenEncoderExtractor:
        super().train(mode)
        if self.freeze:
            self.encoder.eval()
        return self

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        if self.freeze:
            with torch.no_grad():
                code = self.encoder.encode(observations)
        else:
            code = self.encoder.encode(observations)
        return self.project(code)
