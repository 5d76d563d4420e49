"""An exponential moving average (EMA) of the generator's weights, the copy that draws samples.

GAN weights oscillate from step to step as the two networks chase each other; the average of the
last few thousand steps draws cleaner, more stable frames than any single step's weights
(Yazici et al., ICLR 2019; used by ProGAN, StyleGAN and BigGAN). The EMA's decay is warmed up,
``min(decay, (1 + step) / (10 + step))``, as TensorFlow's ``ExponentialMovingAverage`` does with
``num_updates``: at 0.999 from the start, a run of a few hundred CPU steps would average mostly
its random initialisation. The effective horizon ``1 / (1 - decay)`` is about 30 steps at step
300 and reaches 1,000 steps only after ~10,000.

Batch-norm statistics are not averaged but copied from the trained generator, then measured
afresh for the averaged weights before the EMA draws samples (:func:`recalibrate_batch_norm`,
BigGAN's "standing statistics"), because statistics measured on one set of weights do not fit
another.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from visiongym.vision.gan.models import ImageGenerator

__all__ = ["GeneratorEMA", "ema_decay_at", "recalibrate_batch_norm"]


def ema_decay_at(decay: float, step: int) -> float:
    """The warmed-up decay used by the update after ``step`` steps."""
    return min(decay, (1 + step) / (10 + step))


class GeneratorEMA:
    """Keeps ``module``, an averaged copy of a generator (eval mode, no gradients)."""

    def __init__(self, generator: ImageGenerator, decay: float = 0.999) -> None:
        if not 0.0 <= decay < 1.0:
            from visiongym.sims.errors import UsageError

            raise UsageError(f"EMA decay {decay} must lie in [0, 1)")
        self.decay = decay
        self.module = copy.deepcopy(generator).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, generator: nn.Module, step: int) -> None:
        """Move the average towards ``generator``'s weights; copy its buffers."""
        weight = 1.0 - ema_decay_at(self.decay, step)
        for average, current in zip(self.module.parameters(), generator.parameters(), strict=True):
            average.lerp_(current, weight)
        for average, current in zip(self.module.buffers(), generator.buffers(), strict=True):
            average.copy_(current)


@torch.no_grad()
def recalibrate_batch_norm(
    generator: ImageGenerator, seed: int, batches: int = 8, batch_size: int = 64
) -> ImageGenerator:
    """Re-measure every batch-norm layer's running statistics on ``batches`` of fresh noise.

    The noise comes from its own seeded CPU generator, so calling this changes no other random
    stream. Leaves the generator in eval mode; a generator without batch norm is left as it is.
    """
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if norms:
        device = next(generator.parameters()).device
        noise = torch.Generator().manual_seed(seed)
        momenta = [norm.momentum for norm in norms]
        for norm in norms:
            norm.reset_running_stats()
            norm.momentum = None  # a cumulative average over the batches
        generator.train()
        for _ in range(batches):
            generator(torch.randn(batch_size, generator.latent_dim, generator=noise).to(device))
        for norm, momentum in zip(norms, momenta, strict=True):
            norm.momentum = momentum
    return generator.eval()
