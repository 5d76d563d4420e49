"""One place that registers every visiongym environment with Gymnasium.

Each entry: (id, entry point, max_episode_steps, default kwargs). Add a line per environment.
"""

from __future__ import annotations

import gymnasium as gym

from visiongym.sims.errors import UsageError

NAMESPACE = "visiongym"

# fmt: off
ENVIRONMENTS: list[tuple[str, str, int | None, dict]] = [
    ("visiongym/TabletopSoccer-v0",          "visiongym.envs.soccer:TabletopSoccerEnv", 400,  {}),
    ("visiongym/TabletopSoccer-EmptyGoal-v0", "visiongym.envs.soccer:TabletopSoccerEnv", 200,  {"scenario": "empty_goal"}),
    ("visiongym/TabletopSoccer-Penalty-v0",  "visiongym.envs.soccer:TabletopSoccerEnv", 100,  {"scenario": "penalty"}),
    ("visiongym/TabletopSoccer-1v1-v0",      "visiongym.envs.soccer:TabletopSoccerEnv", 1200, {"scenario": "1v1"}),
    ("visiongym/TabletopSoccer-2v2-v0",      "visiongym.envs.soccer:TabletopSoccerEnv", 1200, {"scenario": "2v2"}),
    ("visiongym/TabletopSoccer-3v3-v0",      "visiongym.envs.soccer:TabletopSoccerEnv", 1200, {"scenario": "3v3"}),
    ("visiongym/TabletopSoccer-5v5-v0",      "visiongym.envs.soccer:TabletopSoccerEnv", 1200, {"scenario": "5v5"}),
    ("visiongym/LearnToMove-v0",             "visiongym.envs.learn_to_move:LearnToMoveEnv", 500, {}),
    ("visiongym/CatchBall-v0",               "visiongym.envs.catch:CatchBallEnv",      100,  {}),
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


def check_env_id(env_id: str) -> None:
    """Raise :class:`UsageError` naming the visiongym envs when ``env_id`` is not registered."""
    if env_id not in gym.registry:
        ours = sorted(name for name in gym.registry if name.startswith(f"{NAMESPACE}/"))
        raise UsageError(
            f"env {env_id!r} unknown; choose one of: {', '.join(ours)} (or any registered Gymnasium id)"
        )
