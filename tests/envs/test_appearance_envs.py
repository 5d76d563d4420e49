"""``appearance=`` on the pixel envs and ``--appearance`` on play."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import visiongym
from visiongym.envs.play import PlayConfig, play

gym.register_envs(visiongym)

SOCCER = ("visiongym/TabletopSoccer-EmptyGoal-v0", {"obs_mode": "pixels_state", "image_size": 48})
LEARN_TO_MOVE = ("visiongym/LearnToMove-v0", {"obs_mode": "pixels", "image_size": 48})


def _episode_starts(env_id, kwargs, seed, episodes=2):
    env = gym.make(env_id, **kwargs)
    starts = [env.reset(seed=seed)[0]] + [env.reset()[0] for _ in range(episodes - 1)]
    env.close()
    return starts


def _pixels(obs):
    return obs["pixels"] if isinstance(obs, dict) else obs


@pytest.mark.parametrize("env_id, kwargs", [SOCCER, LEARN_TO_MOVE])
def test_random_looks_differ_between_episodes_and_repeat_with_the_seed(env_id, kwargs):
    first = _episode_starts(env_id, {**kwargs, "appearance": "random"}, seed=3)
    again = _episode_starts(env_id, {**kwargs, "appearance": "random"}, seed=3)
    default = _episode_starts(env_id, kwargs, seed=3)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(_pixels(a), _pixels(b))
    assert not np.array_equal(_pixels(first[0]), _pixels(first[1]))
    assert not np.array_equal(_pixels(first[0]), _pixels(default[0]))


def test_looks_do_not_change_the_episode():
    env_id, kwargs = SOCCER
    looks = _episode_starts(env_id, {**kwargs, "appearance": "held_out"}, seed=9, episodes=3)
    default = _episode_starts(env_id, kwargs, seed=9, episodes=3)
    for a, b in zip(looks, default, strict=True):
        np.testing.assert_array_equal(a["state"], b["state"])


def test_bad_appearance_is_named():
    with pytest.raises(ValueError, match="appearance 'foggy' unknown; choose one of: default, random, held_out"):
        gym.make(SOCCER[0], appearance="foggy")
    with pytest.raises(ValueError, match="appearance key 'fog' unknown"):
        play(PlayConfig(policy="random", appearance="fog=1", record=Path("x.gif")))


def test_play_records_a_shifted_look(tmp_path):
    import imageio

    frames = {}
    for appearance in ("default", "light_dim"):
        out = tmp_path / f"{appearance}.gif"
        play(PlayConfig(scenario="empty_goal", policy="scripted", record=out, max_steps=2, appearance=appearance,
                        env_kwargs=["render_size=(60, 80)"]))
        frames[appearance] = np.asarray(imageio.get_reader(out).get_data(0), float)
    assert frames["light_dim"][..., :3].mean() < frames["default"][..., :3].mean() - 10

