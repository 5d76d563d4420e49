"""A frozen pretrained autoencoder encoder plugged into our DQN (``--encoder autoencoder``)."""

from pathlib import Path

import gymnasium as gym
import pytest
import torch

from visiongym.agents.policies import load_policy
from visiongym.agents.train import main as train_main
from visiongym.vision.autoencoders.models import build_autoencoder
from visiongym.vision.runtime import CheckpointError, load_checkpoint, save_checkpoint


def _autoencoder_checkpoint(path: Path, size: int = 36, arch: str = "tiny") -> Path:
    torch.manual_seed(0)
    model = build_autoencoder(arch, image_size=(size, size))
    return save_checkpoint(path, "autoencoder", {"model": model.state_dict()}, variant="conv", arch=arch,
                           image_size=[size, size], epoch=1)


def _dqn(args: list[str], runs: Path) -> Path:
    return train_main(["dqn", "--env", "visiongym/CatchBall-v0", "--env-kwargs", "rows=6", "columns=3",
                       "image_size=36", "--frame-stack", "2", "--features-dim", "32", "--buffer-size", "2000",
                       "--learning-starts", "40", "--train-frequency", "2", "--total-steps", "80",
                       "--eval-interval", "0", "--eval-episodes", "1", "--no-video", "--num-envs", "2",
                       "--threads", "1", "--no-progress", "--runs-dir", str(runs), *args])


def test_frozen_autoencoder_encoder_trains_a_dqn_and_stays_frozen(tmp_path: Path):
    checkpoint = _autoencoder_checkpoint(tmp_path / "ae.pt")
    run = _dqn(["--encoder", "autoencoder", "--encoder-checkpoint", str(checkpoint)], tmp_path / "runs")
    pretrained = load_checkpoint(checkpoint, kind="autoencoder")["state"]["model"]
    payload = load_checkpoint(run / "checkpoints" / "last.pt")
    policy_state = payload["state"]["policy"]
    encoder_keys = [key for key in policy_state if key.startswith("encoder.encoder.")]
    assert encoder_keys, "the Q-network holds the autoencoder's encoder"
    for key in encoder_keys:  # every encoder tensor, batch-norm statistics included, is unchanged
        assert torch.equal(policy_state[key], pretrained[key.removeprefix("encoder.encoder.")]), key
    # ... while the projection after it did train.
    assert payload["state"]["policy"]["encoder.project.1.weight"].abs().sum() > 0
    env = gym.make("visiongym/CatchBall-v0", rows=6, columns=3, image_size=36)
    policy = load_policy(run / "checkpoints" / "last.pt", env, device="cpu")
    observation, _ = env.reset(seed=0)
    assert env.action_space.contains(int(policy(observation)))


def test_wrong_encoder_checkpoints_are_refused_clearly(tmp_path: Path):
    runs = tmp_path / "runs"
    wrong_size = _autoencoder_checkpoint(tmp_path / "ae48.pt", size=48)
    with pytest.raises(ValueError, match=r"does not match the autoencoder's input \(3, 48, 48\).*image_size=48"):
        _dqn(["--encoder", "autoencoder", "--encoder-checkpoint", str(wrong_size)], runs)
    detector = save_checkpoint(tmp_path / "det.pt", "detector", {"model": {}}, model="grid_tiny")
    with pytest.raises(CheckpointError, match="holds a 'detector' model; expected 'autoencoder'"):
        _dqn(["--encoder", "autoencoder", "--encoder-checkpoint", str(detector)], runs)
    with pytest.raises(ValueError, match="--encoder autoencoder and --encoder-checkpoint go together"):
        _dqn(["--encoder", "autoencoder"], runs)
    with pytest.raises(ValueError, match="--encoder autoencoder and --encoder-checkpoint go together"):
        _dqn(["--encoder-checkpoint", str(wrong_size)], runs)


def test_the_encoder_choices_are_the_registry_s():
    import typing

    from visiongym.agents.config import DQNConfig, SB3Config
    from visiongym.vision.encoders import ENCODERS

    for config in (DQNConfig, SB3Config):
        assert typing.get_args(typing.get_type_hints(config)["encoder"]) == ENCODERS.names()
    assert "autoencoder" in ENCODERS.names()
