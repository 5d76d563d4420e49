"""How good are generated frames? FID, KID, precision/recall and object counts, in a feature space of our own.

Every figure compares a set of generated frames with a set of real ones in the features of a
network trained on rendered frames, by default the encoder of a frame classifier
(``visiongym classify frames``: :mod:`visiongym.vision.classify.frames`; its output, the
features its linear heads read). :func:`load_feature_network` loads one;
``FeatureNetwork.features(images)`` takes uint8 (N, H, W, 3) NumPy frames, uint8 (N, 3, H, W)
tensors or float (N, 3, H, W) tensors in [0, 1], resizes them to the network's input and returns
(N, D) float features.

- **FID** (Heusel et al. 2017): the Fréchet distance between Gaussians fitted to the two feature
  sets, ``|mu_r - mu_g|^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2))``; torchmetrics'
  ``FrechetInceptionDistance`` does the maths (float64) on our features.
- **KID** (Bińkowski et al. 2018): the unbiased MMD^2 with the cubic polynomial kernel
  ``k(x, y) = (x.y / D + 1)^3`` over random subsets, reported as mean ± std over the subsets
  (torchmetrics' ``KernelInceptionDistance``, seeded). Unbiased: about 0, sometimes below, for
  two sets from one distribution.
- **Precision and recall** (Kynkäänniemi et al. 2019): each set's manifold is the union of balls
  around its points reaching their k-th nearest neighbour (k = 3); precision is the share of
  generated frames inside the real manifold (are they realistic?), recall the share of real
  frames inside the generated one (is the variety covered?).
- **Objects per frame**: what a detector (``visiongym detect train``) finds above a score
  threshold per generated and per real frame, per class (``players`` is team A and team B
  together), and their ratio generated / real: does the GAN draw a ball and the right number of
  players?

Each figure comes with its **real-vs-real floor**: the same figure between the real set and a
second, disjoint real set of the same size, the value a perfect generator would get at this
sample size (FID is biased upwards at small sample sizes, so compare a FID with its floor, at
the same number of frames, never across sizes).

**These FIDs and KIDs are not comparable with published ones.** Published values use
torchvision's Inception-v3 trained on ImageNet, 2048 features, and usually 50 000 samples; ours
use a small network trained on a few hundred rendered frames, its own feature size, and a few
hundred samples. They rank generators of our frames against each other and against the floor,
nothing more.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from visiongym.sims.errors import UsageError
from visiongym.vision.runtime import load_checkpoint

__all__ = [
    "FEATURE_CHECKPOINT_KINDS",
    "FeatureNetwork",
    "as_uint8_batch",
    "load_feature_network",
    "frechet_distance",
    "kernel_distance",
    "precision_recall",
    "objects_per_frame",
    "score_samples",
]

FEATURE_CHECKPOINT_KINDS = ("frame_classifier",)
"""Checkpoint kinds :func:`load_feature_network` reads."""


def as_uint8_batch(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Frames as one uint8 (N, 3, H, W) tensor.

    Accepts uint8 (N, H, W, 3) NumPy arrays (the dataset and simulator layout), uint8 (N, 3, H, W)
    tensors (``load_frames``, ``Generator.sample``) and float (N, 3, H, W) tensors in [0, 1].
    """
    if isinstance(images, np.ndarray):
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise UsageError(
                f"NumPy frames must be uint8 (N, H, W, 3); got {images.dtype} {tuple(images.shape)}"
            )
        return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).contiguous()
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 3:
        shape = tuple(images.shape) if hasattr(images, "shape") else type(images).__name__
        raise UsageError(
            f"frames must be uint8 (N, H, W, 3) NumPy or (N, 3, H, W) tensors; got {shape}"
        )
    if images.dtype == torch.uint8:
        return images
    if not images.is_floating_point():
        raise UsageError(f"tensor frames must be uint8 or float in [0, 1]; got {images.dtype}")
    return (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8)


def _resized(images: torch.Tensor, size: int) -> torch.Tensor:
    from torchvision.transforms.v2 import functional as TF

    if tuple(images.shape[-2:]) == (size, size):
        return images
    return TF.resize(images, [size, size], antialias=True)


class FeatureNetwork:
    """A trained image network used as a feature space for the sample metrics.

    Args:
        module: any module mapping uint8 (N, 3, S, S) images to (N, D) features (``.features``
            of a frame classifier).
        input_size: S, the side frames are resized to.
        name: what the printed reports call it.
    """

    def __init__(self, module: nn.Module, input_size: int, name: str = "features") -> None:
        self.module = module.eval()
        self.input_size = int(input_size)
        self.name = name
        self.device = next(module.parameters()).device

    @torch.no_grad()
    def features(self, images: np.ndarray | torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """(N, D) float32 features on the CPU of frames in any layout :func:`as_uint8_batch` takes."""
        batch = as_uint8_batch(images)
        chunks = [
            self.module(
                _resized(batch[start : start + batch_size], self.input_size).to(self.device)
            )
            .float()
            .cpu()
            for start in range(0, len(batch), batch_size)
        ]
        if not chunks:
            raise UsageError("no frames to compute features of")
        return torch.cat(chunks)


class _FrameClassifierFeatures(nn.Module):
    def __init__(self, classifier: nn.Module) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier.features(images)


def load_feature_network(path: str | Path, device: str | torch.device = "cpu") -> FeatureNetwork:
    """The feature network of a checkpoint: a frame classifier's encoder output (its penultimate layer)."""
    kind = load_checkpoint(path)["kind"]
    if kind not in FEATURE_CHECKPOINT_KINDS:
        raise UsageError(
            f"checkpoint {str(path)!r} holds a {kind!r} model, which is no feature network; "
            f"give a checkpoint of kind: {', '.join(FEATURE_CHECKPOINT_KINDS)} (visiongym classify frames)"
        )
    from visiongym.vision.classify.frames import load_frame_classifier

    classifier, meta = load_frame_classifier(path, device)
    name = f"{meta['encoder']} frame classifier, {meta['features_dim']} features at {meta['image_size']} px"
    return FeatureNetwork(_FrameClassifierFeatures(classifier), meta["image_size"], name)


class _GivenFeatures(nn.Module):
    """The identity as torchmetrics' feature extractor: its FID/KID maths then run on features we
    computed once (and reuse for precision/recall and the floor)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.num_features = dim

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


def _check_pair(real: torch.Tensor, fake: torch.Tensor, least: int = 2) -> None:
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise UsageError(
            f"feature sets must be (N, D) with one D; got {tuple(real.shape)} and {tuple(fake.shape)}"
        )
    if min(len(real), len(fake)) < least:
        raise UsageError(
            f"need at least {least} frames in each set; got {len(real)} real and {len(fake)} generated"
        )


def frechet_distance(real: torch.Tensor, fake: torch.Tensor) -> float:
    """FID between two (N, D) feature sets (torchmetrics' maths, in float64)."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    _check_pair(real, fake)
    metric = FrechetInceptionDistance(feature=_GivenFeatures(real.shape[1]))
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    return float(metric.compute())


def kernel_distance(
    real: torch.Tensor,
    fake: torch.Tensor,
    subsets: int = 50,
    subset_size: int | None = None,
    seed: int = 0,
) -> tuple[float, float]:
    """KID (mean, std over ``subsets`` random subsets of ``subset_size`` frames, default
    ``min(100, N)``) between two (N, D) feature sets; torchmetrics' maths, seeded by ``seed``."""
    from torchmetrics.image.kid import KernelInceptionDistance

    _check_pair(real, fake)
    size = subset_size or min(100, len(real), len(fake))
    if size > min(len(real), len(fake)):
        raise UsageError(
            f"KID subset_size={size} is larger than a set ({len(real)} real, {len(fake)} generated frames)"
        )
    with (
        warnings.catch_warnings()
    ):  # its notice that it keeps every feature: ours are in memory anyway
        warnings.simplefilter("ignore", UserWarning)
        metric = KernelInceptionDistance(
            feature=_GivenFeatures(real.shape[1]), subsets=subsets, subset_size=size
        )
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    with torch.random.fork_rng(devices=[]):  # its subsets come from torch's global generator
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std)


def _distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # The direct formula: the matrix-product shortcut puts ~1e-3 of noise on a zero distance.
    return torch.cdist(a.double(), b.double(), compute_mode="donot_use_mm_for_euclid_dist")


def _inside(reference: torch.Tensor, query: torch.Tensor, k: int) -> float:
    """Share of ``query`` points inside the k-NN manifold of ``reference``."""
    radii = _distances(reference, reference).kthvalue(k + 1, dim=1).values  # k + 1: skip itself
    return float((_distances(query, reference) <= radii[None]).any(dim=1).double().mean())


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of ``fake`` against ``real`` features."""
    _check_pair(real, fake, least=k + 1)
    return _inside(real, fake, k), _inside(fake, real, k)


def objects_per_frame(
    detector: Any,
    images: np.ndarray | torch.Tensor,
    score_threshold: float = 0.5,
    batch_size: int = 64,
) -> dict[str, float]:
    """Mean detections per frame above ``score_threshold``, per class (team A + B as ``players``).

    Args:
        detector: a :class:`visiongym.vision.detect.engine.Detector`; frames are resized to its input.
        images: frames in any layout :func:`as_uint8_batch` takes.
    """
    batch = as_uint8_batch(images)
    groups = ["players" if name.startswith("team") else name for name in detector.class_names]
    totals = dict.fromkeys(groups, 0)
    device = next(detector.parameters()).device
    for start in range(0, len(batch), batch_size):
        frames = _resized(batch[start : start + batch_size], detector.image_size).to(device)
        for found in detector.predict(frames, score_threshold=score_threshold):
            for label in found["labels"].cpu().tolist():
                totals[groups[int(label) - 1]] += 1
    return {group: count / max(len(batch), 1) for group, count in totals.items()}


def _compare(
    real: torch.Tensor,
    other: torch.Tensor,
    k: int,
    subsets: int,
    subset_size: int | None,
    seed: int,
) -> dict[str, float]:
    kid_mean, kid_std = kernel_distance(real, other, subsets, subset_size, seed)
    precision, recall = precision_recall(real, other, k)
    return {
        "fid": frechet_distance(real, other),
        "kid_mean": kid_mean,
        "kid_std": kid_std,
        "precision": precision,
        "recall": recall,
    }


def score_samples(
    fake_images: np.ndarray | torch.Tensor,
    real_images: np.ndarray | torch.Tensor,
    feature_net: FeatureNetwork,
    detector: Any = None,
    *,
    real_floor_images: np.ndarray | torch.Tensor | None = None,
    k: int = 3,
    kid_subsets: int = 50,
    kid_subset_size: int | None = None,
    score_threshold: float = 0.5,
    seed: int = 0,
) -> dict[str, float]:
    """Every metric of generated frames against real ones, with the real-vs-real floor.

    Args:
        fake_images: generated frames (any layout :func:`as_uint8_batch` takes).
        real_images: the real frames they are compared with. Without ``real_floor_images`` they
            are split in two halves: the first is the reference, the second the floor set.
        feature_net: :func:`load_feature_network`.
        detector: a detector for the object counts (none: no counts).
        real_floor_images: real frames disjoint from ``real_images``, for the floor.
        k: neighbours of the precision/recall manifolds.
        kid_subsets, kid_subset_size: KID's subsets (size default ``min(100, N)``).
        score_threshold: detections at least this confident are counted.
        seed: KID's subset draws.

    Returns:
        ``fid``, ``kid_mean``, ``kid_std``, ``precision``, ``recall``; the same with the prefix
        ``floor_`` for the floor set against the reference; ``frames_generated``,
        ``frames_real``, ``frames_floor``; and with a detector ``objects_<class>_generated``,
        ``objects_<class>_real``, ``objects_<class>_ratio`` per class.
    """
    real = as_uint8_batch(real_images)
    if real_floor_images is None:
        if len(real) < 2 * (k + 1):
            raise UsageError(
                f"{len(real)} real frames are too few to split into a reference and a floor set"
            )
        real, floor = real[: len(real) // 2], real[len(real) // 2 :]
    else:
        floor = as_uint8_batch(real_floor_images)
    fake = as_uint8_batch(fake_images)
    features = {
        name: feature_net.features(images)
        for name, images in (("real", real), ("fake", fake), ("floor", floor))
    }
    scores = _compare(features["real"], features["fake"], k, kid_subsets, kid_subset_size, seed)
    floor_scores = _compare(
        features["real"], features["floor"], k, kid_subsets, kid_subset_size, seed
    )
    scores.update({f"floor_{name}": value for name, value in floor_scores.items()})
    scores.update(
        frames_generated=float(len(fake)),
        frames_real=float(len(real)),
        frames_floor=float(len(floor)),
    )
    if detector is not None:
        on_fake = objects_per_frame(detector, fake, score_threshold)
        on_real = objects_per_frame(detector, real, score_threshold)
        for group in on_fake:
            scores[f"objects_{group}_generated"] = on_fake[group]
            scores[f"objects_{group}_real"] = on_real[group]
            scores[f"objects_{group}_ratio"] = (
                on_fake[group] / on_real[group] if on_real[group] else float("nan")
            )
    return scores


def object_classes(scores: dict[str, float]) -> Sequence[str]:
    """The classes :func:`score_samples` counted, in order (empty without a detector)."""
    return [
        key[len("objects_") : -len("_generated")]
        for key in scores
        if key.startswith("objects_") and key.endswith("_generated")
    ]
