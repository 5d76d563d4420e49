"""A client we did not write trains on our envs: the RL Baselines3 Zoo with ``--gym-packages``."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import rl_zoo3  # noqa: F401 - the `zoo` extra, which make test installs


def test_rl_zoo_trains_ppo_on_soccer(tmp_path):
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    result = subprocess.run(
        [sys.executable, "-m", "rl_zoo3.train", "--algo", "ppo", "--env", "visiongym/TabletopSoccer-EmptyGoal-v0",
         "--gym-packages", "visiongym", "-n", "512", "--eval-freq", "-1", "--seed", "0",
         "--hyperparams", "n_steps:256", "--log-folder", str(tmp_path / "logs")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert re.search(r"total_timesteps\s*\|\s*512\b", result.stdout), result.stdout[-2000:]
    saved = list((tmp_path / "logs" / "ppo").glob("visiongym-TabletopSoccer-EmptyGoal-v0_*/visiongym-TabletopSoccer-EmptyGoal-v0.zip"))
    assert saved, f"no saved model under {tmp_path / 'logs'}"
