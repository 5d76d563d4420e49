"""``--feature-cache``: a frozen pretrained encoder's codes in replay instead of the frames.

The cache must be an optimisation only: the same Q-values, the same training run, a checkpoint
that still plays from pixels, and a clear refusal wherever codes would change the batches.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest
import torch

from visiongym.agents.config import config_from_dict
from visiongym.agents.dqn.networks import QNetwork
from visiongym.agents.policies import load_policy
from visiongym.agents.train import main as train_main
from visiongym.sims.errors import UsageError
from visiongym.vision.runtime import load_checkpoint

SIZE = 36


def _dqn(runs: Path, checkpoint: Path, *args: str, name: str = "run", encoder: str = "autoencoder") -> Path:
    return train_main(["dqn", "--env", "visiongym/CatchBall-v0", "--env-kwargs", "rows=6", "columns=3",
                       f"image_size={SIZE}", "--encoder", encoder, "--encoder-checkpoint", str(checkpoint),
                       "--frame-stack", "2", "--features-dim", "32", "--buffer-size", "2000",
                       "--learning-starts", "40", "--batch-size", "16", "--train-frequency", "2",
                       "--total-steps", "120", "--eval-interval", "0", "--eval-episodes", "1", "--no-video",
                       "--num-envs", "2", "--threads", "1", "--no-progress", "--seed", "3",
                       "--runs-dir", str(runs), "--run-name", name, *args])


@pytest.mark.parametrize("encoder", ["autoencoder", "detector"])
def test_stacked_codes_give_the_q_values_of_the_pixels(pretrained: dict[str, Path], encoder: str):
    space = gym.spaces.Box(0, 255, (6, SIZE, SIZE), "uint8")
    network = QNetwork(space, 3, encoder, 32, True, {"checkpoint": str(pretrained[encoder])}).use_channels_last()
    stacks = torch.randint(0, 256, (5, 6, SIZE, SIZE), dtype=torch.uint8)
    with torch.no_grad():
        from_pixels = network(stacks)
        codes = network.encoder.frame_codes(network.prepare(stacks.reshape(10, 3, SIZE, SIZE)))
        assert codes.shape == (10, network.encoder.code_size)
        from_codes = network(codes.reshape(5, -1))  # frame-major, as the frame stacks concatenate them
    torch.testing.assert_close(from_codes, from_pixels, rtol=1e-5, atol=1e-5)


def test_a_cached_run_stores_codes_and_trains_the_same_network(pretrained: dict[str, Path], tmp_path: Path):
    checkpoint = pretrained["autoencoder"]
    cached = _dqn(tmp_path, checkpoint, "--augment-pad", "0", name="cached")  # auto: on, the encoder is frozen
    plain = _dqn(tmp_path, checkpoint, "--augment-pad", "0", "--feature-cache", "off", name="plain")

    stored = {run: load_checkpoint(run / "checkpoints" / "replay.pt", kind="replay")["state"]["frames"]
              for run in (cached, plain)}
    code_size = QNetwork(gym.spaces.Box(0, 255, (6, SIZE, SIZE), "uint8"), 3, "autoencoder", 32, True,
                         {"checkpoint": str(checkpoint)}).encoder.code_size
    assert stored[cached].dtype == torch.float32 and stored[cached].shape[-1:] == (code_size,)
    assert stored[plain].dtype == torch.uint8 and stored[plain].shape[-3:] == (3, SIZE, SIZE)

    # The same seed trains the same weights (up to float rounding) whichever form replay holds.
    weights = {run: load_checkpoint(run / "checkpoints" / "last.pt")["state"]["policy"] for run in (cached, plain)}
    assert weights[cached].keys() == weights[plain].keys()
    for key, value in weights[plain].items():
        torch.testing.assert_close(weights[cached][key], value, rtol=1e-4, atol=1e-5, msg=key)

    # The saved network reads pixels: load it and play.
    env = gym.make("visiongym/CatchBall-v0", rows=6, columns=3, image_size=SIZE)
    policy = load_policy(cached / "checkpoints" / "last.pt", env, device="cpu")
    observation, _ = env.reset(seed=0)
    assert env.action_space.contains(int(policy(observation)))


def test_a_cached_run_resumes(pretrained: dict[str, Path], tmp_path: Path):
    run = _dqn(tmp_path, pretrained["autoencoder"], "--augment-pad", "0", "--checkpoint-interval", "60",
               "--total-steps", "60", name="resumed")
    train_main(["--resume", str(run), "--total-steps", "120", "--no-progress"])
    assert load_checkpoint(run / "checkpoints" / "last.pt")["meta"]["step"] == 120
    frames = load_checkpoint(run / "checkpoints" / "replay.pt", kind="replay")["state"]["frames"]
    assert frames.dtype == torch.float32


@pytest.mark.parametrize(("args", "message"), [
    (["--augment-pad", "4"], r"--augment-pad 4 shifts each batch's pixels"),
    (["--augment-pad", "0", "--augment-colour", "0.5"], r"--augment-colour 0.5 changes each batch's pixels"),
    (["--augment-pad", "0", "--no-freeze-encoder"], r"--no-freeze-encoder trains the encoder"),
])
def test_feature_cache_on_is_refused_where_codes_would_change_training(pretrained: dict[str, Path],
                                                                       tmp_path: Path, args: list[str],
                                                                       message: str):
    with pytest.raises(UsageError, match=message):
        _dqn(tmp_path, pretrained["autoencoder"], "--feature-cache", "on", *args)


def test_feature_cache_on_needs_a_pretrained_encoder_and_a_feed_forward_agent(tmp_path: Path):
    common = ["--env", "visiongym/CatchBall-v0", "--env-kwargs", "rows=6", "columns=3", f"image_size={SIZE}",
              "--total-steps", "8", "--no-progress", "--threads", "1", "--runs-dir", str(tmp_path),
              "--feature-cache", "on", "--augment-pad", "0"]
    with pytest.raises(UsageError, match=r"--encoder nature_cnn is trained from scratch.*autoencoder or detector"):
        train_main(["dqn", *common, "--encoder", "nature_cnn"])
    with pytest.raises(UsageError, match=r"drqn encodes one frame a step"):
        train_main(["drqn", *common, "--encoder", "nature_cnn"])


def test_runs_saved_before_the_cache_existed_resume_without_it():
    config = config_from_dict({"algo": "dqn", "env": "visiongym/CatchBall-v0"})
    assert config.feature_cache == "off"
    assert config_from_dict({"algo": "dqn", "env": "visiongym/CatchBall-v0", "feature_cache": "auto"}).feature_cache \
        == "auto"
