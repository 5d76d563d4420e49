"""The arms of benchmarks/vision_feeds_agents.py through ``visiongym train``: our DQN on pixels with
a Nature CNN, a frozen autoencoder encoder, a frozen or fine-tuned detector backbone, on the
detector's object list (batched over the vector envs) and on the state vector; SB3 with a
pretrained encoder and the batched object list; the combinations that are refused."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from visiongym.agents.evaluate import main as evaluate_main
from visiongym.agents.train import main as train_main
from visiongym.vision.runtime import load_checkpoint

SIZE = 36


def _soccer(obs_mode: str = "pixels") -> list[str]:
    pixels = ["camera=follow", f"image_size={SIZE}"] if obs_mode == "pixels" else []
    return ["--env", "visiongym/TabletopSoccer-v0", "--env-kwargs", "scenario=empty_goal", f"obs_mode={obs_mode}",
            *pixels, "shaping=5", "kick_aim=goal", "max_episode_steps=20"]


TINY_DQN = ["--num-envs", "2", "--frame-stack", "2", "--features-dim", "32", "--buffer-size", "400",
            "--learning-starts", "24", "--batch-size", "8", "--train-frequency", "2", "--n-step", "3",
            "--target-update-interval", "16", "--exploration-steps", "32", "--total-steps", "64",
            "--eval-interval", "0", "--no-video", "--threads", "1", "--no-progress"]


ARMS = {
    "nature_cnn": ("pixels", ["--encoder", "nature_cnn"]),
    "frozen_ae": ("pixels", ["--encoder", "autoencoder", "--encoder-checkpoint", "{autoencoder}"]),
    "frozen_detector": ("pixels", ["--encoder", "detector", "--encoder-checkpoint", "{detector}"]),
    "finetuned_detector": ("pixels", ["--encoder", "detector", "--encoder-checkpoint", "{detector}",
                                      "--no-freeze-encoder"]),
    "detector_objects": ("pixels", ["--encoder", "mlp", "--detector", "{detector}", "--detector-players", "1"]),
    "state": ("state", ["--encoder", "mlp"]),
}


@pytest.mark.parametrize("arm", list(ARMS))
def test_every_arm_trains_and_evaluates(arm: str, pretrained: dict[str, Path], tmp_path: Path):
    obs_mode, options = ARMS[arm]
    options = [option.format(**{key: str(path) for key, path in pretrained.items()}) for option in options]
    run = train_main(["dqn", *_soccer(obs_mode), *options, *TINY_DQN, "--runs-dir", str(tmp_path)])
    payload = load_checkpoint(run / "checkpoints" / "last.pt")
    assert payload["meta"]["step"] == 64
    weights = payload["state"]["policy"]
    if "detector" in arm and arm != "detector_objects":
        backbone = load_checkpoint(pretrained["detector"])["state"]["model"]
        keys = [key for key in weights if key.startswith("encoder.stages.") and "num_batches" not in key]
        assert keys, "the Q-network holds the detector's backbone"
        same = [torch.equal(weights[key], backbone[key.removeprefix("encoder.")]) for key in keys]
        # frozen: every tensor, batch-norm statistics included, as pretrained; fine-tuned: the weights moved
        assert all(same) if arm == "frozen_detector" else not all(same)
    if arm in ("detector_objects", "state"):
        first = weights["encoder.net.0.weight"]
        assert first.shape[1] == 2 * (30 if arm == "detector_objects" else 16), "two stacked vectors"
    result = evaluate_main([str(run), "--episodes", "1", "--device", "cpu"])
    assert 0 < result.lengths[0] <= 20


def test_sb3_takes_a_pretrained_encoder_and_the_batched_object_list(pretrained: dict[str, Path], tmp_path: Path):
    common = ["--total-steps", "32", "--n-steps", "16", "--batch-size", "16", "--num-envs", "2", "--eval-interval",
              "0", "--no-video", "--threads", "1", "--no-progress", "--runs-dir", str(tmp_path)]
    run = train_main(["ppo", *_soccer(), "--encoder", "detector", "--encoder-checkpoint", str(pretrained["detector"]),
                      "--no-freeze-encoder", "--frame-stack", "2", "--features-dim", "16", *common])
    meta = load_checkpoint(run / "checkpoints" / "last.pt")["meta"]
    assert meta["policy_kwargs"]["encoder_kwargs"] == {"checkpoint": str(pretrained["detector"]), "freeze": False}
    assert len(evaluate_main([str(run), "--episodes", "1", "--device", "cpu"]).lengths) == 1
    run = train_main(["sb3-dqn", *_soccer(), "--detector", str(pretrained["detector"]), "--detector-players", "1",
                      *common[:2], *common[6:], "--num-envs", "2", "--hyperparameters", "learning_starts=8"])
    assert load_checkpoint(run / "checkpoints" / "last.pt")["meta"]["policy"] == "MlpPolicy"


def test_the_sb3_batched_detector_matches_the_per_env_wrapper(pretrained: dict[str, Path]):
    """One detector call per vector step for all envs, terminal observations included, and the
    same vectors as the per-env wrapper (a stand-in detector that finds the brightest pixel)."""
    from stable_baselines3.common.vec_env import DummyVecEnv

    from visiongym.agents.sb3.detected import VecDetectedObjects
    from visiongym.vision.detect.engine import load_detector
    from visiongym.vision.detect.wrapper import DetectedObjects

    detector = load_detector(pretrained["detector"])[0]
    calls: list[int] = []

    def brightest(images: torch.Tensor, score_threshold: float = 0.3) -> list[dict[str, torch.Tensor]]:
        calls.append(len(images))
        out = []
        for image in images:
            y, x = divmod(int(image.float().sum(0).argmax()), image.shape[-1])
            out.append({"boxes": torch.tensor([[x - 1.0, y - 1.0, x + 1.0, y + 1.0]]),
                        "scores": torch.tensor([0.9]), "labels": torch.tensor([1])})
        return out

    detector.predict = brightest

    def make(wrap: bool):
        def thunk():
            env = gym.make("visiongym/TabletopSoccer-v0", scenario="empty_goal", obs_mode="pixels", camera="follow",
                           image_size=SIZE, max_episode_steps=3)
            return DetectedObjects(env, detector, players_per_team=1) if wrap else env
        return thunk

    batched = VecDetectedObjects(DummyVecEnv([make(False)] * 3), detector, players_per_team=1)
    per_env = DummyVecEnv([make(True)] * 3)
    for venv in (batched, per_env):
        venv.seed(5)
    assert batched.observation_space == per_env.observation_space
    np.testing.assert_array_equal(batched.reset(), per_env.reset())
    actions, batched_calls = np.array([1, 2, 9]), []
    for _ in range(4):  # the third step ends every episode (time limit): terminal observations
        calls.clear()
        observations, _, dones, infos = batched.step(actions)
        batched_calls.append(list(calls))
        expected, _, expected_dones, expected_infos = per_env.step(actions)
        np.testing.assert_array_equal(observations, expected)
        np.testing.assert_array_equal(dones, expected_dones)
        for info, expected_info in zip(infos, expected_infos, strict=True):
            if "terminal_observation" in expected_info:
                np.testing.assert_array_equal(info["terminal_observation"], expected_info["terminal_observation"])
    # one pass over the three envs a step; at the episodes' end a second one for their last frames
    assert batched_calls == [[3], [3], [3, 3], [3]], batched_calls


def test_bad_encoder_combinations_are_refused(pretrained: dict[str, Path], tmp_path: Path):
    runs = ["--runs-dir", str(tmp_path)]

    def train(*args: str) -> Path:
        return train_main(["dqn", *args, *TINY_DQN, *runs])

    with pytest.raises(ValueError, match="--encoder detector and --encoder-checkpoint go together"):
        train(*_soccer(), "--encoder", "detector")
    with pytest.raises(ValueError, match="--no-freeze-encoder fine-tunes a pretrained encoder"):
        train(*_soccer(), "--no-freeze-encoder")
    with pytest.raises(ValueError, match="encoder checkpoint '.*nowhere.pt' not found"):
        train(*_soccer(), "--encoder", "detector", "--encoder-checkpoint", str(tmp_path / "nowhere.pt"))
    with pytest.raises(ValueError, match=r"observes vectors of 16 numbers .*use --encoder mlp"):
        train(*_soccer("state"))
    with pytest.raises(ValueError, match="observes images .*--encoder mlp does not fit, use an image encoder"):
        train(*_soccer(), "--encoder", "mlp")
    with pytest.raises(ValueError, match="does not match the detector's input"):
        train(*_soccer()[:-4], "image_size=48", "max_episode_steps=20", "--encoder", "detector",
              "--encoder-checkpoint", str(pretrained["detector"]))
    with pytest.raises(ValueError, match="holds a 'autoencoder' model; expected 'detector'"):
        train(*_soccer(), "--encoder", "detector", "--encoder-checkpoint", str(pretrained["autoencoder"]))
    with pytest.raises(ValueError, match=r"observes vectors of 16 numbers .*use --encoder mlp"):
        train_main(["drqn", *_soccer("state"), "--total-steps", "16", "--no-progress", *runs])
