"""The shared part of the pretrained encoders: a trunk loaded from a checkpoint, run on every frame.

An agent's observation is a channel stack of ``k`` frames; the trunk (an autoencoder's encoder, a
detector's backbone) was trained on single frames, so each frame is encoded alone and the ``k``
codes are concatenated (as SAC-AE does with its stack), then a trainable ``Linear -> ReLU`` maps
them to ``features_dim``.

``freeze=True`` keeps the trunk's weights fixed (``requires_grad=False``, no gradient computed
through it); ``freeze=False`` fine-tunes them with the rest of the agent. Either way the trunk's
batch-norm layers stay in eval mode with their pretraining statistics, as torchvision's detection
models fine-tune with frozen batch norm: a replay batch of correlated frames is a poor estimate
of the image statistics, and the online and target networks then see the same normalisation.
"""

from __future__ import annotations

import gymnasium as gym
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from visiongym.sims.errors import UsageError

__all__ = ["PretrainedFrameEncoder", "PIXEL_RANGES"]

PIXEL_RANGES = (1.0, 255.0)
"""What a float pixel of full intensity may be: 1.0 (SB3's ``normalize_images=True``) or 255.0."""


class PretrainedFrameEncoder(BaseFeaturesExtractor):
    """Base class: a subclass builds its trunk, then calls :meth:`finish`; it defines
    :meth:`pretrained` (the loaded module) and :meth:`encode_frames` (frames in [0, 1] -> codes).

    Pixels: ``uint8`` tensors are divided by 255, float tensors by ``pixel_range``.
    """

    freeze: bool
    frames: int
    code_size: int
    project: nn.Module

    def pretrained(self) -> nn.Module:
        """The module loaded from the checkpoint (frozen, or fine-tuned)."""
        raise NotImplementedError

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """Single frames (N, C, H, W), floats in [0, 1], to codes (N, ...)."""
        raise NotImplementedError

    @staticmethod
    def require(checkpoint: object, name: str, trainer: str, filename: str) -> None:
        """Refuse a missing ``checkpoint``, saying which command writes one and which option takes it."""
        if checkpoint is None:
            raise UsageError(
                f"the {name} encoder needs a checkpoint of {trainer} "
                f"(visiongym.agents.train: --encoder-checkpoint runs/.../{filename})"
            )

    def finish(
        self,
        observation_space: gym.Space,
        frame_shape: tuple[int, int, int],
        code_size: int,
        features_dim: int,
        freeze: bool,
        pixel_range: float,
        what: str,
        checkpoint: object,
    ) -> None:
        """Check the observation against the trunk's frame shape, freeze, and build the projection.

        Args:
            frame_shape: (C, H, W) of one frame the trunk was trained on.
            code_size: values in one frame's code.
            what: names the trunk in errors, e.g. ``the autoencoder's input``.
            checkpoint: the file it came from, named in errors.
        """
        if pixel_range not in PIXEL_RANGES:
            raise UsageError(f"pixel_range {pixel_range!r} unsupported; choose one of: 1.0, 255.0")
        shape = tuple(getattr(observation_space, "shape", ()) or ())
        channels, height, width = frame_shape
        if len(shape) != 3 or shape[0] % channels or tuple(shape[1:]) != (height, width):
            raise UsageError(
                f"observation shape {shape} does not match {what} {tuple(frame_shape)} (or a stack "
                f"of k such frames, (k * {channels}, ...)), checkpoint {str(checkpoint)!r}; render the env at "
                f"image_size={height}"
            )
        self.frames = shape[0] // channels
        self.code_size = int(code_size)
        """Values in one frame's code (the projection reads ``frames * code_size``)."""
        self.freeze = bool(freeze)
        self.pixel_range = float(pixel_range)
        if self.freeze:
            self.pretrained().requires_grad_(False)
        self.pretrained().eval()
        self.project = nn.Sequential(nn.Flatten(), nn.Linear(self.frames * code_size, features_dim), nn.ReLU())

    def train(self, mode: bool = True) -> PretrainedFrameEncoder:
        super().train(mode)
        self.pretrained().eval()  # batch-norm statistics stay those of pretraining
        return self

    def frame_codes(self, frames: torch.Tensor) -> torch.Tensor:
        """Single frames (N, C, H, W), uint8 or floats (scaled as in :meth:`forward`), to flat
        codes (N, :attr:`code_size`): what a feature cache stores in place of the frames."""
        images = frames.float() / 255.0 if frames.dtype == torch.uint8 else frames.float() / self.pixel_range
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze):
            code = self.encode_frames(images)
        return code.reshape(len(frames), -1)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """Features of a channel stack of frames (B, k * C, H, W); or of the ``k`` frames' codes
        already concatenated (B, k * :attr:`code_size`), as a feature cache stores them (the same
        features: the trunk is skipped, only the projection runs)."""
        if observations.dim() == 2:
            return self.project(observations)
        batch, _, height, width = observations.shape
        frames = observations.reshape(batch * self.frames, -1, height, width)
        return self.project(self.frame_codes(frames).reshape(batch, -1))
