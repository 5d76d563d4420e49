"""TabletopSoccerEnv(players="human"): the same states and rewards as the robots, humans in the pixels."""

import numpy as np
import pytest

from visiongym.envs.soccer import TabletopSoccerEnv
from visiongym.sims.errors import UsageError


def test_env_state_observations_equal_the_robots():
    observations = {}
    for players in ("robot", "human"):
        env = TabletopSoccerEnv("2v2", obs_mode="state", players=players)
        env.action_space.seed(1)
        obs, _ = env.reset(seed=1)
        trace = [np.append(obs, [0.0, False, False])]
        for _ in range(60):
            obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            trace.append(np.append(obs, [reward, terminated, truncated]))
        observations[players] = np.array(trace)
        env.close()
    np.testing.assert_array_equal(observations["robot"], observations["human"])


def test_env_pixels_show_the_humans():
    frames = {}
    for players in ("robot", "human"):
        env = TabletopSoccerEnv("2v2", obs_mode="pixels", players=players, image_size=64, camera="follow")
        frames[players] = env.reset(seed=0)[0]
        env.close()
    assert frames["human"].shape == frames["robot"].shape == (64, 64, 3)
    assert (frames["human"] != frames["robot"]).any(axis=-1).sum() > 20


def test_bad_players_value_is_refused():
    with pytest.raises(UsageError, match="players 'people' unknown; choose one of: robot, human"):
        TabletopSoccerEnv("2v2", players="people")
