"""The envs RLlib's env runners build: each runner makes its own from a plain config dict.

Nothing built in the driver is sent to a worker: :func:`env_config` turns a training config into
a dict of plain values (env id, arguments, wrapper options, rendering backend), and the creators
registered with Ray (:func:`register_envs`) build the env from it inside each env runner, after
choosing that worker's MuJoCo OpenGL backend (:func:`visiongym.sims.gl.configure_gl`), so a node
without EGL falls back to OSMesa on its own.
"""

from __future__ import annotations

import importlib
from typing import Any

import gymnasium as gym
import numpy as np

from visiongym.sims.errors import UsageError

__all__ = ["import_ray", "env_config", "register_envs", "single_agent_env", "multi_agent_env", "ScaleImage",
           "SINGLE_AGENT", "MULTI_AGENT", "INSTALL_HINT"]

INSTALL_HINT = "pip install 'visiongym[rllib]'"
SINGLE_AGENT = "visiongym-single-agent"
"""Ray's name of the single-agent creator."""
MULTI_AGENT = "visiongym-multi-agent"
"""Ray's name of the multi-agent (PettingZoo parallel) creator."""


def import_ray(module: str = "ray") -> Any:
    """``import ray`` (or a submodule), or a :class:`UsageError` with the install line."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise UsageError(f"--engine rllib needs Ray RLlib, which is not installed (no module "
                         f"{error.name!r}); install it with: {INSTALL_HINT}") from error


def env_config(config: Any, env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The plain dict each env runner builds its env from (picklable, nothing from the driver)."""
    from visiongym.agents.common.envs import wrapper_options

    return {"env_id": config.env, "env_kwargs": dict(env_kwargs), "wrappers": wrapper_options(config),
            "multi_agent": bool(getattr(config, "multi_agent", False))}


def _configure_worker_gl() -> None:
    """Pick this worker's rendering backend before MuJoCo is imported here: the node's own EGL or
    OSMesa, or the MUJOCO_GL its environment sets (a local Ray's workers inherit the driver's)."""
    from visiongym.sims.gl import configure_gl

    configure_gl()


class ScaleImage(gym.ObservationWrapper):
    """uint8 (H, W, C) frames -> float32 in [0, 1], the scale RLlib's default CNN expects."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.observation_space = gym.spaces.Box(0.0, 1.0, env.observation_space.shape, np.float32)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return np.asarray(observation, np.float32) / 255.0


def is_image(space: gym.Space) -> bool:
    return isinstance(space, gym.spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 3


def single_agent_env(config: dict[str, Any]) -> gym.Env:
    """Ray's creator of a single-agent env (``config`` from :func:`env_config`)."""
    _configure_worker_gl()
    from visiongym.agents.common.envs import make_env

    env = make_env(config["env_id"], config["env_kwargs"], **config["wrappers"])()
    return ScaleImage(env) if is_image(env.observation_space) else env


def multi_agent_env(config: dict[str, Any]):
    """Ray's creator of the multi-agent soccer env, a PettingZoo parallel env in RLlib's wrapper."""
    _configure_worker_gl()
    from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv

    from visiongym.agents.rllib.multi import make_parallel_env

    return ParallelPettingZooEnv(make_parallel_env(config["env_id"], config["env_kwargs"]))


def register_envs() -> None:
    """Register both creators with Ray (``ray.tune.registry.register_env``) under their names."""
    registry = import_ray("ray.tune.registry")
    registry.register_env(SINGLE_AGENT, single_agent_env)
    registry.register_env(MULTI_AGENT, multi_agent_env)
