"""Super-resolution: the Y-channel convention, same-state LR renders, real learning, SRGAN, errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from visiongym.sims.errors import UsageError
from visiongym.vision.autoencoders.models import build_autoencoder
from visiongym.vision.data.dataset import load_frames
from visiongym.vision.detect.engine import Detector
from visiongym.vision.metrics import psnr
from visiongym.vision.runtime import CheckpointError, save_checkpoint
from visiongym.vision.superres.data import downsample, load_pairs, render_low_res
from visiongym.vision.superres.evaluate import (
    SuperResEvaluateConfig,
    evaluate_superres,
    load_superres,
)
from visiongym.vision.superres.models import SRDiscriminator, bicubic_upscale, build_generator
from visiongym.vision.superres.perceptual import FeatureNetwork, perceptual_loss
from visiongym.vision.superres.quality import luma, sr_scores
from visiongym.vision.superres.train import SuperResTrainConfig, train_superres


def test_untrained_generator_is_bicubic_and_shapes_follow_the_scale():
    low = torch.randint(0, 256, (2, 3, 8, 12), dtype=torch.uint8)
    for scale in (2, 4, 8):
        generator = build_generator("tiny", scale=scale).eval()
        with torch.no_grad():
            out = generator(low)
        assert out.shape == (2, 3, 8 * scale, 12 * scale)
        assert torch.equal(
            out, bicubic_upscale(low, scale).clamp(0, 1)
        )  # the last layer starts at zero
    assert SRDiscriminator((8, 16))(torch.zeros(3, 3, 32, 32)).shape == (3,)
    with pytest.raises(UsageError, match="scale 3 unsupported; choose one of: 2, 4, 8"):
        build_generator("tiny", scale=3)
    with pytest.raises(
        UsageError, match="architecture 'huge' unknown; choose one of: paper, small, tiny"
    ):
        build_generator("huge")


def test_scores_follow_the_y_channel_convention():
    black, white = (
        torch.zeros(1, 3, 4, 4, dtype=torch.uint8),
        torch.full((1, 3, 4, 4), 255, dtype=torch.uint8),
    )
    assert luma(black).unique().item() == pytest.approx(16 / 255)
    assert luma(white).unique().item() == pytest.approx(235 / 255, abs=1e-6)
    reference = torch.full((2, 3, 16, 16), 100, dtype=torch.uint8)
    off = reference.clone()
    off[..., 4:12, 4:12] += 10  # only inside the kept area
    off[..., :2, :] = 0  # only in the 4-pixel border: ignored
    scores = sr_scores(off, reference, border=4)
    # Y moves by 10 * (65.481 + 128.553 + 24.966) / 255 / 255 on every kept pixel.
    assert scores["psnr_y"] == pytest.approx(
        -20 * torch.log10(torch.tensor(10 * 219.0 / 255 / 255)).item(), abs=1e-3
    )
    assert scores["psnr_rgb"] == pytest.approx(
        -20 * torch.log10(torch.tensor(10 / 255)).item(), abs=1e-3
    )
    assert 0 < scores["ssim_y"] < 1


def test_rendered_low_res_frames_are_the_same_states(soccer_dataset: Path):
    stored = load_frames(soccer_dataset, "test")
    assert torch.equal(
        render_low_res(soccer_dataset, "test", 64), stored
    )  # same size: the same bytes
    rendered = load_pairs(soccer_dataset, "test", 4, "rendered")
    assert rendered.lr.shape == (len(stored), 3, 16, 16) and torch.equal(rendered.hr, stored)
    shrunk = downsample(stored, 4).float() / 255
    same = psnr(rendered.lr.float() / 255, shrunk)
    other = psnr(rendered.lr.roll(1, 0).float() / 255, shrunk)
    assert same > other + 3, (same, other)  # each 16 px render is its own 64 px frame, shrunk
    with pytest.raises(
        UsageError, match="lr_source 'blurred' unknown; choose one of: downsampled, rendered"
    ):
        load_pairs(soccer_dataset, "test", 4, "blurred")
    with pytest.raises(UsageError, match="64x64, not divisible by scale 3"):
        load_pairs(soccer_dataset, "test", 3)


def _srresnet(soccer_dataset: Path, run_dir: Path, **changes) -> SuperResTrainConfig:
    config = SuperResTrainConfig(
        data=soccer_dataset,
        arch="small",
        patch_size=32,
        epochs=25,
        batch_size=12,
        run_dir=run_dir,
        progress=False,
        threads=1,
    )
    return dataclasses.replace(config, **changes)


def test_srresnet_beats_bicubic_after_a_short_training(soccer_dataset: Path, tmp_path: Path):
    rows = train_superres(_srresnet(soccer_dataset, tmp_path / "sr"))
    # 75 steps on 36 frames, 16 -> 64 px (about 10 s unloaded). Seeds 0-2: the six held-out frames
    # gain 1.18, 1.27 and 1.71 dB PSNR-Y over bicubic, SSIM-Y 0.08-0.11.
    assert rows["srresnet"]["psnr_y"] > rows["bicubic"]["psnr_y"] + 0.8, rows
    assert rows["srresnet"]["ssim_y"] > rows["bicubic"]["ssim_y"], rows
    assert (tmp_path / "sr" / "grid.png").is_file()
    generator, meta = load_superres(tmp_path / "sr" / "superres.pt", scale=4)
    assert meta["epoch"] == 25 and meta["model"] == "srresnet" and meta["hr_size"] == 64
    with pytest.raises(
        CheckpointError,
        match=r"trained for 4x super-resolution \(16 -> 64 px\), not 2x; use --scale 4",
    ):
        load_superres(tmp_path / "sr" / "superres.pt", scale=2)
    with pytest.raises(CheckpointError, match="holds a 'autoencoder' model; expected 'superres'"):
        load_superres(save_checkpoint(tmp_path / "ae.pt", "autoencoder", {}))
    with pytest.raises(
        CheckpointError, match="was written for model='srresnet', not model='srgan'"
    ):
        train_superres(
            _srresnet(
                soccer_dataset, tmp_path / "sr", model="srgan", feature_net=tmp_path / "ae.pt"
            )
        )


def _autoencoder_checkpoint(path: Path, arch: str = "tiny") -> Path:
    model = build_autoencoder(arch, image_size=(64, 64))
    return save_checkpoint(
        path,
        "autoencoder",
        {"model": model.state_dict()},
        variant="conv",
        arch=arch,
        image_size=[64, 64],
        epoch=0,
    )


def test_srgan_trains_from_srresnet_resumes_and_is_scored(soccer_dataset: Path, tmp_path: Path):
    srresnet = _srresnet(soccer_dataset, tmp_path / "sr", arch="tiny", epochs=2)
    train_superres(srresnet)
    features = _autoencoder_checkpoint(tmp_path / "ae.pt")
    srgan = _srresnet(
        soccer_dataset,
        tmp_path / "gan",
        arch="tiny",
        model="srgan",
        epochs=1,
        feature_net=features,
        init=tmp_path / "sr" / "superres.pt",
    )
    train_superres(srgan)
    rows = train_superres(dataclasses.replace(srgan, epochs=2))  # resumes at epoch 1
    assert set(rows) == {"bicubic", "srgan"}
    assert load_superres(tmp_path / "gan" / "superres.pt")[1]["epoch"] == 2
    with pytest.raises(UsageError, match="--model srgan needs --feature-net"):
        train_superres(dataclasses.replace(srgan, feature_net=None))
    with pytest.raises(CheckpointError, match="--init .* holds arch 'tiny'.*pass --arch tiny"):
        train_superres(dataclasses.replace(srgan, arch="small", run_dir=tmp_path / "gan2"))

    detector = Detector("grid_tiny", image_size=64).save(tmp_path / "det.pt")
    rows = evaluate_superres(
        SuperResEvaluateConfig(
            checkpoints=(tmp_path / "sr" / "superres.pt", tmp_path / "gan" / "superres.pt"),
            data=soccer_dataset,
            detector=detector,
            grid=tmp_path / "grids",
            progress=False,
            threads=1,
        )
    )
    names = {
        f"{model} ({source})"
        for model in ("bicubic", "srresnet", "srgan")
        for source in ("downsampled", "rendered")
    }
    assert set(rows) == names | {"hr"}
    assert {"psnr_y", "ssim_y", "psnr_rgb", "map_50", "ap50_ball"} <= set(rows["srgan (rendered)"])
    assert (tmp_path / "grids" / "grid_rendered.png").is_file()
    with pytest.raises(CheckpointError, match="trained for 4x"):
        evaluate_superres(
            SuperResEvaluateConfig(
                checkpoints=(tmp_path / "sr" / "superres.pt",), data=soccer_dataset, scale=2
            )
        )


def test_feature_network_reads_frames_as_its_autoencoder_does(tmp_path: Path):
    """An autoencoder that also reads standardised channels gets them as a feature network too."""
    from visiongym.vision.autoencoders.evaluate import load_autoencoder

    checkpoint = _autoencoder_checkpoint(tmp_path / "ae.pt", arch="spatial_context_norm")
    features, (model, _) = FeatureNetwork(checkpoint), load_autoencoder(checkpoint)
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        x = model.encoder_input(images)
        for down in model.downs:
            x = down(x)
        torch.testing.assert_close(features(images), x)


def test_feature_network_is_frozen_and_reads_any_size(tmp_path: Path):
    features = FeatureNetwork(_autoencoder_checkpoint(tmp_path / "ae.pt"))
    images = torch.rand(2, 3, 40, 40, requires_grad=True)
    assert features(images).shape == (2, 32, 5, 5)
    loss = perceptual_loss(features.train(), images, torch.rand(2, 3, 40, 40))
    loss.backward()
    assert images.grad is not None and not any(p.requires_grad for p in features.parameters())
    assert not features.training
    detector = Detector("grid_tiny", image_size=64).save(tmp_path / "det.pt")
    assert FeatureNetwork(detector, layer=0)(images).shape == (2, 8, 20, 20)
    with pytest.raises(CheckpointError, match="feature layer 5 out of range.*3 stages"):
        FeatureNetwork(detector, layer=5)
    with pytest.raises(CheckpointError, match="expected 'autoencoder' or 'detector'"):
        FeatureNetwork(save_checkpoint(tmp_path / "x.pt", "dcgan", {}))
