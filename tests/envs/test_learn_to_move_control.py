"""LearnToMove-v0 action modes (torque, pd, pd_offset) and the episode's task metrics."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import visiongym  # noqa: F401  (registers the environments)

ENV_ID = "visiongym/LearnToMove-v0"


def test_pd_targets_span_the_joint_range_and_offset_follows_the_reference():
    env = gym.make(ENV_ID, character="walker", task="imitate", action_mode="pd")
    env.reset(seed=0)
    scene, base = env.unwrapped.scene, env.unwrapped
    np.testing.assert_allclose(base._pd_targets(np.ones(6)), scene.motor_range[:, 1])
    np.testing.assert_allclose(base._pd_targets(-np.ones(6)), scene.motor_range[:, 0])
    env = gym.make(ENV_ID, character="walker", task="imitate", action_mode="pd_offset", pd_offset_scale=0.3)
    env.reset(seed=0)
    base = env.unwrapped
    reference = base.scene.motor_positions(base.task.clip.sample(base.task.reference_time + base.dt)[0])
    np.testing.assert_allclose(base._pd_targets(np.zeros(6)), reference)
    np.testing.assert_allclose(base._pd_targets(np.ones(6)), reference + 0.3)


def _early_imitation(action_mode: str) -> float:
    env = gym.make(ENV_ID, character="walker", task="imitate", action_mode=action_mode)
    total = 0.0
    for seed in range(3):
        env.reset(seed=seed)
        for _ in range(10):
            _, _, terminated, _, info = env.step(np.zeros(6, np.float32))
            total += info["reward_pose"] / 0.5  # DeepMimic's pose term, unweighted
            if terminated:
                break
    return total / 30


def test_zero_pd_offset_action_tracks_the_clip_better_than_zero_torque():
    # The reference pose is the PD target, so doing nothing already follows the clip for a while.
    pd, torque = _early_imitation("pd_offset"), _early_imitation("torque")
    assert pd > torque + 0.1, (pd, torque)


@pytest.mark.filterwarnings("error::UserWarning")  # Gymnasium's passive checker: obs out of its space
@pytest.mark.parametrize("character", ["humanoid", "quadruped"])
def test_pd_modes_stay_finite_under_random_actions(character):
    env = gym.make(ENV_ID, character=character, task="imitate", action_mode="pd_offset")
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(100):
        obs, _, terminated, truncated, info = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs) and np.isfinite(obs).all() and not info["blown_up"]
        if terminated or truncated:
            env.reset()


def test_task_metrics_report_forward_speed_and_imitation_score():
    env = gym.make(ENV_ID, character="walker", task="imitate")
    env.reset(seed=1)
    start = env.unwrapped.scene.center_of_mass()[0]
    rewards, steps, terminated = [], 0, False
    while not terminated and steps < 600:
        _, reward, terminated, _, info = env.step(np.zeros(6, np.float32))
        rewards.append(reward)
        steps += 1
    assert terminated  # zero torque falls
    metrics = info["task_metrics"]
    # A fall's missing steps count as 0: normalised by the 500 steps of a 10 s episode.
    assert metrics["imitation_score"] == pytest.approx(sum(rewards) / 500)
    travelled = env.unwrapped.scene.center_of_mass()[0] - start
    assert metrics["forward_speed"] == pytest.approx(travelled / (steps * env.unwrapped.dt))
    run = gym.make(ENV_ID, character="walker", task="run")
    run.reset(seed=0)
    _, _, _, _, info = run.step(np.zeros(6, np.float32))
    assert set(info["task_metrics"]) == {"forward_speed"}


def test_bad_action_mode_and_gains_are_named():
    with pytest.raises(ValueError, match="action_mode 'servo' unknown; choose one of: torque, pd, pd_offset"):
        gym.make(ENV_ID, action_mode="servo")
    with pytest.raises(ValueError, match="pd_gains"):
        gym.make(ENV_ID, action_mode="pd", pd_gains=(0.0, 1.0))
    with pytest.raises(ValueError, match="pd_offset_scale"):
        gym.make(ENV_ID, action_mode="pd_offset", pd_offset_scale=-1.0)


@pytest.mark.parametrize("character", ["walker", "humanoid"])
def test_reference_observation_shows_the_lag_behind_the_clip(character):
    env = gym.make(ENV_ID, character=character, task="imitate", reference_observation=True)
    base = env.unwrapped
    field = base.observation_fields["reference_root"]
    assert field.stop - field.start == 6 and env.observation_space.shape[0] == field.stop
    obs, _ = env.reset(seed=0)
    np.testing.assert_allclose(obs[field], 0.0, atol=1e-6)  # reference state initialisation
    for _ in range(5):
        obs, *_ = env.step(np.zeros(env.action_space.shape, np.float32))
    reference_root = base.scene.kinematics(base.task.reference()[0]).xpos[base.scene.root_body].copy()
    lag = reference_root - base.scene.views.root_xpos
    # Heading frame: same length as the world offset.
    assert np.linalg.norm(obs[field][:3]) == pytest.approx(np.linalg.norm(lag), rel=1e-5)
    assert np.linalg.norm(obs[field][3:]) > 0.01
