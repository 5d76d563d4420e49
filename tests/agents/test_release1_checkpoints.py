"""Checkpoints and run folders written by the first release (tests/agents/fixtures/release1,
made with make_fixtures.py at commit 31efd7a) keep loading, acting and evaluating."""

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from visiongym.agents.evaluate import main as evaluate_main
from visiongym.agents.policies import load_policy

RELEASE1 = Path(__file__).parent / "fixtures" / "release1"
EXPECTED = json.loads((RELEASE1 / "expected_actions.json").read_text())
ENVS = {
    "dqn": ("visiongym/CatchBall-v0", {"rows": 6, "columns": 3, "image_size": 36}),
    "drqn": ("visiongym/CatchBall-v0", {"rows": 6, "columns": 3, "image_size": 36}),
    "ppo": ("visiongym/TabletopSoccer-v0", {"scenario": "empty_goal", "obs_mode": "state", "max_episode_steps": 20}),
}


@pytest.mark.parametrize("algo", sorted(ENVS))
def test_first_release_checkpoint_acts_as_it_did(algo):
    env_id, kwargs = ENVS[algo]
    env = gym.make(env_id, **kwargs)
    policy = load_policy(RELEASE1 / algo, env, device="cpu")
    obs, _ = env.reset(seed=5)
    policy.reset()
    actions = []
    for _ in range(12):
        action = policy(obs)
        actions.append(np.asarray(action).tolist())
        obs, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            obs, _ = env.reset(seed=6)
    assert actions == EXPECTED[algo]


def test_first_release_dqn_gives_the_same_q_values():
    env_id, kwargs = ENVS["dqn"]
    env = gym.make(env_id, **kwargs)
    policy = load_policy(RELEASE1 / "dqn", env, device="cpu").policy
    obs, _ = env.reset(seed=5)
    policy.reset()
    np.testing.assert_allclose(policy.q_values(obs), EXPECTED["dqn_q_values"], atol=1e-5)


def test_first_release_run_folder_evaluates():
    result = evaluate_main([str(RELEASE1 / "drqn"), "--episodes", "2", "--device", "cpu"])
    assert result.summary()["episodes"] == 2


def test_first_release_run_folder_resumes(tmp_path):
    import shutil

    from visiongym.agents.train import main as train_main
    from visiongym.vision.runtime import load_checkpoint

    run = shutil.copytree(RELEASE1 / "ppo", tmp_path / "ppo")
    assert train_main(["--resume", str(run), "--total-steps", "48", "--no-progress"]) == run
    assert load_checkpoint(run / "checkpoints" / "last.pt")["meta"]["step"] == 48
