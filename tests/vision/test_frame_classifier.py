"""Frame classifier: labels from boxes, real learning, the training entry, and the robustness scorer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from visiongym.sims.errors import UsageError
from visiongym.vision.classify.frame_labels import FRAME_TASKS, frame_labels, task_class_names
from visiongym.vision.classify.frames import FrameClassifier, accuracies, load_frame_classifier
from visiongym.vision.robustness.scorers import load_scorer
from visiongym.vision.robustness.shifts import load_eval_frames
from visiongym.vision.robustness.suite import RobustnessConfig, run_robustness
from visiongym.vision.runtime import CheckpointError, save_checkpoint

BALL, TEAM_A, TEAM_B, GOAL = 1, 2, 3, 4


def _target(*objects: tuple[int, float, float]) -> dict[str, np.ndarray]:
    """Objects as (class, centre x, centre y), each a 2 x 2 box."""
    boxes = [[x - 1, y - 1, x + 1, y + 1] for _, x, y in objects]
    return {
        "boxes": np.asarray(boxes, np.float32).reshape(-1, 4),
        "labels": np.asarray([c for c, _, _ in objects]),
    }


def test_labels_come_from_the_ball_box_and_the_player_boxes():
    targets = [
        _target(
            (BALL, 10, 50), (TEAM_A, 5, 5), (GOAL, 1, 30)
        ),  # left third, bottom row; one player
        _target(
            (BALL, 32, 32), (TEAM_A, 5, 5), (TEAM_B, 60, 60), (TEAM_B, 40, 10)
        ),  # centre; three
        _target((BALL, 63, 2)),  # right third, top row; nobody
        _target((TEAM_A, 30, 30)),  # no ball visible
    ]
    labels = frame_labels(targets, [(64, 64)] * 4, ("ball_third", "ball_cell", "players"))
    names = task_class_names(("ball_third", "ball_cell", "players"))
    assert [names["ball_third"][i] for i in labels["ball_third"]] == [
        "left",
        "centre",
        "right",
        "no_ball",
    ]
    assert [names["ball_cell"][i] for i in labels["ball_cell"]] == [
        "bottom_left",
        "middle_centre",
        "top_right",
        "no_ball",
    ]
    assert labels["players"].tolist() == [1, 3, 0, 1]
    # Thirds are of the frame's own size: the same box on a wider canvas is further left.
    assert frame_labels([targets[1]], [(64, 200)], ("ball_third",))["ball_third"].tolist() == [0]
    assert set(FRAME_TASKS.names()) == {"ball_third", "ball_cell", "players"}
    with pytest.raises(
        UsageError,
        match="frame label task 'zone' unknown; choose one of: ball_third, ball_cell, players",
    ):
        task_class_names(("zone",))


def _synthetic(rng: np.random.Generator, count: int, tasks: dict[str, list[str]], size: int = 32):
    """Green frames with a white 3 x 3 ball (85 % of them) and 0-3 red 3 x 5 players."""
    images = np.zeros((count, size, size, 3), np.uint8)
    images[..., 1] = 120
    targets = []
    for index in range(count):
        boxes, labels = [], []
        if rng.random() < 0.85:
            x, y = rng.integers(0, size - 3, 2)
            images[index, y : y + 3, x : x + 3] = 255
            boxes.append([x, y, x + 3, y + 3])
            labels.append(BALL)
        for _ in range(rng.integers(0, 4)):
            x, y = rng.integers(0, size - 4, 2)
            images[index, y : y + 5, x : x + 3] = (220, 30, 30)
            boxes.append([x, y, x + 3, y + 5])
            labels.append(TEAM_A)
        targets.append(
            {"boxes": np.asarray(boxes, np.float32).reshape(-1, 4), "labels": np.asarray(labels)}
        )
    labels = frame_labels(targets, [(size, size)] * count, tasks)
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), labels


def test_classifier_learns_where_the_ball_is_and_how_many_players():
    tasks = task_class_names(("ball_third", "players"))
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = FrameClassifier("small_resnet", 32, tasks, features_dim=32)
    test_images, test_labels = _synthetic(np.random.default_rng(99), 200, tasks)
    untrained = accuracies(model.predict(test_images), test_labels)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(160):  # ~10 s on one thread
        images, labels = _synthetic(rng, 16, tasks)
        logits = model(images)
        loss = sum(F.cross_entropy(logits[name], torch.from_numpy(labels[name])) for name in tasks)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    scores = accuracies(model.predict(test_images), test_labels)
    # Seed 0: 0.26 untrained, 0.92 (ball third 0.94, players 0.90) after 150 steps.
    assert untrained["accuracy"] < 0.4 and scores["accuracy"] > 0.8, (untrained, scores)
    assert scores["accuracy"] == pytest.approx(
        (scores["accuracy_ball_third"] + scores["accuracy_players"]) / 2
    )
    with pytest.raises(
        UsageError, match=r"does not fit the frame classifier; give \(N, 3, 32, 32\)"
    ):
        model.predict(torch.zeros(1, 3, 64, 64, dtype=torch.uint8))
    with pytest.raises(
        UsageError, match="encoder 'autoencoder' unknown; choose one of: nature_cnn, small_resnet"
    ):
        FrameClassifier("autoencoder", 32, tasks)


def test_training_entry_writes_a_resumable_checkpoint(
    frame_classifier_checkpoint: Path, soccer_dataset: Path
):
    from visiongym.vision.classify.frames import FrameClassifierConfig, train_frame_classifier

    model, meta = load_frame_classifier(frame_classifier_checkpoint)
    assert (
        meta["encoder"] == "small_resnet"
        and meta["image_size"] == 64
        and meta["features_dim"] == 32
    )
    assert meta["tasks"] == task_class_names(("ball_third", "players")) and meta["epoch"] == 3
    run_dir = frame_classifier_checkpoint.parent
    assert (run_dir / "predictions.png").is_file() and (run_dir / "config.yaml").is_file()
    assert any(p.name.startswith("events.out.tfevents") for p in run_dir.iterdir())
    # Same run folder, as many epochs: it resumes at epoch 3 and only scores.
    scores = train_frame_classifier(
        FrameClassifierConfig(
            data=soccer_dataset,
            encoder="small_resnet",
            features_dim=32,
            epochs=3,
            batch_size=12,
            run_dir=run_dir,
            progress=False,
        )
    )
    assert {"accuracy", "accuracy_ball_third", "accuracy_players", "majority_accuracy"} <= set(
        scores
    )
    with pytest.raises(CheckpointError, match="written for features_dim=32, not features_dim=64"):
        train_frame_classifier(
            FrameClassifierConfig(
                data=soccer_dataset,
                encoder="small_resnet",
                features_dim=64,
                epochs=4,
                run_dir=run_dir,
                progress=False,
            )
        )
    with pytest.raises(CheckpointError, match="expected 'frame_classifier'"):
        load_frame_classifier(save_checkpoint(run_dir.parent / "other.pt", "autoencoder", {}))


def test_robustness_suite_scores_a_frame_classifier(
    frame_classifier_checkpoint: Path, soccer_dataset: Path, tmp_path: Path
):
    scorer = load_scorer(frame_classifier_checkpoint)
    frames = load_eval_frames(soccer_dataset, "test")
    scores = scorer.score(frames)
    model, _ = load_frame_classifier(frame_classifier_checkpoint)
    images = torch.from_numpy(np.stack(frames.images)).permute(0, 3, 1, 2)
    labels = frame_labels(frames.targets, [(64, 64)] * len(frames), model.tasks)
    assert scores == accuracies(model.predict(images), labels)
    assert scorer.error(scores) == pytest.approx(1 - scores["accuracy"])

    result = run_robustness(
        RobustnessConfig(
            model=frame_classifier_checkpoint,
            data=soccer_dataset,
            corruptions=("gaussian_noise", "fog"),
            severities=(1, 5),
            out=tmp_path / "fc",
            progress=False,
        )
    )
    summary, rows = result["summary"], result["rows"]
    assert summary["metric"] == "accuracy" and summary["error_definition"] == "1 - accuracy"
    assert set(summary["corruption_errors"]) == {"corruptions", "simulator"}  # both families ran
    assert {"held_out", "camera_high"} <= {r["shift"] for r in rows if r["family"] == "simulator"}
    for row in rows[1:]:
        assert row["drop"] == pytest.approx(rows[0]["accuracy"] - row["accuracy"])
        assert row["error"] == pytest.approx(1 - row["accuracy"])
    saved = json.loads((tmp_path / "fc" / "scores.json").read_text())["summary"]
    assert saved["model_name"].startswith("small_resnet frame classifier")
