"""visiongym/TabletopSoccer-v0: API checks, determinism, vectorisation, bad input, fuzzing."""

import functools
import math
import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import visiongym  # noqa: F401
from visiongym.envs.soccer import ACTION_TYPES, OBS_MODES, SCENARIOS, TabletopSoccerEnv
from visiongym.envs.soccer_actions import nearest_direction
from visiongym.sims.errors import UsageError

ENV_ID = "visiongym/TabletopSoccer-v0"


def make(**kwargs):
    return gym.make(ENV_ID, **kwargs)


@pytest.mark.filterwarnings("error::UserWarning")  # the checkers warn of an obs outside its space
@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("obs_mode", OBS_MODES)
@pytest.mark.parametrize("action_type", ACTION_TYPES)
def test_gymnasium_and_sb3_checkers_pass(scenario, obs_mode, action_type):
    image = {} if obs_mode == "state" else {"image_size": 32}
    env = make(scenario=scenario, obs_mode=obs_mode, action_type=action_type, **image)
    check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(env.unwrapped, warn=False)
    env.close()


def rollout(obs_mode, seed=7, steps=200, camera="broadcast"):
    env = make(scenario="2v2", obs_mode=obs_mode, image_size=32, camera=camera)
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    frames = [np.asarray(obs).tobytes()]
    for _ in range(steps):
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        frames.append(np.asarray(obs).tobytes())
        if terminated or truncated:
            obs, _ = env.reset()
    env.close()
    return frames


@pytest.mark.parametrize("obs_mode", ["state", "pixels"])
def test_same_seed_same_bytes(obs_mode):
    first, second = rollout(obs_mode), rollout(obs_mode)
    assert first == second
    assert rollout(obs_mode, seed=8, steps=20) != first[:21]


def test_pickled_env_steps_like_the_original():
    env = make(scenario="2v2", obs_mode="pixels", image_size=32)
    env.reset(seed=3)
    clone = pickle.loads(pickle.dumps(env))
    for action in [1, 2, 9, 0, 5]:
        a = env.step(action)
        b = clone.step(action)
        np.testing.assert_array_equal(a[0], b[0])
    env.close()
    clone.close()


def test_async_vector_env_of_pixel_envs_steps():
    # "spawn": this test process already holds EGL contexts, and a forked child inherits them
    # half-initialised (Mesa then blocks). A fresh process renders normally.
    # "visiongym:" makes each worker import the registering module, and nothing of this test file.
    make_one = functools.partial(gym.make, "visiongym:" + ENV_ID, scenario="2v2", obs_mode="pixels", image_size=48)
    vec = gym.vector.AsyncVectorEnv([make_one] * 4, context="spawn")
    obs, _ = vec.reset(seed=0)
    assert obs.shape == (4, 48, 48, 3) and obs.dtype == np.uint8
    for _ in range(5):
        obs, reward, terminated, truncated, info = vec.step(vec.action_space.sample())
    assert obs.shape == (4, 48, 48, 3) and obs.std() > 0
    vec.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scenario": "penalti"}, r"scenario 'penalti' unknown; choose one of: empty_goal, penalty"),
        ({"camera": "tv"}, r"camera 'tv' unknown; choose one of: broadcast, top, ego, follow, heading"),
        ({"obs_mode": "rgb"}, r"obs_mode 'rgb' unknown"),
        ({"action_type": "multi"}, r"action_type 'multi' unknown"),
        ({"image_size": 8}, r"image_size \(8, 8\) out of range"),
        ({"image_size": 2048}, r"image_size \(2048, 2048\) out of range"),
        ({"scenario": "5v5", "team_size": 400}, r"does not fit"),
        ({"scenario": "penalty", "team_size": 3}, r"matches only"),
        ({"render_mode": "window"}, r"render_mode 'window' unknown"),
        ({"kick_aim": "corner"}, r"kick_aim 'corner' unknown; choose one of: facing, goal, on_target"),
    ],
)
@pytest.mark.filterwarnings("ignore:.*render_mode.*:UserWarning")
def test_bad_construction_arguments_name_value_and_choices(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make(**kwargs)


@pytest.mark.parametrize(
    ("action_type", "action", "message"),
    [
        ("discrete", 10, "outside Discrete"),
        ("discrete", -1, "outside Discrete"),
        ("discrete", 1.5, "outside Discrete"),
        ("discrete", np.array([1, 2]), "shape"),
        ("continuous", np.zeros(3), r"shape \(3,\)"),
        ("continuous", np.array([2.0, 0, 0, 0]), r"outside Box"),
        ("continuous", np.array([np.nan, 0, 0, 0]), r"outside Box"),
    ],
)
def test_actions_outside_the_space_raise(action_type, action, message):
    env = make(scenario="1v1", action_type=action_type)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.unwrapped.step(action)
    env.close()


def test_goal_terminates_academy_episode_with_reward_and_info():
    env = make(scenario="empty_goal", shaping=True)
    env.reset(seed=0)
    scene = env.unwrapped.scene
    scene.set_ball((scene.pitch.length / 2 - 0.05, 0.0), vel=(2.0, 0.0))
    _, reward, terminated, _, info = env.step(0)
    assert terminated and info["goal"] == 1 and info["is_success"]
    assert reward == pytest.approx(1.0) and info["reward_scoring"] == 1.0
    assert info["reward_ball_progress"] == 0.0  # no shaping on a restart step
    env.close()


def test_match_goes_on_after_a_goal():
    env = make(scenario="2v2")
    env.reset(seed=0)
    scene = env.unwrapped.scene
    scene.set_ball((-scene.pitch.length / 2 + 0.05, 0.0), vel=(-2.0, 0.0))
    _, reward, terminated, _, info = env.step(0)
    assert not terminated and reward == -1.0 and info["score"] == (0, 1)


def test_shaping_is_potential_based_so_it_cannot_be_farmed():
    env = make(scenario="empty_goal", shaping=True)
    env.reset(seed=1)
    env.action_space.seed(1)
    unwrapped = env.unwrapped
    start = unwrapped.task.potentials(unwrapped.scene, unwrapped.controlled)
    progress = approach = 0.0
    for _ in range(60):
        _, _, terminated, _, info = env.step(env.action_space.sample())
        assert not info["restart"] and not terminated
        progress += info["reward_ball_progress"]
        approach += info["reward_ball_approach"]
    end = unwrapped.task.potentials(unwrapped.scene, unwrapped.controlled)
    # The terms telescope: their sum is the change in potential, whatever the path.
    assert progress == pytest.approx(end[0] - start[0], abs=1e-9)
    assert approach == pytest.approx(0.5 * (end[1] - start[1]), abs=1e-9)


def test_jamming_the_ball_in_a_corner_earns_nothing():
    env = make(scenario="empty_goal", shaping=True)
    env.reset(seed=0)
    scene = env.unwrapped.scene
    corner = (scene.pitch.length / 2 - 0.05, scene.pitch.width / 2 - scene.pitch.ball_radius)
    scene.set_ball(corner)
    scene.set_player(0, (corner[0] - 0.08, corner[1] - 0.08), yaw=0.8)
    env.unwrapped.task.reset_potentials(scene)
    total = sum(env.step(2)[1] for _ in range(100))  # keep pushing north-east into the corner
    assert scene.referee.drop_balls >= 1  # the referee put the ball back into play
    assert total < 0.2


def test_scripted_policy_scores_in_empty_goal():
    env = make(scenario="empty_goal", action_type="continuous")
    goals = 0
    for seed in range(5):
        env.reset(seed=seed)
        done = False
        while not done:
            _, _, terminated, truncated, info = env.step(env.unwrapped.scripted_action())
            done = terminated or truncated
        goals += info["is_success"]
    assert goals >= 4
    env.close()


def test_ground_truth_in_info_matches_the_pixel_observation():
    env = make(scenario="2v2", obs_mode="pixels", image_size=64, ground_truth=True)
    obs, info = env.reset(seed=0)
    truth = info["ground_truth"]
    np.testing.assert_array_equal(truth["rgb"], obs)
    assert truth["instance_mask"].shape == (64, 64) and len(truth["boxes"]) >= 3
    env.close()


def _fuzz(steps_per_scenario):
    for index, scenario in enumerate(SCENARIOS):
        for action_type in ACTION_TYPES:
            env = make(scenario=scenario, action_type=action_type)
            env.action_space.seed(index)
            obs, _ = env.reset(seed=index)
            assert env.observation_space.contains(obs), (scenario, "reset", obs)
            scene = env.unwrapped.scene
            half_l = scene.pitch.length / 2 + scene.pitch.goal_depth + 0.01
            half_w = scene.pitch.width / 2 + 0.01
            for step in range(steps_per_scenario):
                if action_type == "continuous" and step % 3 == 0:
                    action = np.sign(env.action_space.sample()).astype(np.float32)  # extremes
                else:
                    action = env.action_space.sample()
                obs, reward, terminated, truncated, _ = env.step(action)
                # contains: shape, dtype, finite and inside the declared bounds (the state Box is +-5)
                assert env.observation_space.contains(obs), (scenario, action_type, step, obs)
                assert np.isfinite(reward)
                ball = scene.ball_position()
                assert abs(ball[0]) <= half_l and abs(ball[1]) <= half_w, (scenario, step, ball)
                players = scene.player_positions()
                assert (np.abs(players[:, 0]) <= half_l).all() and (np.abs(players[:, 1]) <= half_w).all()
                if terminated or truncated:
                    obs, _ = env.reset()
                    assert env.observation_space.contains(obs), (scenario, "reset", obs)
            assert scene.referee.escapes == 0
            env.close()


@pytest.mark.filterwarnings("error::UserWarning")  # Gymnasium's passive checker: obs out of bounds
def test_random_action_fuzz_stays_in_the_observation_space_and_on_the_pitch():
    _fuzz(steps_per_scenario=1700)  # 6 scenarios x 2 action types x 1700 = 20,400 steps


@pytest.mark.slow
@pytest.mark.filterwarnings("error::UserWarning")
def test_random_action_fuzz_long():
    _fuzz(steps_per_scenario=20_000)


def _chase_and_kick(obs: np.ndarray) -> int:
    """Move towards the ball (state indices 10-11) in 45-degree steps; kick when next to it."""
    dx, dy = float(obs[10]), float(obs[11])
    if np.hypot(dx, dy) < 0.08:
        return 9
    return nearest_direction(math.atan2(dy, dx))


def test_aimed_kicks_make_chase_and_kick_score_where_facing_kicks_often_miss():
    goals = {}
    for aim in ("facing", "goal"):
        env = make(scenario="empty_goal", kick_aim=aim, max_episode_steps=200)
        goals[aim] = 0
        for episode in range(12):
            obs, _ = env.reset(seed=episode)
            done = False
            while not done:
                obs, _, terminated, truncated, info = env.step(_chase_and_kick(obs))
                done = terminated or truncated
            goals[aim] += info["goal"] > 0
        env.close()
    assert goals["goal"] == 12 and goals["facing"] <= 9


def test_on_target_kicks_open_a_window_just_inside_the_posts_for_the_controlled_player_only():
    env = make(scenario="penalty", kick_aim="on_target")
    scene = env.unwrapped.scene
    line_x, low, high = scene.kick_windows[env.unwrapped.controlled]
    half_mouth = scene.pitch.goal_width / 2
    assert line_x == pytest.approx(scene.pitch.length / 2)
    assert high == pytest.approx(0.95 * half_mouth) and low == pytest.approx(-high)
    assert list(scene.kick_windows) == [env.unwrapped.controlled] and not scene.kick_targets
    env.close()


@pytest.mark.parametrize(("aim_off_centre", "goal"), [(0.0, 0), (0.19, 1)])
def test_penalty_ends_at_once_when_the_keeper_saves_and_a_shot_inside_the_post_beats_him(aim_off_centre, goal):
    env = make(scenario="penalty", max_episode_steps=100)
    scene, controlled = env.unwrapped.scene, env.unwrapped.controlled
    for episode in range(4):
        env.reset(seed=episode)
        scene.kick_targets[controlled] = (scene.pitch.length / 2, aim_off_centre * (-1) ** episode)
        for t in range(100):
            _, _, terminated, truncated, info = env.step(1 if t < 2 else 9)  # step east twice, then kick
            if terminated or truncated:
                break
        assert terminated and info["goal"] == goal and t < 40
    env.close()


@pytest.mark.parametrize(("make_kwargs", "limit"), [({}, 400), ({"max_episode_steps": 50}, 50)])
def test_the_clock_counts_down_against_the_limit_make_applies(make_kwargs: dict, limit: int):
    env = gym.make("visiongym/TabletopSoccer-v0", clock=True, **make_kwargs)
    observation, _ = env.reset(seed=0)
    assert observation[-2] == pytest.approx(1.0)
    for step in range(1, 6):
        observation, *_ = env.step(env.action_space.sample())
        assert observation[-2] == pytest.approx(1.0 - step / limit)
    # recreated from its spec, the env gets the same limit again
    again = gym.make(env.spec)
    assert again.unwrapped._time_limit == limit
    again.reset(seed=0)
    assert again.step(again.action_space.sample())[0][-2] == pytest.approx(1.0 - 1 / limit)


def test_without_the_clock_or_a_limit_the_time_left_entry_stays_one():
    default = gym.make("visiongym/TabletopSoccer-v0")  # clock=False: the observation of before
    unlimited = gym.make("visiongym/TabletopSoccer-v0", clock=True, max_episode_steps=-1)
    direct = TabletopSoccerEnv(clock=True)
    for env in (default, unlimited, direct):
        env.reset(seed=0)
        for _ in range(3):
            assert env.step(env.action_space.sample())[0][-2] == 1.0
    direct.set_time_limit(10)
    direct.reset(seed=0)
    assert direct.step(direct.action_space.sample())[0][-2] == pytest.approx(0.9)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(UsageError, match=r"time limit .* must be a positive number of steps or None"):
            direct.set_time_limit(bad)
    with pytest.raises(UsageError, match=r"clock='yes' must be True or False"):
        TabletopSoccerEnv(clock="yes")


def test_with_the_clock_one_controlled_player_still_replays_in_the_multi_agent_env():
    from visiongym.envs import soccer_multi

    single = gym.make("visiongym/TabletopSoccer-2v2-v0", clock=True)
    multi = soccer_multi.parallel_env_from_id("visiongym/TabletopSoccer-2v2-v0", controlled=["team_a_1"])
    assert multi.max_cycles == single.spec.max_episode_steps == 1200
    obs, _ = single.reset(seed=5)
    observations, _ = multi.reset(seed=5)
    rng = np.random.default_rng(0)
    for _ in range(40):
        assert np.array_equal(obs, observations["team_a_1"])
        action = int(rng.integers(single.action_space.n))
        obs, *_ = single.step(action)
        observations, *_ = multi.step({"team_a_1": action})
