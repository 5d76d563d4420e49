"""Train-time degradations for the ``restoring`` autoencoder: the input is degraded, the target is clean.

:func:`degrade` gives every frame of a batch its own draw: left clean with probability
``clean_p``, otherwise one to three of the :data:`DEGRADATIONS` below, each with parameters drawn
uniformly from its ranges. They cover the four families of the robustness suite's corruptions
(:mod:`visiongym.vision.robustness.corruptions`: noise, blur, weather, digital) but never its
scored parameters: where an operation has the same form as a scored corruption (Gaussian noise,
salt-and-pepper, down-and-up sampling, JPEG) its range stops short of severity 1; everywhere else
the operation itself is a different one (a Gaussian or box kernel instead of a disk or a
Gaussian-weighted line, a radial blur about a random centre instead of ImageNet-C's fixed zoom
steps, a smooth coloured haze instead of the fractal fog and frost layers, RGB gain and offset
instead of an HSV value shift, torchvision's grey-mean contrast instead of per-channel means).
This module imports nothing from the robustness suite; ``docs/vision/autoencoders.md`` lists the
training ranges beside the scored severities.

Images are float (3, H, W) in [0, 1]; degradations run at the training size (84 px by default),
while the suite corrupts the dataset's frames (128 px) and then resizes them to the model's input.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.nn import functional as F
from torchvision.transforms.v2 import functional as TF

from visiongym.sims.errors import UsageError
from visiongym.vision.augment.transforms import depthwise_convolve, zoomed_mean

__all__ = ["DEGRADATIONS", "Degradation", "degrade", "degradation_names", "sample_parameters"]

Parameters = dict[str, float]


@dataclass(frozen=True)
class Degradation:
    """One train-time degradation.

    Attributes:
        name: its name.
        family: the suite's corruption family it stands in for: noise, blur, weather or digital.
        ranges: parameter -> (low, high), drawn uniformly (rounded where :attr:`integers` says).
        apply: ``apply(image, parameters, generator) -> image`` on float (3, H, W) in [0, 1].
        integers: parameters rounded to whole numbers after the draw.
        versus: the scored corruptions of its family and how this one differs from them.
    """

    name: str
    family: str
    ranges: dict[str, tuple[float, float]]
    apply: Callable[[torch.Tensor, Parameters, torch.Generator], torch.Tensor]
    integers: tuple[str, ...] = ()
    versus: str = ""


def _uniform(generator: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=generator))


def _randn(shape, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return torch.randn(shape, generator=generator).to(like.device)


def _rand(shape, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return torch.rand(shape, generator=generator).to(like.device)


# --- noise ------------------------------------------------------------------------------------


def _gaussian_noise(x: torch.Tensor, p: Parameters, g: torch.Generator) -> torch.Tensor:
    return x + _randn(x.shape, g, x) * p["sigma"]


def _signal_noise(x: torch.Tensor, p: Parameters, g: torch.Generator) -> torch.Tensor:
    # Gaussian with photon-noise-like variance a^2 x (Poisson(x n) / n has variance x / n).
    return x + _randn(x.shape, g, x) * p["a"] * x.clamp(min=0).sqrt()


def _salt_pepper(x: torch.Tensor, p: Parameters, g: torch.Generator) -> torch.Tensor:
    # Whole pixels (all three channels) go black or white, not single channel values.
    hit = _rand(x.shape[-2:], g, x) < p["fraction"]
    salt = (_rand(x.shape[-2:], g, x) < 0.5).to(x.dtype)
    return torch.where(hit, salt.expand_as(x), x)


# --- blur -------------------------------------------------------------------------------------


def _gaussian_blur(x: torch.Tensor, p: Parameters, g: torch.Generator) -> torch.Tensor:
    sigma = p["sigma"]
    kernel = 2 * math.ceil(2.5 * sigma) + 1
    return TF.gaussian_blur(x, [kernel, kernel], [sigma, sigma])


def _line_kernel(length: float, angle_degrees: float) -> torch.Tensor:
    """A box (uniform) line kernel of ``length`` px, antialiased by sampling along the line."""
    half = math.ceil(length / 2)
    size = 2 * half + 1
    kernel = torch.zeros(size, size)
    angle = math.radians(angle_degrees)
    for t in torch.linspace(-length / 2, length / 2, 4 * size):
        col, row = half + float(t) * math.cos(angle), half - float(t) * math.sin(angle)
        c0, r0 = math.floor(col), math.floor(row)
        for dr in (0, 1):
            for dc in (0, 1):
                r, c = min(max(r0 + dr, 0), size - 1), min(max(c0 + dc, 0), size - 1)
                kernel[r, c] += (1 - abs(row - r0 - dr)) * (1 - abs(col - c0 - dc))
    return kernel / kernel.sum()


def _box_motion_blur(x: torch.Tensor, p: Parameters, g: torch.Generator) -> torch.Tensor:
    return depthwise_convolve(x, _line_kernel(p["length"], p["angle"]))


def _radial_blur(x: torch.Tensor, p: Parameters, g: torch.Generator) -> torch.Tensor:
    """The mean of the frame and ``copies`` copies zoomed by random factors in (1, zoom] about a
    random centre: fast forward motion towards a point that need not be the frame's centre."""
    factors = [1.0 + (p["zoom"] - 1.0) * _uniform(g, 0.05, 1.0) for _ in range(int(p["copies"]))]
    return zoomed_mean(x, factors, (p["centre_x"], p["centre_y"]))  # centre in [-1, 1] grid units


# --- weather ----------------------------------------------------------------------------------


def _smooth_field(shape: tuple[int, int], cells: int, g: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    grid = _rand((1, 1, cells, cells), g, like)
    return F.interpolate(grid, size=shape, mode="bicubic", align_corners=True)[0, 0].clamp(0, 1)


def _haze(x: torch.Tensor, p: Parameters, g: torch.Generator) -> torch.Tensor:
    """Blend towards a smooth, tinted light layer (a few bicubic cells, not a fractal)."""
    field = _smooth_field(tuple(x.shape[-2:]), int(p["cells"]), g, x)
    tint = torch.tensor([_uniform(g, -1.0, 1.0) for _ in range(3)], device=x.device) * p["tint"]
    layer = (p["level"] + p["variation"] * (field - 0.5))[None] + tint[:, None, None]
    weight = p["weight"] * (0.75 + 0.5 * field)[None]  # thicker in places
    return (1 - weight) * x + weight * layer.clamp(0, 1)


def _specks(x: torch.Tensor, p: Parameters, g: torch.Generator) -> torch.Tensor:
    """Occluding bright specks (flakes, drops, dust): sparse dots smeared along one direction."""
    dots = (_rand(x.shape[-2:], g, x) < p["density"]).to(x.dtype)
    dots = dots * (0.5 + 0.5 * _rand(x.shape[-2:], g, x))
    streak = depthwise_convolve(dots[None], _line_kernel(p["length"], p["angle"]))[0]
    streak = streak / streak.max().clamp(min=1e-6)
    return x + p["brightness"] * streak[None]


# --- digital ----------------------------------------------------------------------------------


def _gain_offset(x: torch.Tensor, p: Parameters, g: torch.Generator) -> torch.Tensor:
    return x * p["gain"] + p["offset"]


def _grey_contrast(x: torch.Tensor, p: Parameters, g: torch.Generator) -> torch.Tensor:
    return TF.adjust_contrast(x.clamp(0, 1), p["factor"])


def _down_up(x: torch.Tensor, p: Parameters, g: torch.Generator) -> torch.Tensor:
    height, width = x.shape[-2:]
    small = (max(1, round(height * p["factor"])), max(1, round(width * p["factor"])))
    low = F.interpolate(x[None], size=small, mode="area")
    return F.interpolate(low, size=(height, width), mode="nearest")[0]


def _jpeg(x: torch.Tensor, p: Parameters, g: torch.Generator) -> torch.Tensor:
    pixels = (x.clamp(0, 1) * 255).round().to(torch.uint8).cpu()
    return TF.jpeg(pixels, int(p["quality"])).to(x.device).float() / 255.0


DEGRADATIONS: dict[str, Degradation] = {
    d.name: d
    for d in (
        Degradation("gaussian_noise", "noise", {"sigma": (0.005, 0.07)}, _gaussian_noise,
                    versus="gaussian_noise: the same form, sigma 0.08 .. 0.38 (severity 1 is 0.08)"),
        Degradation("signal_noise", "noise", {"a": (0.02, 0.11)}, _signal_noise,
                    versus="shot_noise: Poisson counts of 60 .. 3 photons, i.e. a = 1/sqrt(photons) "
                    "= 0.13 .. 0.58; here Gaussian with std a * sqrt(x), a below 0.13"),
        Degradation("salt_pepper", "noise", {"fraction": (0.002, 0.025)}, _salt_pepper,
                    versus="impulse_noise: 3 % .. 27 % of channel values; here whole pixels, under 3 %"),
        Degradation("gaussian_blur", "blur", {"sigma": (0.4, 1.6)}, _gaussian_blur,
                    versus="defocus_blur: a disk kernel; here a Gaussian kernel"),
        Degradation("box_motion_blur", "blur", {"length": (2.0, 6.0), "angle": (0.0, 180.0)},
                    _box_motion_blur,
                    versus="motion_blur: a Gaussian-weighted line at -45 .. 45 degrees; here a "
                    "uniform (box) line at any angle"),
        Degradation("radial_blur", "blur",
                    {"zoom": (1.03, 1.25), "copies": (2, 6), "centre_x": (-0.3, 0.3),
                     "centre_y": (-0.3, 0.3)},
                    _radial_blur, integers=("copies",),
                    versus="zoom_blur: 10 .. 15 copies on a fixed step grid about the frame's "
                    "centre; here 2 .. 6 copies at random factors about a random centre"),
        Degradation("haze", "weather",
                    {"weight": (0.1, 0.6), "level": (0.55, 0.95), "variation": (0.0, 0.4),
                     "tint": (0.0, 0.12), "cells": (2, 5)},
                    _haze, integers=("cells",),
                    versus="fog and frost: a grey fractal (fog) or a pale blue fractal with veins "
                    "(frost); here a smooth bicubic layer of a random light tint"),
        Degradation("specks", "weather",
                    {"density": (0.002, 0.03), "length": (1.0, 5.0), "angle": (0.0, 180.0),
                     "brightness": (0.4, 1.0)},
                    _specks,
                    versus="snow: a zoomed, thresholded normal layer, line-blurred and added twice "
                    "over a greyed frame; here sparse random dots, box-smeared"),
        Degradation("gain_offset", "digital", {"gain": (1.0, 1.3), "offset": (0.02, 0.3)},
                    _gain_offset,
                    # Brightening only: trained to undo darkening, the model also brightened the
                    # simulator's light_dim look, whose target is the dim frame (2.4 dB lost).
                    versus="brightness: +0.1 .. +0.5 on the HSV value channel; here RGB x * gain + "
                    "offset, brightening only"),
        Degradation("grey_contrast", "digital", {"factor": (0.1, 0.9)}, _grey_contrast,
                    versus="contrast: towards each channel's own mean, factor 0.4 .. 0.05; here "
                    "torchvision's blend towards the grey mean"),
        Degradation("down_up", "digital", {"factor": (0.62, 0.9)}, _down_up,
                    versus="pixelate: box down and box up to 0.6 .. 0.15 of the side; here area "
                    "down and nearest up, never below 0.62"),
        Degradation("jpeg", "digital", {"quality": (30, 90)}, _jpeg, integers=("quality",),
                    versus="jpeg_compression: quality 25 .. 7; here 30 .. 90"),
    )
}
"""Every train-time degradation by name, by family (noise, blur, weather, digital)."""


def degradation_names() -> tuple[str, ...]:
    """The names of :data:`DEGRADATIONS`, in order."""
    return tuple(DEGRADATIONS)


def sample_parameters(degradation: Degradation, generator: torch.Generator) -> Parameters:
    """One uniform draw of every parameter of ``degradation`` from its ranges."""
    drawn = {}
    for key, (low, high) in degradation.ranges.items():
        value = _uniform(generator, low, high)
        drawn[key] = float(round(value)) if key in degradation.integers else value
    return drawn


def degrade(
    clean: torch.Tensor,
    generator: torch.Generator,
    clean_p: float = 0.15,
    max_ops: int = 3,
    log: list | None = None,
) -> torch.Tensor:
    """Degrade each frame of a float (N, 3, H, W) batch in [0, 1] with its own random draw.

    A frame stays clean with probability ``clean_p``; otherwise it gets ``k`` distinct
    degradations (``k`` = 1, 2, 3 with probability 0.6, 0.3, 0.1, at most ``max_ops``) in a random
    order. ``log``, when given, receives one list of ``(name, parameters)`` per frame.
    """
    if not 0.0 <= clean_p <= 1.0:
        raise UsageError(f"clean_p {clean_p} must lie in [0, 1]")
    out = torch.empty_like(clean)
    names = degradation_names()
    for index in range(len(clean)):
        x = clean[index]
        applied = []
        if float(torch.rand((), generator=generator)) >= clean_p:
            roll = float(torch.rand((), generator=generator))
            count = min(max_ops, 1 if roll < 0.6 else 2 if roll < 0.9 else 3)
            for pick in torch.randperm(len(names), generator=generator)[:count].tolist():
                degradation = DEGRADATIONS[names[pick]]
                parameters = sample_parameters(degradation, generator)
                x = degradation.apply(x, parameters, generator).clamp(0, 1)
                applied.append((degradation.name, parameters))
        out[index] = x
        if log is not None:
            log.append(applied)
    return out
