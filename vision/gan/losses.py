"""GAN losses: the non-saturating cross-entropy of DCGAN and the hinge loss of SNGAN.

Both take the discriminator's raw scores (one per image). ``label_smoothing`` is one-sided, as
Salimans et al. (2016) recommend: real frames are labelled ``1 - label_smoothing`` and generated
ones 0, which keeps a cross-entropy critic from saturating early. The hinge loss has no labels to
smooth.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from visiongym.sims.errors import UsageError

__all__ = ["LOSSES", "discriminator_loss", "generator_loss"]

LOSSES = ("nonsaturating", "hinge")


def _check(loss: str) -> str:
    if loss not in LOSSES:
        raise UsageError(f"GAN loss {loss!r} unknown; choose one of: {', '.join(LOSSES)}")
    return loss


def discriminator_loss(
    loss: str, real: torch.Tensor, fake: torch.Tensor, label_smoothing: float = 0.0
) -> torch.Tensor:
    """The discriminator's loss from its scores on real and on generated frames."""
    if _check(loss) == "hinge":
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    return F.binary_cross_entropy_with_logits(
        real, torch.full_like(real, 1.0 - label_smoothing)
    ) + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))


def generator_loss(loss: str, fake: torch.Tensor) -> torch.Tensor:
    """The generator's loss from the discriminator's scores on its frames."""
    if _check(loss) == "hinge":
        return -fake.mean()
    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
