"""Segmentation: metric values on hand-made masks, real learning, checkpoints, resume, robustness, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from visiongym.sims.errors import UsageError
from visiongym.vision.data.dataset import detection_loader
from visiongym.vision.runtime import load_checkpoint, save_checkpoint
from visiongym.vision.segment.engine import Segmenter, evaluate, load_segmenter
from visiongym.vision.segment.metrics import (
    ConfusionIoU,
    PlayerMaskIoU,
    class_mask_from_instances,
    instances_from_class_mask,
)
from visiongym.vision.segment.train import SegmentTrainConfig, segmentation_split, train_segmenter

NAMES = ("background", "ball", "team_a", "team_b", "goal")


def test_class_iou_is_one_when_perfect_zero_when_disjoint_and_exact_when_partial():
    truth = torch.zeros(4, 4, dtype=torch.long)
    truth[:2] = 2  # top half team_a, bottom half background

    perfect = ConfusionIoU(NAMES)
    perfect.update(truth, truth)
    scores = perfect.compute()
    assert scores["miou"] == 1.0 and scores["pixel_acc"] == 1.0
    assert np.isnan(scores["iou/ball"])  # in neither truth nor prediction: no IoU, not in the mean

    disjoint = ConfusionIoU(NAMES)
    disjoint.update(torch.where(truth == 2, 0, 2), truth)  # every pixel swapped
    assert disjoint.compute()["miou"] == 0.0

    partial = ConfusionIoU(NAMES)
    prediction = truth.clone()
    prediction[1] = 0  # one of team_a's two rows predicted as background
    partial.update(prediction, truth)
    scores = partial.compute()
    assert scores["iou/team_a"] == pytest.approx(4 / 8)  # TP 4, FN 4
    assert scores["iou/background"] == pytest.approx(8 / 12)  # TP 8, FP 4
    assert scores["miou"] == pytest.approx((0.5 + 8 / 12) / 2)
    assert scores["pixel_acc"] == pytest.approx(12 / 16)


def test_player_mask_iou_matches_instances_one_to_one_within_a_class():
    truth = np.zeros((2, 8, 8), np.uint8)
    truth[0, 0:4, 0:2] = 1  # a team_a player, 8 px
    truth[1, 4:8, 4:6] = 1  # a team_b player, 8 px
    labels = [2, 3]

    perfect = PlayerMaskIoU()
    perfect.update(truth, labels, truth[::-1].copy(), [3, 2])  # order does not matter
    assert perfect.compute()["player_iou"] == 1.0 and perfect.compute()["player_recall50"] == 1.0

    wrong_team = PlayerMaskIoU()
    wrong_team.update(truth, labels, truth, [3, 2])  # right masks, swapped classes
    assert wrong_team.compute()["player_iou"] == 0.0

    partial = PlayerMaskIoU()
    half = truth.copy()
    half[0, 2:4] = 0  # 4 of the player's 8 pixels
    partial.update(truth, labels, half[:1], [2])  # the team_b player is missed
    scores = partial.compute()
    assert scores["player_iou"] == pytest.approx((0.5 + 0.0) / 2)
    assert scores["player_recall50"] == 0.5 and scores["player_precision50"] == 1.0 and scores["players"] == 2


def test_class_mask_and_connected_components_round_trip():
    masks = np.zeros((3, 8, 8), np.uint8)
    masks[0, 0:2, 0:2] = 1
    masks[1, 5:8, 5:8] = 1
    masks[2, 0:3, 5:8] = 1
    class_mask = class_mask_from_instances(masks, [2, 2, 3])
    assert class_mask[1, 1] == 2 and class_mask[6, 6] == 2 and class_mask[1, 6] == 3 and class_mask[4, 4] == 0
    instances = instances_from_class_mask(class_mask)
    assert sorted(instances["labels"].tolist()) == [2, 2, 3]  # the two team_a blobs stay apart
    players = PlayerMaskIoU()
    players.update(masks, [2, 2, 3], instances["masks"], instances["labels"])
    assert players.compute()["player_iou"] == 1.0


@pytest.fixture(scope="module")
def trained(soccer_dataset: Path, tmp_path_factory: pytest.TempPathFactory):
    """unet_tiny trained for 20 epochs (120 steps) on the 36 training frames at 64 px, no augmentation."""
    run_dir = tmp_path_factory.mktemp("segment") / "unet_tiny"
    previous = torch.get_num_threads()  # a module fixture starts before the one-thread autouse one
    torch.set_num_threads(1)
    try:
        config = SegmentTrainConfig(
            data=soccer_dataset, model="unet_tiny", image_size=64, epochs=20, batch_size=6, lr=5e-3,
            augment=False, run_dir=run_dir, progress=False, samples=3,
        )
        scores = train_segmenter(config)
    finally:
        torch.set_num_threads(previous)
    return config, scores, run_dir / "segmenter.pt"


def test_unet_learns_rendered_frames_well_above_chance(trained, soccer_dataset: Path):
    config, test_scores, checkpoint = trained
    segmenter, payload = load_segmenter(checkpoint)
    assert payload["kind"] == "segmenter" and payload["meta"]["model"] == "unet_tiny"
    untrained = Segmenter("unet_tiny", 64)
    frames = detection_loader(segmentation_split(soccer_dataset, "train", 64), 12, shuffle=False)
    before, after = evaluate(untrained, frames)["miou"], evaluate(segmenter, frames)["miou"]
    # Predicting background everywhere scores about 0.9 / 5 = 0.18.
    assert before < 0.3 and after > 0.4, (before, after)
    assert test_scores["miou"] > 0.3 and test_scores["iou/background"] > 0.9
    assert (checkpoint.parent / "samples.png").is_file()


def test_a_checkpoint_of_another_kind_is_refused(tmp_path: Path):
    path = save_checkpoint(tmp_path / "det.pt", "detector", {"model": {}}, model="grid_tiny", image_size=64)
    with pytest.raises(UsageError, match="holds a 'detector' model; expected 'segmenter'"):
        load_segmenter(path)
    with pytest.raises(UsageError, match="segmenter 'yolo' unknown; choose one of: unet, unet_tiny, fcn, maskrcnn"):
        Segmenter("yolo")


def test_an_interrupted_run_resumes_from_its_checkpoint(soccer_dataset: Path, tmp_path: Path, monkeypatch, capsys):
    import visiongym.vision.segment.train as train_module

    config = SegmentTrainConfig(
        data=soccer_dataset, model="fcn", image_size=64, epochs=3, batch_size=12, augment=False,
        run_dir=tmp_path / "run", progress=False, samples=0,
    )
    calls = {"n": 0}
    real_evaluate = train_module.evaluate

    def interrupted_after_epoch_two(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # the third epoch's validation: its checkpoint is never written
            raise KeyboardInterrupt
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(train_module, "evaluate", interrupted_after_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        train_segmenter(config)
    checkpoint = tmp_path / "run" / "segmenter.pt"
    assert load_checkpoint(checkpoint, "segmenter")["meta"]["epoch"] == 2
    monkeypatch.setattr(train_module, "evaluate", real_evaluate)
    train_segmenter(config)
    assert f"resuming {checkpoint} at epoch 2" in capsys.readouterr().out
    assert load_checkpoint(checkpoint, "segmenter")["meta"]["epoch"] == 3


def test_mask_rcnn_trains_and_predicts_through_the_same_interface(soccer_dataset: Path):
    torch.manual_seed(0)
    segmenter = Segmenter("maskrcnn", 64)
    images, targets = next(iter(detection_loader(segmentation_split(soccer_dataset, "train", 64), 4, shuffle=False)))
    segmenter.train()
    loss, terms = segmenter.loss(images, targets)
    loss.backward()
    assert {"loss_mask", "loss_classifier"} <= set(terms) and torch.isfinite(loss)
    (prediction, *_) = segmenter.predict(images, score_threshold=0.0)
    assert prediction["class_mask"].shape == (64, 64) and prediction["masks"].shape[1:] == (64, 64)
    scores = evaluate(segmenter, [(images, targets)])  # untrained: few or no instances, still scored
    assert 0.0 <= scores["miou"] <= 1.0 and 0.0 <= scores["player_iou"] <= 1.0


def test_robustness_suite_scores_a_segmenter(trained, soccer_dataset: Path, tmp_path: Path):
    from visiongym.vision.robustness.scorers import load_scorer
    from visiongym.vision.robustness.suite import RobustnessConfig, run_robustness

    _, _, checkpoint = trained
    assert load_scorer(checkpoint).metric == "miou"
    result = run_robustness(
        RobustnessConfig(
            model=checkpoint, data=soccer_dataset, families=("corruptions",), limit=4,
            corruptions=("gaussian_noise", "elastic_transform"), severities=(1, 5), out=tmp_path, progress=False,
        )
    )
    rows = result["rows"]
    assert result["summary"]["metric"] == "miou" and result["summary"]["error_definition"] == "1 - mIoU"
    assert [(r["shift"], r["severity"]) for r in rows][1:] == [
        ("gaussian_noise", 1), ("gaussian_noise", 5), ("elastic_transform", 1), ("elastic_transform", 5),
    ]
    for row in rows:
        assert row["error"] == pytest.approx(1 - row["miou"]) and 0 <= row["player_iou"] <= 1
    noise = {r["severity"]: r["miou"] for r in rows if r["shift"] == "gaussian_noise"}
    assert noise[5] < rows[0]["miou"]  # heavy noise hurts


def test_cli_trains_and_evaluates(soccer_dataset: Path, tmp_path: Path, capsys):
    from visiongym.cli import main

    run_dir = tmp_path / "run"
    assert main(["segment", "train", "--data", str(soccer_dataset), "--model", "fcn", "--image-size", "64",
                 "--steps", "2", "--batch-size", "4", "--run-dir", str(run_dir), "--no-progress",
                 "--samples", "0"]) == 0
    grid = tmp_path / "grid.png"
    assert main(["segment", "evaluate", "--model", str(run_dir / "segmenter.pt"), "--data", str(soccer_dataset),
                 "--grid", str(grid), "--grid-frames", "2"]) == 0
    out = capsys.readouterr().out
    assert "player_iou" in out and "miou" in out and grid.is_file()
    from PIL import Image

    with Image.open(grid) as picture:
        assert 1.3 < picture.width / picture.height < 1.7  # 2 rows of frame | truth | prediction
    with pytest.raises(SystemExit) as exit_info:  # tyro refuses the choice, naming the allowed ones
        main(["segment", "train", "--data", str(soccer_dataset), "--model", "yolo"])
    assert exit_info.value.code == 2 and "'unet_tiny', 'fcn', 'maskrcnn'" in capsys.readouterr().err
