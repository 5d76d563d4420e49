"""Networks of the translation models: a ResNet generator, a PatchGAN, StarGAN's critic, an attribute classifier.

- :class:`ResnetGenerator`: CycleGAN's generator (Johnson et al.: a 7x7 stem, stride-2
  downsamplings, residual blocks, upsamplings, a 7x7 head; instance norm, reflection padding),
  also StarGAN's when ``condition_dim > 0`` (the target label tiled as extra input channels;
  StarGAN's default head predicts a per-pixel colour transform instead of a change).
  Three changes, because at 48-64 px a player is a few pixels. The head predicts a *change* of
  the input, added before the final tanh (``tanh(atanh(x) + head)``) and initialised at zero, so
  an untrained generator is the identity: one that had to redraw every frame from its bottleneck
  blurs the players away within a minutes-long CPU run. The head also sees the stem's
  full-resolution features (a U-Net-style skip, as pix2pix's generator has), so a pixel's change
  can depend on its own colour, not only on the 4x coarser bottleneck: re-colouring a faded
  two-pixel kit needs that. And it upsamples by nearest-neighbour resizing and a 3x3
  convolution instead of a transposed convolution, whose uneven overlap painted a checkerboard
  over the pitch (Odena et al., "Deconvolution and checkerboard artifacts", 2016).
- :class:`PatchDiscriminator`: the 70x70-style PatchGAN of pix2pix/CycleGAN (one real/fake score
  per patch), scaled to the frame.
- :class:`StarDiscriminator`: StarGAN's critic, a patch score (no sigmoid: WGAN-GP) and one
  logit per attribute value (the auxiliary classifier): from the same trunk, as the reference,
  from a batch-norm classifier of its own, or both.
- :class:`AttributeClassifier`: an independent classifier trained on real frames only, the judge
  of translated frames (as the StarGAN paper scores with a separately trained classifier).

Every network takes uint8 frames (0-255) or floats in [-1, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from visiongym.sims.errors import UsageError
from visiongym.vision.registry import Registry
from visiongym.vision.translate.frames import float_images

__all__ = [
    "ResnetGenerator",
    "PatchDiscriminator",
    "StarDiscriminator",
    "CRITIC_CLASSIFIERS",
    "AttributeClassifier",
    "attribute_loss",
    "attribute_predictions",
    "one_hot_labels",
    "TRANSLATORS",
    "check_image_size",
]

TRANSLATORS: Registry = Registry("translation model")
"""The training recipes by name (``cyclegan``, ``stargan``), imported when first used."""
TRANSLATORS.register_lazy("cyclegan", "visiongym.vision.translate.cyclegan:CycleGAN")
TRANSLATORS.register_lazy("stargan", "visiongym.vision.translate.stargan:StarGAN")


def check_image_size(image_size: int, downsamplings: int) -> int:
    """``image_size`` if the networks can take it (a multiple of 16, at least 32); else a UsageError."""
    if image_size < 32 or image_size % 16 or image_size % 2**downsamplings:
        raise UsageError(f"image_size {image_size} unsupported; use a multiple of 16 of at least 32 (32, 48, 64, 128)")
    return image_size


NORMS = ("instance", "batch", "none")
"""Generator normalisations, as the reference implementation's ``--norm`` offers them."""
GENERATOR_HEADS = ("residual", "affine")
"""How the generator's head turns its features into the output frame (see :class:`ResnetGenerator`)."""


def _norm(channels: int, kind: str = "instance") -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise UsageError(f"norm {kind!r} unknown; choose one of: {', '.join(NORMS)}")


class _ResidualBlock(nn.Module):
    def __init__(self, channels: int, norm: str) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=norm == "none"), _norm(channels, norm),
            nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=norm == "none"), _norm(channels, norm),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Frames (N, 3, S, S) [and a label (N, condition_dim)] -> frames in [-1, 1].

    Args:
        condition_dim: length of the label vector tiled onto the input (0: CycleGAN, unconditional).
        width: channels after the stem (doubling at each downsampling).
        blocks: residual blocks at the lowest resolution.
        downsamplings: stride-2 stages (2 in the reference).
        norm: ``instance`` (the reference), ``batch`` or ``none``.
        head: ``residual``: the head adds a change to the input (``tanh(atanh(x) + change)``);
            ``affine``: it predicts a colour transform per pixel, ``A(p) x(p) + b(p)`` (a 3x3 matrix
            and an offset, as deep bilateral learning's per-pixel affine colour models, Gharbi et al.
            2017), and also sees the label. Every attribute here is a colour transform of some
            pixels (the light scales all of them, the pitch tint the pitch's, the kits desaturate a
            few), so the affine head has only to choose a matrix per pixel where the residual head has
            to learn each transform as a function of the pixel's colour.
    """

    def __init__(self, condition_dim: int = 0, width: int = 16, blocks: int = 4, downsamplings: int = 2,
                 norm: str = "instance", head: str = "residual") -> None:
        super().__init__()
        if head not in GENERATOR_HEADS:
            raise UsageError(f"generator head {head!r} unknown; choose one of: {', '.join(GENERATOR_HEADS)}")
        self.condition_dim = condition_dim
        self.affine = head == "affine"
        self.stem = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(3 + condition_dim, width, 7, bias=norm == "none"), _norm(width, norm),
            nn.ReLU(True),
        )
        layers: list[nn.Module] = []
        channels = width
        for _ in range(downsamplings):
            layers += [nn.Conv2d(channels, channels * 2, 3, 2, 1, bias=norm == "none"), _norm(channels * 2, norm),
                       nn.ReLU(True)]
            channels *= 2
        layers += [_ResidualBlock(channels, norm) for _ in range(blocks)]
        for _ in range(downsamplings):
            layers += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.ReflectionPad2d(1),
                nn.Conv2d(channels, channels // 2, 3, bias=norm == "none"),
                _norm(channels // 2, norm),
                nn.ReLU(True),
            ]
            channels //= 2
        self.body = nn.Sequential(*layers)
        head_inputs = 2 * width + (condition_dim if self.affine else 0)
        self.head = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(head_inputs, 12 if self.affine else 3, 7))
        nn.init.zeros_(self.head[1].weight)
        nn.init.zeros_(self.head[1].bias)

    def forward(self, images: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        x = float_images(images)
        inputs = x
        if self.condition_dim:
            if condition is None or condition.shape[-1] != self.condition_dim:
                raise ValueError(f"this generator needs a label of {self.condition_dim} values per frame")
            tiled = condition.float()[:, :, None, None].expand(-1, -1, *x.shape[-2:])
            inputs = torch.cat([x, tiled], dim=1)
        stem = self.stem(inputs)
        features = [stem, self.body(stem)]
        if self.affine:
            if self.condition_dim:
                features.append(tiled)
            head = self.head(torch.cat(features, dim=1))
            matrix = head[:, :9].unflatten(1, (3, 3)) + torch.eye(3, device=x.device)[None, :, :, None, None]
            colour = (x[:, None] * matrix).sum(dim=2) + head[:, 9:]
            # clipped to [-1, 1] going forward, the gradient passing as if unclipped (a clipped pixel keeps learning)
            return colour + (colour.clamp(-1, 1) - colour).detach()
        change = self.head(torch.cat(features, dim=1))
        return torch.tanh(torch.atanh(x.clamp(-0.999, 0.999)) + change)


class PatchDiscriminator(nn.Module):
    """Frames -> a map of real/fake logits, one per overlapping patch (least-squares GAN targets)."""

    def __init__(self, width: int = 32, layers: int = 3) -> None:
        super().__init__()
        blocks: list[nn.Module] = [nn.Conv2d(3, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        channels = width
        for index in range(1, layers + 1):
            stride = 2 if index < layers else 1
            out = width * 2 ** min(index, 3)
            blocks += [nn.Conv2d(channels, out, 4, stride, 1, bias=False), _norm(out, "instance"),
                       nn.LeakyReLU(0.2, True)]
            channels = out
        blocks.append(nn.Conv2d(channels, 1, 4, 1, 1))
        self.net = nn.Sequential(*blocks)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(float_images(images))


CRITIC_CLASSIFIERS = ("shared", "separate", "both")
"""Where StarGAN's critic classifies the attributes: from its own trunk (the reference) or in a network of its own."""


class StarDiscriminator(nn.Module):
    """StarGAN's critic: frames -> ``(patch scores (N, 1, s, s), attribute logits (N, sum(sizes)))``.

    Args:
        image_size: square input side (the classifier's kernel covers the last feature map).
        attribute_sizes: values of each attribute.
        width: channels of the first layer (doubling per layer).
        layers: stride-2 layers (LeakyReLU 0.01, no normalisation, as in StarGAN).
        classifier: ``shared``: the logits come from the scoring trunk through one convolution
            whose kernel covers its last feature map (the reference); ``separate``: from an
            :class:`AttributeClassifier` of the critic's own (batch norm, average and max
            pooling), which the gradient penalty never touches. The shared trunk, unnormalised
            as WGAN-GP needs, stays at chance on the few-pixel kits (``benchmarks/stargan_diagnostics.py``),
            and so gives the generator no signal for them; the same layers with batch norm learn them.
            ``both``: the two, each trained on real frames with its own loss; a translation must
            convince both (:meth:`attribute_logits`), and the logits returned are their mean.
    """

    def __init__(self, image_size: int, attribute_sizes: Sequence[int], width: int = 32, layers: int = 4,
                 classifier: str = "shared") -> None:
        super().__init__()
        if classifier not in CRITIC_CLASSIFIERS:
            raise UsageError(f"critic classifier {classifier!r} unknown; choose one of: {', '.join(CRITIC_CLASSIFIERS)}")
        blocks: list[nn.Module] = []
        channels = 3
        for index in range(layers):
            blocks += [nn.Conv2d(channels, width * 2**index, 4, 2, 1), nn.LeakyReLU(0.01, True)]
            channels = width * 2**index
        self.trunk = nn.Sequential(*blocks)
        self.source = nn.Conv2d(channels, 1, 3, 1, 1, bias=False)
        if classifier in ("shared", "both"):
            self.classes = nn.Conv2d(channels, sum(attribute_sizes), image_size // 2**layers, bias=False)
        if classifier in ("separate", "both"):
            self.classifier = AttributeClassifier(attribute_sizes)

    def score(self, images: torch.Tensor) -> torch.Tensor:
        """The patch scores alone (what the gradient penalty differentiates)."""
        return self.source(self.trunk(float_images(images)))

    def scores_and_logits(self, images: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The patch scores and the logits of each classifier (one, or two for ``both``)."""
        features = self.trunk(float_images(images))
        logits = [self.classes(features).flatten(1)] if hasattr(self, "classes") else []
        if hasattr(self, "classifier"):
            logits.append(self.classifier(images))
        return self.source(features), logits

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores, logits = self.scores_and_logits(images)
        return scores, torch.stack(logits).mean(dim=0)


class AttributeClassifier(nn.Module):
    """Frames -> one logit per attribute value: strided conv-BN-ReLU, then average and max pooling
    (the max keeps a few-pixel kit colour that the average would wash out)."""

    def __init__(self, attribute_sizes: Sequence[int], width: int = 24, layers: int = 4) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        channels = 3
        for index in range(layers):
            out = width * 2 ** min(index, 2)
            blocks += [nn.Conv2d(channels, out, 3, 2 if index else 1, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU(True)]
            channels = out
        self.features = nn.Sequential(*blocks)
        self.head = nn.Linear(2 * channels, sum(attribute_sizes))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.features(float_images(images))
        return self.head(torch.cat([features.mean(dim=(2, 3)), features.amax(dim=(2, 3))], dim=1))


def one_hot_labels(labels: torch.Tensor, sizes: Sequence[int]) -> torch.Tensor:
    """Value indices (N, K) -> the concatenated one-hot vectors (N, sum(sizes)): StarGAN's label input."""
    return torch.cat([F.one_hot(labels[:, k], size) for k, size in enumerate(sizes)], dim=1).float()


def attribute_loss(logits: torch.Tensor, labels: torch.Tensor, sizes: Sequence[int]) -> torch.Tensor:
    """Cross-entropy of each attribute, summed over attributes and averaged over frames."""
    parts = torch.split(logits, list(sizes), dim=1)
    return sum(F.cross_entropy(part, labels[:, k]) for k, part in enumerate(parts))


def attribute_predictions(logits: torch.Tensor, sizes: Sequence[int]) -> torch.Tensor:
    """The predicted value index of each attribute: int64 (N, K)."""
    return torch.stack([part.argmax(dim=1) for part in torch.split(logits, list(sizes), dim=1)], dim=1)
