"""Ball occlusion: hide the ball in some pixel observations of the soccer env.

A partially observable version of ``visiongym/TabletopSoccer-v0``: with probability ``p`` the
ball is not drawn in a step's observation (the physics is untouched), as if a player or the
camera's angle hid it. Everything else stays visible, so a policy that sees one frame at a time
loses exactly the one thing it needs on those steps, while a recurrent agent can remember where
the ball was going. The draws come from a generator spawned from the env's ``np_random`` at each
seeded reset, so the same seed hides the ball on the same steps.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from visiongym.sims.errors import UsageError

__all__ = ["OccludeBall"]


class OccludeBall(gym.Wrapper):
    """Hide the ball in a step's pixel observation with probability ``p``.

    Args:
        env: a ``visiongym/TabletopSoccer-v0`` env with ``obs_mode`` ``pixels`` or
            ``pixels_state`` (the state vector, when there is one, still holds the ball).
        p: probability that the ball is hidden in a step's observation, in [0, 1]. The first
            observation of an episode always shows it.

    ``info["ball_hidden"]`` says whether the returned observation hides the ball. A ``human``
    window shows what the agent sees; ``render()`` in ``rgb_array`` mode always shows the ball.
    """

    def __init__(self, env: gym.Env, p: float = 0.5) -> None:
        super().__init__(env)
        if not 0.0 <= p <= 1.0:
            raise UsageError(f"occlusion probability p={p!r} must be in [0, 1]")
        scene = getattr(env.unwrapped, "scene", None)
        if scene is None or not hasattr(scene, "set_ball_visible"):
            raise UsageError(
                f"OccludeBall needs the soccer env (visiongym/TabletopSoccer-v0); got {env.unwrapped!r}"
            )
        obs_mode = getattr(env.unwrapped, "obs_mode", None)
        if obs_mode not in ("pixels", "pixels_state"):
            raise UsageError(
                f"OccludeBall hides the ball in pixel observations; the env has obs_mode {obs_mode!r}, "
                "use obs_mode='pixels' or 'pixels_state'"
            )
        self.p = float(p)
        self._scene = scene
        self._rng: np.random.Generator | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        self._scene.set_ball_visible(True)
        obs, info = self.env.reset(seed=seed, options=options)
        if seed is not None or self._rng is None:
            self._rng = self.env.unwrapped.np_random.spawn(1)[0]
        info["ball_hidden"] = False
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        hidden = bool(self._rng.random() < self.p) if self.p > 0 else False
        self._scene.set_ball_visible(not hidden)
        try:
            obs, reward, terminated, truncated, info = self.env.step(action)
        finally:
            self._scene.set_ball_visible(True)
        info["ball_hidden"] = hidden
        return obs, reward, terminated, truncated, info
