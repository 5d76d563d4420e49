"""Metric helpers against hand-computed cases."""

from __future__ import annotations

import math

import pytest
import torch

from visiongym.vision.metrics import detection_map, mean_image_psnr, psnr, ssim


def test_psnr_of_a_known_error():
    target = torch.zeros(2, 3, 8, 8)
    prediction = target + 0.1  # MSE 0.01 -> 10 log10(1 / 0.01) = 20 dB
    assert psnr(prediction, target) == pytest.approx(20.0, abs=1e-4)


def test_psnr_averages_per_image():
    target = torch.zeros(2, 1, 4, 4)
    prediction = torch.stack([torch.full((1, 4, 4), 0.1), torch.full((1, 4, 4), 0.01)])
    assert psnr(prediction, target) == pytest.approx((20.0 + 40.0) / 2, abs=1e-3)


def test_ssim_is_one_for_identical_images_and_lower_otherwise():
    ramp = torch.linspace(0, 1, 32)
    image = (ramp[None, :] * ramp[:, None]).expand(2, 3, 32, 32)
    noise = 0.2 * torch.randn(image.shape, generator=torch.Generator().manual_seed(0))
    assert ssim(image, image) == pytest.approx(1.0, abs=1e-5)
    assert ssim((image + noise).clamp(0, 1), image) < 0.3


def test_mean_image_baseline():
    train = torch.stack([torch.full((1, 4, 4), 0.2), torch.full((1, 4, 4), 0.4)])  # mean 0.3
    test = torch.full((1, 1, 4, 4), 0.5)
    assert mean_image_psnr(train, test) == pytest.approx(-10 * math.log10(0.04), abs=1e-3)


def _det(boxes, scores, labels):
    return {
        "boxes": torch.tensor(boxes, dtype=torch.float32),
        "scores": torch.tensor(scores),
        "labels": torch.tensor(labels),
    }


def _gt(boxes, labels):
    return {"boxes": torch.tensor(boxes, dtype=torch.float32), "labels": torch.tensor(labels)}


def test_map_perfect_detections():
    targets = [_gt([[0, 0, 10, 10], [20, 20, 40, 40]], [1, 2])]
    predictions = [_det([[0, 0, 10, 10], [20, 20, 40, 40]], [0.9, 0.8], [1, 2])]
    scores = detection_map(predictions, targets, ["ball", "team_a"])
    assert scores["map"] == pytest.approx(1.0) and scores["map_50"] == pytest.approx(1.0)
    assert scores["ap50/ball"] == pytest.approx(1.0) and scores["ap50/team_a"] == pytest.approx(1.0)


def test_map_half_recall_is_51_of_101_points():
    # One of two objects found with precision 1: COCO's 101-point AP = 51 / 101.
    targets = [_gt([[0, 0, 10, 10], [50, 50, 60, 60]], [1, 1])]
    predictions = [_det([[0, 0, 10, 10]], [0.9], [1])]
    scores = detection_map(predictions, targets, ["ball"])
    assert scores["map_50"] == pytest.approx(51 / 101, abs=1e-4)


def test_map_over_iou_thresholds():
    # IoU 0.64 (box 0..10 vs 0..6.4 high): a hit at thresholds 0.50, 0.55, 0.60 only -> 3 / 10.
    targets = [_gt([[0, 0, 10, 10]], [1])]
    predictions = [_det([[0, 0, 10, 6.4]], [0.9], [1])]
    scores = detection_map(predictions, targets, ["ball", "goal"])
    assert scores["map_50"] == pytest.approx(1.0)
    assert scores["map"] == pytest.approx(0.3, abs=1e-4)
    assert scores["ap/goal"] == -1.0  # class absent from the ground truth


def test_map_wrong_class_scores_zero():
    targets = [_gt([[0, 0, 10, 10]], [1])]
    predictions = [_det([[0, 0, 10, 10]], [0.9], [2])]
    assert detection_map(predictions, targets, ["ball", "team_a"])["ap50/ball"] == pytest.approx(
        0.0
    )
