"""The restoring autoencoder's train-time degradations: disjoint from the scored corruptions, and they teach."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from visiongym.vision.autoencoders.degradations import DEGRADATIONS, degradation_names, degrade
from visiongym.vision.autoencoders.evaluate import load_autoencoder, reconstruct
from visiongym.vision.autoencoders.train import AutoencoderTrainConfig, train_autoencoder
from visiongym.vision.data.dataset import load_frames
from visiongym.vision.metrics import psnr
from visiongym.vision.robustness.corruptions import GROUPS, corrupt


def _strongest(name: str, key: str) -> dict[str, float]:
    """The parameters of ``name`` at the harsh end of ``key``'s range, the others mid-range."""
    ranges = DEGRADATIONS[name].ranges
    return {k: (hi if k == key else (lo + hi) / 2) for k, (lo, hi) in ranges.items()}


def _apply(name: str, image: np.ndarray, parameters: dict[str, float]) -> np.ndarray:
    x = torch.from_numpy(image).permute(2, 0, 1).float() / 255
    out = DEGRADATIONS[name].apply(x, parameters, torch.Generator().manual_seed(0)).clamp(0, 1)
    return (out.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def _error_std(a: np.ndarray, b: np.ndarray) -> float:
    return float((a.astype(np.float64) - b.astype(np.float64)).std() / 255)


def test_noise_like_the_scored_noise_stays_milder_than_its_severity_one():
    """Gaussian, signal-dependent and salt-and-pepper noise share the scored noises' form, so
    even their harshest training draw must be weaker than the suite's severity 1."""
    grey = np.full((128, 128, 3), 128, np.uint8)
    assert _error_std(_apply("gaussian_noise", grey, _strongest("gaussian_noise", "sigma")), grey) \
        < 0.9 * _error_std(corrupt(grey, "gaussian_noise", 1), grey)
    assert _error_std(_apply("signal_noise", grey, _strongest("signal_noise", "a")), grey) \
        < 0.9 * _error_std(corrupt(grey, "shot_noise", 1), grey)
    hit_train = (_apply("salt_pepper", grey, _strongest("salt_pepper", "fraction")) != grey).mean()
    hit_scored = (corrupt(grey, "impulse_noise", 1) != grey).mean()
    assert hit_train < 0.9 * hit_scored


def test_jpeg_and_down_sampling_stay_milder_than_severity_one(soccer_dataset: Path):
    frame = load_frames(soccer_dataset, "test", size=64, limit=1)[0].permute(1, 2, 0).numpy()
    lowest_quality = int(DEGRADATIONS["jpeg"].ranges["quality"][0])
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, "JPEG", quality=lowest_quality)
    # The same encoder (Pillow) at the training's lowest quality loses less than severity 1.
    assert _error_std(np.asarray(Image.open(buffer).convert("RGB")), frame) \
        < _error_std(corrupt(frame, "jpeg_compression", 1), frame)
    assert _error_std(_apply("jpeg", frame, {"quality": lowest_quality}), frame) \
        < _error_std(corrupt(frame, "jpeg_compression", 1), frame)
    # pixelate keeps 0.6 of the side at severity 1 (corruptions.pixelate); training keeps more.
    assert DEGRADATIONS["down_up"].ranges["factor"][0] > 0.6


def test_sampler_draws_inside_its_ranges_and_covers_every_family():
    clean = torch.rand(300, 3, 24, 24)
    log: list = []
    out = degrade(clean, torch.Generator().manual_seed(0), clean_p=0.15, log=log)
    assert out.shape == clean.shape and 0.0 <= float(out.min()) and float(out.max()) <= 1.0
    used = set()
    for frame, applied in zip(range(len(clean)), log, strict=True):
        assert len(applied) <= 3 and len({name for name, _ in applied}) == len(applied)
        if not applied:
            assert torch.equal(out[frame], clean[frame])
        for name, parameters in applied:
            used.add(name)
            for key, value in parameters.items():
                low, high = DEGRADATIONS[name].ranges[key]
                assert low <= value <= high, (name, key, value)
    assert used == set(degradation_names())
    assert {DEGRADATIONS[name].family for name in used} == set(GROUPS)
    clean_share = sum(not applied for applied in log) / len(log)
    assert 0.08 < clean_share < 0.25
    # One seed, one draw: the same bytes again.
    assert torch.equal(out, degrade(clean, torch.Generator().manual_seed(0), clean_p=0.15))


def test_restoring_training_undoes_degradations_it_was_never_shown_exactly(
    soccer_dataset: Path, tmp_path: Path
):
    """A short restoring run on 36 frames reconstructs unseen degraded test frames closer to the
    clean ones than the degraded inputs are, and far better than a plain autoencoder does."""
    torch.manual_seed(0)
    common = dict(data=soccer_dataset, arch="spatial_context", image_size=32, epochs=25,
                  batch_size=6, lr=5e-3, progress=False)
    train_autoencoder(AutoencoderTrainConfig(variant="restoring", run_dir=tmp_path / "r", **common))
    train_autoencoder(AutoencoderTrainConfig(variant="conv", run_dir=tmp_path / "c", **common))
    restorer, meta = load_autoencoder(tmp_path / "r" / "autoencoder.pt")
    plain, _ = load_autoencoder(tmp_path / "c" / "autoencoder.pt")
    assert meta["variant"] == "restoring"
    clean = load_frames(soccer_dataset, "test", size=32).float() / 255
    generator = torch.Generator().manual_seed(123)
    degraded = torch.stack([
        DEGRADATIONS["haze"].apply(x, _strongest("haze", "weight"), generator).clamp(0, 1)
        for x in clean
    ])
    degraded = torch.stack([DEGRADATIONS["gain_offset"].apply(x, {"gain": 1.2, "offset": 0.15},
                                                              generator).clamp(0, 1) for x in degraded])
    restored = psnr(reconstruct(restorer, degraded), clean)
    assert restored > psnr(degraded, clean) + 3.0
    assert restored > psnr(reconstruct(plain, degraded), clean) + 2.0


def test_clean_share_is_checked():
    with pytest.raises(ValueError, match="clean_p 1.5 must lie in"):
        degrade(torch.rand(1, 3, 8, 8), torch.Generator(), clean_p=1.5)


def test_restoring_loss_degrades_the_input_and_keeps_the_clean_target():
    from visiongym.vision.autoencoders.train import _loss

    def identity(images):  # an "autoencoder" that returns its input: the loss is the input's error
        return images, images

    clean = torch.rand(4, 3, 16, 16)
    config = AutoencoderTrainConfig(variant="restoring", clean_p=0.0)
    plain, _ = _loss(identity, clean, AutoencoderTrainConfig(variant="conv"))
    first, terms = _loss(identity, clean, config, torch.Generator().manual_seed(1))
    again, _ = _loss(identity, clean, config, torch.Generator().manual_seed(1))
    assert set(terms) == {"mse"} and plain.item() == 0.0
    assert first.item() > 1e-3 and first.item() == again.item()
    kept, _ = _loss(identity, clean, AutoencoderTrainConfig(variant="restoring", clean_p=1.0),
                    torch.Generator().manual_seed(1))
    assert kept.item() == 0.0  # nothing degraded
