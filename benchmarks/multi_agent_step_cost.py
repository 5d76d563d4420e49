"""Where one multi-agent soccer step's time goes: sampling the actions, MuJoCo, and our Python.

    python benchmarks/multi_agent_step_cost.py                        # 2v2 and 5v5, state
    python benchmarks/multi_agent_step_cost.py --scenarios 2v2 --steps 50000

The loop of :mod:`benchmarks.multi_agent_speed` (``parallel_env`` with every player an agent, a
dict of sampled actions per step), timed step by step: the action dict, ``env.step``, and the
``mujoco.mj_step`` call inside it (the scene's one physics call a step, 5 physics steps of 10 ms).
Python is ``env.step`` less MuJoCo. Figures are medians over the steps, so the other jobs of a
shared machine, which stretch a few steps a lot, move them little; the implied steps/s is
1 / (sampling + step).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import platform  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import mujoco  # noqa: E402
import numpy as np  # noqa: E402
import tyro  # noqa: E402

import visiongym.sims.soccer.scene as scene_module  # noqa: E402
from visiongym.envs import soccer_multi  # noqa: E402


@dataclass
class Config:
    scenarios: list[str] = field(default_factory=lambda: ["2v2", "5v5"])
    """Match scenarios to measure."""
    obs_modes: list[str] = field(default_factory=lambda: ["state"])
    """Observation modes to measure."""
    steps: int = 20000
    """Steps timed per configuration, after 500 of warm-up."""
    camera: str = "ego"
    """Our agents' view (as multi_agent_speed builds the env)."""
    image_size: int = 84
    """Side of every agent's image, for pixels."""
    mujoco_timers: bool = False
    """Also print MuJoCo's own timers (mjData.timer): microseconds per physics step in each stage
    (the broad and narrow phases of collision, the constraint solver...), over the timed steps."""


#: MuJoCo's timed stages, name -> index into ``mjData.timer``. ``mj_resetData`` (each episode's
#: reset) zeroes the timers, so the means are over the timed steps since the last reset.
_TIMERS = {name.removeprefix("mjTIMER_").lower(): int(getattr(mujoco.mjtTimer, name))
           for name in dir(mujoco.mjtTimer) if name.startswith("mjTIMER_")}


class _TimedMujoco:
    """The mujoco module, its ``mj_step`` timed; stands in for it inside the scene module."""

    def __init__(self) -> None:
        self.last_ns = 0

    def __getattr__(self, name: str):
        return getattr(mujoco, name)

    def mj_step(self, *args, **kwargs) -> None:
        start = time.perf_counter_ns()
        mujoco.mj_step(*args, **kwargs)
        self.last_ns = time.perf_counter_ns() - start


def measure(scenario: str, obs_mode: str, config: Config) -> dict[str, float]:
    """Median microseconds per step of sampling, env.step and the MuJoCo inside it."""
    env = soccer_multi.parallel_env(scenario=scenario, obs_mode=obs_mode, camera=config.camera,
                                    image_size=config.image_size)
    env.reset(seed=0)
    for seed, agent in enumerate(env.possible_agents):
        env.action_space(agent).seed(seed)
    timed, clock = _TimedMujoco(), time.perf_counter_ns
    times = np.zeros((config.steps, 3), np.int64)
    scene_module.mujoco = timed
    try:
        for step in range(-500, config.steps):
            start = clock()
            actions = {agent: env.action_space(agent).sample() for agent in env.agents}
            sampled = clock()
            env.step(actions)
            stepped = clock()
            if step == -1:  # MuJoCo's own timers count the timed steps only
                for index in _TIMERS.values():
                    timer = env.scene.data.timer[index]
                    timer.duration, timer.number = 0.0, 0
            if step >= 0:
                times[step] = (sampled - start, stepped - sampled, timed.last_ns)
            if not env.agents:
                env.reset()
        stages = _mujoco_stages(env.scene.data)
    finally:
        scene_module.mujoco = mujoco
        env.close()
    sampling, env_step, physics = np.median(times, axis=0) / 1e3
    python = float(np.median(times[:, 1] - times[:, 2])) / 1e3
    return {"sampling": sampling, "step": env_step, "mujoco": physics, "python": python,
            "steps_per_s": 1e6 / (sampling + env_step), "stages": stages}


def _mujoco_stages(data: mujoco.MjData) -> dict[str, float]:
    """Mean microseconds per call of each of MuJoCo's timed stages (``mjtTimer``) that ran."""
    return {stage: 1e6 * data.timer[index].duration / data.timer[index].number
            for stage, index in _TIMERS.items() if data.timer[index].number}


def main() -> None:
    config = tyro.cli(Config)
    print(f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}, Python {platform.python_version()}, MuJoCo {mujoco.__version__}; "
          f"medians over {config.steps} steps, microseconds")
    header = f"{'match':5} {'obs':6} | {'sampling':>8} {'env.step':>8} {'MuJoCo':>8} {'Python':>8} | {'steps/s':>8}"
    print(header)
    print("-" * len(header))
    for scenario in config.scenarios:
        for obs_mode in config.obs_modes:
            cost = measure(scenario, obs_mode, config)
            print(f"{scenario:5} {obs_mode:6} | {cost['sampling']:8.1f} {cost['step']:8.1f} {cost['mujoco']:8.1f} "
                  f"{cost['python']:8.1f} | {cost['steps_per_s']:8.0f}", flush=True)
            if config.mujoco_timers:
                print("  MuJoCo, µs per physics step: " + ", ".join(f"{stage} {value:.2f}"
                                                               for stage, value in sorted(cost["stages"].items())))


if __name__ == "__main__":
    main()
