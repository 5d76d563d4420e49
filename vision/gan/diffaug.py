"""Differentiable augmentation (DiffAugment; Zhao et al., NeurIPS 2020) for small-data GANs.

With a few hundred frames the discriminator memorises the real set, its feedback stops meaning
anything and the generator collapses. DiffAugment applies the *same family* of random
transformations to real and generated frames every time the discriminator sees them, in both the
discriminator's and the generator's step; the transforms are differentiable, so the generator
still gets gradients through them. The three policies of the paper, on [-1, 1] images:

- ``colour``: random brightness (+-0.5), saturation (x0-2) and contrast (x0.5-1.5) per image;
- ``translation``: shift by up to 1/8 of the side, zero padding;
- ``cutout``: one square of half the side set to zero.

Random parameters are drawn on the CPU from ``generator`` (a seeded ``torch.Generator``), so a
resumed run draws the same ones as an uninterrupted run.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from visiongym.sims.errors import UsageError

__all__ = ["POLICIES", "check_policies", "diff_augment"]

POLICIES = ("colour", "translation", "cutout")


def check_policies(policies: Sequence[str]) -> tuple[str, ...]:
    """Return ``policies`` as a tuple; an unknown one raises naming it and the choices."""
    for policy in policies:
        if policy not in POLICIES:
            raise UsageError(
                f"DiffAugment policy {policy!r} unknown; choose any of: {', '.join(POLICIES)}"
            )
    return tuple(policies)


def _uniform(images: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.rand(len(images), 1, 1, 1, generator=generator).to(images.device, images.dtype)


def _colour(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    x = x + (_uniform(x, generator) - 0.5)
    grey = x.mean(dim=1, keepdim=True)
    x = (x - grey) * (_uniform(x, generator) * 2) + grey
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_uniform(x, generator) + 0.5) + mean


def _offsets(count: int, low: int, high: int, generator: torch.Generator | None) -> torch.Tensor:
    return torch.randint(low, high + 1, (count, 1, 1), generator=generator)


def _translation(
    x: torch.Tensor, generator: torch.Generator | None, ratio: float = 0.125
) -> torch.Tensor:
    n, _, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = _offsets(n, -sy, sy, generator).to(x.device)
    dx = _offsets(n, -sx, sx, generator).to(x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    # Index into a copy padded by one zero pixel: out-of-range reads land on the padding.
    src_y = (rows + dy + 1).clamp(0, h + 1).expand(n, h, w)
    src_x = (cols + dx + 1).clamp(0, w + 1).expand(n, h, w)
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1)).permute(0, 2, 3, 1)
    batch = torch.arange(n, device=x.device).view(n, 1, 1).expand(n, h, w)
    return padded[batch, src_y, src_x].permute(0, 3, 1, 2)


def _cutout(x: torch.Tensor, generator: torch.Generator | None, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = _offsets(n, 0, h - (ch % 2), generator).to(x.device) - ch // 2
    left = _offsets(n, 0, w - (cw % 2), generator).to(x.device) - cw // 2
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


_TRANSFORMS = {"colour": _colour, "translation": _translation, "cutout": _cutout}


def diff_augment(
    images: torch.Tensor, policies: Sequence[str], generator: torch.Generator | None = None
) -> torch.Tensor:
    """Apply the ``policies`` (in the order colour, translation, cutout) to [-1, 1] images."""
    for policy in POLICIES:
        if policy in policies:
            images = _TRANSFORMS[policy](images, generator)
    return images
