"""Observation frames: HWC uint8 pixels from the env -> channel-first tensors, and frame stacks.

A flat vector observation (a state vector, a detector's object list) is a "frame" of shape
``(D,)`` in float32; it is stacked the same way, ``k`` vectors concatenated.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

from visiongym.sims.errors import UsageError

__all__ = ["frame_shape", "frame_dtype", "to_frames", "FrameStacker", "check_pixel_space", "is_vector_space"]

_GREY = torch.tensor([0.299, 0.587, 0.114])


def is_vector_space(space: gym.Space) -> bool:
    """A flat float Box: a state vector or a detector's object list."""
    return isinstance(space, gym.spaces.Box) and len(space.shape) == 1 and np.issubdtype(space.dtype, np.floating)


def check_pixel_space(space: gym.Space, algo: str, vectors: bool = False) -> None:
    """Refuse anything but ``uint8`` (H, W, C) image observations (or, with ``vectors``, flat
    float vectors), with a hint."""
    if vectors and is_vector_space(space):
        return
    if not (
        isinstance(space, gym.spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 3
    ):
        also = " or a flat float vector (with --encoder mlp)" if vectors else ""
        raise UsageError(
            f"{algo} learns from pixels and needs a uint8 (H, W, C) image observation space{also}; got "
            f"{space}. For the soccer env pass --env-kwargs obs_mode=pixels, or use ppo/sac/a2c "
            "for state vectors"
        )


def frame_shape(space: gym.spaces.Box, grayscale: bool = False) -> tuple[int, ...]:
    """Channel-first shape of one frame from an (H, W, C) space; ``(D,)`` for a vector."""
    if len(space.shape) == 1:
        return (int(space.shape[0]),)
    height, width, channels = space.shape
    return (1 if grayscale else channels, height, width)


def frame_dtype(shape: tuple[int, ...]) -> torch.dtype:
    """How frames of ``shape`` are stored: uint8 images, float32 vectors."""
    return torch.float32 if len(shape) == 1 else torch.uint8


def to_frames(
    observations: np.ndarray, device: torch.device, grayscale: bool = False
) -> torch.Tensor:
    """(N, H, W, C) uint8 array -> (N, C, H, W) uint8 tensor on ``device`` (optionally grey);
    (N, D) vectors -> (N, D) float32."""
    array = np.asarray(observations)
    if array.ndim == 2:
        return torch.as_tensor(array, dtype=torch.float32, device=device)
    frames = torch.as_tensor(array, device=device).permute(0, 3, 1, 2)
    if grayscale and frames.shape[1] == 3:
        weights = _GREY.to(device)[None, :, None, None]
        frames = (frames.float() * weights).sum(1, keepdim=True).round_().clamp_(0, 255).byte()
    return frames.contiguous()


class FrameStacker:
    """The last ``stack`` frames of ``num_envs`` envs; a new episode repeats its first frame.

    This is the acting-time twin of :meth:`FrameStackReplay.stacked`, which pads the same way.
    ``dtype`` defaults to :func:`frame_dtype` of ``frame_shape``.
    """

    def __init__(self, num_envs: int, frame_shape: tuple[int, ...], stack: int, device: torch.device,
                 dtype: torch.dtype | None = None):
        self.stack = stack
        dtype = frame_dtype(tuple(frame_shape)) if dtype is None else dtype
        self.frames = torch.zeros((num_envs, stack, *frame_shape), dtype=dtype, device=device)

    def push(self, frames: torch.Tensor, first: torch.Tensor | np.ndarray | None = None) -> None:
        """Append ``frames`` (N, C, H, W); envs flagged in ``first`` restart their stack."""
        self.frames = torch.roll(self.frames, -1, dims=1)
        self.frames[:, -1] = frames
        if first is not None:
            mask = torch.as_tensor(np.asarray(first), device=self.frames.device)
            if bool(mask.any()):
                self.frames[mask] = frames[mask][:, None].expand(-1, self.stack, *frames.shape[1:])

    def reset(self, frames: torch.Tensor) -> None:
        """Start every env's stack from ``frames``."""
        self.frames[:] = frames[:, None]

    def observation(self) -> torch.Tensor:
        """(N, stack*C, H, W), oldest frame first ((N, stack*D) for vectors)."""
        return self.frames.flatten(1, 2)
