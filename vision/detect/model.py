"""A single-stage, YOLO-style grid detector.

The image is cut into a grid of cells (one per 4 x 4 pixels, or 2 x 2 for ``grid_fine``). Each cell predicts
an objectness logit, a box (centre offset inside the cell, log width and height in units of the
stride) and class logits, as in YOLO v1-v3 without anchors. A cell is responsible for the object
whose box centre falls in it. Decoding keeps cells whose ``sigmoid(objectness) *
softmax(class)`` passes a threshold and runs class-wise NMS.

Layout of this file: blocks -> :class:`GridDetector` -> decoding -> registered builders (the grid
detectors and, to compare them with, torchvision's Faster R-CNN).
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.ops import batched_nms

from visiongym.sims.errors import UsageError
from visiongym.vision.registry import Registry

__all__ = ["DETECTORS", "GridDetector", "build_detector", "list_detectors", "decode_predictions"]


ACTIVATIONS = {"silu": nn.SiLU, "relu": nn.ReLU}
"""The ``activation`` choices of :class:`GridDetector`."""


def _conv(in_channels: int, out_channels: int, stride: int = 1, activation: str = "silu") -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        ACTIVATIONS[activation](inplace=True),
    )


class _Residual(nn.Module):
    def __init__(self, channels: int, activation: str = "silu") -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv(channels, channels, activation=activation),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        )
        self.act = ACTIVATIONS[activation](inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.body(x))


class GridDetector(nn.Module):
    """Strided backbone, a small feature pyramid back to stride 4 (or 2), and a per-cell head.

    The backbone halves the size ``len(widths)`` times; the deepest features are upsampled and
    added to the shallower ones (as in an FPN) until ``grid_stride``, where the grid lives: at
    128 px stride 4 gives 32 x 32 cells, fine enough for players standing close; stride 2 gives
    64 x 64 cells, whose finer offsets help with the ball, 2-4 pixels wide at 128 px, where one
    pixel of error already halves the IoU.

    Args:
        num_classes: foreground classes (labels are ``1..num_classes``; 0 is background).
        widths: channels per backbone stage (at least 3 stages).
        image_size: (height, width) the model is trained for; inputs of another size are refused.
        grid_stride: 4 or 2, the stride of the output grid.
        head_width: channels of the laterals, the neck and the head (default ``widths[1]``).
        neck: ``"residual"`` (a convolution and a residual block) or ``"conv"`` (one convolution).
        activation: ``"silu"`` or ``"relu"`` (cheaper on a CPU).
        first_residual: the first stage's residual block (without it the first stage is one
            strided convolution).
    """

    def __init__(
        self,
        num_classes: int = 4,
        widths: tuple[int, ...] = (16, 32, 64, 128),
        image_size: tuple[int, int] = (128, 128),
        grid_stride: int = 4,
        head_width: int | None = None,
        neck: str = "residual",
        activation: str = "silu",
        first_residual: bool = True,
    ) -> None:
        super().__init__()
        if len(widths) < 3:
            raise UsageError(f"widths {widths!r} needs at least 3 stages (stride 8 or deeper)")
        if grid_stride not in (2, 4):
            raise UsageError(f"grid_stride {grid_stride!r} unsupported; choose one of: 2, 4")
        if neck not in ("residual", "conv"):
            raise UsageError(f"neck {neck!r} unknown; choose one of: residual, conv")
        if activation not in ACTIVATIONS:
            raise UsageError(f"activation {activation!r} unknown; choose one of: {', '.join(ACTIVATIONS)}")
        first_level = 0 if grid_stride == 2 else 1  # stage i outputs stride 2^(i + 1)
        self.num_classes = num_classes
        self.image_size = tuple(image_size)
        stages, channels = [], 3
        for index, width in enumerate(widths):
            down = _conv(channels, width, stride=2, activation=activation)
            if index == 0 and not first_residual:
                stages.append(nn.Sequential(down))
            else:
                stages.append(nn.Sequential(down, _Residual(width, activation)))
            channels = width
        self.stages = nn.ModuleList(stages)
        head_width = head_width or widths[1]
        # Laterals from the grid's stride upward; the top-down path adds each deeper level, upsampled.
        self.laterals = nn.ModuleList(
            nn.Conv2d(width, head_width, 1) for width in widths[first_level:]
        )
        self.first_level = first_level
        self.neck = (
            nn.Sequential(_conv(head_width, head_width, activation=activation), _Residual(head_width, activation))
            if neck == "residual"
            else nn.Sequential(_conv(head_width, head_width, activation=activation))
        )
        self.head = nn.Conv2d(head_width, 5 + num_classes, 1)
        with torch.no_grad():
            nn.init.constant_(self.head.bias, 0.0)
            self.head.bias[0] = -4.0  # start with objectness ~2 %: most cells are empty
            grid = self(torch.zeros(1, 3, *self.image_size)).shape[-2:]
        self.grid_size = tuple(int(v) for v in grid)
        self.stride = self.image_size[0] // self.grid_size[0]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (or [0, 1] float) images N x 3 x H x W -> raw map N x (5 + C) x gh x gw.

        Channels: objectness logit, x offset logit, y offset logit, log w, log h, class logits.
        """
        if tuple(images.shape[-2:]) != self.image_size:
            raise UsageError(
                f"image size {tuple(images.shape[-2:])} does not match this detector's {self.image_size}; "
                f"resize frames to {self.image_size[0]}x{self.image_size[1]}"
            )
        x = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
        x = x * 2.0 - 1.0
        levels = []
        for stage in self.stages:
            x = stage(x)
            levels.append(x)
        top = self.laterals[-1](levels[-1])
        for lateral, level in zip(
            reversed(self.laterals[:-1]), reversed(levels[self.first_level : -1]), strict=True
        ):
            top = lateral(level) + nn.functional.interpolate(
                top, size=level.shape[-2:], mode="nearest"
            )
        return self.head(self.neck(top))

    def boxes_from_map(self, raw: torch.Tensor) -> torch.Tensor:
        """Raw map -> boxes N x gh x gw x 4 (xyxy pixels) for every cell."""
        _, _, grid_h, grid_w = raw.shape
        ys, xs = torch.meshgrid(
            torch.arange(grid_h, device=raw.device),
            torch.arange(grid_w, device=raw.device),
            indexing="ij",
        )
        cx = (xs + raw[:, 1].sigmoid()) * self.stride
        cy = (ys + raw[:, 2].sigmoid()) * self.stride
        w = raw[:, 3].clamp(max=6.0).exp() * self.stride
        h = raw[:, 4].clamp(max=6.0).exp() * self.stride
        return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)

    @torch.no_grad()
    def predict(
        self,
        images: torch.Tensor,
        score_threshold: float = 0.05,
        iou_threshold: float = 0.5,
        max_detections: int = 100,
    ) -> list[dict[str, torch.Tensor]]:
        """Detections per image: ``boxes`` (xyxy pixels), ``scores``, ``labels`` (1..C)."""
        was_training = self.training
        self.eval()
        raw = self(images)
        if was_training:
            self.train()
        return decode_predictions(
            raw, self.boxes_from_map(raw), score_threshold, iou_threshold, max_detections
        )


def decode_predictions(
    raw: torch.Tensor,
    boxes: torch.Tensor,
    score_threshold: float = 0.05,
    iou_threshold: float = 0.5,
    max_detections: int = 100,
) -> list[dict[str, torch.Tensor]]:
    """Cells -> scored, class-wise NMS-filtered detections per image."""
    objectness = raw[:, 0].sigmoid()
    class_probabilities = raw[:, 5:].softmax(dim=1)
    scores_all = objectness[:, None] * class_probabilities  # N x C x gh x gw
    results = []
    for index in range(raw.shape[0]):
        scores = scores_all[index].flatten(1)  # C x cells
        keep = scores > score_threshold
        class_index, cell = keep.nonzero(as_tuple=True)
        cell_boxes = boxes[index].reshape(-1, 4)[cell]
        cell_scores = scores[class_index, cell]
        kept = batched_nms(cell_boxes, cell_scores, class_index, iou_threshold)[:max_detections]
        results.append(
            {
                "boxes": cell_boxes[kept],
                "scores": cell_scores[kept],
                "labels": class_index[kept] + 1,
            }
        )
    return results


DETECTORS: Registry[nn.Module] = Registry("detector")
"""Detector name -> builder (keyword-only ``num_classes`` and ``image_size`` as ``(height, width)``)."""


@DETECTORS.register("grid_small")
def grid_small(*, num_classes: int = 4, image_size: tuple[int, int] = (128, 128)) -> GridDetector:
    """Four stages (16-32-64-128), grid at stride 4 (32 x 32 cells at 128 px): the default."""
    return GridDetector(num_classes, widths=(16, 32, 64, 128), image_size=image_size)


@DETECTORS.register("grid_fine")
def grid_fine(*, num_classes: int = 4, image_size: tuple[int, int] = (128, 128)) -> GridDetector:
    """grid_small's backbone with the grid at stride 2 (64 x 64 cells at 128 px), for the ball."""
    return GridDetector(num_classes, widths=(16, 32, 64, 128), image_size=image_size, grid_stride=2)


@DETECTORS.register("grid_tiny")
def grid_tiny(*, num_classes: int = 4, image_size: tuple[int, int] = (128, 128)) -> GridDetector:
    """Three narrow stages (8-16-32), grid at stride 4: for tests and quick CPU runs."""
    return GridDetector(num_classes, widths=(8, 16, 32), image_size=image_size)


@DETECTORS.register("grid_nano")
def grid_nano(*, num_classes: int = 4, image_size: tuple[int, int] = (128, 128)) -> GridDetector:
    """grid_tiny's narrow stages (8-16-32, against grid_fine's 16-32-64-128) with the grid at
    stride 2: for a detector that runs every env step (the agents' 48 px frames)."""
    return GridDetector(num_classes, widths=(8, 16, 32), image_size=image_size, grid_stride=2)


@DETECTORS.register("grid_pico")
def grid_pico(*, num_classes: int = 4, image_size: tuple[int, int] = (128, 128)) -> GridDetector:
    """grid_nano cut for a detector in every env step on a CPU: ReLU and a one-convolution neck
    (``benchmarks/detector_observation_cost.py`` measures what it saves)."""
    return GridDetector(
        num_classes,
        widths=(8, 16, 32),
        image_size=image_size,
        grid_stride=2,
        neck="conv",
        activation="relu",
    )


@DETECTORS.register("faster_rcnn")
def faster_rcnn(*, num_classes: int = 4, image_size: tuple[int, int] = (128, 128)) -> nn.Module:
    """torchvision Faster R-CNN (MobileNetV3-Large FPN), no pretrained weights, small anchors.

    The two-stage baseline the grid detectors are compared with; it computes its own losses and
    decodes its own boxes (:class:`visiongym.vision.detect.engine.Detector` hides the difference).
    """
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_fpn
    from torchvision.models.detection.anchor_utils import AnchorGenerator

    # Frames keep their size (the transform would otherwise upscale them to 800 px): on a CPU
    # budget, training from scratch at 128 px is what we can afford; the ball suffers for it.
    model = fasterrcnn_mobilenet_v3_large_fpn(
        weights=None,
        weights_backbone=None,
        num_classes=num_classes + 1,
        min_size=min(image_size),
        max_size=max(image_size),
        box_detections_per_img=100,
        # Frames hold at most a dozen objects: far fewer proposals and sampled RoIs than COCO's
        # defaults (2000 / 1000 / 512) lose nothing here and make CPU training several times faster.
        rpn_pre_nms_top_n_train=600,
        rpn_post_nms_top_n_train=300,
        rpn_pre_nms_top_n_test=300,
        rpn_post_nms_top_n_test=100,
        box_batch_size_per_image=128,
    )
    # Same count per location (5 sizes x 3 ratios) as the default, so the RPN head still fits.
    model.rpn.anchor_generator = AnchorGenerator(
        sizes=((8, 16, 32, 64, 128),) * 3, aspect_ratios=((0.5, 1.0, 2.0),) * 3
    )
    return model


def list_detectors() -> tuple[str, ...]:
    """Registered detector names (the grid detectors, then ``faster_rcnn``)."""
    return DETECTORS.names()


def build_detector(name: str, **kwargs) -> nn.Module:
    """Build a registered detector by name."""
    return DETECTORS.build(name, **kwargs)
