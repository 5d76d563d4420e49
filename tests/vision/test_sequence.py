"""LSTM sequences: the course's continuation examples against the repeat-last baseline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from visiongym.vision.classify.training import torch_threads
from visiongym.vision.sequence.__main__ import main
from visiongym.vision.sequence.arithmetic import make_sequences, predict_next, train_continuation
from visiongym.vision.sequence.ball import (
    BallConfig,
    bounce_mask,
    constant_velocity,
    make_windows,
    run_ball,
    simulate_trajectories,
)
from visiongym.vision.sequence.model import SequenceLSTM


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


def test_sequences_follow_their_rule() -> None:
    rng = np.random.default_rng(0)
    windows, targets = make_sequences(50, 4, "arithmetic", rng)
    full = np.concatenate([windows, targets[:, None]], axis=1)
    assert np.allclose(np.diff(full, 2, axis=1), 0)
    windows, targets = make_sequences(50, 3, "geometric", rng)
    full = np.concatenate([windows, targets[:, None]], axis=1)
    assert np.allclose(full[:, 2:] / full[:, 1:-1], full[:, 1:-1] / full[:, :-2], rtol=1e-4)
    with pytest.raises(
        ValueError, match="sequence kind 'fibonacci' unknown; choose one of: arithmetic"
    ):
        make_sequences(2, 3, "fibonacci", rng)


def test_lstm_predicts_several_steps_of_several_dims() -> None:
    model = SequenceLSTM(dim=2, hidden=8, horizon=5)
    assert model(torch.zeros(3, 7, 2)).shape == (3, 5, 2)


def test_lstm_beats_repeat_last_on_arithmetic_sequences() -> None:
    model, losses = train_continuation(
        "arithmetic", steps=250, batch_size=128, hidden=32, progress=False
    )
    windows, targets = make_sequences(500, 3, "arithmetic", np.random.default_rng(1))
    lstm_rmse = np.sqrt(np.mean((predict_next(model, windows) - targets) ** 2))
    naive_rmse = np.sqrt(np.mean((windows[:, -1] - targets) ** 2))
    assert lstm_rmse < 0.5 * naive_rmse
    assert abs(predict_next(model, [[6.0, 7.0, 8.0]])[0] - 9.0) < 0.75
    assert np.mean(losses[-20:]) < np.mean(losses[:20])


def test_cli_runs_and_prints_the_course_examples(tmp_path, capsys) -> None:
    code = main(
        [
            "arithmetic",
            "--steps",
            "30",
            "--test-size",
            "50",
            "--out",
            str(tmp_path),
            "--no-progress",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "6, 7, 8 ->" in out and "2, 4, 8 ->" in out and "| arithmetic |" in out
    assert (tmp_path / "loss.png").is_file()
    with pytest.raises(SystemExit):
        main(["arithmetic", "--kind", "fibonacci"])


def test_constant_velocity_and_bounce_detection_on_hand_made_paths() -> None:
    history = np.array([[[0.0, 0.0], [0.1, 0.05]]], np.float32)
    assert np.allclose(constant_velocity(history, 3)[0], [[0.2, 0.1], [0.3, 0.15], [0.4, 0.2]])
    straight = np.array([[[0.2, 0.1], [0.3, 0.15]]], np.float32)
    bounced = np.array([[[0.2, 0.1], [0.1, 0.15]]], np.float32)
    assert not bounce_mask(history, straight)[0] and bounce_mask(history, bounced)[0]


def test_simulated_rolls_are_continuous_and_stay_on_the_pitch() -> None:
    paths = simulate_trajectories(4, 40, np.random.default_rng(0))
    assert paths.shape == (4, 40, 2)
    assert np.abs(np.diff(paths, axis=1)).max() < 0.3
    assert (np.abs(paths[..., 0]) < 1.25).all() and (np.abs(paths[..., 1]) < 0.85).all()
    inputs, targets = make_windows(paths, past=5, horizon=3)
    assert inputs.shape == (4 * 33, 5, 2) and targets.shape == (4 * 33, 3, 2)
    assert np.array_equal(inputs[1, -1], paths[0, 5]) and np.array_equal(targets[0, 0], paths[0, 5])


def test_ball_lstm_beats_constant_velocity_on_bounces(tmp_path) -> None:
    results = run_ball(
        BallConfig(
            trajectories=40,
            train_steps=200,
            batch_size=128,
            hidden=32,
            progress=False,
            out=tmp_path,
            device="cpu",
        )
    )
    bounce = results["table"]["bounce ahead"]
    assert bounce["windows"] > 10
    assert bounce["lstm_rmse"] < bounce["constant_velocity_rmse"]
    assert (
        results["table"]["all windows"]["lstm_rmse"]
        < results["table"]["all windows"]["constant_velocity_rmse"]
    )
    assert (tmp_path / "trajectories.png").is_file()
