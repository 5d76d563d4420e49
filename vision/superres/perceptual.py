"""SRGAN's content loss on features of our own network, trained on rendered frames.

SRGAN compares super-resolved and true frames in the feature space of an ImageNet VGG19. Nothing
here is downloaded: the features come from a network this suite trained on rendered frames,

- an autoencoder (``visiongym autoencoder train``): the stages of its encoder, or
- a grid detector (``visiongym detect train``): the stages of its backbone.

Those stages are fully convolutional, so they read crops and whole frames of any size. The
network stays frozen in eval mode. ``layer`` picks how deep the features are: ``-1`` (default)
is the last stage (the autoencoder's before the 1x1 code, the detector's stride-16 stage), ``0``
the first. Using the detector that will score the upscaled frames for the loss as well would
optimise for the judge: train the feature network separately (the benchmark uses an autoencoder).

The loss is the mean squared feature difference divided by the mean squared feature of the true
frames in the batch, so its scale does not depend on which network or layer gives the features.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from visiongym.vision.autoencoders.models import encoder_input
from visiongym.vision.runtime import CheckpointError, load_checkpoint

__all__ = ["FEATURE_KINDS", "FeatureNetwork", "perceptual_loss"]

FEATURE_KINDS = ("autoencoder", "detector")


class FeatureNetwork(nn.Module):
    """Frozen feature stages of an autoencoder or grid-detector checkpoint.

    Args:
        path: a checkpoint of kind ``autoencoder`` or ``detector`` (a grid detector).
        layer: index of the last stage used (Python indexing: -1 is the deepest).
    """

    def __init__(self, path: str | Path, layer: int = -1) -> None:
        super().__init__()
        kind = load_checkpoint(path, kind=FEATURE_KINDS)["kind"]
        if kind == "autoencoder":
            from visiongym.vision.autoencoders.evaluate import load_autoencoder

            model, meta = load_autoencoder(path)
            stages, self.name = list(model.downs), f"autoencoder {meta['variant']} {meta['arch']}"
            self.standardised_input = model.standardised_input
        else:
            from visiongym.vision.detect.engine import load_detector

            detector, payload = load_detector(path)
            if not hasattr(detector.net, "stages"):
                raise CheckpointError(
                    f"checkpoint {str(path)!r} holds a {detector.name!r} detector, which has no "
                    f"backbone stages to take features from; use a grid detector or an autoencoder"
                )
            stages, self.name = list(detector.net.stages), f"detector {payload['meta']['model']}"
            self.standardised_input = False
        if not -len(stages) <= layer < len(stages):
            raise CheckpointError(
                f"feature layer {layer} out of range: the {self.name} of {str(path)!r} has "
                f"{len(stages)} stages (layer 0 to {len(stages) - 1}, or -1 for the last)"
            )
        self.layer = layer % len(stages)
        self.stages = nn.Sequential(*stages[: self.layer + 1])
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> FeatureNetwork:
        return super().train(False)  # batch-norm statistics stay those of pretraining

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Float [0, 1] images -> features (both source networks read ``2 x - 1``; an autoencoder
        with ``standardised_input`` also the standardised channels)."""
        return self.stages(encoder_input(images, self.standardised_input))


def perceptual_loss(
    features: FeatureNetwork, upscaled: torch.Tensor, reference: torch.Tensor
) -> torch.Tensor:
    """Relative squared feature error: ``mean((f(up) - f(ref))^2) / mean(f(ref)^2)``."""
    with torch.no_grad():
        target = features(reference)
    return F.mse_loss(features(upscaled), target) / target.pow(2).mean().clamp_min(1e-8)
