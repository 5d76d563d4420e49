"""One place that registers every visiongym environment with Gymnasium.

Each entry: (id, entry point, max_episode_steps, default kwargs). Add a line per environment.
"""

from __future__ import annotations

import gymnasium as gym

NAMESPACE = "visiongym"

# fmt: off
ENVIRONMENTS: list[tuple[str, str, int | None, dict]] = [
    ("visiongym/CatchBall-v0", "envs.catch:CatchBallEnv", 100, {}),
]
# fmt: on


def register_all() -> None:
    """Register every environment once (idempotent)."""
    for env_id, entry_point, max_steps, kwargs in ENVIRONMENTS:
        if env_id in gym.registry:
            continue
        gym.register(
            id=env_id,
            entry_point=entry_point,
            max_episode_steps=max_steps,
            kwargs=dict(kwargs),
        )
