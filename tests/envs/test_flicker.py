"""FlickerObservation: blank rate, seeding, Dict spaces, bad arguments."""

import gymnasium as gym
import numpy as np
import pytest

from visiongym.envs.catch import CatchBallEnv
from visiongym.envs.wrappers.flicker import FlickerObservation


def blanks(env, seed, steps=400):
    out = []
    env.reset(seed=seed)
    for _ in range(steps):
        obs, _, terminated, truncated, info = env.step(0)
        out.append(info["flickered"])
        assert info["flickered"] == (not obs.any())
        if terminated or truncated:
            env.reset()
    return np.array(out)


def test_blank_rate_matches_p_and_same_seed_same_blanks():
    a = blanks(FlickerObservation(CatchBallEnv(), p=0.3), seed=5)
    b = blanks(FlickerObservation(CatchBallEnv(), p=0.3), seed=5)
    assert (a == b).all()
    assert 0.22 < a.mean() < 0.38
    assert not (a == blanks(FlickerObservation(CatchBallEnv(), p=0.3), seed=6)).all()


def test_flicker_does_not_change_the_env_dynamics():
    plain, wrapped = CatchBallEnv(), FlickerObservation(CatchBallEnv(), p=0.5)
    for seed in range(5):
        plain.reset(seed=seed)
        wrapped.reset(seed=seed)
        assert plain._ball.tolist() == wrapped.unwrapped._ball.tolist()


def test_p_zero_and_one():
    assert not blanks(FlickerObservation(CatchBallEnv(), p=0.0), seed=0, steps=30).any()
    assert blanks(FlickerObservation(CatchBallEnv(), p=1.0), seed=0, steps=30).all()


class DictPixels(gym.ObservationWrapper):
    def __init__(self, env):
        super().__init__(env)
        self.observation_space = gym.spaces.Dict({"pixels": env.observation_space,
                                                  "state": gym.spaces.Box(-1, 1, (2,))})

    def observation(self, observation):
        return {"pixels": observation, "state": np.ones(2, np.float32)}


def test_dict_spaces_flicker_only_pixels():
    env = FlickerObservation(DictPixels(CatchBallEnv()), p=1.0)
    obs, _ = env.reset(seed=0)
    assert not obs["pixels"].any() and obs["state"].tolist() == [1.0, 1.0]


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"p=1.5"):
        FlickerObservation(CatchBallEnv(), p=1.5)
    with pytest.raises(ValueError, match="Box or Dict"):
        FlickerObservation(gym.make("FrozenLake-v1"), p=0.5)
