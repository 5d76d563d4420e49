"""Play or watch any visiongym environment in a pygame window, or record it headless.

Examples::

    python -m visiongym.envs.play visiongym/TabletopSoccer-v0 --scenario 2v2            # keyboard
    python -m visiongym.envs.play visiongym/TabletopSoccer-v0 --scenario 2v2 --policy scripted
    python -m visiongym.envs.play visiongym/TabletopSoccer-v0 --policy random --record out.mp4
    python -m visiongym.envs.play visiongym/TabletopSoccer-v0 --policy runs/<run>          # a trained agent

Keyboard (soccer): arrows or WASD move (two keys give diagonals), space kicks, Escape quits.

Policies are pluggable: ``random``, ``scripted`` (the env's ``scripted_action()``), ``keyboard``,
or a path. A path is handed to the loaders registered under the ``visiongym.policies`` entry-point
group (the agents package registers one for its runs and checkpoints), so this module never
imports the agents package itself.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated

import gymnasium as gym
import numpy as np
import tyro

import visiongym  # noqa: F401 - registers the visiongym environments
from visiongym.envs.cli import run_command
from visiongym.envs.registration import check_env_id
from visiongym.envs.soccer_actions import nearest_direction, turn_towards
from visiongym.sims.errors import UsageError

BUILTIN_POLICIES = ("keyboard", "random", "scripted")
VIDEO_SUFFIXES = (".mp4", ".gif")


def check_video_path(path: str | Path, option: str = "video") -> Path:
    """``path`` as a Path; ``ValueError`` naming the suffixes when it is not a .mp4 or .gif file.

    Every video the suite writes (``--record``, evaluation and demo videos) goes through this,
    before any work is done.
    """
    path = Path(path)
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise UsageError(f"{option} {str(path)!r}: suffix {path.suffix!r} unsupported; choose one of: "
                         f"{', '.join(VIDEO_SUFFIXES)}")
    return path


@dataclass
class PlayConfig:
    """Play or watch a visiongym environment."""

    env_id: Annotated[str, tyro.conf.Positional] = "visiongym/TabletopSoccer-v0"
    """Gymnasium id of the environment."""
    scenario: str | None = None
    """Shortcut for --env-kwargs scenario=... (soccer)."""
    env_kwargs: list[str] = field(default_factory=list)
    """Extra constructor arguments as key=value (values parsed as Python literals when possible)."""
    policy: str = "keyboard"
    """keyboard, random, scripted, or a path to a run folder or checkpoint."""
    record: Path | None = None
    """Write a video (.mp4 or .gif) instead of (or headless, besides) opening a window."""
    episodes: int = 1
    """Episodes to play."""
    max_steps: int | None = None
    """Stop an episode after this many steps (default: the env's time limit)."""
    seed: int = 0
    """Seed of the first episode; later episodes use seed+1, seed+2, ..."""
    fps: int | None = None
    """Window frame rate (default: the env's render_fps)."""
    appearance: str | None = None
    """Look of the frames (soccer, LearnToMove): default, random, held_out, a shift name
    (light_dim, camera_high, ...) or key=value,... (docs/vision.md); shortcut for --env-kwargs appearance=..."""


def appearance_argument(appearance: str) -> str:
    """``appearance`` checked (a bad name or key is a UsageError now, not inside the env)."""
    from visiongym.sims.appearance import make_appearance

    make_appearance(appearance)
    return appearance


def parse_env_kwargs(pairs: list[str]) -> dict:
    """``["scenario=2v2", "image_size=64"]`` -> ``{"scenario": "2v2", "image_size": 64}``."""
    import ast

    kwargs = {}
    for pair in pairs:
        if "=" not in pair:
            raise UsageError(f"env kwarg {pair!r} is not key=value")
        key, value = pair.split("=", 1)
        try:
            kwargs[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            kwargs[key] = value
    return kwargs


def load_path_policy(path: str, env: gym.Env) -> Callable:
    """Ask each registered ``visiongym.policies`` loader to turn ``path`` into a policy."""
    if not Path(path).exists():
        raise UsageError(
            f"policy {path!r} is neither one of {', '.join(BUILTIN_POLICIES)} nor an existing path"
        )
    loaders = list(entry_points(group="visiongym.policies"))
    if not loaders:
        raise UsageError(
            "no policy loader is installed for checkpoints; install visiongym with its agents "
            "package (pip install -e .)"
        )
    errors = []
    for loader in loaders:
        try:
            return loader.load()(path, env)
        except Exception as error:  # noqa: BLE001 - try the next loader, report all
            errors.append(f"{loader.name}: {error}")
    raise UsageError(f"no loader could read policy {path!r}: " + "; ".join(errors))


def keyboard_action(viewer, env: gym.Env):
    """Map held keys to an action of the env's action space (soccer layout)."""
    import pygame

    keys = viewer.pressed if viewer is not None else set()
    dx = (pygame.K_RIGHT in keys or pygame.K_d in keys) - (pygame.K_LEFT in keys or pygame.K_a in keys)
    dy = (pygame.K_UP in keys or pygame.K_w in keys) - (pygame.K_DOWN in keys or pygame.K_s in keys)
    kick = pygame.K_SPACE in keys
    space = env.action_space
    if isinstance(space, gym.spaces.Discrete):
        if kick:
            return space.n - 1
        if dx == 0 and dy == 0:
            return 0
        return nearest_direction(math.atan2(dy, dx))
    action = np.zeros(space.shape, dtype=space.dtype)
    if action.shape == (4,):
        action[0], action[1], action[3] = dx, dy, 1.0 if kick else -1.0
        if dx or dy:
            yaw = float(env.unwrapped.scene.player_yaws()[env.unwrapped.controlled])
            action[2] = turn_towards(math.atan2(dy, dx), yaw)
    return action


def make_policy(name: str, env: gym.Env) -> Callable | None:
    """A callable ``obs -> action``, or None for the keyboard (read inside the loop)."""
    if name == "keyboard":
        return None
    if name == "random":
        return lambda obs: env.action_space.sample()
    if name == "scripted":
        scripted = getattr(env.unwrapped, "scripted_action", None)
        if scripted is None:
            raise UsageError(f"{env.spec.id if env.spec else env} has no scripted policy; use random")
        return lambda obs: scripted()
    return load_path_policy(name, env)


def play(config: PlayConfig) -> list[float]:
    """Run the episodes; return their returns."""
    kwargs = parse_env_kwargs(config.env_kwargs)
    if config.scenario is not None:
        kwargs["scenario"] = config.scenario
    if config.appearance is not None:
        kwargs["appearance"] = appearance_argument(config.appearance)
    if config.record is not None:
        check_video_path(config.record, "--record")
    headless = config.record is not None or os.environ.get("SDL_VIDEODRIVER") == "dummy"
    if config.policy == "keyboard" and headless and config.record is not None:
        raise UsageError("the keyboard policy needs a window; with --record choose random, scripted or a path")
    if config.max_steps is not None:
        kwargs["max_episode_steps"] = config.max_steps
    check_env_id(config.env_id)
    env = gym.make(config.env_id, render_mode="rgb_array", **kwargs)
    policy = make_policy(config.policy, env)
    rebuild = getattr(policy, "rebuild_env", None)
    if rebuild is not None:  # the run preprocessed its frames (Atari wrappers): act in its env
        env.close()
        env = rebuild(render_mode="rgb_array", **kwargs)
    fps = config.fps or env.metadata.get("render_fps", 30)
    viewer = None
    if config.record is None:
        from visiongym.envs.viewer import Viewer

        viewer = Viewer(f"visiongym - {config.env_id}", fps, exit_on_close=False)
    writer = None
    if config.record is not None:
        import imageio.v2 as imageio

        config.record.parent.mkdir(parents=True, exist_ok=True)
        extra = {"loop": 0, "duration": 1000 / fps} if config.record.suffix.lower() == ".gif" else {
            "fps": fps, "macro_block_size": 8}
        writer = imageio.get_writer(config.record, **extra)
    from visiongym.envs.viewer import draw_hud

    returns = []
    try:
        for episode in range(config.episodes):
            obs, _ = env.reset(seed=config.seed + episode)
            done, total = False, 0.0
            while not done:
                action = keyboard_action(viewer, env) if policy is None else policy(obs)
                obs, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                done = terminated or truncated
                frame = env.render()
                hud = env.unwrapped.hud() if hasattr(env.unwrapped, "hud") else {"return": f"{total:+.2f}"}
                hud = {"episode": f"{episode + 1}/{config.episodes}", **hud}
                if writer is not None:
                    writer.append_data(draw_hud(frame, hud))
                if viewer is not None and not viewer.show(frame, hud):
                    print(f"episode {episode + 1}: return {total:+.3f} (window closed)")
                    return returns + [total]
            returns.append(total)
            print(f"episode {episode + 1}: return {total:+.3f}")
    finally:
        if writer is not None:
            writer.close()
            print(f"recorded {config.record}")
        if viewer is not None:
            viewer.close()
        env.close()
    return returns


def main(argv: list[str] | None = None) -> None:
    play(tyro.cli(PlayConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
