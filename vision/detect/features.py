"""A pretrained grid detector's backbone as an agent's encoder (the encoder zoo's ``detector``).

    visiongym train dqn ... --encoder detector --encoder-checkpoint runs/det/detector.pt [--no-freeze-encoder]

The backbone is the detector's strided stages (:class:`visiongym.vision.detect.model.GridDetector`:
``len(widths)`` conv + residual stages, each halving the size); its deepest feature map (128 x 3 x 3
for ``grid_small``/``grid_fine`` at 48 px) is each frame's code. The feature pyramid, the neck and
the per-cell head are left out: they turn the features into boxes, which is the other way of
feeding an agent (``--detector``, :mod:`visiongym.vision.detect.wrapper`). Stacked frames are
encoded one at a time, then a trainable ``Linear -> ReLU`` maps the codes to ``features_dim``
(:class:`visiongym.vision.encoders.pretrained.PretrainedFrameEncoder`, shared with the autoencoder's
encoder): frozen by default, fine-tuned with ``freeze=False``.

Frames must have the detector's training size: the backbone is convolutional and would run on
other sizes, but its features would then describe objects at another scale than it learned, so a
mismatch is refused with the size to render the env at.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import torch
from torch import nn

from visiongym.sims.errors import UsageError
from visiongym.vision.detect.engine import FASTER_RCNN, load_detector
from visiongym.vision.encoders.pretrained import PretrainedFrameEncoder

__all__ = ["DetectorBackboneEncoder"]


class DetectorBackboneEncoder(PretrainedFrameEncoder):
    """A grid detector's backbone (per frame), flatten, trainable ``Linear -> ReLU``.

    Args:
        observation_space: channel-first RGB Box of one frame or a channel stack of frames, at the
            detector's image size; pixels in 0..255 (``uint8`` or float).
        features_dim: output size.
        checkpoint: detector checkpoint from ``visiongym.vision.detect.train`` (a grid detector).
        freeze: keep the backbone's weights fixed; False fine-tunes them with the agent.
    """

    def __init__(
        self,
        observation_space: gym.spaces.Box,
        features_dim: int = 256,
        checkpoint: str | Path | None = None,
        freeze: bool = True,
    ) -> None:
        super().__init__(observation_space, features_dim)
        self.require(checkpoint, "detector", "visiongym.vision.detect.train", "detector.pt")
        detector, payload = load_detector(checkpoint, "cpu")
        if detector.name == FASTER_RCNN:
            raise UsageError(
                f"checkpoint {str(checkpoint)!r} holds {FASTER_RCNN}; the detector encoder takes the backbone of a "
                "grid detector (grid_small, grid_fine, grid_tiny, grid_nano, grid_pico)"
            )
        self.stages = detector.net.stages
        size = detector.image_size
        with torch.no_grad():
            code_size = int(self.encode_frames(torch.zeros(1, 3, size, size)).numel())
        self.finish(observation_space, (3, size, size), code_size, features_dim, freeze, 255.0,
                    "the detector's input", checkpoint)
        self.meta = payload["meta"]

    def pretrained(self) -> nn.Module:
        return self.stages

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames * 2.0 - 1.0  # the detector's own input scaling (GridDetector.forward)
        for stage in self.stages:
            x = stage(x)
        return x
