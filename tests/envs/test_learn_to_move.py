"""visiongym/LearnToMove-v0: API conformance, determinism, rewards, bad inputs, rendering."""

from __future__ import annotations

import pickle
import warnings

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import visiongym  # noqa: F401  (registers the environments)
from visiongym.envs.learn_to_move import LearnToMoveEnv
from visiongym.envs.learn_to_move_tasks import DEEPMIMIC_WEIGHTS
from visiongym.sims.characters import PRESETS

ENV_ID = "visiongym/LearnToMove-v0"


def _checks(env: gym.Env) -> None:
    with warnings.catch_warnings():
        # Any other checker warning (an observation outside its space, a wrong dtype) fails.
        warnings.simplefilter("error", UserWarning)
        # Unbounded state observations are expected (Gymnasium's MuJoCo envs do the same).
        warnings.filterwarnings("ignore", message=".*infinity.*")
        check_env(env, skip_render_check=True)
        sb3_check_env(env, warn=True)


@pytest.mark.parametrize("character", list(PRESETS))
@pytest.mark.parametrize("task", ["run", "target", "imitate"])
def test_check_env_state_mode(character, task):
    env = LearnToMoveEnv(character=character, task=task)
    _checks(env)
    assert env.observation_space.shape == (env.observation_fields["foot_contacts"].stop
                                           + {"run": 0, "target": 3, "imitate": 2}[task],)
    env.close()


def test_check_env_pixel_mode():
    env = LearnToMoveEnv(character="walker", task="run", obs_mode="pixels_state", image_size=(48, 64))
    _checks(env)
    obs, _ = env.reset(seed=0)
    assert obs["pixels"].shape == (48, 64, 3) and obs["pixels"].dtype == np.uint8
    assert obs["pixels"].std() > 5
    env.close()


def test_make_registers_with_a_time_limit():
    env = gym.make(ENV_ID, character="quadruped", terrain="steps")
    assert env.spec.max_episode_steps == 500
    assert env.unwrapped.dt == pytest.approx(0.02)
    env.close()


def _rollout(seed: int, **kwargs) -> tuple[np.ndarray, list[float]]:
    env = gym.make(ENV_ID, **kwargs)
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    observations, rewards = [obs], []
    for _ in range(40):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        observations.append(obs)
        rewards.append(reward)
        if terminated or truncated:
            break
    env.close()
    return np.array(observations), rewards


@pytest.mark.parametrize(
    "kwargs",
    [
        {"character": "humanoid", "task": "imitate"},
        {"character": "quadruped", "task": "target", "terrain": "random", "terrain_seed": None},
    ],
)
def test_same_seed_same_rollout(kwargs):
    first, rewards = _rollout(3, **kwargs)
    again, rewards_again = _rollout(3, **kwargs)
    np.testing.assert_array_equal(first, again)
    assert rewards == rewards_again
    other, _ = _rollout(4, **kwargs)
    assert not np.array_equal(first[0], other[0])


def test_run_reward_terms_add_up_and_are_in_info():
    env = LearnToMoveEnv(character="quadruped", task="run")
    env.reset(seed=0)
    _, reward, _, _, info = env.step(env.action_space.sample())
    terms = [k for k in info if k.startswith("reward_")]
    assert sorted(terms) == ["reward_contact", "reward_ctrl", "reward_forward", "reward_healthy"]
    assert reward == pytest.approx(sum(info[k] for k in terms))
    assert info["reward_forward"] == pytest.approx(info["x_velocity"])


def test_target_goal_reached_gives_bonus_and_new_goal():
    env = LearnToMoveEnv(character="snake", task="target", target_distance=(2.0, 2.0))
    obs, _ = env.reset(seed=1)
    goal = env.unwrapped.task.goal.copy()
    goal_slice = env.observation_fields["goal"]
    assert obs[goal_slice][2] == pytest.approx(2.0, abs=0.05)
    scene = env.scene
    qpos = scene.data.qpos.copy()
    # Move the snake so that its centre of mass sits on the goal.
    qpos[:2] += goal[:2] - scene.center_of_mass()[:2]
    scene.set_state(qpos, scene.data.qvel)
    _, reward, _, _, info = env.step(np.zeros(env.action_space.shape))
    assert info["is_success"] and info["reward_reach"] == 10.0 and reward > 9
    assert not np.allclose(env.task.goal, goal)


@pytest.mark.parametrize("character", ["walker", "humanoid"])
def test_imitation_reward_is_maximal_at_the_reference_and_drops_with_pose_error(character):
    env = LearnToMoveEnv(character=character, task="imitate")
    env.reset(seed=0)
    task, scene = env.task, env.scene
    assert sum(DEEPMIMIC_WEIGHTS.values()) == pytest.approx(1.0)
    qpos, qvel = task.reference()
    scene.set_state(qpos, qvel)
    terms = task.imitation_terms(scene)
    assert all(v == pytest.approx(1.0) for v in terms.values())
    rng = np.random.default_rng(0)
    direction = np.zeros(scene.model.nv)
    direction[scene.root_nv :] = rng.normal(size=scene.model.nv - scene.root_nv)
    previous = 1.0
    for size in (0.05, 0.1, 0.2, 0.4, 0.8):
        perturbed = qpos.copy()
        mujoco.mj_integratePos(scene.model, perturbed, direction, size)
        scene.set_state(perturbed, qvel)
        total = sum(DEEPMIMIC_WEIGHTS[k] * v for k, v in task.imitation_terms(scene).items())
        assert total < previous
        previous = total
    assert previous < 0.8


def test_imitation_starts_on_the_clip_and_ends_on_a_fall():
    env = LearnToMoveEnv(character="walker", task="imitate")
    starts = set()
    for seed in range(3):
        env.reset(seed=seed)
        starts.add(round(env.task.reference_time, 6))
        np.testing.assert_allclose(env.scene.data.qpos, env.task.reference()[0])
    assert len(starts) == 3  # reference state initialisation: random phases
    _, reward, terminated, _, info = env.step(np.zeros(env.action_space.shape))
    assert 0.5 < reward <= 1.0 and info["imitation_reward"] == reward and not terminated
    for _ in range(200):
        *_, terminated, truncated, info = env.step(np.zeros(env.action_space.shape))
        if terminated:
            break
    assert terminated and info["fallen"]


def test_imitation_from_a_clip_file(tmp_path):
    from visiongym.sims.characters import CharacterScene
    from visiongym.sims.characters.clips import gait_clip

    path = gait_clip(CharacterScene("quadruped"), fps=25).save(tmp_path / "trot.npz")
    env = LearnToMoveEnv(character="quadruped", task="imitate", clip=path)
    assert env.task.clip.fps == 25
    with pytest.raises(Exception, match="does not fit this model"):
        LearnToMoveEnv(character="walker", task="imitate", clip=path)


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="character 'dragon' unknown; choose one of"):
        LearnToMoveEnv(character="dragon")
    with pytest.raises(ValueError, match="task 'dance' unknown; choose one of: run, target, imitate"):
        LearnToMoveEnv(task="dance")
    with pytest.raises(ValueError, match="terrain 'lava' unknown"):
        LearnToMoveEnv(terrain="lava")
    with pytest.raises(ValueError, match="obs_mode 'rgb' unknown"):
        LearnToMoveEnv(obs_mode="rgb")
    with pytest.raises(ValueError, match="terrain must be 'flat'"):
        LearnToMoveEnv(character="snake", terrain="steps")
    with pytest.raises(ValueError, match="suffix '.mp4' unknown"):
        LearnToMoveEnv(task="imitate", clip="dance.mp4")
    env = LearnToMoveEnv(character="walker")
    env.reset(seed=0)
    for action in (np.zeros(5), np.zeros((6, 1)), np.zeros(18)):
        with pytest.raises(ValueError, match=r"action shape .* \(6,\)"):
            env.step(action)
    with pytest.raises(ValueError, match="finite"):
        env.step(np.full(6, np.nan))


def test_episode_ends_when_the_physics_blows_up(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MuJoCo writes its instability warning to ./MUJOCO_LOG.TXT
    env = LearnToMoveEnv(character="humanoid", task="run")
    env.reset(seed=0)
    qvel = env.scene.data.qvel.copy()
    qvel[:] = 1e6
    env.scene.set_state(env.scene.data.qpos, qvel)
    obs, reward, terminated, _, info = env.step(env.action_space.sample())
    assert terminated and info["blown_up"] and reward == 0.0
    assert np.isfinite(obs).all()


def test_rgb_array_render_shows_the_ghost_and_env_pickles():
    env = LearnToMoveEnv(character="walker", task="imitate", render_mode="rgb_array",
                         render_size=(60, 80))
    env.reset(seed=0)
    env.step(np.ones(6))
    with_ghost = env.render()
    assert with_ghost.shape == (60, 80, 3)
    env.ghost = False
    without = env.render()
    assert np.abs(with_ghost.astype(int) - without).sum() > 1000
    copy = pickle.loads(pickle.dumps(env))
    assert copy.render().shape == (60, 80, 3)
    env.close()
    env.close()
    copy.close()


def test_human_render_mode_opens_the_viewer():
    env = LearnToMoveEnv(character="walker", task="imitate", render_mode="human", render_size=(48, 64))
    env.reset(seed=0)
    env.step(np.zeros(6))
    assert env._viewer is not None and env._viewer.open
    env.close()
    assert env._viewer is None


def test_documented_observation_sizes_match():
    import re

    import visiongym.envs.learn_to_move as module

    documented = dict(re.findall(r"(\w+) (\d+)", module.__doc__.split("Sizes without task fields:")[1].split("\n")[0]))
    for character in PRESETS:
        env = LearnToMoveEnv(character=character)
        assert env.observation_space.shape == (int(documented[character]),)
        assert [f.name for f in env.field_descriptions] == list(env.observation_fields)


def test_random_terrain_follows_the_seed():
    fixed = LearnToMoveEnv(character="quadruped", terrain="random", terrain_seed=7)
    fixed.reset(seed=0)
    first = fixed.scene.heights.copy()
    fixed.reset(seed=1)
    np.testing.assert_array_equal(fixed.scene.heights, first)
    fresh = LearnToMoveEnv(character="quadruped", terrain="random", terrain_seed=None)
    fresh.reset(seed=0)
    drawn = fresh.scene.heights.copy()
    fresh.reset(seed=1)
    assert not np.array_equal(fresh.scene.heights, drawn)
    fresh.reset(seed=0)
    np.testing.assert_array_equal(fresh.scene.heights, drawn)
    assert fresh.scene.model.hfield_data.max() > 0.5


def test_play_cli_records_an_imitation_episode_with_its_ghost(tmp_path):
    import imageio.v2 as imageio

    from visiongym.envs.play import PlayConfig, play

    out = tmp_path / "walk.gif"
    returns = play(PlayConfig(ENV_ID, env_kwargs=["character=walker", "task=imitate", "render_size=(48,64)"],
                              policy="random", record=out, max_steps=8))
    assert len(returns) == 1 and 0 < returns[0] <= 8
    frames = imageio.mimread(out)
    assert len(frames) == 8 and frames[0].shape[:2] == (48, 64)


@pytest.mark.timeout(120)
def test_async_vector_env_renders_pixels_in_workers():
    # "spawn": this process already holds EGL contexts, which a forked child would inherit
    # half-initialised; the env itself only renders in the process that steps it.
    vec = gym.make_vec(ENV_ID, num_envs=2, vectorization_mode="async", character="walker",
                       obs_mode="pixels_state", image_size=32, vector_kwargs={"context": "spawn"})
    obs, _ = vec.reset(seed=0)
    obs, *_ = vec.step(vec.action_space.sample())
    assert obs["pixels"].shape == (2, 32, 32, 3) and obs["state"].shape == (2, 29)
    assert obs["pixels"].std() > 5
    vec.close()


def test_character_from_a_yaml_file(tmp_path):
    path = tmp_path / "pogo.yaml"
    path.write_text(
        "name: pogo\nroot_joint: planar\nroot_height: 0.75\nfall: {min_height: 0.3}\n"
        "root: {name: torso, end: [0, 0, 0.4], radius: 0.08, children: [{name: leg, "
        "end: [0, 0, -0.7], foot: true, joints: [{name: hip, range: [-60, 60], gear: 80}]}]}\n"
    )
    env = gym.make(ENV_ID, character=str(path), task="target")
    obs, _ = env.reset(seed=0)
    assert env.action_space.shape == (1,) and obs.shape == env.observation_space.shape
    with pytest.raises(ValueError, match="pass a clip"):
        gym.make(ENV_ID, character=str(path), task="imitate")
