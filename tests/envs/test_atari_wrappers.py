"""The Atari preprocessing wrappers: no-op reset, max-pooled frame skip, episodic life, clipping, shapes."""

import gymnasium as gym
import numpy as np
import pytest

import visiongym  # noqa: F401
from visiongym.envs.registration import check_env_id
from visiongym.envs.wrappers.atari import (
    EpisodicLife,
    MaxAndSkip,
    NoopReset,
    SignReward,
    atari_env_kwargs,
    is_atari,
    wrap_atari,
)
from visiongym.sims.errors import UsageError

check_env_id("ALE/Pong-v5")  # imports ale_py, which registers the ALE ids


class CountingFrames(gym.Env):
    """Frame t lights pixel t % 6 (so the last two frames light different pixels); reward t."""

    observation_space = gym.spaces.Box(0, 255, (2, 6, 3), np.uint8)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._frame(), {}

    def step(self, action):
        self.t += 1
        return self._frame(), float(self.t), self.t >= 100, False, {}

    def _frame(self):
        frame = np.zeros(self.observation_space.shape, np.uint8)
        frame[:, self.t % 6] = 255
        return frame


def test_frame_skip_sums_rewards_and_max_pools_the_last_two_frames():
    env = MaxAndSkip(CountingFrames(), skip=4, max_pool=True)
    env.reset(seed=0)
    observation, reward, *_ = env.step(0)
    assert reward == 1 + 2 + 3 + 4
    assert sorted(np.flatnonzero(observation[0, :, 0])) == [3, 4]  # frames 3 and 4, pooled
    plain = MaxAndSkip(CountingFrames(), skip=4, max_pool=False)
    plain.reset(seed=0)
    assert list(np.flatnonzero(plain.step(0)[0][0, :, 0])) == [4]


def test_rewards_are_clipped_to_their_sign():
    env = SignReward(CountingFrames())
    env.reset(seed=0)
    env.step(0)
    assert env.step(0)[1] == 1.0  # the raw reward is 2


def test_noop_reset_starts_after_a_seeded_random_number_of_noops():
    frames = []
    for seed in range(6):
        env = NoopReset(gym.make("ALE/Pong-v5", frameskip=1), noop_max=30)
        env.reset(seed=seed)
        frames.append(env.unwrapped.ale.getEpisodeFrameNumber())
        env.reset(seed=seed)
        assert env.unwrapped.ale.getEpisodeFrameNumber() == frames[-1]  # same seed, same start
        env.close()
    assert all(1 <= count <= 30 for count in frames) and len(set(frames)) > 1


def test_episodic_life_ends_the_episode_on_a_lost_life_but_not_the_game():
    env = EpisodicLife(MaxAndSkip(gym.make("ALE/Breakout-v5", frameskip=1), skip=4))
    env.reset(seed=0)
    env.step(1)  # FIRE launches the ball
    lives = env.unwrapped.ale.lives()
    for _ in range(2000):
        _, _, terminated, truncated, info = env.step(0)  # the paddle stays: the ball is lost
        if terminated or truncated:
            break
    assert terminated and not info["game_over"] and env.unwrapped.ale.lives() == lives - 1
    frame = env.unwrapped.ale.getEpisodeFrameNumber()
    env.reset()
    assert env.unwrapped.ale.getEpisodeFrameNumber() > frame  # the game went on, no emulator reset
    assert env.unwrapped.ale.lives() == lives - 1
    env.close()


def test_the_atari_stack_observes_84x84_grey_from_an_emulator_that_does_not_skip():
    kwargs = atari_env_kwargs({}, frame_skip=4, grayscale=True)
    env = wrap_atari(gym.make("ALE/Breakout-v5", **kwargs))
    observation, _ = env.reset(seed=0)
    assert observation.shape == (84, 84, 1) and observation.dtype == np.uint8
    assert env.observation_space.shape == (84, 84, 1)
    assert env.unwrapped._frameskip == 1
    names = []
    layer = env
    while isinstance(layer, gym.Wrapper):
        names.append(type(layer).__name__)
        layer = layer.env
    assert names[:6] == ["SignReward", "ResizeFrame", "FireReset", "EpisodicLife", "MaxAndSkip", "NoopReset"]
    env.close()


def test_frames_are_not_skipped_twice():
    with pytest.raises(UsageError, match="skip frames twice"):
        atari_env_kwargs({"frameskip": 4}, frame_skip=4, grayscale=True)
    assert atari_env_kwargs({"frameskip": 4}, frame_skip=1, grayscale=False) == {"frameskip": 4}


def test_ale_ids_are_recognised():
    check_env_id("PongNoFrameskip-v4")
    assert is_atari("ALE/Pong-v5") and is_atari("PongNoFrameskip-v4") and not is_atari("CartPole-v1")
