"""Pixel preprocessing for image envs that are not ours: the Atari stack and a plain resize/grey.

The Atari stack is the one of Mnih et al. (2015) as SB3's ``AtariWrapper`` and CleanRL's
``dqn_atari.py`` build it, in their order: no-op reset -> frame skip with max-pooling ->
episodic life -> fire on reset -> resize and grey -> reward clipping. Frame stacking is left to
the trainers (our DQN stacks frames in its replay, SB3 uses ``VecFrameStack``).

The ALE env must not skip frames itself (ALE v5 ids skip 4 by default): :func:`atari_env_kwargs`
makes it with ``frameskip=1`` and, when grey frames are wanted, with ALE's own grey screen
(``obs_type="grayscale"``, as Gymnasium's ``AtariPreprocessing`` reads it), which is cheaper than
converting RGB frames.
"""

from __future__ import annotations

from typing import Any

import cv2
import gymnasium as gym
import numpy as np

from visiongym.sims.errors import UsageError

__all__ = [
    "NoopReset",
    "MaxAndSkip",
    "EpisodicLife",
    "FireReset",
    "SignReward",
    "ResizeFrame",
    "is_atari",
    "is_image_space",
    "atari_env_kwargs",
    "wrap_atari",
    "wrap_image",
]

NOOP, FIRE = 0, 1


def is_atari(env_id: str) -> bool:
    """Whether ``env_id`` is registered by ale-py (``ALE/Pong-v5``, ``PongNoFrameskip-v4``...)."""
    if ":" in env_id:
        env_id = env_id.split(":", 1)[1]
    spec = gym.registry.get(env_id)
    entry_point = spec.entry_point if spec is not None else None
    return isinstance(entry_point, str) and entry_point.startswith("ale_py")


def is_image_space(space: gym.Space) -> bool:
    """A ``uint8`` (H, W, C) Box: what the pixel preprocessing and our DQN take."""
    return isinstance(space, gym.spaces.Box) and space.dtype == np.uint8 and len(space.shape) == 3


def _ale(env: gym.Env):
    return env.unwrapped.ale


class NoopReset(gym.Wrapper):
    """After each reset, play a random number (1..``noop_max``) of no-op actions, so episodes
    start from varied states (the env's ``np_random`` draws it: same seed, same start)."""

    def __init__(self, env: gym.Env, noop_max: int = 30) -> None:
        super().__init__(env)
        if noop_max < 0:
            raise UsageError(f"noop_max={noop_max} must be >= 0")
        self.noop_max = noop_max

    def reset(self, **kwargs: Any):
        observation, info = self.env.reset(**kwargs)
        if self.noop_max == 0:
            return observation, info
        for _ in range(int(self.unwrapped.np_random.integers(1, self.noop_max + 1))):
            observation, _, terminated, truncated, info = self.env.step(NOOP)
            if terminated or truncated:
                observation, info = self.env.reset()
        return observation, info


class MaxAndSkip(gym.Wrapper):
    """Repeat each action ``skip`` frames and sum the rewards; the observation is the pixel-wise
    maximum of the last two frames (``max_pool``; Atari sprites flicker between frames) or the
    last frame."""

    def __init__(self, env: gym.Env, skip: int = 4, max_pool: bool = True) -> None:
        super().__init__(env)
        if skip < 1:
            raise UsageError(f"frame_skip={skip} must be >= 1")
        self.skip, self.max_pool = skip, max_pool

    def step(self, action):
        total, previous = 0.0, None
        for index in range(self.skip):
            observation, reward, terminated, truncated, info = self.env.step(action)
            total += float(reward)
            if terminated or truncated:
                break
            if index == self.skip - 2:
                previous = observation
        if self.max_pool and previous is not None:
            observation = np.maximum(previous, observation)
        return observation, total, terminated, truncated, info


class EpisodicLife(gym.Wrapper):
    """A lost life ends the episode for the learner (``terminated``), but only a lost game
    resets the emulator: the next ``reset`` after a lost life plays one no-op and goes on.

    ``info["lives"]`` is the count left; ``info["game_over"]`` says whether the game itself ended
    (evaluation counts whole games, so it is a training-only wrapper).
    """

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.lives, self.game_over = 0, True

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.game_over = terminated or truncated
        lives = _ale(self.env).lives()
        if 0 < lives < self.lives:
            terminated = True
        self.lives = lives
        return observation, reward, terminated, truncated, {**info, "game_over": self.game_over}

    def reset(self, **kwargs: Any):
        if self.game_over or kwargs.get("seed") is not None:
            observation, info = self.env.reset(**kwargs)
        else:
            observation, _, terminated, truncated, info = self.env.step(NOOP)
            if terminated or truncated:  # the no-op lost the game: start a new one
                observation, info = self.env.reset(**kwargs)
        self.lives, self.game_over = _ale(self.env).lives(), False
        return observation, info


class FireReset(gym.Wrapper):
    """Press FIRE (then action 2) after each reset, for games that wait for it to start."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        meanings = env.unwrapped.get_action_meanings()
        if len(meanings) < 3 or meanings[FIRE] != "FIRE":
            raise UsageError(f"fire_reset needs FIRE as action 1; {env.spec.id if env.spec else env} has {meanings}")

    def reset(self, **kwargs: Any):
        self.env.reset(**kwargs)
        for action in (FIRE, 2):
            observation, _, terminated, truncated, info = self.env.step(action)
            if terminated or truncated:
                observation, info = self.env.reset(**kwargs)
        return observation, info


class SignReward(gym.RewardWrapper):
    """Clip rewards to their sign, -1, 0 or +1 (one learning rate fits every game)."""

    def reward(self, reward):
        return float(np.sign(reward))


class ResizeFrame(gym.ObservationWrapper):
    """Resize frames to ``size`` x ``size`` (``cv2.INTER_AREA``) and, with ``grayscale``, turn RGB
    into one grey channel; the result is always (H, W, C) ``uint8``, a 2-D grey frame gets C = 1."""

    def __init__(self, env: gym.Env, size: int = 84, grayscale: bool = True) -> None:
        super().__init__(env)
        if size < 1:
            raise UsageError(f"screen_size={size} must be >= 1")
        shape = env.observation_space.shape
        self.size, self.grayscale = size, grayscale and len(shape) == 3 and shape[-1] == 3
        channels = 1 if self.grayscale or len(shape) == 2 else shape[-1]
        self.observation_space = gym.spaces.Box(0, 255, (size, size, channels), np.uint8)

    def observation(self, observation):
        frame = np.asarray(observation)
        if self.grayscale:
            frame = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        if frame.shape[:2] != (self.size, self.size):
            frame = cv2.resize(frame, (self.size, self.size), interpolation=cv2.INTER_AREA)
        return frame.reshape(self.observation_space.shape)


def atari_env_kwargs(env_kwargs: dict[str, Any], frame_skip: int, grayscale: bool) -> dict[str, Any]:
    """The ALE constructor arguments the Atari stack needs on top of ``env_kwargs``.

    The emulator is made with ``frameskip=1`` when :class:`MaxAndSkip` skips (so frames are not
    skipped twice); a ``frameskip`` in ``env_kwargs`` is refused then, as SB3's AtariWrapper
    expects a NoFrameskip env.
    """
    kwargs = dict(env_kwargs)
    if frame_skip > 1:
        if kwargs.get("frameskip", 1) != 1:
            raise UsageError(
                f"env_kwargs frameskip={kwargs['frameskip']!r} and --frame-skip {frame_skip} would skip frames "
                "twice; use --frame-skip 1 to let ALE skip, or drop frameskip from --env-kwargs"
            )
        kwargs["frameskip"] = 1
    if grayscale:
        kwargs.setdefault("obs_type", "grayscale")
    return kwargs


def wrap_atari(
    env: gym.Env,
    *,
    noop_max: int = 30,
    frame_skip: int = 4,
    max_pool: bool = True,
    screen_size: int = 84,
    grayscale_obs: bool = True,
    terminal_on_life_loss: bool = True,
    clip_reward: bool = True,
    fire_reset: bool = True,
) -> gym.Env:
    """SB3's ``AtariWrapper`` order; ``fire_reset`` applies only to games with a FIRE action."""
    if noop_max > 0:
        env = NoopReset(env, noop_max)
    if frame_skip > 1:
        env = MaxAndSkip(env, frame_skip, max_pool)
    if terminal_on_life_loss:
        env = EpisodicLife(env)
    meanings = env.unwrapped.get_action_meanings()
    if fire_reset and len(meanings) >= 3 and meanings[FIRE] == "FIRE":
        env = FireReset(env)
    env = ResizeFrame(env, screen_size, grayscale_obs)
    if clip_reward:
        env = SignReward(env)
    return env


def wrap_image(env: gym.Env, *, screen_size: int = 84, grayscale_obs: bool = True) -> gym.Env:
    """Resize (and grey) the frames of any ``uint8`` image env."""
    return ResizeFrame(env, screen_size, grayscale_obs)
