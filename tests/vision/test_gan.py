"""GANs: the models' shapes, DiffAugment, the EMA, real learning, exact resume, sampling, bad input."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from visiongym.sims.errors import UsageError
from visiongym.vision.data.dataset import SoccerDetection, load_frames
from visiongym.vision.detect.engine import Detector
from visiongym.vision.gan import load_generator, sample
from visiongym.vision.gan.diffaug import diff_augment
from visiongym.vision.gan.ema import GeneratorEMA, ema_decay_at
from visiongym.vision.gan.generate import SampleConfig, write_samples
from visiongym.vision.gan.mix import MixConfig, write_generated_dataset
from visiongym.vision.gan.models import GANS, Discriminator, Generator
from visiongym.vision.gan.train import (
    GanTrainConfig,
    colour_histogram_distance,
    colour_moment_gap,
    frame_spread,
    train_gan,
)
from visiongym.vision.runtime import CheckpointError, load_checkpoint, save_checkpoint


@pytest.mark.parametrize("model", GANS.names())
@pytest.mark.parametrize("size", [16, 32, 64])
def test_generator_and_discriminator_shapes(model: str, size: int):
    spec = GANS.build(model)
    generator = spec.generator(latent_dim=16, image_size=size, width=4)
    discriminator = spec.discriminator(image_size=size, width=4)
    with torch.no_grad():
        images = generator(torch.randn(3, 16))
        assert images.shape == (3, 3, size, size) and images.abs().max() <= 1.0
        assert discriminator(images).shape == (3,)
        assert discriminator((images * 127.5 + 127.5).to(torch.uint8)).shape == (3,)
    frames = sample(generator, 5, seed=1)
    assert frames.shape == (5, size, size, 3) and frames.dtype == np.uint8
    assert np.array_equal(frames, sample(generator, 5, seed=1))


def test_bad_image_size_and_model_name_the_rule():
    with pytest.raises(UsageError, match="image_size 48 unsupported; use a power of two"):
        Generator(16, 48)
    with pytest.raises(UsageError, match="GAN model 'wgan' unknown; choose one of: dcgan, sngan"):
        GANS.build("wgan")


def test_colour_statistics():
    black, white = (
        torch.zeros(4, 3, 8, 8, dtype=torch.uint8),
        torch.full((4, 3, 8, 8), 255, dtype=torch.uint8),
    )
    assert colour_moment_gap(black, black) == 0.0
    assert colour_moment_gap(black + 10, black) == pytest.approx(10.0)
    assert colour_histogram_distance(black, black) == 0.0
    assert colour_histogram_distance(black, white) == 1.0
    half = torch.cat([black[:2], white[:2]])
    assert colour_histogram_distance(half, white) == pytest.approx(0.5)
    assert frame_spread(white) == 0.0 and frame_spread(half) == pytest.approx(255 * 4 / 6)


def test_diff_augment_is_seeded_differentiable_and_keeps_shapes():
    images = (torch.rand(6, 3, 16, 16) * 2 - 1).requires_grad_()
    policies = ("colour", "translation", "cutout")
    out = diff_augment(images, policies, torch.Generator().manual_seed(0))
    again = diff_augment(images, policies, torch.Generator().manual_seed(0))
    assert out.shape == images.shape and torch.equal(out, again)
    out.sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0
    ones = torch.ones(32, 3, 16, 16)
    cut = diff_augment(ones, ("cutout",), torch.Generator().manual_seed(1))
    assert torch.all((1 - cut).flatten(1).sum(1) > 0)  # every frame lost a square (edges clip it)
    assert torch.all((1 - cut[:, 0]).flatten(1).sum(1) <= 64)  # at most 8 x 8 pixels
    shifted = diff_augment(ones, ("translation",), torch.Generator().manual_seed(2))
    assert set(shifted.unique().tolist()) <= {0.0, 1.0} and shifted.min() == 0.0  # zero padding
    with pytest.raises(
        UsageError, match="DiffAugment policy 'rotate' unknown; choose any of: colour"
    ):
        train_gan(GanTrainConfig(diffaug=("rotate",)))  # checked before any file is read


def test_ema_lags_behind_the_weights_it_averages():
    torch.manual_seed(0)
    generator = Generator(8, 16, 4)
    start = torch.nn.utils.parameters_to_vector(generator.parameters()).detach().clone()
    ema = GeneratorEMA(generator, decay=0.999)
    drift = [torch.randn_like(p) for p in generator.parameters()]
    for step in range(200):  # the weights walk a straight line away from the start
        with torch.no_grad():
            for parameter, direction in zip(generator.parameters(), drift, strict=True):
                parameter.add_(direction, alpha=0.01)
        ema.update(generator, step)
    raw = torch.nn.utils.parameters_to_vector(generator.parameters())
    averaged = torch.nn.utils.parameters_to_vector(ema.module.parameters())
    # The warm-up decay at step 199 is 0.952: the average sits about 20 steps behind the weights.
    assert ema_decay_at(0.999, 199) == pytest.approx(200 / 209)
    assert 0.8 < (averaged - start).norm() / (raw - start).norm() < 0.95
    assert all(not p.requires_grad for p in ema.module.parameters())
    with pytest.raises(UsageError, match="EMA decay 1.0 must lie in"):
        GeneratorEMA(generator, decay=1.0)


@pytest.fixture(scope="module")
def tiny_config(soccer_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> GanTrainConfig:
    return GanTrainConfig(
        data=soccer_dataset,
        image_size=16,
        batch_size=12,
        width=8,
        latent_dim=16,
        lr_g=1e-3,
        lr_d=1e-3,
        save_every=100,
        progress=False,
        run_dir=tmp_path_factory.mktemp("gan") / "unused",
    )


@pytest.mark.parametrize("model", ["dcgan", "sngan"])
def test_generated_colour_histogram_moves_towards_the_frames(
    model: str, tiny_config: GanTrainConfig, tmp_path: Path
):
    config = dataclasses.replace(tiny_config, model=model, steps=200, run_dir=tmp_path / model)
    untrained = train_gan(dataclasses.replace(config, steps=0, run_dir=tmp_path / "untrained"))
    scores = train_gan(config)
    real = load_frames(config.data, "train", size=16)
    distance = {}
    for name, folder in (("untrained", "untrained"), ("trained", model)):
        generator, meta = load_generator(tmp_path / folder / f"{model}.pt")
        distance[name] = colour_histogram_distance(
            torch.from_numpy(sample(generator, 64, seed=0)).permute(0, 3, 1, 2), real
        )
    # 200 steps on the 36 frames at 16 px (5-20 s). Seed 0: dcgan 0.72 -> 0.16, sngan 0.72 -> 0.13
    # (4 bins a channel, against the train frames); the untrained generator draws flat grey.
    assert distance["trained"] < distance["untrained"] / 3, distance
    assert scores["colour_hist_generated"] < untrained["colour_hist_generated"] / 2, (
        scores,
        untrained,
    )
    assert meta["step"] == 200 and meta["weights"] == "ema" and meta["model"] == model
    assert (tmp_path / model / "samples" / "step_000200.png").is_file()
    assert (tmp_path / model / "samples.png").is_file()
    payload = load_checkpoint(tmp_path / model / f"{model}.pt", kind=model)
    assert set(payload["state"]) == {
        "generator",
        "discriminator",
        "ema",
        "optim_g",
        "optim_d",
        "rng",
    }
    raw, ema = payload["state"]["generator"], payload["state"]["ema"]
    assert any(not torch.equal(raw[key], ema[key]) for key in raw if raw[key].is_floating_point())


def test_resume_continues_the_step_count_and_matches_an_uninterrupted_run(
    tiny_config: GanTrainConfig, tmp_path: Path
):
    config = dataclasses.replace(
        tiny_config, model="sngan", save_every=10, diffaug=("colour", "translation", "cutout")
    )
    train_gan(dataclasses.replace(config, steps=40, run_dir=tmp_path / "whole"))
    train_gan(dataclasses.replace(config, steps=20, run_dir=tmp_path / "split"))
    assert load_checkpoint(tmp_path / "split" / "sngan.pt")["meta"]["step"] == 20
    train_gan(dataclasses.replace(config, steps=40, run_dir=tmp_path / "split"))
    whole = load_checkpoint(tmp_path / "whole" / "sngan.pt")
    split = load_checkpoint(tmp_path / "split" / "sngan.pt")
    assert split["meta"]["step"] == 40
    for net in ("generator", "discriminator", "ema"):
        for key, value in whole["state"][net].items():
            assert torch.equal(value, split["state"][net][key]), (net, key)  # bit for bit
    assert sorted(p.name for p in (tmp_path / "split" / "samples").iterdir()) == [
        f"step_{step:06d}.png" for step in (10, 20, 30, 40)
    ]
    with pytest.raises(CheckpointError, match="was written for width=8, not width=16"):
        train_gan(dataclasses.replace(config, width=16, steps=50, run_dir=tmp_path / "split"))


def test_bad_checkpoints_are_refused_by_name(tiny_config: GanTrainConfig, tmp_path: Path):
    other = save_checkpoint(tmp_path / "ae.pt", "autoencoder", {"model": {}})
    with pytest.raises(
        CheckpointError, match="holds a 'autoencoder' model; expected 'dcgan' or 'sngan'"
    ):
        load_generator(other)
    run = tmp_path / "run"
    save_checkpoint(run / "dcgan.pt", "sngan", {})
    with pytest.raises(CheckpointError, match="holds a 'sngan' model; expected 'dcgan'"):
        train_gan(dataclasses.replace(tiny_config, steps=1, run_dir=run))
    # The first release's DCGAN checkpoint (epochs, no EMA): it samples, it does not resume.
    old = Generator(16, 16, 8)
    state = {"generator": old.state_dict(), "discriminator": Discriminator(16, 8).state_dict()}
    save_checkpoint(
        run / "old" / "dcgan.pt", "dcgan", state, epoch=3, image_size=16, latent_dim=16, width=8
    )
    generator, meta = load_generator(run / "old" / "dcgan.pt")
    assert meta["weights"] == "raw" and meta["model"] == "dcgan"
    with pytest.raises(
        CheckpointError, match="first release's DCGAN trainer .* train in a new --run-dir"
    ):
        train_gan(dataclasses.replace(tiny_config, steps=1, run_dir=run / "old"))
    with pytest.raises(UsageError, match="--n-dis 0 is out of range"):
        train_gan(dataclasses.replace(tiny_config, n_dis=0))


def test_sample_command_and_mix(tiny_config: GanTrainConfig, tmp_path: Path):
    from visiongym.cli import main as visiongym

    train_gan(dataclasses.replace(tiny_config, steps=5, run_dir=tmp_path / "gan"))
    checkpoint = tmp_path / "gan" / "dcgan.pt"
    assert (
        visiongym(
            [
                "gan",
                "sample",
                "--checkpoint",
                str(checkpoint),
                "--n",
                "10",
                "--out",
                str(tmp_path / "s"),
            ]
        )
        == 0
    )
    frames = np.load(tmp_path / "s" / "samples.npz")["images"]
    assert frames.shape == (10, 16, 16, 3) and frames.dtype == np.uint8
    assert (
        len(list((tmp_path / "s").glob("0*.png"))) == 10 and (tmp_path / "s" / "grid.png").is_file()
    )
    raw = write_samples(
        SampleConfig(checkpoint=checkpoint, n=10, out=tmp_path / "r", weights="raw")
    )
    assert not np.array_equal(np.load(raw)["images"], frames)  # the EMA draws other frames
    Detector("grid_tiny", image_size=64).save(tmp_path / "det.pt")
    counts = write_generated_dataset(
        MixConfig(
            generator=checkpoint,
            detector=tmp_path / "det.pt",
            out=tmp_path / "mix",
            count=5,
            score_threshold=0.0,
        )
    )
    assert counts["frames"] == 5
    image, target = SoccerDetection(tmp_path / "mix", "train")[0]
    assert image.shape == (3, 64, 64) and len(target["boxes"]) == len(target["masks"])
