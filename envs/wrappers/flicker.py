"""Flicker: hide the whole observation at random steps, as in Flickering Atari (Hausknecht 2015).

With probability ``p`` each observation (``reset`` included) is replaced by a blank frame, so a
policy that sees one frame at a time cannot tell where things are on those steps; a recurrent
agent can carry the last view forward. The draws come from a generator spawned from the
wrapped env's ``np_random`` at each seeded reset, so the same seed gives the same blanks
without disturbing the env's own random stream.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from visiongym.sims.errors import UsageError

__all__ = ["FlickerObservation"]


class FlickerObservation(gym.ObservationWrapper):
    """Replace the observation by a constant ``fill`` frame with probability ``p``.

    Args:
        env: an env with a ``Box`` observation space or a ``Dict`` space with a ``"pixels"`` Box
            (then only the pixels flicker).
        p: probability that a step's observation is blanked, in [0, 1].
        fill: value of a blanked pixel (0, black, by default).

    ``info["flickered"]`` says whether the returned observation was blanked.
    """

    def __init__(self, env: gym.Env, p: float = 0.5, fill: float = 0) -> None:
        super().__init__(env)
        if not 0.0 <= p <= 1.0:
            raise UsageError(f"flicker probability p={p!r} must be in [0, 1]")
        space = env.observation_space
        if isinstance(space, gym.spaces.Dict):
            if "pixels" not in space.spaces:
                raise UsageError(
                    f"FlickerObservation on a Dict space needs a 'pixels' key; got keys "
                    f"{list(space.spaces)}"
                )
            self._key: str | None = "pixels"
        elif isinstance(space, gym.spaces.Box):
            self._key = None
        else:
            raise UsageError(f"FlickerObservation needs a Box or Dict observation space; got {space}")
        self.p, self.fill = float(p), fill
        self._rng: np.random.Generator | None = None
        self._flickered = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        if seed is not None or self._rng is None:
            self._rng = self.env.unwrapped.np_random.spawn(1)[0]
        obs = self.observation(obs)
        info["flickered"] = self._flickered
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        obs = self.observation(obs)
        info["flickered"] = self._flickered
        return obs, reward, terminated, truncated, info

    def observation(self, observation: Any) -> Any:
        self._flickered = bool(self._rng.random() < self.p) if self.p > 0 else False
        if not self._flickered:
            return observation
        if self._key is None:
            return np.full_like(observation, self.fill)
        return {**observation, self._key: np.full_like(observation[self._key], self.fill)}
