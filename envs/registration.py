"""One place that registers every visiongym environment with Gymnasium.

Each entry: (id, entry point, max_episode_steps, default kwargs). Add a line per environment.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util

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

TIME_AWARE = ("visiongym.envs.soccer:TabletopSoccerEnv",)
"""Entry points whose observations count the time left: ``make`` tells them the limit."""
SHARES_TIME_LIMIT = (gym.envs.registration.WrapperSpec(
    "ShareTimeLimit", "visiongym.envs.wrappers.time_limit:ShareTimeLimit", {}),)


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
            additional_wrappers=SHARES_TIME_LIMIT if entry_point in TIME_AWARE else (),
        )


KNOWN_NAMESPACES: dict[str, tuple[str, str | None]] = {
    # namespace -> (the package whose import registers it, the visiongym extra that installs it)
    "ALE": ("ale_py", "atari"),
}
"""Env-id namespaces of packages that register on import: ``ALE/Pong-v5`` imports ``ale_py``."""


def _import_registering(module: str, env_id: str, extra: str | None = None) -> None:
    """Import ``module`` (it registers its envs), or raise :class:`UsageError` naming the package."""
    try:
        importlib.import_module(module)
    except ImportError as error:
        install = f"pip install visiongym[{extra}]" if extra else f"pip install {module.split('.')[0]}"
        raise UsageError(
            f"env {env_id!r} is registered by the package {module!r}, which is not installed "
            f"(no module {error.name or module!r}); install it with: {install}"
        ) from error


def check_env_id(env_id: str) -> None:
    """Make sure ``env_id`` is registered, importing the package that registers it.

    Accepts our ids, any registered Gymnasium id, ``module:Env-v0`` (Gymnasium's syntax: import
    ``module``, then make ``Env-v0``) and the ids of :data:`KNOWN_NAMESPACES` (``ALE/...`` imports
    ale_py). Raises :class:`UsageError` naming the package that would register a missing id, or
    the closest registered ids and the ``module:Env-v0`` hint.
    """
    name = env_id
    if ":" in env_id:
        module, _, name = env_id.partition(":")
        _import_registering(module, env_id)
    namespace = name.split("/", 1)[0] if "/" in name else None
    if name not in gym.registry and namespace in KNOWN_NAMESPACES:
        module, extra = KNOWN_NAMESPACES[namespace]
        _import_registering(module, env_id, extra)
    if name not in gym.registry and namespace is None and ":" not in env_id:
        # ids without a namespace (PongNoFrameskip-v4) come from a known package that is installed
        for module, _ in KNOWN_NAMESPACES.values():
            if importlib.util.find_spec(module) is not None:
                _import_registering(module, env_id)
    if name in gym.registry:
        return
    if ":" in env_id:
        raise UsageError(f"env {env_id!r}: importing {env_id.partition(':')[0]!r} did not register {name!r}; "
                         f"it registers: {', '.join(_closest(name)) or 'nothing close'}")
    if namespace in KNOWN_NAMESPACES:
        raise UsageError(f"env {env_id!r} unknown; {KNOWN_NAMESPACES[namespace][0]} registers close ids: "
                         f"{', '.join(_closest(name)) or 'none'}")
    ours = sorted(item for item in gym.registry if item.startswith(f"{NAMESPACE}/"))
    raise UsageError(
        f"env {env_id!r} unknown; choose one of: {', '.join(ours)} (or any registered Gymnasium id; closest: "
        f"{', '.join(_closest(name)) or 'none'}). No installed package registers it: for a package that "
        "registers its envs on import use module:Env-v0; known namespaces: "
        + ", ".join(f"{key}/ ({module})" for key, (module, _) in KNOWN_NAMESPACES.items())
    )


def _closest(name: str, count: int = 5) -> list[str]:
    return difflib.get_close_matches(name, list(gym.registry), n=count, cutoff=0.5)
