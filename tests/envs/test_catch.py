"""CatchBall: spaces, determinism, dynamics and rewards."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import visiongym  # noqa: F401
from visiongym.envs.catch import BALL_COLOUR, PADDLE_COLOUR, CatchBallEnv


def test_passes_gymnasium_env_checker():
    check_env(gym.make("visiongym/CatchBall-v0").unwrapped, skip_render_check=True)


def test_same_seed_same_bytes():
    a, b = CatchBallEnv(), CatchBallEnv()
    obs_a, _ = a.reset(seed=3)
    obs_b, _ = b.reset(seed=3)
    assert obs_a.tobytes() == obs_b.tobytes()
    for action in (1, 2, 0, 1):
        assert a.step(action)[0].tobytes() == b.step(action)[0].tobytes()


def _ball_and_paddle(env):
    return int(env._ball[1]), env._paddle


def test_following_the_ball_always_catches_and_staying_away_misses():
    env = CatchBallEnv(rows=6, columns=4)
    for seed in range(10):
        obs, _ = env.reset(seed=seed)
        assert obs.shape == (40, 40, 3) and obs.dtype == np.uint8
        assert (obs == BALL_COLOUR).all(-1).any() and (obs == PADDLE_COLOUR).all(-1).any()
        steps, done = 0, False
        while not done:
            ball, paddle = _ball_and_paddle(env)
            action = 0 if ball == paddle else (1 if ball < paddle else 2)
            obs, reward, done, truncated, info = env.step(action)
            steps += 1
        assert steps == 5 and reward == 1.0 and info["is_success"] and info["catch"] == 1.0


def test_a_miss_costs_one():
    env = CatchBallEnv(rows=3, columns=5)
    env.reset(seed=0)
    env._ball[1], env._paddle = 0, 4
    env.step(0)
    _, reward, terminated, _, info = env.step(0)
    assert terminated and reward == -1.0 and not info["is_success"]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="image_size 4"):
        CatchBallEnv(image_size=4)
    with pytest.raises(ValueError, match="render_mode 'human'"):
        CatchBallEnv(render_mode="human")
    with pytest.raises(ValueError, match="action 7"):
        env = CatchBallEnv()
        env.reset(seed=0)
        env.step(7)


def test_render_is_the_observation_scaled_up():
    env = CatchBallEnv(render_mode="rgb_array")
    obs, _ = env.reset(seed=1)
    assert env.render().shape == (160, 160, 3)
    assert (env.render()[::4, ::4] == obs).all()
