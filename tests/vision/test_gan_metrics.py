"""GAN sample metrics: FID, KID, precision/recall, object counts, the feature network and `gan score`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from visiongym.sims.errors import UsageError
from visiongym.vision.data.dataset import load_frames
from visiongym.vision.gan.metrics import (
    as_uint8_batch,
    frechet_distance,
    kernel_distance,
    load_feature_network,
    objects_per_frame,
    precision_recall,
    score_samples,
)
from visiongym.vision.robustness.corruptions import corrupt
from visiongym.vision.runtime import save_checkpoint


def _gaussian(count: int, dim: int, seed: int, mean: float = 0.0, std: float = 1.0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).normal(mean, std, (count, dim)))


def _fid_by_scipy(a: torch.Tensor, b: torch.Tensor) -> float:
    from scipy import linalg

    a, b = a.numpy(), b.numpy()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


def test_fid_is_zero_for_a_set_against_itself_and_matches_the_closed_form():
    a = _gaussian(4000, 8, seed=0)
    b = _gaussian(4000, 8, seed=1, mean=0.5, std=2.0)
    assert abs(frechet_distance(a, a)) < 1e-6
    # N(0, I) against N(m, s^2 I): |m|^2 + D (1 - s)^2 = 8 * 0.25 + 8 * 1 = 10.
    assert frechet_distance(a, b) == pytest.approx(10.0, rel=0.05)
    assert frechet_distance(a, b) == pytest.approx(_fid_by_scipy(a, b), rel=1e-6)


def test_kid_is_unbiased_about_zero_for_one_distribution_and_positive_for_two():
    # 20 independent pairs of sets from one distribution: the unbiased MMD^2 averages out at 0
    # and is sometimes negative (the biased estimate never is).
    means = np.array(
        [
            kernel_distance(
                _gaussian(200, 16, 2 * i),
                _gaussian(200, 16, 2 * i + 1),
                subsets=20,
                subset_size=100,
            )[0]
            for i in range(20)
        ]
    )
    assert abs(means.mean()) < 3 * means.std() / np.sqrt(len(means)) and means.min() < 0, means
    a = _gaussian(200, 16, seed=0)
    shifted = [
        kernel_distance(a, _gaussian(200, 16, 1, mean=m), subsets=20, subset_size=100)[0]
        for m in (0.1, 0.2, 0.3)
    ]
    assert all(np.diff(shifted) > 0) and shifted[-1] > 10 * means.std(), shifted
    assert kernel_distance(a, a + 0.1, subset_size=50) == kernel_distance(
        a, a + 0.1, subset_size=50
    )  # seeded
    with pytest.raises(UsageError, match="KID subset_size=600 is larger than a set"):
        kernel_distance(a, a, subset_size=600)


def test_precision_and_recall_of_identical_disjoint_and_half_covered_sets():
    real = _gaussian(200, 8, seed=0)
    assert precision_recall(real, real.clone()) == (1.0, 1.0)
    assert precision_recall(real, real + 100.0) == (0.0, 0.0)
    half = torch.cat([real[:100], real[:100] + 100.0])  # half realistic, half far off
    precision, recall = precision_recall(real, half)
    assert precision == 0.5 and 0.5 <= recall < 1.0


def test_feature_network_reads_every_layout_and_resizes(
    frame_classifier_checkpoint: Path, soccer_dataset: Path
):
    net = load_feature_network(frame_classifier_checkpoint)
    frames = load_frames(soccer_dataset, "test")  # uint8 (6, 3, 64, 64)
    features = net.features(frames)
    assert features.shape == (6, 32) and features.dtype == torch.float32
    assert torch.equal(
        net.features(frames.permute(0, 2, 3, 1).numpy()), features
    )  # uint8 NHWC NumPy
    assert torch.allclose(net.features(frames.float() / 255), features)  # float NCHW in [0, 1]
    small = load_frames(soccer_dataset, "test", size=32)
    assert net.features(small).shape == (6, 32)  # resized up to the network's 64 px
    with pytest.raises(UsageError, match=r"NumPy frames must be uint8 \(N, H, W, 3\)"):
        as_uint8_batch(np.zeros((2, 3, 8, 8), np.float32))
    with pytest.raises(
        UsageError, match="which is no feature network; give a checkpoint of kind: frame_classifier"
    ):
        load_feature_network(save_checkpoint(soccer_dataset.parent / "ae.pt", "autoencoder", {}))


def test_fid_on_frames_has_a_small_floor_and_grows_with_corruption(
    frame_classifier_checkpoint: Path, soccer_dataset: Path
):
    net = load_feature_network(frame_classifier_checkpoint)
    real = load_frames(soccer_dataset, "train")  # 36 frames: two disjoint sets of 18
    reference, other = net.features(real[:18]), net.features(real[18:])
    assert abs(frechet_distance(reference, reference)) < 1e-6
    floor = frechet_distance(reference, other)
    frames = real[18:].permute(0, 2, 3, 1).numpy()
    fids = [
        frechet_distance(
            reference,
            net.features(
                np.stack([corrupt(f, "gaussian_noise", s, seed=i) for i, f in enumerate(frames)])
            ),
        )
        for s in (1, 2, 3, 4, 5)
    ]
    assert all(np.diff(fids) > 0), (floor, fids)
    assert floor < fids[0] and floor < 0.25 * fids[-1], (floor, fids)


def test_detector_finds_objects_on_real_frames_and_fewer_on_blank_ones(
    soccer_detector, soccer_dataset: Path
):
    real = load_frames(soccer_dataset, "test")
    found = objects_per_frame(soccer_detector, real, score_threshold=0.3)
    assert set(found) == {"ball", "players", "goal"}
    assert found["players"] > 0.5, found
    blank = torch.zeros_like(real)
    blank[:, 1] = 110  # an empty green frame
    assert (
        objects_per_frame(soccer_detector, blank, score_threshold=0.3)["players"] < found["players"]
    )


def test_score_samples_and_the_command(
    frame_classifier_checkpoint: Path, soccer_dataset: Path, soccer_detector, tmp_path: Path
):
    from visiongym.vision.gan.score import main

    net = load_feature_network(frame_classifier_checkpoint)
    real = load_frames(soccer_dataset, "train")
    noisy = np.stack(
        [corrupt(f, "gaussian_noise", 5, seed=0) for f in real[:18].permute(0, 2, 3, 1).numpy()]
    )
    scores = score_samples(
        noisy, real, net, soccer_detector, score_threshold=0.3, kid_subset_size=10
    )
    assert scores["frames_real"] == scores["frames_floor"] == 18
    assert scores["fid"] > scores["floor_fid"] and scores["kid_mean"] > scores["floor_kid_mean"]
    assert scores["objects_players_real"] > 0
    assert scores["objects_players_ratio"] == pytest.approx(
        scores["objects_players_generated"] / scores["objects_players_real"]
    )

    # The command on a folder of PNG samples and on an .npz file gives the same figures.
    from visiongym.vision.data.format import write_image

    for index, frame in enumerate(noisy):
        write_image(tmp_path / "pngs" / f"{index:03d}.png", frame)
    np.savez(tmp_path / "samples.npz", images=noisy)
    detector_path = soccer_detector.save(tmp_path / "det.pt")
    outs = []
    for samples in (tmp_path / "pngs", tmp_path / "samples.npz"):
        out = tmp_path / f"out_{samples.stem}"
        main(
            [
                "--samples",
                str(samples),
                "--data",
                str(soccer_dataset),
                "--features",
                str(frame_classifier_checkpoint),
                "--detector",
                str(detector_path),
                "--count",
                "18",
                "--kid-subset-size",
                "10",
                "--score-threshold",
                "0.3",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        outs.append(json.loads((out / "scores.json").read_text()))
        assert (out / "samples.png").is_file() and (out / "config.yaml").is_file()
    assert outs[0] == outs[1] and outs[0]["fid"] > outs[0]["floor_fid"]
    assert outs[0]["fid"] == pytest.approx(
        scores["fid"], rel=1e-6
    )  # same reference and floor split
    from visiongym.vision.gan.score import load_samples

    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="holds no .png or .npz files"):
        load_samples(tmp_path / "empty", 4)


def test_command_draws_samples_from_a_dcgan_checkpoint(
    frame_classifier_checkpoint: Path, soccer_dataset: Path, tmp_path: Path
):
    from visiongym.vision.gan.models import Generator
    from visiongym.vision.gan.score import GanScoreConfig, load_samples, score_gan

    torch.manual_seed(0)
    generator = Generator(latent_dim=8, image_size=32, width=8)
    path = save_checkpoint(
        tmp_path / "dcgan.pt",
        "dcgan",
        {"generator": generator.state_dict()},
        latent_dim=8,
        image_size=32,
        width=8,
        epoch=0,
    )
    samples = load_samples(path, 10, seed=3)
    assert samples.shape == (10, 3, 32, 32) and samples.dtype == torch.uint8
    assert torch.equal(samples, load_samples(path, 10, seed=3))
    scores = score_gan(
        GanScoreConfig(
            samples=path,
            features=frame_classifier_checkpoint,
            data=soccer_dataset,
            count=16,
            kid_subset_size=8,
            out=tmp_path / "out",
            progress=False,
        )
    )
    assert scores["frames_generated"] == 16 and "objects_ball_ratio" not in scores
    assert scores["fid"] > scores["floor_fid"]  # an untrained generator draws noise
