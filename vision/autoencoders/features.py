"""A frozen pretrained autoencoder encoder as a Stable-Baselines3 feature extractor.

Example::

    from stable_baselines3 import PPO
    from visiongym.vision.autoencoders.features import FrozenEncoderExtractor

    model = PPO("CnnPolicy", env, policy_kwargs=dict(
        features_extractor_class=FrozenEncoderExtractor,
        features_extractor_kwargs=dict(checkpoint="runs/.../autoencoder.pt", features_dim=256)))

The encoder's weights never change (``requires_grad=False``, kept in eval mode so batch-norm
statistics stay those of pretraining); only a linear projection of the flattened code is trained.
``freeze=False`` (``visiongym.agents.train --no-freeze-encoder``) fine-tunes the encoder too.
Stacked frames (``k x C`` channels for an autoencoder of ``C`` channels) are encoded one frame at
a time and their codes concatenated, as SAC-AE does with its stack
(:class:`visiongym.vision.encoders.pretrained.PretrainedFrameEncoder`, shared with the detector's
backbone).

Pixel scale: ``uint8`` tensors are divided by 255; float tensors by ``pixel_range``, 1.0 for
SB3's default ``normalize_images=True`` (floats in [0, 1]). The encoder-zoo entry
``autoencoder`` (:class:`AutoencoderEncoder`, used by ``visiongym.agents.train --encoder autoencoder
--encoder-checkpoint ...``) reads 0..255 floats like every encoder in :mod:`visiongym.vision.encoders`.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import torch
from torch import nn

from visiongym.vision.autoencoders.evaluate import load_autoencoder
from visiongym.vision.encoders.pretrained import PretrainedFrameEncoder

__all__ = ["AutoencoderEncoder", "FrozenEncoderExtractor"]


class FrozenEncoderExtractor(PretrainedFrameEncoder):
    """Frozen AE encoder (per frame), flatten, trainable ``Linear -> ReLU`` to ``features_dim``.

    Args:
        observation_space: channel-first image Box of one frame or a channel stack of frames.
        checkpoint: autoencoder checkpoint from ``visiongym.vision.autoencoders.train``.
        features_dim: output size.
        freeze: keep encoder weights fixed (False fine-tunes them end to end; batch-norm
            statistics stay those of pretraining either way, see
            :mod:`visiongym.vision.encoders.pretrained`).
        pixel_range: what a float pixel value of full intensity is: 1.0 or 255.0.
    """

    def __init__(
        self,
        observation_space: gym.spaces.Box,
        checkpoint: str | Path | None = None,
        features_dim: int = 256,
        freeze: bool = True,
        pixel_range: float = 1.0,
    ) -> None:
        super().__init__(observation_space, features_dim)
        self.require(checkpoint, "autoencoder", "visiongym.vision.autoencoders.train", "autoencoder.pt")
        autoencoder, meta = load_autoencoder(checkpoint, "cpu")
        self.encoder = autoencoder
        del self.encoder.ups, self.encoder.head, self.encoder.from_code  # decoder is not needed
        code_size = int(torch.tensor(autoencoder.code_shape).prod())
        self.finish(observation_space, (autoencoder.in_channels, *autoencoder.image_size), code_size, features_dim,
                    freeze, pixel_range, "the autoencoder's input", checkpoint)
        self.meta = meta

    def pretrained(self) -> nn.Module:
        return self.encoder

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        return self.encoder.encode(frames)


class AutoencoderEncoder(FrozenEncoderExtractor):
    """:class:`FrozenEncoderExtractor` reading 0..255 pixels, as the encoder zoo does.

    The encoder zoo lists it as ``autoencoder`` (a lazy entry of
    :data:`visiongym.vision.encoders.ENCODERS`, so this module is imported on the first
    ``build_model("autoencoder", observation_space=..., features_dim=..., checkpoint=...)``);
    without ``checkpoint`` it raises and says which option to set.
    """

    def __init__(
        self,
        observation_space: gym.spaces.Box,
        features_dim: int = 256,
        checkpoint: str | Path | None = None,
        freeze: bool = True,
    ) -> None:
        super().__init__(observation_space, checkpoint, features_dim, freeze, pixel_range=255.0)
