"""Seeded trajectories and frames pinned byte for byte: a refactor must not change what a seed gives.

The digests in ``data/seed_pins.json`` were written by the code before the namespace move and the
soccer physics/task split. A deliberate behaviour change regenerates them with
``VISIONGYM_UPDATE_PINS=1 pytest tests/envs/test_seed_pins.py`` (and bumps the env version).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import visiongym

gym.register_envs(visiongym)

PINS = Path(__file__).with_name("data") / "seed_pins.json"

# name -> (env id, kwargs, steps, render a frame at the end)
CASES: dict[str, tuple[str, dict, int, bool]] = {
    "soccer_2v2_state": ("visiongym/TabletopSoccer-v0", {"scenario": "2v2", "shaping": True}, 120, False),
    "soccer_5v5_continuous": ("visiongym/TabletopSoccer-v0",
                              {"scenario": "5v5", "action_type": "continuous"}, 80, False),
    "soccer_empty_goal_pixels": ("visiongym/TabletopSoccer-EmptyGoal-v0",
                                 {"obs_mode": "pixels", "camera": "heading", "kick_aim": "goal"}, 30, False),
    "soccer_penalty_pixels_state": ("visiongym/TabletopSoccer-Penalty-v0",
                                    {"obs_mode": "pixels_state", "kick_aim": "on_target",
                                     "render_mode": "rgb_array"}, 40, True),
    "soccer_1v1_follow": ("visiongym/TabletopSoccer-1v1-v0", {"obs_mode": "pixels", "camera": "follow",
                                                               "image_size": 48}, 25, False),
    "learn_to_move_walker_run": ("visiongym/LearnToMove-v0", {"character": "walker", "task": "run"}, 60, False),
    "learn_to_move_quadruped_target": ("visiongym/LearnToMove-v0",
                                       {"character": "quadruped", "task": "target"}, 40, False),
    "learn_to_move_walker_imitate_pixels": ("visiongym/LearnToMove-v0",
                                            {"character": "walker", "task": "imitate", "obs_mode": "pixels",
                                             "render_mode": "rgb_array"}, 20, True),
    "catch_ball": ("visiongym/CatchBall-v0", {}, 40, False),
}


def _update(digest, value) -> None:
    if isinstance(value, dict):
        for key in sorted(value):
            digest.update(key.encode())
            _update(digest, value[key])
    else:
        digest.update(np.ascontiguousarray(value).tobytes())


def trajectory_digest(env_id: str, kwargs: dict, steps: int, render: bool) -> str:
    """sha256 of the observations, rewards and end flags of ``steps`` seeded steps (and a frame)."""
    env = gym.make(env_id, **kwargs)
    env.action_space.seed(7)
    digest = hashlib.sha256()
    obs, _ = env.reset(seed=3)
    _update(digest, obs)
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        _update(digest, obs)
        _update(digest, np.array([reward, terminated, truncated], dtype=np.float64))
        if terminated or truncated:
            obs, _ = env.reset()
            _update(digest, obs)
    if render:
        _update(digest, env.render())
    env.close()
    return digest.hexdigest()


@pytest.mark.parametrize("name", sorted(CASES))
def test_seeded_trajectory_is_pinned(name, check_pin):
    check_pin(PINS, name, trajectory_digest(*CASES[name]), "the same seed no longer gives the same bytes")


def test_pins_cover_every_case():
    assert sorted(json.loads(PINS.read_text())) == sorted(CASES)
