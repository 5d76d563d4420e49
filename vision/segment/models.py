"""Segmentation models: a U-Net and an FCN for class masks, torchvision Mask R-CNN for instances.

Layout of this file: blocks -> :class:`UNet` -> :class:`FCN` -> the Mask R-CNN builders ->
registered builders. Every builder is keyword-only (``num_classes`` counting the background,
``image_size`` as ``(height, width)``) and registered in :data:`SEGMENTERS`; its ``task`` in
:data:`TASKS` says what the network returns:

- ``semantic``: ``forward(uint8 N x 3 x H x W) -> logits N x C x H x W`` (:class:`UNet`, :class:`FCN`);
  a U-Net built with ``contact=True`` returns one more channel, the contact logit;
- ``instance``: torchvision's detection interface (a list of float images in, a loss dict in
  training, per-image ``boxes``/``labels``/``scores``/``masks`` in eval).

:class:`visiongym.vision.segment.engine.Segmenter` hides the difference.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from visiongym.sims.errors import UsageError
from visiongym.vision.registry import Registry

__all__ = ["SEGMENTERS", "TASKS", "UNet", "FCN", "build_segmenter"]

# Per-channel statistics of rendered pitch frames are close to mid-grey; a fixed affine map to
# roughly zero mean, unit spread is all the normalisation these from-scratch models need.
_MEAN, _STD = 0.45, 0.25


def _normalise(images: torch.Tensor) -> torch.Tensor:
    return (images.float() / 255.0 - _MEAN) / _STD


def _double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class _Up(nn.Module):
    """Bilinear 2x upsampling, concatenation with the skip, two convolutions."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = _double_conv(in_channels + skip_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv(torch.cat([x, skip], dim=1))


class UNet(nn.Module):
    """U-Net (Ronneberger et al., 2015): a contracting path, an expanding path, skips between.

    Padded convolutions keep the output at the input size, and BatchNorm replaces the paper's
    dropout, as in most modern re-implementations.

    Args:
        num_classes: output channels (classes including the background).
        widths: channels per level, the first at full resolution; each level halves the size.
        contact: add a *contact* head (a 3x3 conv and a 1x1 score on the full-resolution
            features): one more output channel, the logit that a pixel is a player pixel touching
            another player of its team (the instance cue a class mask lacks; DCAN's contour
            channel, narrowed to the contacts).
    """

    def __init__(self, num_classes: int = 5, widths: tuple[int, ...] = (16, 32, 64, 128), contact: bool = False) -> None:
        super().__init__()
        if len(widths) < 2:
            raise UsageError(f"widths {widths!r} needs at least 2 levels")
        self.down = nn.ModuleList()
        channels = 3
        for width in widths:
            self.down.append(_double_conv(channels, width))
            channels = width
        self.up = nn.ModuleList(
            _Up(widths[level + 1], widths[level], widths[level]) for level in reversed(range(len(widths) - 1))
        )
        self.head = nn.Conv2d(widths[0], num_classes, 1)
        self.contact = contact
        if contact:
            self.contact_head = nn.Sequential(
                nn.Conv2d(widths[0], widths[0], 3, padding=1, bias=False),
                nn.BatchNorm2d(widths[0]),
                nn.ReLU(inplace=True),
                nn.Conv2d(widths[0], 1, 1),
            )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = _normalise(images)
        skips = []
        for level, block in enumerate(self.down):
            if level:
                x = F.max_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        for block, skip in zip(self.up, reversed(skips[:-1]), strict=True):
            x = block(x, skip)
        if self.contact:
            return torch.cat([self.head(x), self.contact_head(x)], dim=1)
        return self.head(x)


class FCN(nn.Module):
    """Fully convolutional network in the FCN-8s style (Long et al., 2015).

    A strided encoder; 1x1 class scores at strides 8, 16 and 32 are upsampled and summed, then
    upsampled (bilinear) to the input. No decoder convolutions: the classic coarse-to-fine
    baseline the U-Net's learned decoder is compared with.

    Args:
        num_classes: output channels (classes including the background).
        widths: channels per stride-2 stage (five stages: strides 2..32).
    """

    def __init__(self, num_classes: int = 5, widths: tuple[int, ...] = (16, 32, 64, 128, 128)) -> None:
        super().__init__()
        if len(widths) != 5:
            raise UsageError(f"widths {widths!r} must have 5 stages (strides 2, 4, 8, 16, 32)")
        stages, channels = [], 3
        for width in widths:
            stages.append(
                nn.Sequential(
                    nn.Conv2d(channels, width, 3, stride=2, padding=1, bias=False),
                    nn.BatchNorm2d(width),
                    nn.ReLU(inplace=True),
                    nn.Conv2d(width, width, 3, padding=1, bias=False),
                    nn.BatchNorm2d(width),
                    nn.ReLU(inplace=True),
                )
            )
            channels = width
        self.stages = nn.ModuleList(stages)
        self.scores = nn.ModuleList(nn.Conv2d(widths[i], num_classes, 1) for i in (2, 3, 4))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = _normalise(images)
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        stride8, stride16, stride32 = (score(features[i]) for score, i in zip(self.scores, (2, 3, 4), strict=True))
        x = stride16 + F.interpolate(stride32, size=stride16.shape[-2:], mode="bilinear", align_corners=False)
        x = stride8 + F.interpolate(x, size=stride8.shape[-2:], mode="bilinear", align_corners=False)
        return F.interpolate(x, size=images.shape[-2:], mode="bilinear", align_corners=False)


def _small_anchors():
    from torchvision.models.detection.anchor_utils import AnchorGenerator

    # One anchor size per FPN level (strides 4..32 and the pooled level), three ratios each.
    return AnchorGenerator(sizes=((8,), (16,), (32,), (64,), (128,)), aspect_ratios=((0.5, 1.0, 2.0),) * 5)


def _maskrcnn_small(num_classes: int, image_size: tuple[int, int], fpn_channels: int = 64) -> nn.Module:
    """torchvision Mask R-CNN on a ResNet-18 FPN with narrow heads, no pretrained weights."""
    from torchvision.models import resnet18
    from torchvision.models.detection import MaskRCNN
    from torchvision.models.detection.backbone_utils import BackboneWithFPN
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor

    backbone = BackboneWithFPN(
        resnet18(weights=None),
        return_layers={"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"},
        in_channels_list=[64, 128, 256, 512],
        out_channels=fpn_channels,
    )
    return MaskRCNN(
        backbone,
        num_classes=None,  # given by the box and mask predictors below
        # Frames keep their size (the transform would otherwise upscale them to 800 px).
        min_size=min(image_size),
        max_size=max(image_size),
        rpn_anchor_generator=_small_anchors(),
        # Frames hold at most a dozen objects: far fewer proposals and sampled RoIs than COCO's.
        rpn_pre_nms_top_n_train=600,
        rpn_post_nms_top_n_train=300,
        rpn_pre_nms_top_n_test=300,
        rpn_post_nms_top_n_test=100,
        box_batch_size_per_image=64,
        box_head=TwoMLPHead(fpn_channels * 7 * 7, 256),
        box_predictor=FastRCNNPredictor(256, num_classes),
        mask_head=MaskRCNNHeads(fpn_channels, (fpn_channels,) * 4, 1),
        mask_predictor=MaskRCNNPredictor(fpn_channels, fpn_channels, num_classes),
    )


SEGMENTERS: Registry[nn.Module] = Registry("segmenter")
"""Segmenter name -> builder (keyword-only ``num_classes`` with background, ``image_size``)."""

TASKS: dict[str, str] = {}
"""Segmenter name -> ``semantic`` (class logits) or ``instance`` (torchvision Mask R-CNN)."""


def _register(name: str, task: str):
    TASKS[name] = task
    return SEGMENTERS.register(name)


@_register("unet", "semantic")
def unet(*, num_classes: int = 5, image_size: tuple[int, int] = (128, 128)) -> UNet:
    """U-Net with four levels (16-32-64-128 channels, strides 1..8): the CPU-sized default."""
    return UNet(num_classes, widths=(16, 32, 64, 128))


@_register("unet_tiny", "semantic")
def unet_tiny(*, num_classes: int = 5, image_size: tuple[int, int] = (128, 128)) -> UNet:
    """Three narrow levels (8-16-32): for tests and quick CPU runs."""
    return UNet(num_classes, widths=(8, 16, 32))


@_register("fcn", "semantic")
def fcn(*, num_classes: int = 5, image_size: tuple[int, int] = (128, 128)) -> FCN:
    """FCN-8s-style: five stride-2 stages (16-32-64-128-128), scores fused at strides 8/16/32."""
    return FCN(num_classes)


@_register("maskrcnn", "instance")
def maskrcnn(*, num_classes: int = 5, image_size: tuple[int, int] = (128, 128)) -> nn.Module:
    """torchvision Mask R-CNN, CPU-sized: ResNet-18 FPN (64 channels, strides 4..32), narrow box
    and mask heads, anchors 8..128 px; no pretrained weights."""
    return _maskrcnn_small(num_classes, image_size)


@_register("maskrcnn_r50", "instance")
def maskrcnn_r50(*, num_classes: int = 5, image_size: tuple[int, int] = (128, 128)) -> nn.Module:
    """torchvision ``maskrcnn_resnet50_fpn(weights=None, weights_backbone=None)`` at the frame
    size with small anchors: the reference architecture, for a GPU."""
    from torchvision.models.detection import maskrcnn_resnet50_fpn

    model = maskrcnn_resnet50_fpn(
        weights=None,
        weights_backbone=None,
        num_classes=num_classes,
        min_size=min(image_size),
        max_size=max(image_size),
        rpn_pre_nms_top_n_train=600,
        rpn_post_nms_top_n_train=300,
        rpn_pre_nms_top_n_test=300,
        rpn_post_nms_top_n_test=100,
    )
    model.rpn.anchor_generator = _small_anchors()
    return model


@_register("unet_contact", "semantic")
def unet_contact(*, num_classes: int = 5, image_size: tuple[int, int] = (128, 128)) -> UNet:
    """The ``unet`` with a contact head (``num_classes + 1`` outputs, the last the contact logit):
    its instances are split where touching players of one team meet. Same layers otherwise, so it
    can start from a ``unet`` checkpoint (``visiongym segment train --init-from``)."""
    return UNet(num_classes, widths=(16, 32, 64, 128), contact=True)


@_register("unet_tiny_contact", "semantic")
def unet_tiny_contact(*, num_classes: int = 5, image_size: tuple[int, int] = (128, 128)) -> UNet:
    """``unet_tiny`` with the contact head: for tests."""
    return UNet(num_classes, widths=(8, 16, 32), contact=True)


def build_segmenter(name: str, **kwargs) -> nn.Module:
    """Build a registered segmenter by name."""
    return SEGMENTERS.build(name, **kwargs)
