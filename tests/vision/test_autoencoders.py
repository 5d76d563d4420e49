"""Autoencoders: tiny real learning on rendered frames, scores, checkpoints, SB3 extractor."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from visiongym.vision.autoencoders.evaluate import evaluate_autoencoder, load_autoencoder
from visiongym.vision.autoencoders.features import FrozenEncoderExtractor
from visiongym.vision.autoencoders.models import build_autoencoder, standardise_channels
from visiongym.vision.autoencoders.train import AutoencoderTrainConfig, train_autoencoder
from visiongym.vision.data.dataset import load_frames
from visiongym.vision.runtime import CheckpointError, save_checkpoint


@pytest.mark.parametrize("arch", ["tiny", "spatial", "spatial_context_norm"])
@pytest.mark.parametrize("size", [84, 64, 33])
def test_decoder_inverts_encoder_shapes(size: int, arch: str):
    model = build_autoencoder(arch, image_size=(size, size))
    with torch.no_grad():
        reconstruction, code = model(torch.zeros(2, 3, size, size, dtype=torch.uint8))
    assert reconstruction.shape == (2, 3, size, size)
    assert tuple(code.shape[1:]) == model.code_shape
    assert 0.0 <= float(reconstruction.min()) and float(reconstruction.max()) <= 1.0


def test_standardised_input_is_the_same_for_a_frame_and_its_low_contrast_colour_cast_copy():
    frame = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    means = frame.mean(dim=(2, 3), keepdim=True)
    gain = torch.tensor([0.2, 0.3, 0.25]).view(1, 3, 1, 1)  # contrast at severity 3 and a cast
    flat = (frame - means) * gain + means * torch.tensor([0.9, 1.0, 1.1]).view(1, 3, 1, 1)
    torch.testing.assert_close(standardise_channels(flat), standardise_channels(frame), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(flat, frame, atol=0.05)
    uniform = torch.full((1, 3, 8, 8), 0.375)  # no contrast at all: zeros, not NaN
    assert torch.equal(standardise_channels(uniform), torch.zeros_like(uniform))


def test_spatial_code_is_a_quarter_size_map_six_times_smaller_than_the_frame():
    spatial, small = (build_autoencoder(name, image_size=(84, 84)) for name in ("spatial", "small"))
    assert spatial.code_shape == (8, 21, 21) and spatial.compression_ratio == pytest.approx(6.0)
    assert small.code_shape == (32, 11, 11) and small.compression_ratio == pytest.approx(5.47, abs=0.01)
    with pytest.raises(ValueError, match="autoencoder 'huge' unknown; choose one of: spatial, small"):
        build_autoencoder("huge")


def test_spatial_autoencoder_learns_a_few_frames_fast(soccer_dataset: Path):
    """Sixty steps on eight 32 px frames: far above the mean image (real learning, not shapes)."""
    torch.manual_seed(0)
    frames = load_frames(soccer_dataset, "train", size=32, limit=8)
    clean = frames.float() / 255.0
    model = build_autoencoder("spatial", image_size=(32, 32))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(60):
        loss = torch.nn.functional.mse_loss(model(frames)[0], clean)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    scores = evaluate_autoencoder(model, frames, frames)
    assert scores["psnr"] > scores["mean_image_psnr"] + 5.0


def test_wrong_image_size_is_refused():
    model = build_autoencoder("tiny", image_size=(32, 32))
    with pytest.raises(ValueError, match=r"image size \(64, 64\) does not match.*\(32, 32\)"):
        model(torch.zeros(1, 3, 64, 64))


@pytest.fixture(scope="module")
def trained_autoencoder(soccer_dataset: Path, tmp_path_factory: pytest.TempPathFactory):
    run_dir = tmp_path_factory.mktemp("ae")
    config = AutoencoderTrainConfig(
        data=soccer_dataset,
        variant="conv",
        arch="tiny",
        image_size=32,
        epochs=30,
        batch_size=6,
        lr=1e-2,
        run_dir=run_dir,
        progress=False,
    )
    scores = train_autoencoder(config)
    return config, scores


def test_autoencoder_learns_well_above_the_mean_image(trained_autoencoder):
    _config, scores = trained_autoencoder
    assert scores["psnr"] > scores["mean_image_psnr"] + 3.0
    # SSIM 0.75-0.82 over seeds 0-3; the train mean image scores 0.43 against the same test frames.
    assert scores["ssim"] >= 0.6


def test_checkpoint_reloads_to_the_same_scores_and_resumes(
    trained_autoencoder, soccer_dataset: Path
):
    config, scores = trained_autoencoder
    model, meta = load_autoencoder(config.run_dir / "autoencoder.pt")
    assert meta["variant"] == "conv" and meta["epoch"] == config.epochs
    test = load_frames(soccer_dataset, "test", size=32)
    train = load_frames(soccer_dataset, "train", size=32)
    again = evaluate_autoencoder(model, test, train, config.noise_sigma, seed=config.seed)
    assert again["psnr"] == pytest.approx(scores["psnr"], abs=1e-4)
    assert (config.run_dir / "grid.png").is_file()
    # A finished run resumes at its last epoch and only re-scores.
    resumed = train_autoencoder(config)
    assert resumed["psnr"] == pytest.approx(scores["psnr"], abs=1e-4)


def test_fine_tuning_starts_from_the_trained_weights(trained_autoencoder, soccer_dataset: Path,
                                                     tmp_path: Path, capsys):
    """--init-from: one epoch from the trained checkpoint keeps its quality; one from scratch
    is far worse; a checkpoint with nothing that fits is refused."""
    config, scores = trained_autoencoder
    one_epoch = dict(data=soccer_dataset, variant="conv", arch="tiny", image_size=32, epochs=1,
                     batch_size=6, lr=1e-3, progress=False)
    tuned = train_autoencoder(AutoencoderTrainConfig(
        init_from=config.run_dir / "autoencoder.pt", run_dir=tmp_path / "tuned", **one_epoch))
    assert "initialised" in capsys.readouterr().out
    scratch = train_autoencoder(AutoencoderTrainConfig(run_dir=tmp_path / "scratch", **one_epoch))
    assert tuned["psnr"] > scores["psnr"] - 1.0
    assert tuned["psnr"] > scratch["psnr"] + 3.0
    empty = save_checkpoint(tmp_path / "empty.pt", "autoencoder", {"model": {}})
    with pytest.raises(CheckpointError, match="has no tensor that fits arch 'tiny'"):
        train_autoencoder(AutoencoderTrainConfig(init_from=empty, run_dir=tmp_path / "other", **one_epoch))


def test_checkpoint_of_another_model_is_refused(tmp_path: Path):
    path = save_checkpoint(tmp_path / "other.pt", "detector", {"model": {}}, model="grid_tiny")
    with pytest.raises(CheckpointError, match="holds a 'detector' model; expected 'autoencoder'"):
        load_autoencoder(path)
    (tmp_path / "corrupt.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_autoencoder(tmp_path / "corrupt.pt")


def test_frozen_encoder_extractor_for_sb3(trained_autoencoder):
    config, _ = trained_autoencoder
    space = gym.spaces.Box(0, 255, (3, 32, 32), np.uint8)
    extractor = FrozenEncoderExtractor(space, config.run_dir / "autoencoder.pt", features_dim=16)
    frozen = [p.clone() for p in extractor.encoder.parameters()]
    optimizer = torch.optim.SGD(extractor.parameters(), lr=0.1)
    features = extractor(torch.rand(4, 3, 32, 32))
    assert features.shape == (4, 16)
    features.sum().backward()
    optimizer.step()
    assert all(
        torch.equal(a, b) for a, b in zip(frozen, extractor.encoder.parameters(), strict=True)
    )
    with pytest.raises(ValueError, match="does not match the autoencoder's input"):
        FrozenEncoderExtractor(
            gym.spaces.Box(0, 255, (3, 84, 84), np.uint8), config.run_dir / "autoencoder.pt"
        )


def test_frozen_encoder_reads_stacked_frames_at_either_pixel_scale(trained_autoencoder):
    from visiongym.vision.autoencoders.features import AutoencoderEncoder
    from visiongym.vision.encoders import build_model

    config, _ = trained_autoencoder
    checkpoint = config.run_dir / "autoencoder.pt"
    space = gym.spaces.Box(0, 255, (6, 32, 32), np.uint8)  # two stacked RGB frames
    unit = FrozenEncoderExtractor(space, checkpoint, features_dim=8)
    zoo = build_model("autoencoder", observation_space=space, features_dim=8, checkpoint=checkpoint)
    assert isinstance(zoo, AutoencoderEncoder) and zoo.frames == 2
    zoo.project.load_state_dict(unit.project.state_dict())
    pixels = torch.randint(0, 256, (3, 6, 32, 32), dtype=torch.uint8)
    expected = unit(pixels)
    assert expected.shape == (3, 8)
    assert torch.allclose(unit(pixels.float() / 255), expected, atol=1e-5)
    assert torch.allclose(zoo(pixels.float()), expected, atol=1e-5)
    assert torch.allclose(zoo(pixels), expected, atol=1e-5)
    # Each frame is encoded alone: the features of frame 2 do not depend on frame 1's pixels.
    codes = zoo.encoder.encode(pixels[:, 3:].float() / 255).flatten(1)
    assert torch.allclose(zoo.project[1](torch.cat([zoo.encoder.encode(pixels[:, :3].float() / 255).flatten(1),
                                                    codes], 1)).relu(), expected, atol=1e-5)
    with pytest.raises(ValueError, match=r"or a stack of k such frames"):
        FrozenEncoderExtractor(gym.spaces.Box(0, 255, (4, 32, 32), np.uint8), checkpoint)


def test_frozen_encoder_trains_in_an_sb3_policy(trained_autoencoder):
    from stable_baselines3 import PPO

    config, _ = trained_autoencoder

    class Pixels(gym.Env):
        observation_space = gym.spaces.Box(0, 255, (32, 32, 3), np.uint8)
        action_space = gym.spaces.Discrete(2)

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            return self.observation_space.sample(), {}

        def step(self, action):
            return self.observation_space.sample(), float(action), False, False, {}

    model = PPO(
        "CnnPolicy",
        Pixels(),
        n_steps=16,
        batch_size=8,
        n_epochs=1,
        device="cpu",
        policy_kwargs={
            "features_extractor_class": FrozenEncoderExtractor,
            "features_extractor_kwargs": {
                "checkpoint": str(config.run_dir / "autoencoder.pt"),
                "features_dim": 8,
            },
        },
    )
    model.learn(32)
    assert isinstance(model.policy.features_extractor, FrozenEncoderExtractor)


def test_variant_losses():
    from visiongym.vision.autoencoders.train import _loss

    torch.manual_seed(0)
    model = build_autoencoder("tiny", image_size=(16, 16)).eval()
    clean = torch.rand(2, 3, 16, 16)
    plain, plain_terms = _loss(model, clean, AutoencoderTrainConfig(variant="conv"))
    sparse, sparse_terms = _loss(
        model, clean, AutoencoderTrainConfig(variant="sparse", l1_weight=0.5)
    )
    assert set(plain_terms) == {"mse"} and set(sparse_terms) == {"mse", "l1"}
    assert sparse.item() == pytest.approx(plain.item() + 0.5 * sparse_terms["l1"].item(), rel=1e-5)
    noisy, _ = _loss(model, clean, AutoencoderTrainConfig(variant="denoising", noise_sigma=0.5))
    assert noisy.item() != pytest.approx(plain.item())  # the input was noised, the target was not
