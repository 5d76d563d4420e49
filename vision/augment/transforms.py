"""Augmentations that move boxes and masks with the pixels (torchvision ``transforms.v2``).

An image, its ``BoundingBoxes`` and its ``Mask`` go through one ``v2`` transform together, so a
flip, rotation, scale, crop or translation draws its random parameters once and applies them to
all three. Gaussian noise changes pixels only.
"""

from __future__ import annotations

import math

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

from visiongym.sims.errors import UsageError

__all__ = ["TRANSFORM_NAMES", "make_transform", "make_pipeline", "photometric_transforms",
           "ROBUST_RANGES", "MIX_OPS", "PhotometricMix", "BLUR_KINDS", "CameraBlur", "RadialBlur",
           "robust_photometric_transforms", "AugmentedViews", "depthwise_convolve", "zoomed_mean",
           "mask_boxes", "make_sample"]

TRANSFORM_NAMES = ("flip", "rotation", "scale", "crop", "translation", "noise")


def make_transform(name: str, strength: float = 1.0, crop_fraction: float = 0.75) -> v2.Transform:
    """One augmentation by name; ``strength`` in (0, 1] scales its range.

    - ``flip``: horizontal flip (always applied; compose with ``v2.RandomApply`` for a chance).
    - ``rotation``: up to ±30°·strength about the centre (boxes become the rotated corners' box).
    - ``scale``: zoom by a factor in [1 - 0.3·s, 1 + 0.3·s] about the centre.
    - ``crop``: a random crop of ``crop_fraction`` of each side, resized back to the input size.
    - ``translation``: shift by up to 20 %·strength of each side (whole pixels).
    - ``noise``: additive Gaussian noise, sigma 0.08·strength, on float images in [0, 1].
    """
    if name not in TRANSFORM_NAMES:
        raise UsageError(f"transform {name!r} unknown; choose one of: {', '.join(TRANSFORM_NAMES)}")
    if not 0.0 < strength <= 1.0:
        raise UsageError(f"strength {strength} must lie in (0, 1]")
    if name == "flip":
        return v2.RandomHorizontalFlip(p=1.0)
    if name == "rotation":
        return v2.RandomRotation(degrees=30.0 * strength)
    if name == "scale":
        return v2.RandomAffine(degrees=0.0, scale=(1 - 0.3 * strength, 1 + 0.3 * strength))
    if name == "crop":
        return _CropResizeBack(crop_fraction)
    if name == "translation":
        return v2.RandomAffine(degrees=0.0, translate=(0.2 * strength, 0.2 * strength))
    return v2.Compose(
        [v2.ToDtype(torch.float32, scale=True), v2.GaussianNoise(sigma=0.08 * strength)]
    )


class _CropResizeBack(v2.Transform):
    """Random crop of a fraction of each side, then resize back (nearest for masks)."""

    def __init__(self, fraction: float) -> None:
        super().__init__()
        if not 0.0 < fraction <= 1.0:
            raise UsageError(f"crop fraction {fraction} must lie in (0, 1]")
        self.fraction = fraction

    def forward(self, *inputs):
        # The image comes first, as in every call of this module: (image, target).
        height, width = v2.functional.get_size(inputs[0])
        size = (max(1, round(height * self.fraction)), max(1, round(width * self.fraction)))
        return v2.Compose([v2.RandomCrop(size), v2.Resize((height, width))])(*inputs)


def make_pipeline(names: tuple[str, ...], strength: float = 1.0, p: float = 0.5) -> v2.Transform:
    """Apply each named augmentation with probability ``p``, in the given order."""
    return v2.Compose([v2.RandomApply([make_transform(name, strength)], p=p) for name in names])


def photometric_transforms(p: float = 0.3) -> v2.Transform:
    """Pixel-only corruptions of ``uint8`` images, each applied with probability ``p``.

    Gaussian blur, Gaussian noise (sigma up to 0.05 of the range) and JPEG compression (quality
    30-90): the camera-side shifts that a simulator's looks do not cover. They move nothing, so
    boxes and masks stay exact; images stay ``uint8``.
    """
    noise = v2.Compose([v2.ToDtype(torch.float32, scale=True), v2.GaussianNoise(sigma=0.05),
                        v2.ToDtype(torch.uint8, scale=True)])
    return v2.Compose([
        v2.RandomApply([v2.GaussianBlur(kernel_size=5, sigma=(0.3, 1.2))], p=p),
        v2.RandomApply([noise], p=p),
        v2.RandomApply([v2.JPEG(quality=(30, 90))], p=p),
    ])


# The robust set's ranges (``robust_photometric_transforms``). Each stays outside what the
# robustness suite scores (visiongym.vision.robustness.corruptions), whose severity-1 value is
# named beside it, so that training randomises one set of looks and the suite holds out another;
# tests/vision/test_robust_augment.py checks every pair.
ROBUST_RANGES: dict[str, tuple[float, float]] = {
    "gaussian_blur_sigma": (0.3, 0.8),  # defocus_blur sev 1: a disk of radius 1.7 px at 128 px
    "line_blur_sigma": (0.4, 1.2),  # motion_blur sev 1: a line of sigma 1.7 px at 128 px
    "downscale_factor": (0.8, 0.95),  # bilinear, antialiased; pixelate sev 1: box-resampled at 0.6
    "contrast_factor": (0.5, 1.5),  # contrast sev 1 keeps 0.4 of each deviation from the mean
    "brightness_factor": (0.6, 1.4),  # multiplicative; brightness sev 1 adds +0.1 to HSV value
    "noise_sigma": (0.01, 0.05),  # gaussian_noise sev 1: sigma 0.08
    "impulse_fraction": (0.0, 0.01),  # impulse_noise sev 1: 3 % of the channel values
    "jpeg_quality": (35, 90),  # jpeg_compression sev 1: quality 25
    "radial_zoom": (1.02, 1.06),  # largest zoom, steps of 0.01; zoom_blur sev 1: up to 1.10
}

MIX_OPS = ("autocontrast", "equalize", "posterize", "solarize", "sharpness", "colour", "contrast",
           "brightness")
"""The photometric ops of :class:`PhotometricMix`: AugMix's (Hendrycks et al., ICLR 2020) minus
its geometric ones (shear, translate, rotate would move boxes without telling them)."""


def _uniform(low: float, high: float) -> float:
    return float(low + (high - low) * torch.rand(()))


def _mix_op(image: torch.Tensor, name: str) -> torch.Tensor:
    """One AugMix op on a uint8 (3, H, W) tensor, with a random magnitude."""
    F = v2.functional
    if name == "autocontrast":
        return F.autocontrast(image)
    if name == "equalize":
        return F.equalize(image)
    if name == "posterize":
        return F.posterize(image, int(torch.randint(4, 8, ())))
    if name == "solarize":
        return F.solarize(image, _uniform(160.0, 255.0))
    if name == "sharpness":
        return F.adjust_sharpness(image, _uniform(0.1, 1.9))
    if name == "colour":
        return F.adjust_saturation(image, _uniform(0.1, 1.9))
    if name == "contrast":
        return F.adjust_contrast(image, _uniform(*ROBUST_RANGES["contrast_factor"]))
    return F.adjust_brightness(image, _uniform(*ROBUST_RANGES["brightness_factor"]))


class _ImageOnly(v2.Transform):
    """Base for pixel-only transforms: images change; boxes, masks and labels pass through."""

    _transformed_types = (tv_tensors.Image,)

    def transform(self, inpt, params):
        return tv_tensors.wrap(self.apply(inpt.as_subclass(torch.Tensor)), like=inpt)

    def apply(self, image: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class PhotometricMix(_ImageOnly):
    """AugMix's mixture of photometric op chains, on ``uint8`` images (boxes untouched).

    ``width`` chains of 1..``depth`` ops drawn from :data:`MIX_OPS` each transform the image;
    the chains are averaged with Dirichlet(1) weights and the average is blended with the
    original by a Beta(1, 1) weight, as in AugMix. Contrast and brightness keep to
    :data:`ROBUST_RANGES`.
    """

    def __init__(self, width: int = 3, depth: int = 3) -> None:
        super().__init__()
        if width < 1 or depth < 1:
            raise UsageError(f"width {width} and depth {depth} must be at least 1")
        self.width, self.depth = width, depth

    def apply(self, image: torch.Tensor) -> torch.Tensor:
        weights = torch.distributions.Dirichlet(torch.ones(self.width)).sample()
        mixed = torch.zeros(image.shape, dtype=torch.float32)
        for weight in weights:
            chain = image
            for _ in range(int(torch.randint(1, self.depth + 1, ()))):
                chain = _mix_op(chain, MIX_OPS[int(torch.randint(len(MIX_OPS), ()))])
            mixed += weight * chain.float()
        keep = float(torch.distributions.Beta(1.0, 1.0).sample())
        return (keep * image.float() + (1.0 - keep) * mixed).round().clamp(0, 255).to(torch.uint8)


def _line_kernel(sigma: float, angle: float) -> torch.Tensor:
    """A centred line kernel, Gaussian-weighted along its length, at ``angle`` radians."""
    half = max(1, int(math.ceil(2.5 * sigma)))
    coords = torch.arange(-half, half + 1, dtype=torch.float32)
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    along = xx * math.cos(angle) + yy * math.sin(angle)
    across = -xx * math.sin(angle) + yy * math.cos(angle)
    kernel = torch.exp(-0.5 * (along / sigma) ** 2) * torch.clamp(1.0 - across.abs(), min=0.0)
    return kernel / kernel.sum()


def depthwise_convolve(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Float ``x`` (C, H, W) convolved channel by channel with an odd, square ``kernel``, the edges
    replicated: a centred kernel moves nothing."""
    half = kernel.shape[-1] // 2
    weight = kernel.to(x)[None, None].expand(x.shape[0], 1, *kernel.shape)
    padded = torch.nn.functional.pad(x[None], (half, half, half, half), mode="replicate")
    return torch.nn.functional.conv2d(padded, weight, groups=x.shape[0])[0]


def zoomed_mean(x: torch.Tensor, factors, centre: tuple[float, float] = (0.0, 0.0)) -> torch.Tensor:
    """The mean of float ``x`` (C, H, W) and its copies zoomed in by each of ``factors`` (> 1)
    about ``centre`` (in [-1, 1] grid units; bilinear, edges replicated): a zoom blur."""
    cx, cy = centre
    total = x.clone()
    for factor in factors:
        theta = torch.tensor([[1 / factor, 0.0, cx * (1 - 1 / factor)], [0.0, 1 / factor, cy * (1 - 1 / factor)]],
                             dtype=x.dtype, device=x.device)
        grid = torch.nn.functional.affine_grid(theta[None], [1, *x.shape], align_corners=False)
        total += torch.nn.functional.grid_sample(x[None], grid, mode="bilinear", padding_mode="border",
                                                 align_corners=False)[0]
    return total / (len(factors) + 1)


# No box kernel: a 3 x 3 box is defocus_blur's severity-1 disk at 128 px, and an even one
# would shift the frame by half a pixel against its boxes.
BLUR_KINDS = ("gaussian", "line", "down_up")
"""The kernels of :class:`CameraBlur`."""


class CameraBlur(_ImageOnly):
    """One random, mild camera blur: Gaussian, a short line (shake) or a bilinear
    down-and-up resize, each within :data:`ROBUST_RANGES` (below the scored severity 1).

    Args:
        kinds: the kernels drawn from (default: all of :data:`BLUR_KINDS`).
    """

    def __init__(self, kinds: tuple[str, ...] = BLUR_KINDS) -> None:
        super().__init__()
        unknown = [kind for kind in kinds if kind not in BLUR_KINDS]
        if unknown or not kinds:
            raise UsageError(f"blur kinds {kinds!r}; choose from: {', '.join(BLUR_KINDS)}")
        self.kinds = tuple(kinds)

    def apply(self, image: torch.Tensor) -> torch.Tensor:
        kind = self.kinds[int(torch.randint(len(self.kinds), ()))]
        if kind == "gaussian":
            sigma = _uniform(*ROBUST_RANGES["gaussian_blur_sigma"])
            return v2.functional.gaussian_blur(image, [5, 5], [sigma, sigma])
        x = image.float()[None]
        if kind == "down_up":
            height, width = image.shape[-2:]
            factor = _uniform(*ROBUST_RANGES["downscale_factor"])
            small = torch.nn.functional.interpolate(
                x, size=(max(1, round(height * factor)), max(1, round(width * factor))),
                mode="bilinear", antialias=True, align_corners=False)
            x = torch.nn.functional.interpolate(small, size=(height, width), mode="bilinear",
                                                align_corners=False)
            return x[0].round().clamp(0, 255).to(torch.uint8)
        kernel = _line_kernel(_uniform(*ROBUST_RANGES["line_blur_sigma"]), _uniform(0.0, math.pi))
        return depthwise_convolve(x[0], kernel).round().clamp(0, 255).to(torch.uint8)


class RadialBlur(_ImageOnly):
    """A weak zoom blur: the mean of the frame and copies zoomed about its centre in steps of
    0.01 up to a largest zoom within :data:`ROBUST_RANGES` ``radial_zoom`` (below the scored
    severity 1). As in the suite, the labels stay those of the unzoomed frame."""

    def apply(self, image: torch.Tensor) -> torch.Tensor:
        top = _uniform(*ROBUST_RANGES["radial_zoom"])
        zooms = [float(zoom) for zoom in torch.arange(1.01, top + 1e-6, 0.01)]
        return zoomed_mean(image.float(), zooms).round().clamp(0, 255).to(torch.uint8)


class _SensorNoise(_ImageOnly):
    """Gaussian read noise of a random sigma, then a sparse salt and pepper (uint8 in, out)."""

    def apply(self, image: torch.Tensor) -> torch.Tensor:
        sigma = _uniform(*ROBUST_RANGES["noise_sigma"]) * 255.0
        x = image.float() + sigma * torch.randn(image.shape)
        fraction = _uniform(*ROBUST_RANGES["impulse_fraction"])
        hit = torch.rand(image.shape) < fraction
        x[hit] = 255.0 * (torch.rand(int(hit.sum())) < 0.5).float()
        return x.round().clamp(0, 255).to(torch.uint8)


def robust_photometric_transforms(p: float = 0.5, radial: bool = False) -> v2.Transform:
    """The detector's default pixel-only augmentation, wider than :func:`photometric_transforms`.

    With probability ``p`` each: an AugMix-style mixture of photometric op chains
    (:class:`PhotometricMix`), one mild camera blur (:class:`CameraBlur`), sensor noise, JPEG
    compression; then grey with probability 0.1. Every parameter keeps to :data:`ROBUST_RANGES`,
    outside the severities the robustness suite scores. Nothing moves: boxes and masks stay
    exact and images stay ``uint8``. ``radial`` adds a weak zoom blur (:class:`RadialBlur`)
    as a fifth blur choice.
    """
    low, high = ROBUST_RANGES["jpeg_quality"]
    blur = v2.RandomChoice([CameraBlur(), RadialBlur()], p=[0.8, 0.2]) if radial else CameraBlur()
    return v2.Compose([
        v2.RandomApply([PhotometricMix()], p=p),
        v2.RandomApply([blur], p=p),
        v2.RandomApply([_SensorNoise()], p=p),
        v2.RandomApply([v2.JPEG(quality=(int(low), int(high)))], p=p),
        v2.RandomGrayscale(p=0.1),
    ])


class AugmentedViews(v2.Transform):
    """Stack the image with ``views - 1`` independent draws of a pixel-only ``transform``.

    The image becomes ``views x 3 x H x W``: view 0 as given (the clean view), each other view
    the clean one through its own random draw of ``transform``, as AugMix pairs a clean image
    with two augmented copies for its Jensen-Shannon consistency loss. Boxes, masks and labels
    pass through unchanged, so ``transform`` must not move pixels (the photometric sets).
    """

    _transformed_types = (tv_tensors.Image,)

    def __init__(self, transform: v2.Transform, views: int = 3) -> None:
        super().__init__()
        if views < 2:
            raise UsageError(f"views {views} must be at least 2 (the clean view and one augmented)")
        self.views_transform, self.views = transform, views

    def transform(self, inpt, params):
        clean = inpt.as_subclass(torch.Tensor)
        copies = [clean]
        for _ in range(self.views - 1):
            copies.append(self.views_transform(tv_tensors.Image(clean)).as_subclass(torch.Tensor))
        return tv_tensors.wrap(torch.stack(copies), like=inpt)


def mask_boxes(masks: torch.Tensor) -> torch.Tensor:
    """Tight ``xyxy`` boxes (exclusive max, in pixels) of ``(K, H, W)`` masks; NaN rows if empty."""
    boxes = torch.full((len(masks), 4), float("nan"))
    for index, mask in enumerate(masks):
        rows = torch.nonzero(mask.any(dim=1)).flatten()
        cols = torch.nonzero(mask.any(dim=0)).flatten()
        if len(rows):
            boxes[index] = torch.tensor(
                [cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=torch.float32
            )
    return boxes


def make_sample(image, boxes, masks, labels) -> tuple[tv_tensors.Image, dict]:
    """Wrap arrays as ``tv_tensors`` so that ``v2`` transforms move boxes and masks with the image."""
    pixels = torch.as_tensor(image)
    if pixels.ndim == 3 and pixels.shape[-1] == 3:  # (H, W, 3) as the simulator renders it
        pixels = pixels.permute(2, 0, 1)
    image = tv_tensors.Image(pixels)
    height, width = image.shape[-2:]
    target = {
        "boxes": tv_tensors.BoundingBoxes(
            torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            format="XYXY",
            canvas_size=(height, width),
        ),
        "masks": tv_tensors.Mask(torch.as_tensor(masks, dtype=torch.uint8)),
        "labels": torch.as_tensor(labels, dtype=torch.int64),
    }
    return image, target
