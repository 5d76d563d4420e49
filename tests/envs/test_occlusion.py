"""OccludeBall: the ball, and only the ball, disappears from some frames; seeding; bad input."""

import gymnasium as gym
import numpy as np
import pytest

import visiongym  # noqa: F401
from visiongym.envs.catch import CatchBallEnv
from visiongym.envs.wrappers.occlusion import OccludeBall

KWARGS = dict(scenario="empty_goal", obs_mode="pixels", camera="top", image_size=64, max_episode_steps=50)


def rollout(env, seed, steps=40):
    frames, hidden = [], []
    obs, info = env.reset(seed=seed)
    frames.append(obs)
    hidden.append(info.get("ball_hidden", False))
    for t in range(steps):
        obs, _, terminated, truncated, info = env.step(1 + t % 8)
        frames.append(obs)
        hidden.append(info.get("ball_hidden", False))
        if terminated or truncated:
            break
    return np.array(frames), np.array(hidden)


def test_hidden_frames_lose_only_the_ball_and_the_dynamics_are_unchanged():
    plain = gym.make("visiongym/TabletopSoccer-v0", **KWARGS)
    occluded = OccludeBall(gym.make("visiongym/TabletopSoccer-v0", **KWARGS), p=0.5)
    a, _ = rollout(plain, seed=3)
    b, hidden = rollout(occluded, seed=3)
    assert len(a) == len(b) and 0.25 < hidden.mean() < 0.75 and not hidden[0]
    changed = (a != b).any(-1).sum((1, 2))  # pixels that differ, per frame
    assert (changed[~hidden] == 0).all()
    assert (changed[hidden] > 0).all() and changed[hidden].max() <= 12  # the ball is a few pixels
    assert occluded.unwrapped.scene.ball_visible()
    plain.close()
    occluded.close()


def test_same_seed_same_hidden_steps():
    def hidden(seed):
        env = OccludeBall(gym.make("visiongym/TabletopSoccer-v0", **KWARGS), p=0.5)
        out = rollout(env, seed)[1]
        env.close()
        return out

    assert (hidden(1) == hidden(1)).all() and not (hidden(1) == hidden(2)).all()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: OccludeBall(gym.make("visiongym/TabletopSoccer-v0", **KWARGS), p=1.5), r"p=1.5 must be in \[0, 1\]"),
        (lambda: OccludeBall(gym.make("visiongym/TabletopSoccer-v0", obs_mode="state")), r"obs_mode 'state'"),
        (lambda: OccludeBall(CatchBallEnv()), r"needs the soccer env"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()
