"""Env construction for every trainer: id checks, ``KEY=VALUE`` kwargs, vector envs, flicker, and
the pixel preprocessing of image envs that are not ours (the Atari wrappers).

Both trainers (our DQN family and SB3) and every evaluation build their envs here, so the
preprocessing is the same everywhere; :func:`wrapper_options` turns a config (or a run's saved
config) into :func:`make_env`'s arguments, with the training-only steps (life loss as episode end,
reward clipping) left out for evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym

import visiongym  # noqa: F401 - registers the visiongym/ environments
from visiongym.envs.play import (
    parse_env_kwargs,  # the suite's one KEY=VALUE parser (Python literals)
)
from visiongym.envs.registration import NAMESPACE, check_env_id
from visiongym.envs.wrappers.atari import (
    atari_env_kwargs,
    is_atari,
    is_image_space,
    wrap_atari,
    wrap_image,
)
from visiongym.envs.wrappers.flicker import FlickerObservation
from visiongym.envs.wrappers.occlusion import OccludeBall
from visiongym.sims.errors import UsageError

__all__ = ["parse_env_kwargs", "check_env_id", "make_env", "make_vector_env", "batched_detector", "env_slug",
           "wrapper_options",
           "pixel_options", "ATARI_OPTIONS", "IMAGE_OPTIONS"]

VECTORIZATION = ("sync", "async")

ATARI_OPTIONS: dict[str, Any] = {"noop_max": 30, "frame_skip": 4, "max_pool": True, "terminal_on_life_loss": True,
                                 "clip_reward": True, "fire_reset": True}
"""The Atari-only preprocessing options with their defaults (SB3's AtariWrapper's)."""
IMAGE_OPTIONS: dict[str, Any] = {"screen_size": 84, "grayscale_obs": True}
"""The options of every image env that is not ours (Atari included), with their defaults."""
TRAINING_ONLY = ("terminal_on_life_loss", "clip_reward")
"""Left out when evaluating: evaluation counts whole games and reports raw scores."""


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
    pixels: dict[str, Any] | None = None,
    detector_int8: bool = False,
) -> Callable[[], gym.Env]:
    """A thunk building one env (picklable, so it works in ``AsyncVectorEnv``).

    ``flicker`` > 0 wraps it in :class:`FlickerObservation` (blank frames), ``hide_ball`` > 0 in
    :class:`OccludeBall` (the soccer ball left out of some frames). ``detector`` (a
    ``visiongym.vision.detect.train`` checkpoint) then wraps it in
    :class:`visiongym.vision.detect.wrapper.DetectedObjects` with ``detector_players`` slots per team
(in int8 on the CPU with ``detector_int8``).
    ``pixels`` (from :func:`pixel_options`) preprocesses the frames of an image env that is not ours
    first: ``kind`` atari is :func:`visiongym.envs.wrappers.atari.wrap_atari`, image is
    :func:`visiongym.envs.wrappers.atari.wrap_image`.
    """
    check_env_id(env_id)
    kwargs = dict(env_kwargs or {})
    _check_detector(detector)

    kind = pixels["kind"] if pixels else None
    options = {key: value for key, value in (pixels or {}).items() if key != "kind"}
    make_kwargs = kwargs
    if kind == "atari":
        make_kwargs = atari_env_kwargs(kwargs, options["frame_skip"], options["grayscale_obs"])

    def thunk() -> gym.Env:
        check_env_id(env_id)  # a spawned worker has not imported the package that registers the id
        try:
            env = gym.make(env_id, render_mode=render_mode, **make_kwargs)
        except TypeError as error:
            raise UsageError(f"env {env_id!r} rejected env_kwargs {kwargs}: {error}") from error
        if kind == "atari":
            env = wrap_atari(env, **options)
        elif kind == "image" and is_image_space(env.observation_space):
            env = wrap_image(env, **options)
        elif kind == "image" and options != IMAGE_OPTIONS:
            changed = next(key for key in IMAGE_OPTIONS if options[key] != IMAGE_OPTIONS[key])
            raise UsageError(f"{_flag(changed, IMAGE_OPTIONS[changed])} applies to image envs; {env_id} observes "
                             f"{env.observation_space}")
        if hide_ball > 0:
            env = OccludeBall(env, p=hide_ball)
        if flicker > 0:
            env = FlickerObservation(env, p=flicker)
        if detector is not None:
            from visiongym.vision.detect.wrapper import DetectedObjects

            env = DetectedObjects(env, detector, players_per_team=detector_players, int8=detector_int8)
        return env

    return thunk


def _check_detector(detector: str | Path | None) -> None:
    if detector is not None and not Path(detector).is_file():
        raise UsageError(f"detector checkpoint {str(detector)!r} not found; train one with visiongym.vision.detect.train")


def _getter(config: Any) -> Callable[[str, Any], Any]:
    def get(name: str, default: Any) -> Any:
        value = config.get(name, default) if isinstance(config, dict) else getattr(config, name, default)
        return default if value is None else value

    return get


def _flag(name: str, default: Any) -> str:
    """The command-line flag that moves ``name`` away from ``default``."""
    flag = name.replace("_", "-")
    return f"--no-{flag}" if default is True else f"--{flag}"


def _is_ours(env_id: str) -> bool:
    return env_id.split(":", 1)[-1].startswith(f"{NAMESPACE}/")


def pixel_options(config: Any, training: bool = True) -> dict[str, Any] | None:
    """The pixel preprocessing of ``config``'s env (a config or its saved dict), or None.

    ALE ids get ``kind`` atari with every option of :data:`ATARI_OPTIONS` and
    :data:`IMAGE_OPTIONS`; other envs that are not ours get ``kind`` image (applied when the env
    observes uint8 (H, W, C) images). ``training=False`` turns the :data:`TRAINING_ONLY` steps off.

    Raises:
        UsageError: an option set away from its default for an env it does not apply to.
    """
    get = _getter(config)
    env_id = str(get("env", ""))
    # a run saved before the preprocessing existed trained on the raw env, and is evaluated on it
    legacy = isinstance(config, dict) and "atari_wrappers" not in config
    enabled = bool(get("atari_wrappers", True)) and not legacy
    defaults = {**ATARI_OPTIONS, **IMAGE_OPTIONS}
    values = {name: get(name, default) for name, default in defaults.items()}
    changed = [name for name, value in values.items() if value != defaults[name]]
    if _is_ours(env_id) or not enabled:
        if changed:
            why = (f"applies to image envs that visiongym does not register, not to {env_id}" if enabled
                   else "needs --atari-wrappers")
            raise UsageError(f"{_flag(changed[0], defaults[changed[0]])} {why}")
        return None
    check_env_id(env_id)
    if is_atari(env_id):
        options = {"kind": "atari", **values}
        if not training:
            options.update(dict.fromkeys(TRAINING_ONLY, False))
        return options
    atari_only = [name for name in changed if name in ATARI_OPTIONS]
    if atari_only:
        raise UsageError(f"{_flag(atari_only[0], ATARI_OPTIONS[atari_only[0]])} applies to Atari (ALE) envs, "
                         f"not to {env_id}; other image envs take: "
                         + ", ".join(f"--{name.replace('_', '-')}" for name in IMAGE_OPTIONS))
    return {"kind": "image", **{name: values[name] for name in IMAGE_OPTIONS}}


def wrapper_options(config: Any, training: bool = True) -> dict[str, Any]:
    """The wrapper arguments of :func:`make_env` (flicker, hide_ball, detector, detector_players,
    pixels) from a training config or its saved dict; fields a config lacks take their defaults.
    ``training=False`` is for evaluation: no life-loss episode ends, raw rewards."""
    get = _getter(config)
    detector = get("detector", None)
    return {"flicker": float(get("flicker", 0.0)), "hide_ball": float(get("hide_ball", 0.0)),
            "detector": None if detector is None else Path(detector),
            "detector_players": int(get("detector_players", 1)),
            "detector_int8": bool(get("detector_int8", False)),
            "pixels": pixel_options(config, training)}


def batched_detector(wrappers: dict[str, Any], num_envs: int) -> tuple[dict[str, Any], Path | None]:
    """Split the detector off ``wrappers`` when it should run once over all ``num_envs`` envs.

    Returns ``(wrappers for each env, detector checkpoint or None)``: with one env the per-env
    :class:`~visiongym.vision.detect.wrapper.DetectedObjects` stays in ``wrappers``; with more the
    checkpoint comes back, for one batched wrapper around the vector env.
    """
    detector = wrappers.get("detector")
    if detector is None or num_envs == 1:
        return wrappers, None
    _check_detector(detector)
    return {**wrappers, "detector": None}, Path(detector)


def make_vector_env(
    env_id: str,
    env_kwargs: dict[str, Any] | None = None,
    num_envs: int = 1,
    vectorization: str = "sync",
    detector_device: str | Any = "cpu",
    **wrappers: Any,
) -> gym.vector.VectorEnv:
    """``num_envs`` copies in a Gymnasium vector env (next-step autoreset); ``wrappers`` go to
    :func:`make_env`, except a ``detector`` of several envs: that one runs once per vector step over
    every env's frame (:class:`~visiongym.vision.detect.wrapper.DetectedObjectsVector`, on
    ``detector_device``)."""
    if vectorization not in VECTORIZATION:
        raise UsageError(f"vectorization {vectorization!r} unknown; choose one of: {', '.join(VECTORIZATION)}")
    if num_envs < 1:
        raise UsageError(f"num_envs={num_envs} must be >= 1")
    wrappers, detector = batched_detector(wrappers, num_envs)
    thunks = [make_env(env_id, env_kwargs, **wrappers) for _ in range(num_envs)]
    if vectorization == "async" and num_envs > 1:
        # spawn, not fork: a process that has rendered holds OpenGL state a forked child inherits.
        envs: gym.vector.VectorEnv = gym.vector.AsyncVectorEnv(
            thunks, context="spawn", autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP
        )
    else:
        envs = gym.vector.SyncVectorEnv(thunks, autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP)
    if detector is not None:
        from visiongym.vision.detect.wrapper import DetectedObjectsVector

        envs = DetectedObjectsVector(envs, detector, players_per_team=wrappers.get("detector_players", 1),
                                     device=detector_device, int8=wrappers.get("detector_int8", False))
    return envs
