"""visiongym.envs.soccer_multi: PettingZoo's own checks, SuperSuit, team frames, rewards, bad input."""

import pickle
import warnings

import gymnasium as gym
import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test

import visiongym  # noqa: F401
from visiongym.envs import soccer_multi
from visiongym.envs.soccer_actions import DISCRETE_ACTIONS
from visiongym.sims.errors import UsageError

gym.register_envs(visiongym)

# (scenario, obs_mode, extra kwargs) for PettingZoo's API and seed tests
CONFIGS = [
    ("2v2", "state", {}),
    ("1v1", "pixels", {"image_size": 32}),
    ("3v3", "pixels_state", {"image_size": 24, "camera": "follow", "action_type": "continuous", "shaping": True}),
    ("penalty", "state", {"controlled": "both"}),
]


@pytest.mark.parametrize(("scenario", "obs_mode", "kwargs"), CONFIGS)
def test_pettingzoo_parallel_api_and_seed_tests_pass(scenario, obs_mode, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PettingZoo warns of missing or extra keys
        parallel_api_test(soccer_multi.parallel_env(scenario=scenario, obs_mode=obs_mode, **kwargs), num_cycles=60)
    parallel_seed_test(lambda: soccer_multi.parallel_env(scenario=scenario, obs_mode=obs_mode, **kwargs))


def test_aec_form_passes_pettingzoo_api_test():
    api_test(soccer_multi.env(scenario="2v2", max_cycles=40), num_cycles=60)


def test_agent_ids_map_to_players_in_shirt_order():
    env = soccer_multi.parallel_env(scenario="2v2")
    assert env.possible_agents == ["team_a_0", "team_a_1", "team_b_0", "team_b_1"]
    assert env.agent_players == {"team_a_0": 0, "team_a_1": 1, "team_b_0": 2, "team_b_1": 3}
    assert [env.scene.roles[p] for p in env.agent_players.values()] == ["keeper", "chaser", "keeper", "chaser"]
    assert soccer_multi.parallel_env(scenario="5v5", controlled="team_b").possible_agents == [
        f"team_b_{k}" for k in range(5)]
    assert soccer_multi.parallel_env(scenario="5v5", controlled=["team_b_3", 1]).agent_players == {
        "team_a_1": 1, "team_b_3": 8}
    for agent in env.possible_agents:
        assert env.observation_space(agent) is env.observation_space(agent)
        assert env.action_space(agent) is env.action_space(agent)


def test_from_id_takes_the_single_agent_scenario_and_time_limit():
    env = soccer_multi.parallel_env_from_id("visiongym/TabletopSoccer-5v5-v0", controlled="team_a")
    assert (env.scenario_name, env.max_cycles, len(env.possible_agents)) == ("5v5", 1200, 5)
    assert soccer_multi.parallel_env_from_id("visiongym/TabletopSoccer-Penalty-v0").max_cycles == 100
    with pytest.raises(UsageError, match="TabletopSoccer-2v2-v0"):
        soccer_multi.parallel_env_from_id("visiongym/TabletopSoccer-4v4-v0")


def test_one_controlled_player_replays_the_single_agent_env_exactly():
    single = gym.make("visiongym/TabletopSoccer-2v2-v0", shaping=True)
    # max_cycles=None: the single-agent env's time-left entry reads 1 without clock=True (test_soccer_env.py
    # replays it with the clock on against the id's limit)
    multi = soccer_multi.parallel_env_from_id("visiongym/TabletopSoccer-2v2-v0", controlled=["team_a_1"],
                                              shaping=True, max_cycles=None)
    obs, _ = single.reset(seed=5)
    observations, _ = multi.reset(seed=5)
    rng = np.random.default_rng(0)
    for _ in range(150):
        assert np.array_equal(obs, observations["team_a_1"])
        action = int(rng.integers(len(DISCRETE_ACTIONS)))
        obs, reward, terminated, truncated, info = single.step(action)
        observations, rewards, terminations, _, infos = multi.step({"team_a_1": action})
        assert reward == rewards["team_a_1"] and terminated == terminations["team_a_1"]
        assert info["reward_ball_progress"] == infos["team_a_1"]["reward_ball_progress"]


def _place_mirrored(env):
    """Team B's players on the 180-degree turns of team A's, the ball on the centre spot."""
    scene = env.scene
    rng = np.random.default_rng(1)
    for k in range(scene.team_sizes[0]):
        pos, yaw = rng.uniform(-0.5, 0.5, 2), rng.uniform(-np.pi, np.pi)
        scene.set_player(k, pos, yaw)
        scene.set_player(scene.team_sizes[0] + k, -pos, yaw + np.pi)
    scene.set_ball((0.0, 0.0))


def test_each_team_observes_and_acts_in_its_own_frame():
    env = soccer_multi.parallel_env(scenario="2v2", obs_mode="pixels_state", camera="follow", image_size=32)
    env.reset(seed=0)
    _place_mirrored(env)
    observations, *_ = env.step(dict.fromkeys(env.agents, 0))
    for k in range(2):
        a, b = observations[f"team_a_{k}"], observations[f"team_b_{k}"]
        np.testing.assert_allclose(a["state"], b["state"], atol=1e-5)
        assert np.abs(a["pixels"].astype(int) - b["pixels"]).mean() < 8  # kit colours differ
    # "E" (action 1) runs towards the goal the player attacks: +x for team A, -x for team B
    before = env.scene.player_positions().copy()
    for _ in range(5):
        env.step(dict.fromkeys(env.agents, 1))
    moved = env.scene.player_positions()[:, 0] - before[:, 0]
    assert (moved[:2] > 0.05).all() and (moved[2:] < -0.05).all()


def test_uncontrolled_team_stays_scripted():
    env = soccer_multi.parallel_env(scenario="2v2", controlled="team_a", skill=1.0)
    env.reset(seed=0)
    assert env.possible_agents == ["team_a_0", "team_a_1"]
    start = env.scene.player_positions().copy()
    for _ in range(20):
        env.step(dict.fromkeys(env.agents, 0))  # team A stands still
    travelled = np.hypot(*(env.scene.player_positions() - start).T)
    assert travelled[0] < 1e-3 and travelled[3] > 0.1  # A's keeper stood still, B's chaser went for the ball


def test_a_goal_gives_every_player_of_each_team_plus_and_minus_one():
    env = soccer_multi.parallel_env(scenario="2v2", shaping=0.5)
    env.reset(seed=0)
    env.scene.set_ball((env.scene.pitch.length / 2 - 0.05, 0.0), vel=(2.0, 0.0))
    for _ in range(10):
        _, rewards, terminations, _, infos = env.step(dict.fromkeys(env.agents, 0))
        if infos["team_a_0"]["goal"]:
            break
    assert {agent: infos[agent]["reward_scoring"] for agent in env.possible_agents} == {
        "team_a_0": 1.0, "team_a_1": 1.0, "team_b_0": -1.0, "team_b_1": -1.0}
    assert infos["team_b_0"]["goal"] == -1 and infos["team_a_0"]["score"] == (1, 0) == infos["team_b_1"]["score"][::-1]
    for agent, info in infos.items():
        terms = [info[f"reward_{name}"] for name in ("scoring", "ball_progress", "ball_approach")]
        assert rewards[agent] == pytest.approx(sum(terms))
    assert not any(terminations.values()) and env.agents  # a match goes on after a goal


def test_bad_actions_name_the_allowed_agents():
    env = soccer_multi.parallel_env(scenario="1v1", max_cycles=2)
    env.reset(seed=0)
    with pytest.raises(UsageError, match="unknown agent 'team_c_0'.*team_a_0, team_b_0"):
        env.step({"team_a_0": 0, "team_b_0": 0, "team_c_0": 0})
    with pytest.raises(UsageError, match="no action for live agent.*team_b_0.*needs one: team_a_0, team_b_0"):
        env.step({"team_a_0": 0})
    env = soccer_multi.parallel_env(scenario="1v1", controlled="team_a", max_cycles=2)
    env.reset(seed=0)
    with pytest.raises(UsageError, match="unknown agent 'team_b_0'.*are: team_a_0"):
        env.step({"team_a_0": 0, "team_b_0": 0})
    env.step({"team_a_0": 0})
    env.step({"team_a_0": 0})
    assert env.agents == []
    with pytest.raises(UsageError, match="'team_a_0', which has finished.*call reset"):
        env.step({"team_a_0": 0})
    with pytest.raises(UsageError, match="agent 'x' unknown; the agents are: team_a_0"):
        env.observation_space("x")
    with pytest.raises(UsageError, match="both, team_a, team_b"):
        soccer_multi.parallel_env(controlled="team_c")


def test_pickled_env_continues_the_same_episode():
    env = soccer_multi.parallel_env(scenario="2v2", obs_mode="pixels", image_size=24)
    env.reset(seed=3)
    actions = dict.fromkeys(env.agents, 2)
    env.step(actions)
    copy = pickle.loads(pickle.dumps(env))
    first, second = env.step(actions), copy.step(actions)
    for a, b in zip(first, second, strict=True):
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_supersuit_vector_wrappers_step_the_env():
    import supersuit as ss

    vec = ss.pettingzoo_env_to_vec_env_v1(soccer_multi.parallel_env(scenario="2v2", max_cycles=15))
    vec = ss.concat_vec_envs_v1(vec, 2, num_cpus=0, base_class="gymnasium")
    obs, _ = vec.reset(seed=0)
    assert obs.shape == (8, 28) and vec.num_envs == 8
    done = 0
    for _ in range(40):
        obs, rewards, terminations, truncations, _ = vec.step(
            np.array([vec.action_space.sample() for _ in range(vec.num_envs)]))
        done += int(truncations.sum())
        assert obs.shape == (8, 28) and rewards.shape == (8,)
    assert done == 16  # both copies truncated twice, each of their four agents, then reset


def test_eleven_a_side_works():
    env = soccer_multi.parallel_env(scenario="5v5", team_size=11, pitch_scale=2.0, obs_mode="pixels",
                                    image_size=16, max_cycles=3)
    observations, _ = env.reset(seed=0)
    assert len(observations) == 22 and observations["team_b_10"].shape == (16, 16, 3)
    while env.agents:
        env.step({agent: env.action_space(agent).sample() for agent in env.agents})


def test_one_pass_render_gives_each_agent_its_own_view():
    env = soccer_multi.parallel_env(scenario="3v3", obs_mode="pixels", image_size=32)
    observations, _ = env.reset(seed=2)
    for agent, player in env.agent_players.items():
        assert np.array_equal(observations[agent], env.scene.render("heading", 32, 32, player=player))
    assert not np.array_equal(observations["team_a_0"], observations["team_a_1"])


def test_human_look_draws_every_agents_view_in_one_pass():
    """players="human": each agent's one-pass view equals a separate render of the human look."""
    env = soccer_multi.parallel_env(scenario="1v1", obs_mode="pixels", image_size=32, players="human")
    obs, _ = env.reset(seed=3)
    scene = env.unwrapped.scene if hasattr(env, "unwrapped") else env.scene
    for agent, player in env.agent_players.items():
        alone = scene.render("heading", 32, 32, player=player)
        assert np.array_equal(obs[agent], alone), agent
    env.close()
