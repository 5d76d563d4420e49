"""``--compile``: the updates run through a ``torch.compile`` wrapper while target updates and
checkpoints use the plain network's weights (the wrapper's keys carry an ``_orig_mod.`` prefix).

``--compile`` compiles on CUDA only; here it is forced on the CPU, which needs a C++ compiler.
"""

import shutil

import gymnasium as gym
import pytest
import torch

from visiongym.agents.dqn.networks import plain_state_dict
from visiongym.agents.dqn.trainer import DQNTrainer
from visiongym.agents.policies import load_policy
from visiongym.agents.train import main as train_main
from visiongym.vision.runtime import load_checkpoint

pytestmark = pytest.mark.skipif(
    shutil.which("g++") is None and shutil.which("c++") is None and shutil.which("clang++") is None,
    reason="torch.compile on the CPU (inductor) needs a C++ compiler; none on PATH",
)

ENV = ["--env", "visiongym/CatchBall-v0", "--env-kwargs", "rows=4", "columns=3", "image_size=36"]
TINY = ["--grayscale", "--frame-stack", "1", "--features-dim", "8", "--buffer-size", "100", "--learning-starts", "8",
        "--batch-size", "4", "--train-frequency", "4", "--target-update-interval", "8", "--augment-pad", "0",
        "--no-channels-last", "--pipeline", "off", "--eval-interval", "0", "--no-video", "--no-progress",
        "--threads", "1", "--compile"]


def test_compiled_dqn_updates_its_target_and_round_trips_its_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setattr(DQNTrainer, "compile_supported", lambda self: True)
    compiled = []
    compile_learner = DQNTrainer.build_learner

    def build_learner(self):
        learner = compile_learner(self)
        original = learner.compile
        learner.compile = lambda **options: (original(**options), compiled.append(learner))
        return learner

    monkeypatch.setattr(DQNTrainer, "build_learner", build_learner)
    common = ["dqn", *ENV, *TINY, "--runs-dir", str(tmp_path), "--run-name", "compiled"]
    run = train_main([*common, "--total-steps", "24", "--checkpoint-interval", "24"])
    learner = compiled[0]
    assert learner.online is not learner.network and learner.target_version >= 2  # compiled, targets copied
    state = load_checkpoint(run / "checkpoints" / "last.pt")["state"]
    assert not any(key.startswith("_orig_mod.") for key in state["learner"]["online"])
    for key, value in learner.network.state_dict().items():  # the checkpoint holds the trained weights
        assert torch.equal(state["learner"]["online"][key], value)
    # plain weights load into an uncompiled policy, and a compiled run resumes from them
    env = gym.make("visiongym/CatchBall-v0", rows=4, columns=3, image_size=36)
    obs, _ = env.reset(seed=0)
    assert env.action_space.contains(load_policy(run, env, device="cpu")(obs))
    train_main(["--resume", str(run), "--total-steps", "32", "--no-progress"])
    assert load_checkpoint(run / "checkpoints" / "last.pt")["meta"]["step"] == 32


def test_weights_saved_from_a_compiled_wrapper_still_load():
    network = torch.nn.Linear(2, 2)
    prefixed = {f"_orig_mod.{key}": value for key, value in network.state_dict().items()}
    other = torch.nn.Linear(2, 2)
    other.load_state_dict(plain_state_dict(prefixed))
    assert torch.equal(other.weight, network.weight)
