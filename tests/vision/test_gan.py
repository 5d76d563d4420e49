"""DCGAN: shapes, a short training run with its checkpoint, and the pseudo-labelled mix dataset."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from visiongym.vision.data.dataset import SoccerDetection
from visiongym.vision.detect.engine import Detector
from visiongym.vision.gan.mix import MixConfig, write_generated_dataset
from visiongym.vision.gan.models import Discriminator, Generator
from visiongym.vision.gan.train import GanTrainConfig, colour_moment_gap, load_generator, train_gan
from visiongym.vision.runtime import CheckpointError, save_checkpoint


@pytest.mark.parametrize("size", [16, 32, 64])
def test_generator_and_discriminator_shapes(size: int):
    generator, discriminator = Generator(16, size, 8), Discriminator(size, 8)
    with torch.no_grad():
        images = generator(torch.randn(3, 16))
        assert images.shape == (3, 3, size, size) and images.abs().max() <= 1.0
        assert discriminator(images).shape == (3,)
    assert generator.sample(2).dtype == torch.uint8


def test_bad_image_size_names_the_rule():
    with pytest.raises(ValueError, match="power of two"):
        Generator(16, 48)


def test_colour_moment_gap():
    a = torch.zeros(4, 3, 8, 8)
    assert colour_moment_gap(a, a) == 0.0
    assert colour_moment_gap(a + 10, a) == pytest.approx(10.0)


def test_train_learns_then_mix(soccer_dataset: Path, tmp_path: Path):
    config = GanTrainConfig(
        data=soccer_dataset,
        image_size=32,
        epochs=20,
        batch_size=12,
        width=8,
        latent_dim=16,
        run_dir=tmp_path / "gan",
        progress=False,
    )
    untrained = train_gan(dataclasses.replace(config, epochs=0, run_dir=tmp_path / "untrained"))
    scores = train_gan(config)
    assert (tmp_path / "gan" / "samples.png").is_file()
    # 20 epochs of 3 steps (under a second). Seeds 0-4: the critic then tells every held-out real
    # frame from every generated one (both accuracies 1.0; untrained 0.0-1.0, a coin), and the
    # generator's colour statistics moved towards the frames' (gap 95.1-97.8, untrained 107.25-107.39).
    assert scores["d_acc_real_heldout"] >= 0.8 and scores["d_acc_generated"] >= 0.8, scores
    assert scores["colour_gap_generated"] < untrained["colour_gap_generated"] - 5, (scores, untrained)
    generator, meta = load_generator(tmp_path / "gan" / "dcgan.pt")
    assert meta["epoch"] == 20 and generator.image_size == 32
    Detector("grid_tiny", image_size=64).save(tmp_path / "det.pt")
    counts = write_generated_dataset(
        MixConfig(
            generator=tmp_path / "gan" / "dcgan.pt",
            detector=tmp_path / "det.pt",
            out=tmp_path / "mix",
            count=5,
            score_threshold=0.0,
        )
    )
    assert counts["frames"] == 5
    dataset = SoccerDetection(tmp_path / "mix", "train")
    image, target = dataset[0]
    assert image.shape == (3, 64, 64) and len(target["boxes"]) == len(target["masks"])
    with pytest.raises(CheckpointError, match="expected 'dcgan'"):
        load_generator(save_checkpoint(tmp_path / "x.pt", "autoencoder", {}))
