"""Agent-steps per second of multi-agent soccer beside dm_control's soccer, in one run, one thread.

    python benchmarks/multi_agent_speed.py                       # 2v2 and 5v5, state and pixels
    python benchmarks/multi_agent_speed.py --obs-modes state --seconds 5
    python benchmarks/multi_agent_speed.py --obs-modes state --rounds 5   # medians of 5 alternated rounds
    python benchmarks/multi_agent_speed.py --setup               # (re)build .venv-dmcontrol only

Ours: :func:`visiongym.envs.soccer_multi.parallel_env` with every player an agent, a dict of
sampled actions per step. dm_control's: ``dm_control.locomotion.soccer`` with BoxHead walkers
(:mod:`benchmarks.dm_soccer_speed`), a list of random actions per step, as dm_env is stepped.
dm_control 1.0.50 needs MuJoCo 3.x while visiongym runs MuJoCo 4, so its side runs in its own
virtual environment (``.venv-dmcontrol``: mujoco 3.17.0, dm-control 1.0.50, pillow), built on
first use with pip, as a subprocess of this run. Both sides run single-threaded (BLAS and
OpenMP at one thread, Mesa's llvmpipe in the calling thread) on the same MUJOCO_GL.

The goal of the issue is at least 50x dm_control's env steps per second for 2v2 with state
observations; the last column says whether each row meets it. Note the steps differ: one of
ours is 0.05 s of play, one of dm_control's 0.025 s.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("LP_NUM_THREADS", "0")

import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import tyro  # noqa: E402

import visiongym.sims  # noqa: E402, F401 - picks MUJOCO_GL, which the dm_control side then shares
from visiongym.envs import soccer_multi  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DM_PACKAGES = ("mujoco==3.17.0", "dm-control==1.0.50", "pillow")
TEAM_SIZES = {"1v1": 1, "2v2": 2, "3v3": 3, "5v5": 5}


@dataclass
class Config:
    scenarios: list[str] = field(default_factory=lambda: ["2v2", "5v5"])
    """Match scenarios to measure (1v1, 2v2, 3v3, 5v5)."""
    obs_modes: list[str] = field(default_factory=lambda: ["state", "pixels"])
    """Observation modes to measure."""
    image_size: int = 84
    """Side of every agent's image, ours and dm_control's egocentric camera."""
    camera: str = "ego"
    """Our agents' view for pixels (ego is the one like dm_control's egocentric camera)."""
    seconds: float = 3.0
    """Measuring time per configuration, after warm-up."""
    dm_min_steps: int = 3
    """dm_control steps measured at least (its pixel steps take seconds on a CPU)."""
    dmcontrol: bool = True
    """Measure dm_control beside ours."""
    dm_venv: Path = ROOT / ".venv-dmcontrol"
    """The virtual environment of the dm_control side."""
    setup: bool = False
    """Only (re)build the dm_control venv, then exit."""
    goal: float = 50.0
    """Speed-up the issue asks for (2v2, state)."""
    rounds: int = 1
    """Measurements per configuration and side, alternated (ours, dm_control, ours, ...); the
    table gives each side's median and the ratio of the medians, and every round is printed below
    it. Either side's speed moves from run to run on a shared machine; more rounds steady it."""


def setup_dm_venv(venv: Path, force: bool = False) -> Path:
    """Create ``venv`` with dm_control and MuJoCo 3 unless it has them (``force``: reinstall); return its python."""
    python = venv / "bin" / "python"
    ready = python.exists() and subprocess.run([str(python), "-c", "import dm_control.locomotion.soccer"],
                                               capture_output=True).returncode == 0
    if ready and not force:
        return python
    print(f"building {venv} ({', '.join(DM_PACKAGES)}) ...", flush=True)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *DM_PACKAGES], check=True)
    return python


def measure_ours(scenario: str, obs_mode: str, image_size: int, camera: str, seconds: float) -> dict:
    env = soccer_multi.parallel_env(scenario=scenario, obs_mode=obs_mode, image_size=image_size, camera=camera)
    env.reset(seed=0)
    for seed, agent in enumerate(env.possible_agents):
        env.action_space(agent).seed(seed)
    for _ in range(20):
        env.step({agent: env.action_space(agent).sample() for agent in env.agents})
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.step({agent: env.action_space(agent).sample() for agent in env.agents})
        steps += 1
        if not env.agents:
            env.reset()
    elapsed = time.perf_counter() - start
    agents = len(env.possible_agents)
    env.close()
    return {"steps_per_s": steps / elapsed, "agent_steps_per_s": steps * agents / elapsed, "agents": agents,
            "scene": _scene_text(env.scene.model)}


def _median_round(results: list[dict]) -> dict:
    """The round of median steps/s (the lower middle one for an even count)."""
    ordered = sorted(results, key=lambda result: result["steps_per_s"])
    return ordered[(len(ordered) - 1) // 2]


def _scene_text(model) -> str:
    return (f"{model.vis.quality.shadowsize} px shadow map, {model.nlight} light(s), "
            f"{model.vis.quality.offsamples}x MSAA")


def _scene_text_dm(dm: dict) -> str:
    return f"{dm['shadowsize']} px shadow map, {dm['lights']} light(s), {dm['offsamples']}x MSAA"


def measure_dm(python: Path, team_size: int, obs_mode: str, config: Config) -> dict:
    command = [str(python), str(ROOT / "benchmarks" / "dm_soccer_speed.py"), "--team-size", str(team_size),
               "--obs-mode", obs_mode, "--image-size", str(config.image_size), "--seconds", str(config.seconds),
               "--min-steps", str(config.dm_min_steps)]
    result = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
    if result.returncode != 0:
        raise SystemExit(f"dm_control side failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    config = tyro.cli(Config)
    if config.rounds < 1:
        raise SystemExit(f"--rounds {config.rounds} invalid; give 1 or more")
    python = None
    if config.dmcontrol or config.setup:
        python = setup_dm_venv(config.dm_venv, force=config.setup)
        if config.setup:
            return
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, MUJOCO_GL={os.environ.get('MUJOCO_GL')}, one thread a side")
    header = (f"{'match':5} {'obs':6} {'agents':>6} | {'ours steps/s':>12} {'agent-steps/s':>13} | "
              f"{'dm steps/s':>10} {'agent-steps/s':>13} | {'ratio':>7}")
    print(header)
    print("-" * len(header))
    versions = scene = None
    rounds: list[str] = []
    for scenario in config.scenarios:
        if scenario not in TEAM_SIZES:
            raise SystemExit(f"scenario {scenario!r} unknown; choose among: {', '.join(TEAM_SIZES)}")
        for obs_mode in config.obs_modes:
            ours_rounds, dm_rounds = [], []
            for _ in range(config.rounds):
                ours_rounds.append(measure_ours(scenario, obs_mode, config.image_size, config.camera, config.seconds))
                if python is not None:
                    dm_rounds.append(measure_dm(python, TEAM_SIZES[scenario], obs_mode, config))
            ours = _median_round(ours_rounds)
            line = (f"{scenario:5} {obs_mode:6} {ours['agents']:6d} | {ours['steps_per_s']:12.1f} "
                    f"{ours['agent_steps_per_s']:13.1f} | ")
            if python is not None:
                dm = _median_round(dm_rounds)
                versions = (f"dm_control {dm['dm_control']} on MuJoCo {dm['mujoco']}, control step "
                            f"{dm['control_timestep']} s, scene: {_scene_text_dm(dm)}")
                ratio = ours["steps_per_s"] / dm["steps_per_s"]
                verdict = ""
                if scenario == "2v2" and obs_mode == "state":
                    verdict = "  goal met" if ratio >= config.goal else f"  goal ({config.goal:.0f}x) missed"
                line += f"{dm['steps_per_s']:10.2f} {dm['agent_steps_per_s']:13.2f} | {ratio:6.1f}x{verdict}"
            print(line, flush=True)
            if len(ours_rounds) > 1:
                rounds.append(f"{scenario} {obs_mode}: ours " + ", ".join(f"{r['steps_per_s']:.0f}" for r in ours_rounds)
                              + ("; dm_control " + ", ".join(f"{r['steps_per_s']:.1f}" for r in dm_rounds)
                                 if dm_rounds else ""))
            scene = ours["scene"]
    if rounds:
        print("steps/s of every round, in the order run:")
        for text in rounds:
            print(f"  {text}")
    import mujoco

    print(f"ours: visiongym soccer_multi on MuJoCo {mujoco.__version__}, control step 0.05 s, scene: {scene}, "
          f"pixels: every agent's {config.camera} view at {config.image_size}x{config.image_size}")
    if versions:
        print(f"dm_control: {versions}, BoxHead walkers, pixels: every walker's egocentric camera at "
              f"{config.image_size}x{config.image_size}")


if __name__ == "__main__":
    main()
