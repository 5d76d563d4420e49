"""PSNR and SSIM the way super-resolution papers report them.

The convention (SRGAN, EDSR and the rest, after MATLAB's evaluation scripts): both images are
8-bit, converted to the luma channel Y of ITU-R BT.601 (``Y = 16 + 65.481 R + 128.553 G +
24.966 B`` for RGB in [0, 1], so Y lies in [16, 235] / 255), a border of ``scale`` pixels is
cut off every side (the pixels an upscaler cannot know), and PSNR (data range 1) and SSIM
(Gaussian window 11, sigma 1.5) are computed per image and averaged. :func:`sr_scores` also
gives PSNR on the RGB channels with the same border.
"""

from __future__ import annotations

import torch

from visiongym.vision.metrics import psnr, ssim

__all__ = ["luma", "quantize", "shave", "sr_scores"]

_BT601 = (65.481, 128.553, 24.966)


def quantize(images: torch.Tensor) -> torch.Tensor:
    """Float [0, 1] images rounded to 8 bits, as an upscaler's output is stored (uint8 passes)."""
    if images.dtype == torch.uint8:
        return images
    return (images.clamp(0.0, 1.0) * 255.0).round_().to(torch.uint8)


def luma(images: torch.Tensor) -> torch.Tensor:
    """BT.601 Y of uint8 (or [0, 1] float) RGB images, N x 1 x H x W on the [0, 1] scale."""
    rgb = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
    weights = torch.tensor(_BT601, device=rgb.device).view(1, 3, 1, 1)
    return ((rgb * weights).sum(dim=1, keepdim=True) + 16.0) / 255.0


def shave(images: torch.Tensor, border: int) -> torch.Tensor:
    """Cut ``border`` pixels off each side."""
    return images[..., border:-border, border:-border] if border > 0 else images


def sr_scores(upscaled: torch.Tensor, reference: torch.Tensor, border: int) -> dict[str, float]:
    """``psnr_y``, ``ssim_y`` and ``psnr_rgb`` of 8-bit upscaled frames against the HR frames.

    Args:
        upscaled: uint8 frames, or float [0, 1] frames (quantised to 8 bits first).
        reference: the uint8 HR frames, same shape.
        border: pixels cut off each side (the scale factor, by convention).
    """
    if upscaled.shape != reference.shape:
        raise ValueError(
            f"upscaled frames {tuple(upscaled.shape)} and references {tuple(reference.shape)} differ in shape"
        )
    upscaled, reference = quantize(upscaled), quantize(reference)
    y_up, y_ref = shave(luma(upscaled), border), shave(luma(reference), border)
    return {
        "psnr_y": psnr(y_up, y_ref),
        "ssim_y": ssim(y_up, y_ref),
        "psnr_rgb": psnr(
            shave(upscaled.float() / 255.0, border), shave(reference.float() / 255.0, border)
        ),
    }
