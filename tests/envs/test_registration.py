"""Every registered visiongym id: the hand-kept list matches the registry, and each id makes and steps."""

import gymnasium as gym
import pytest

import visiongym  # noqa: F401  (registers the environments)

# Listed by hand, not read from the registry at collection time: an empty registry would
# otherwise collect nothing and pass. The test below ties the list to the registry both ways.
REGISTERED_IDS = [
    "visiongym/TabletopSoccer-v0",
    "visiongym/TabletopSoccer-EmptyGoal-v0",
    "visiongym/TabletopSoccer-Penalty-v0",
    "visiongym/TabletopSoccer-1v1-v0",
    "visiongym/TabletopSoccer-2v2-v0",
    "visiongym/TabletopSoccer-3v3-v0",
    "visiongym/TabletopSoccer-5v5-v0",
    "visiongym/LearnToMove-v0",
    "visiongym/CatchBall-v0",
]


def test_the_listed_ids_are_exactly_the_registered_visiongym_ids():
    assert sorted(i for i in gym.registry if i.startswith("visiongym/")) == sorted(REGISTERED_IDS)


@pytest.mark.filterwarnings("error::UserWarning")  # Gymnasium's checker: obs outside its space
@pytest.mark.parametrize("env_id", REGISTERED_IDS)
def test_registered_ids_make_and_step(env_id):
    env = gym.make(env_id)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    env.action_space.seed(0)
    obs, *_ = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs)
    assert env.spec.max_episode_steps is not None
    env.close()
