"""Augmentations of sampled image batches.

- :func:`random_shift`: DrQ's random shift (Kostrikov et al. 2020): pad with edge pixels, crop back.
- :func:`colour_jitter`: photometric jitter (RAD, Laskin et al. 2020): per-sample brightness,
  contrast and per-channel colour gains, the same for every frame of a stack and for ``s`` and
  ``s'`` of one transition, so the agent sees each transition under one random light.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

__all__ = ["random_shift", "colour_jitter", "ColourJitterParams", "draw_colour_jitter"]


def random_shift(images: torch.Tensor, pad: int = 4, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift each image of ``images`` (B, C, H, W) by up to ``pad`` pixels in x and y.

    Integer shifts with replicated edges, so no blur, and the dtype is kept: uint8 stays uint8
    (shift uint8 batches before converting them: a quarter of the bytes to move). Channels-last
    input (NHWC memory) is shifted with one gather of pixel rows and stays channels-last; other
    layouts with one gather of image rows from a copy padded left and right. Both give the same
    pixels as cropping a replicate-padded copy, for the same generator state.
    """
    if pad <= 0:
        return images
    batch, channels, height, width = images.shape
    device = images.device
    shifts = torch.randint(0, 2 * pad + 1, (batch, 2), device=device, generator=generator)
    ys = (torch.arange(height, device=device)[None] + shifts[:, :1] - pad).clamp_(0, height - 1)  # (B, H)
    pixels = images.permute(0, 2, 3, 1)  # (B, H, W, C)
    if pixels.is_contiguous():
        # out[b, y, x] = in[b, clamp(y + dy - pad), clamp(x + dx - pad)]: the replicate-padded crop
        xs = torch.arange(width, device=device)[None] + shifts[:, 1:] - pad
        base = torch.arange(batch, device=device)[:, None, None] * height
        index = (base + ys[:, :, None]) * width + xs.clamp_(0, width - 1)[:, None, :]
        rows = pixels.reshape(batch * height * width, channels).index_select(0, index.flatten())
        return rows.view(batch, height, width, channels).permute(0, 3, 1, 2)
    # Rows padded left and right (replicated edges); the y shift picks (clamped) rows, the x shift
    # where in its padded row each output row starts. Overlapping windows of ``width`` values,
    # one starting at every element, turn that into a single index_select.
    padded_width = width + 2 * pad
    padded = images.new_empty((batch, channels, height, padded_width))
    padded[..., pad : pad + width] = images
    padded[..., :pad] = images[..., :1]
    padded[..., pad + width :] = images[..., -1:]
    planes = torch.arange(batch * channels, device=device).view(batch, channels, 1) * height
    starts = (planes + ys[:, None, :]) * padded_width + shifts[:, 1, None, None]  # (B, C, H)
    windows = padded.view(-1).as_strided((padded.numel() - width + 1, width), (1, 1))
    return windows.index_select(0, starts.flatten()).view(batch, channels, height, width)


class ColourJitterParams(NamedTuple):
    """One draw of :func:`draw_colour_jitter`: per-sample factors, broadcastable to (B, C, 1, 1)."""

    gains: torch.Tensor
    """(B, C) multiplicative gains: overall brightness times a per-channel colour cast."""
    contrast: torch.Tensor
    """(B,) contrast factors about each image's mean."""


def draw_colour_jitter(
    batch: int, channels: int, strength: float, device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
) -> ColourJitterParams:
    """Draw photometric factors for ``batch`` samples of ``channels`` colour channels.

    With strength ``s``: brightness ``exp(U(-s, s))``, a colour cast ``exp(U(-s/2, s/2))`` per
    channel (none for one grey channel) and contrast ``exp(U(-s/2, s/2))``. ``s = 0.5`` spans
    about 0.6-1.65x brightness, the range of the training looks' light intensities.
    """
    def uniform(*shape: int, half_width: float) -> torch.Tensor:
        values = torch.rand(shape, device=device, generator=generator)
        return torch.exp((2.0 * values - 1.0) * half_width)

    gains = uniform(batch, 1, half_width=strength)
    if channels > 1:
        gains = gains * uniform(batch, channels, half_width=strength / 2)
    else:
        gains = gains.expand(batch, channels)
    return ColourJitterParams(gains, uniform(batch, half_width=strength / 2))


def colour_jitter(images: torch.Tensor, params: ColourJitterParams, frame_channels: int) -> torch.Tensor:
    """Apply ``params`` to ``images`` (B, stack * frame_channels, H, W); the dtype is kept.

    Each frame of a stack gets the same factors; contrast scales about the per-sample mean of the
    whole stack. uint8 input is rounded and clipped back to uint8, floats are clipped to 0-255.
    """
    batch, channels, height, width = images.shape
    if channels % frame_channels:
        raise ValueError(f"{channels} channels are not a stack of {frame_channels}-channel frames")
    frames = images.float().view(batch, channels // frame_channels, frame_channels, height, width)
    frames = frames * params.gains[:, None, :, None, None]
    mean = frames.mean(dim=(1, 2, 3, 4), keepdim=True)
    frames = (frames - mean) * params.contrast[:, None, None, None, None] + mean
    frames = frames.clamp_(0.0, 255.0).view(batch, channels, height, width)
    if images.dtype == torch.uint8:
        return frames.round_().to(torch.uint8)
    return frames.to(images.dtype)
