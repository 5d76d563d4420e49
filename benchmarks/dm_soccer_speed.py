"""Env steps per second of dm_control's multi-agent soccer (``dm_control.locomotion.soccer``).

Runs in its own virtual environment (dm_control 1.0.50 needs MuJoCo 3.x; visiongym runs MuJoCo 4),
so it imports nothing of visiongym: ``benchmarks/multi_agent_speed.py`` launches it and sets the
venv up. Alone::

    .venv-dmcontrol/bin/python benchmarks/dm_soccer_speed.py --team-size 2 --obs-mode state

BoxHead walkers, dm_control's defaults otherwise (walker contacts on, a randomised pitch), one
list of random actions from ``action_spec()`` per step, as a dm_env user steps it; the episode
restarts at its time limit. ``--obs-mode pixels`` also turns on every walker's egocentric camera
observable at ``--image-size``. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")


def make_env(team_size: int, obs_mode: str, image_size: int, time_limit: float, seed: int):
    """``dm_soccer.load(team_size, walker_type=BOXHEAD)``, with cameras at ``image_size`` for pixels."""
    from dm_control import composer
    from dm_control.locomotion import soccer as dm_soccer

    if obs_mode == "state":
        return dm_soccer.load(team_size=team_size, time_limit=time_limit, random_state=seed,
                              disable_walker_contacts=False, walker_type=dm_soccer.WalkerType.BOXHEAD)
    # load() builds BoxHeads with 28x28 cameras; the same construction, at our image size.
    players = []
    for team, rgba in ((dm_soccer.Team.HOME, dm_soccer.RGBA_BLUE), (dm_soccer.Team.AWAY, dm_soccer.RGBA_RED)):
        for i in range(team_size):
            walker = dm_soccer.BoxHead(name=f"{team.name.lower()}{i}", walker_id=i, marker_rgba=rgba,
                                       camera_resolution=(image_size, image_size))
            walker.observables.egocentric_camera.enabled = True
            players.append(dm_soccer.Player(team, walker))
    task = dm_soccer.Task(players=players, arena=dm_soccer.RandomizedPitch(min_size=(32, 24), max_size=(48, 36)),
                          ball=dm_soccer.SoccerBall(), disable_walker_contacts=False)
    return composer.Environment(task=task, time_limit=time_limit, random_state=seed)


def measure(team_size: int, obs_mode: str, image_size: int, seconds: float, min_steps: int = 3, seed: int = 0) -> dict:
    import numpy as np

    env = make_env(team_size, obs_mode, image_size, time_limit=45.0, seed=seed)
    specs = env.action_spec()
    rng = np.random.default_rng(seed)
    timestep = env.reset()
    if obs_mode == "pixels":
        shape = timestep.observation[0]["egocentric_camera"].shape
    else:
        shape = None
    for _ in range(20 if obs_mode == "state" else 1):  # warm-up
        env.step([rng.uniform(s.minimum, s.maximum, s.shape) for s in specs])
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or steps < min_steps:
        timestep = env.step([rng.uniform(s.minimum, s.maximum, s.shape) for s in specs])
        steps += 1
        if timestep.last():
            env.reset()
    elapsed = time.perf_counter() - start
    model = env.physics.model
    from importlib.metadata import version

    return {"team_size": team_size, "obs_mode": obs_mode, "steps_per_s": steps / elapsed,
            "agent_steps_per_s": steps * len(specs) / elapsed, "agents": len(specs),
            "control_timestep": env.control_timestep(), "camera_shape": shape,
            "mujoco": version("mujoco"), "dm_control": version("dm-control"),
            "mujoco_gl": os.environ.get("MUJOCO_GL"), "shadowsize": int(model.vis.quality.shadowsize),
            "lights": int(model.nlight), "offsamples": int(model.vis.quality.offsamples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--team-size", type=int, default=2)
    parser.add_argument("--obs-mode", choices=("state", "pixels"), default="state")
    parser.add_argument("--image-size", type=int, default=84)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--min-steps", type=int, default=3, help="steps measured at least, however long they take")
    args = parser.parse_args()
    print(json.dumps(measure(args.team_size, args.obs_mode, args.image_size, args.seconds, args.min_steps)))


if __name__ == "__main__":
    main()
