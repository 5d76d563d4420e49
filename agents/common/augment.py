"""Random-shift augmentation (DrQ, Kostrikov et al. 2020): pad with edge pixels, crop back."""

from __future__ import annotations

import torch

__all__ = ["random_shift", "replicate_pad"]


def replicate_pad(images: torch.Tensor, pad: int) -> torch.Tensor:
    """Pad (B, C, H, W) by ``pad`` pixels repeating the edges, in any dtype (uint8 included).

    Slice copies instead of ``F.pad(mode="replicate")``, which needs floats and is several times
    slower on the CPU for uint8 batches.
    """
    batch, channels, height, width = images.shape
    padded = images.new_empty((batch, channels, height + 2 * pad, width + 2 * pad))
    padded[:, :, pad : pad + height, pad : pad + width] = images
    padded[:, :, :pad, pad : pad + width] = images[:, :, :1]
    padded[:, :, pad + height :, pad : pad + width] = images[:, :, -1:]
    padded[:, :, :, :pad] = padded[:, :, :, pad : pad + 1]
    padded[:, :, :, pad + width :] = padded[:, :, :, pad + width - 1 : pad + width]
    return padded


def random_shift(images: torch.Tensor, pad: int = 4, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift each image of ``images`` (B, C, H, W) by up to ``pad`` pixels in x and y.

    Integer shifts with replicated edges, so no blur, and the dtype is kept: uint8 stays uint8.
    Channels-last input (NHWC memory, what the Q-networks use on the CPU) is shifted with one
    row gather and stays channels-last; other layouts are cropped image by image from a padded
    copy. Both give the same pixels for the same generator state.
    """
    if pad <= 0:
        return images
    batch, channels, height, width = images.shape
    shifts = torch.randint(0, 2 * pad + 1, (batch, 2), device=images.device, generator=generator)
    pixels = images.permute(0, 2, 3, 1)  # (B, H, W, C)
    if pixels.is_contiguous():
        # out[b, y, x] = in[b, clamp(y + dy - pad), clamp(x + dx - pad)]: the replicate-padded crop
        ys = torch.arange(height, device=images.device)[None] + shifts[:, :1] - pad
        xs = torch.arange(width, device=images.device)[None] + shifts[:, 1:] - pad
        base = torch.arange(batch, device=images.device)[:, None, None] * height
        index = ((base + ys.clamp_(0, height - 1)[:, :, None]) * width + xs.clamp_(0, width - 1)[:, None, :])
        rows = pixels.reshape(batch * height * width, channels).index_select(0, index.flatten())
        return rows.view(batch, height, width, channels).permute(0, 3, 1, 2)
    padded = replicate_pad(images, pad)
    out = torch.empty_like(images)
    for index, (dy, dx) in enumerate(shifts.tolist()):
        out[index] = padded[index, :, dy : dy + height, dx : dx + width]
    return out
