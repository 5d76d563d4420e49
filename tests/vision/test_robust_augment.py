"""The detector's robust augmentation: pixels only, and weaker than every scored corruption.

The robustness suite holds corruptions out for scoring (visiongym.vision.robustness.corruptions);
what training randomises must stay outside them. Each test sets one training op to the strongest
value of its range (``ROBUST_RANGES``) and checks that it changes a frame less than the matching
corruption does at severity 1, the mildest one scored.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

from visiongym.sims.errors import UsageError
from visiongym.vision.augment import transforms as T
from visiongym.vision.augment.transforms import (
    BLUR_KINDS,
    MIX_OPS,
    ROBUST_RANGES,
    CameraBlur,
    PhotometricMix,
    RadialBlur,
    make_sample,
    robust_photometric_transforms,
)
from visiongym.vision.classify.training import torch_threads
from visiongym.vision.data.dataset import detection_transforms
from visiongym.vision.robustness.corruptions import corrupt


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


def _scene(seed: int = 0, side: int = 128) -> np.ndarray:
    """A pitch-like frame: green with noise-free grass stripes, white lines and small blobs."""
    rng = np.random.default_rng(seed)
    image = np.zeros((side, side, 3), np.uint8)
    image[..., 1] = 140
    image[:, ::16] = (40, 170, 40)
    image[side // 2, :] = 255
    for _ in range(12):
        y, x = rng.integers(4, side - 8, 2)
        size = int(rng.integers(2, 7))
        image[y : y + size, x : x + size] = rng.integers(0, 256, 3)
    return image


def _image(array: np.ndarray) -> tv_tensors.Image:
    return tv_tensors.Image(torch.from_numpy(array).permute(2, 0, 1).contiguous())


def _error(a, b) -> float:
    a = a.permute(1, 2, 0).numpy() if isinstance(a, torch.Tensor) else a
    b = b.permute(1, 2, 0).numpy() if isinstance(b, torch.Tensor) else b
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())


def _strongest(monkeypatch, name: str, at: str = "high") -> None:
    low, high = ROBUST_RANGES[name]
    value = high if at == "high" else low
    monkeypatch.setitem(ROBUST_RANGES, name, (value, value))


@pytest.mark.parametrize("radial", [False, True])
def test_robust_augmentation_keeps_boxes_masks_and_labels_exact(radial: bool):
    torch.manual_seed(0)
    masks = torch.zeros(2, 64, 64, dtype=torch.uint8)
    masks[0, 5:15, 5:20] = 1
    masks[1, 30:40, 20:44] = 1
    sample, target = make_sample(_scene(side=64), [[5, 5, 20, 15], [20, 30, 44, 40]], masks, [1, 2])
    transform = robust_photometric_transforms(p=1.0, radial=radial)
    changed = 0
    for _ in range(10):
        out, out_target = transform(sample, target)
        assert isinstance(out, tv_tensors.Image) and out.dtype == torch.uint8 and out.shape == sample.shape
        assert torch.equal(out_target["boxes"], target["boxes"])
        assert isinstance(out_target["boxes"], tv_tensors.BoundingBoxes)
        assert torch.equal(out_target["masks"], masks) and out_target["labels"].tolist() == [1, 2]
        changed += not torch.equal(out, sample)
    assert changed == 10


def test_each_mix_op_and_blur_kind_runs_and_keeps_the_frame_size():
    torch.manual_seed(0)
    image = _image(_scene(side=40))
    for name in MIX_OPS:
        out = T._mix_op(image.as_subclass(torch.Tensor), name)
        assert out.dtype == torch.uint8 and out.shape == image.shape, name
    for kind in BLUR_KINDS:
        out = CameraBlur((kind,))(image)
        assert out.shape == image.shape and out.dtype == torch.uint8 and not torch.equal(out, image), kind
    with pytest.raises(UsageError, match="choose from: gaussian, line, down_up"):
        CameraBlur(("zoom",))
    assert PhotometricMix(width=2, depth=1)(image).shape == image.shape


def test_blurs_do_not_move_a_centred_dot():
    """A blur that moved content would leave the boxes behind; every kernel is centred."""
    image = np.zeros((33, 33, 3), np.uint8)
    image[16, 16] = 255
    for seed in range(40):
        torch.manual_seed(seed)
        out = CameraBlur()(_image(image)).float()[0]
        ys, xs = torch.meshgrid(torch.arange(33.0), torch.arange(33.0), indexing="ij")
        centre = ((out * ys).sum() / out.sum(), (out * xs).sum() / out.sum())
        assert abs(centre[0] - 16) <= 0.5 and abs(centre[1] - 16) <= 0.5, (seed, centre)


@pytest.mark.parametrize(
    "op, range_name, corruption",
    [
        ("gaussian", "gaussian_blur_sigma", "defocus_blur"),
        ("line", "line_blur_sigma", "motion_blur"),
        # A smooth low-pass, like a defocus; by mean pixel change its 0.8 end is about pixelate's
        # severity 1 on rendered frames (docs/vision.md), where pixelate makes blocks instead.
        ("down_up", "downscale_factor", "defocus_blur"),
        ("radial", "radial_zoom", "zoom_blur"),
    ],
)
def test_strongest_blur_is_milder_than_the_scored_severity_one(monkeypatch, op, range_name, corruption):
    _strongest(monkeypatch, range_name, at="low" if range_name == "downscale_factor" else "high")
    blur = RadialBlur() if op == "radial" else CameraBlur((op,))
    for seed in range(3):
        frame = _scene(seed)
        torch.manual_seed(seed)
        augmented = blur(_image(frame))
        assert 0 < _error(augmented, frame) < _error(corrupt(frame, corruption, 1, seed), frame), seed


def test_strongest_contrast_keeps_more_than_scored_contrast(monkeypatch):
    _strongest(monkeypatch, "contrast_factor", at="low")
    frame = _scene()
    weakest = T._mix_op(_image(frame).as_subclass(torch.Tensor), "contrast").numpy().astype(float)
    scored = corrupt(frame, "contrast", 1).transpose(2, 0, 1).astype(float)
    # Per channel, over the frame: the spread of values that contrast scales.
    assert (weakest.std(axis=(1, 2)) > scored.std(axis=(1, 2))).all()


@pytest.mark.parametrize(
    "range_name, other, corruption",
    [("noise_sigma", "impulse_fraction", "gaussian_noise"), ("impulse_fraction", "noise_sigma", "impulse_noise")],
)
def test_strongest_sensor_noise_is_milder_than_severity_one(monkeypatch, range_name, other, corruption):
    _strongest(monkeypatch, range_name)
    monkeypatch.setitem(ROBUST_RANGES, other, (0.0, 0.0))
    frame = _scene()
    torch.manual_seed(0)
    noisy = T._SensorNoise()(_image(frame))
    assert 0 < _error(noisy, frame) < _error(corrupt(frame, corruption, 1), frame)


def test_lowest_jpeg_quality_is_milder_than_severity_one():
    frame = _scene()
    compressed = v2.functional.jpeg(_image(frame), int(ROBUST_RANGES["jpeg_quality"][0]))
    assert _error(compressed, frame) < _error(corrupt(frame, "jpeg_compression", 1), frame)


def test_augmented_training_still_learns_to_find_an_object():
    """grid_tiny trained on robust-augmented squares finds them on clean frames."""
    from visiongym.vision.detect.engine import Detector, evaluate

    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    transform = detection_transforms(True, photometric=True, robust=True, radial=True)

    def squares(count: int, augment: bool):
        images, targets = [], []
        for _ in range(count):
            image = torch.zeros(3, 64, 64, dtype=torch.uint8)
            image[1] = 120
            side = int(torch.randint(12, 20, (), generator=generator))
            x0, y0 = (int(v) for v in torch.randint(0, 64 - side, (2,), generator=generator))
            image[0, y0 : y0 + side, x0 : x0 + side] = 220
            image[1, y0 : y0 + side, x0 : x0 + side] = 30
            sample, target = make_sample(image, [[x0, y0, x0 + side, y0 + side]],
                                         torch.zeros(1, 64, 64, dtype=torch.uint8), [2])
            if augment:
                sample, target = transform(sample, target)
            images.append(torch.as_tensor(sample))
            targets.append({"boxes": torch.as_tensor(target["boxes"]), "labels": target["labels"]})
        return torch.stack(images), targets

    detector = Detector("grid_tiny", image_size=64)
    optimizer = torch.optim.AdamW(detector.parameters(), lr=1e-2)
    for _ in range(100):
        loss, _ = detector.loss(*squares(8, augment=True))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    scores = evaluate(detector.eval(), [squares(16, augment=False)])
    assert scores["map_50"] > 0.8, scores
