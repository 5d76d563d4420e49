"""Agents on the detector's object list (``visiongym.agents.train --detector``)."""

from pathlib import Path

import pytest

from visiongym.agents.evaluate import main as evaluate_main
from visiongym.agents.train import main as train_main
from visiongym.vision.data.format import DETECTION_CLASSES
from visiongym.vision.detect.engine import Detector
from visiongym.vision.runtime import load_checkpoint

SOCCER = ["--env", "visiongym/TabletopSoccer-v0", "--env-kwargs", "scenario=empty_goal", "obs_mode=pixels",
          "image_size=64", "max_episode_steps=20"]


def test_ppo_trains_on_detected_objects_and_evaluates(tmp_path: Path):
    detector = Detector("grid_tiny", 64, DETECTION_CLASSES).save(tmp_path / "detector.pt")
    run = train_main(["ppo", *SOCCER, "--detector", str(detector), "--detector-players", "1", "--total-steps",
                      "32", "--n-steps", "16", "--batch-size", "16", "--num-envs", "2", "--eval-interval", "0",
                      "--eval-episodes", "1", "--no-video", "--threads", "1", "--no-progress",
                      "--runs-dir", str(tmp_path / "runs")])
    meta = load_checkpoint(run / "checkpoints" / "last.pt")["meta"]
    # 1 ball + 1 player a team + 2 goals, six numbers a slot: an MLP policy on a vector.
    assert meta["policy"] == "MlpPolicy" and meta["config"]["detector"] == str(detector)
    first_layer = load_checkpoint(run / "checkpoints" / "last.pt")["state"]["policy"]["mlp_extractor.policy_net.0.weight"]
    assert first_layer.shape[1] == (1 + 2 + 2) * 6
    result = evaluate_main([str(run), "--episodes", "1", "--device", "cpu"])
    # 32 steps teach nothing; the episode ran on the detector's list to the 20-step limit or a goal,
    # and without shaping its return is the scoring reward alone (+1 a goal, -1 an own goal).
    assert len(result.lengths) == 1 and 0 < result.lengths[0] <= 20
    assert result.returns[0] in (-1.0, 0.0, 1.0) and (result.returns[0] == 1.0) == result.successes[0]


def test_missing_detector_checkpoint_is_named(tmp_path: Path):
    with pytest.raises(ValueError, match="detector checkpoint '.*nowhere.pt' not found"):
        train_main(["ppo", *SOCCER, "--detector", str(tmp_path / "nowhere.pt"), "--total-steps", "16",
                    "--runs-dir", str(tmp_path / "runs"), "--no-progress"])


def test_dqn_trains_and_evaluates_on_an_int8_detector(tmp_path: Path):
    detector = Detector("grid_tiny", 64, DETECTION_CLASSES).save(tmp_path / "detector.pt")
    run = train_main(["dqn", *SOCCER, "--detector", str(detector), "--detector-int8", "--encoder", "mlp",
                      "--total-steps", "48", "--learning-starts", "16", "--batch-size", "8", "--num-envs", "2",
                      "--eval-interval", "0", "--no-video", "--threads", "1", "--no-progress",
                      "--runs-dir", str(tmp_path / "runs")])
    assert load_checkpoint(run / "checkpoints" / "last.pt")["meta"]["config"]["detector_int8"] is True
    result = evaluate_main([str(run), "--episodes", "1", "--device", "cpu"])
    assert len(result.lengths) == 1 and 0 < result.lengths[0] <= 20
    with pytest.raises(ValueError, match="--detector-int8 needs --detector"):
        train_main(["dqn", *SOCCER, "--detector-int8", "--total-steps", "16", "--runs-dir", str(tmp_path / "r"),
                    "--no-progress"])
