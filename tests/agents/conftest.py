"""Shared by several tests: a DQN trained once on a small CatchBall through the real command, and
untrained pretrained-encoder checkpoints at 36 px."""

from pathlib import Path

import pytest

# 6 x 3 grid, 36 px: a uniformly random policy catches 35%; a learned one catches them all.
CATCH_ENV = ["--env", "visiongym/CatchBall-v0", "--env-kwargs", "rows=6", "columns=3", "image_size=36"]
FAST_DQN = [
    "--frame-stack", "1", "--features-dim", "128", "--buffer-size", "10000", "--learning-starts", "500",
    "--train-frequency", "2", "--n-step", "3", "--target-update-interval", "200",
    "--exploration-steps", "800", "--learning-rate", "1e-3", "--augment-pad", "2", "--num-envs", "4",
    "--threads", "1", "--no-progress",
]


@pytest.fixture(scope="session")
def catch_args():
    """(env arguments, fast DQN arguments) of the small CatchBall command line."""
    return CATCH_ENV, FAST_DQN


@pytest.fixture(scope="session")
def catch_dqn_run(tmp_path_factory):
    """Run folder of a DQN trained for 2,000 steps on the small CatchBall (about 30 s)."""
    from visiongym.agents.train import main

    runs = tmp_path_factory.mktemp("runs")
    return main(["dqn", *CATCH_ENV, *FAST_DQN, "--total-steps", "2000", "--eval-interval", "1000",
                 "--eval-episodes", "5", "--checkpoint-interval", "1000", "--runs-dir", str(runs),
                 "--seed", "3"])


@pytest.fixture(scope="session")
def pretrained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Untrained ``grid_tiny`` detector and ``tiny`` autoencoder checkpoints at 36 px (the envs'
    ``image_size=36`` of these tests)."""
    import torch

    from visiongym.vision.autoencoders.models import build_autoencoder
    from visiongym.vision.detect.engine import Detector
    from visiongym.vision.runtime import save_checkpoint

    folder = tmp_path_factory.mktemp("pretrained")
    torch.manual_seed(0)
    autoencoder = build_autoencoder("tiny", image_size=(36, 36))
    return {
        "detector": Detector("grid_tiny", 36).save(folder / "detector.pt"),
        "autoencoder": save_checkpoint(folder / "ae.pt", "autoencoder", {"model": autoencoder.state_dict()},
                                       variant="conv", arch="tiny", image_size=[36, 36], epoch=1),
    }
