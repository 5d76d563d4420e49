"""A grid detector in int8 for CPU inference: post-training static quantization.

The detector-as-observation wrappers run one detector pass every env step, and on a CPU the
convolutions are most of that time. :class:`Int8GridNetwork` runs a
:class:`~visiongym.vision.detect.model.GridDetector`'s convolutions in 8-bit integers (PyTorch's
FX graph-mode post-training quantization, per-channel weights, ``x86`` / ``fbgemm`` kernels) and
gives the raw cell map of the float network up to quantization error.

Static quantization needs the range of every activation. Rather than asking for a dataset, the
module calibrates on the frames it is given: its first ``calibration_frames`` frames run through
the float network with observers recording the ranges (their outputs are the float network's own),
then it converts itself and every later call runs in int8. Given the same frames (the same env
seeds) the result is the same every run.

Example::

    from visiongym.vision.detect.engine import load_detector
    from visiongym.vision.detect.quantize import Int8GridNetwork

    detector = load_detector("runs/grid/detector.pt")[0]
    network = Int8GridNetwork(detector.net, calibration_frames=64)
    raw = network(frames)  # uint8 N x 3 x H x W -> N x (5 + C) x gh x gw, int8 after 64 frames

On a GPU there is nothing to gain; the wrappers refuse ``int8`` there.
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from visiongym.sims.errors import UsageError
from visiongym.vision.detect.model import GridDetector

__all__ = ["Int8GridNetwork", "quantized_engine"]

_ENGINES = ("x86", "fbgemm")


def quantized_engine() -> str:
    """The CPU int8 kernels this PyTorch build has (``x86`` preferred), or a clear error."""
    supported = set(torch.backends.quantized.supported_engines)
    for engine in _ENGINES:
        if engine in supported:
            return engine
    raise UsageError(
        f"int8 detection needs PyTorch's x86 or fbgemm quantized kernels; this build has "
        f"{sorted(supported)}. Leave int8 off"
    )


class _Body(nn.Module):
    """The grid network from its first convolution to the head, on [-1, 1] floats: ``GridDetector.forward``
    without its input checks, which symbolic tracing cannot follow."""

    def __init__(self, net: GridDetector) -> None:
        super().__init__()
        self.stages, self.laterals, self.neck, self.head = net.stages, net.laterals, net.neck, net.head
        self.first_level = net.first_level

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        levels = []
        for stage in self.stages:
            x = stage(x)
            levels.append(x)
        top = self.laterals[-1](levels[-1])
        for lateral, level in zip(reversed(self.laterals[:-1]), reversed(levels[self.first_level : -1]), strict=True):
            top = lateral(level) + nn.functional.interpolate(top, size=level.shape[-2:], mode="nearest")
        return self.head(self.neck(top))


class Int8GridNetwork(nn.Module):
    """``net`` (a :class:`GridDetector`, batch norms folded or not) with int8 convolutions.

    Args:
        net: the float grid network; it is copied, not changed.
        calibration_frames: frames observed in float before converting (at least 1).

    ``boxes_from_map`` and ``stride`` are the float network's, so the decoding is unchanged.
    """

    def __init__(self, net: GridDetector, calibration_frames: int = 64) -> None:
        super().__init__()
        if not isinstance(net, GridDetector):
            raise UsageError(f"int8 runs grid detectors only; got {type(net).__name__}")
        if calibration_frames < 1:
            raise UsageError(f"calibration_frames={calibration_frames} must be at least 1")
        self.engine = quantized_engine()
        self.reference = copy.deepcopy(net).eval()
        self.image_size = net.image_size
        self.stride = net.stride
        self.calibration_frames = int(calibration_frames)
        self.seen = 0
        body = _Body(copy.deepcopy(self.reference)).eval()
        example = torch.rand(2, 3, *self.image_size) * 2.0 - 1.0
        from torch.ao.quantization import get_default_qconfig_mapping
        from torch.ao.quantization.quantize_fx import prepare_fx

        torch.backends.quantized.engine = self.engine
        with warnings.catch_warnings():  # FX quantization's notice that it is moving to torchao
            warnings.simplefilter("ignore")
            self.prepared = prepare_fx(body, get_default_qconfig_mapping(self.engine), (example,))
        self.quantized: nn.Module | None = None

    @property
    def calibrated(self) -> bool:
        """Whether the network now runs in int8."""
        return self.quantized is not None

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (or [0, 1] float) images N x 3 x H x W -> raw map N x (5 + C) x gh x gw."""
        if tuple(images.shape[-2:]) != tuple(self.image_size):
            raise UsageError(f"image size {tuple(images.shape[-2:])} does not match this detector's {self.image_size}")
        if images.device.type != "cpu":
            raise UsageError(f"int8 detection runs on the CPU; these frames are on {images.device}")
        x = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
        x = x * 2.0 - 1.0
        if self.quantized is not None:
            return self.quantized(x).contiguous()  # the int8 kernels hand back channels-last maps
        raw = self.prepared(x)  # observers record the ranges; the output is the float network's
        self.seen += x.shape[0]
        if self.seen >= self.calibration_frames:
            from torch.ao.quantization.quantize_fx import convert_fx

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.quantized = convert_fx(copy.deepcopy(self.prepared))
        return raw

    def boxes_from_map(self, raw: torch.Tensor) -> torch.Tensor:
        return self.reference.boxes_from_map(raw)
