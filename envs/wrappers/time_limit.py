"""Tell an env the time limit ``gymnasium.make`` wrapped it in.

``gymnasium.make`` puts the limit (``max_episode_steps``, registered or passed to ``make``) in a
:class:`gymnasium.wrappers.TimeLimit` around the env and leaves the env's own ``spec`` without it,
so an env whose observation counts the time left cannot see the limit. The soccer env's ids
register :class:`ShareTimeLimit` as an additional wrapper: ``make`` applies it after the
``TimeLimit``, and it hands the limit (or None, with ``max_episode_steps=-1``) to
``env.unwrapped.set_time_limit``. It changes nothing else and is recreated from ``env.spec`` like
any recorded wrapper (``gymnasium.make(env.spec)``).
"""

from __future__ import annotations

import gymnasium as gym

__all__ = ["ShareTimeLimit"]


class ShareTimeLimit(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Pass the ``TimeLimit`` below it to the env (``env.unwrapped.set_time_limit(steps)``).

    Args:
        env: an env made by ``gymnasium.make`` whose unwrapped env has ``set_time_limit``.
    """

    def __init__(self, env: gym.Env) -> None:
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        spec = env.spec  # a TimeLimit's spec carries its max_episode_steps
        env.unwrapped.set_time_limit(spec.max_episode_steps if spec is not None else None)
