"""Env construction for every trainer: id checks, ``KEY=VALUE`` kwargs, vector envs, flicker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym

import visiongym  # noqa: F401 - registers the visiongym/ environments
from visiongym.envs.play import (
    parse_env_kwargs,  # the suite's one KEY=VALUE parser (Python literals)
)
from visiongym.envs.registration import check_env_id
from visiongym.envs.wrappers.flicker import FlickerObservation
from visiongym.envs.wrappers.occlusion import OccludeBall
from visiongym.sims.errors import UsageError

__all__ = ["parse_env_kwargs", "check_env_id", "make_env", "make_vector_env", "env_slug"]

VECTORIZATION = ("sync", "async")


def env_slug(env_id: str) -> str:
    """A folder-safe name: ``visiongym/CatchBall-v0`` -> ``CatchBall-v0``."""
    return env_id.split("/")[-1].replace(":", "_")


def make_env(
    env_id: str,
    env_kwargs: dict[str, Any] | None = None,
    render_mode: str | None = None,
    flicker: float = 0.0,
    hide_ball: float = 0.0,
    detector: str | Path | None = None,
    detector_players: int = 1,
) -> Callable[[], gym.Env]:
    """A thunk building one env (picklable, so it works in ``AsyncVectorEnv``).

    ``flicker`` > 0 wraps it in :class:`FlickerObservation` (blank frames), ``hide_ball`` > 0 in
    :class:`OccludeBall` (the soccer ball left out of some frames). ``detector`` (a
    ``visiongym.vision.detect.train`` checkpoint) then wraps it in
    :class:`visiongym.vision.detect.wrapper.DetectedObjects` with ``detector_players`` slots per team.
    """
    check_env_id(env_id)
    kwargs = dict(env_kwargs or {})
    if detector is not None and not Path(detector).is_file():
        raise UsageError(f"detector checkpoint {str(detector)!r} not found; train one with visiongym.vision.detect.train")

    def thunk() -> gym.Env:
        try:
            env = gym.make(env_id, render_mode=render_mode, **kwargs)
        except TypeError as error:
            raise UsageError(f"env {env_id!r} rejected env_kwargs {kwargs}: {error}") from error
        if hide_ball > 0:
            env = OccludeBall(env, p=hide_ball)
        if flicker > 0:
            env = FlickerObservation(env, p=flicker)
        if detector is not None:
            from visiongym.vision.detect.wrapper import DetectedObjects

            env = DetectedObjects(env, detector, players_per_team=detector_players)
        return env

    return thunk


def wrapper_options(config: Any) -> dict[str, Any]:
    """The wrapper arguments of :func:`make_env` (flicker, hide_ball, detector, detector_players)
    from a training config or its saved dict; fields a config lacks take their defaults."""
    def get(name: str, default: Any) -> Any:
        value = config.get(name, default) if isinstance(config, dict) else getattr(config, name, default)
        return default if value is None else value

    detector = get("detector", None)
    return {"flicker": float(get("flicker", 0.0)), "hide_ball": float(get("hide_ball", 0.0)),
            "detector": None if detector is None else Path(detector),
            "detector_players": int(get("detector_players", 1))}


def make_vector_env(
    env_id: str,
    env_kwargs: dict[str, Any] | None = None,
    num_envs: int = 1,
    vectorization: str = "sync",
    **wrappers: Any,
) -> gym.vector.VectorEnv:
    """``num_envs`` copies in a Gymnasium vector env (next-step autoreset); ``wrappers`` go to
    :func:`make_env`."""
    if vectorization not in VECTORIZATION:
        raise UsageError(f"vectorization {vectorization!r} unknown; choose one of: {', '.join(VECTORIZATION)}")
    if num_envs < 1:
        raise UsageError(f"num_envs={num_envs} must be >= 1")
    thunks = [make_env(env_id, env_kwargs, **wrappers) for _ in range(num_envs)]
    if vectorization == "async" and num_envs > 1:
        # spawn, not fork: a process that has rendered holds OpenGL state a forked child inherits.
        return gym.vector.AsyncVectorEnv(
            thunks, context="spawn", autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP
        )
    return gym.vector.SyncVectorEnv(thunks, autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP)
