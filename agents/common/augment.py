"""Random-shift augmentation (DrQ, Kostrikov et al. 2020): pad with edge pixels, crop back."""

from __future__ import annotations

import torch

__all__ = ["random_shift"]


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
