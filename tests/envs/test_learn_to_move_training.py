"""The learning benchmark script: a tiny PPO run writes its curve, checkpoints and resumes."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "learn_to_move_train.py"


def _load():
    spec = importlib.util.spec_from_file_location("learn_to_move_train", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_tiny_ppo_run_writes_curve_checkpoint_and_resumes(tmp_path):
    train = _load()
    config = train.Config(
        algo="ppo", character="snake", task="run", total_steps=4096, n_envs=2, eval_every=2048,
        eval_episodes=1, checkpoint_every=2048, run_dir=tmp_path / "run",
        results_dir=tmp_path / "results", video=False,
    )
    metrics = train.main(config)
    assert metrics["steps"] == 4096
    assert (tmp_path / "run" / "model.zip").exists() and (tmp_path / "run" / "vecnormalize.pkl").exists()
    curve = (tmp_path / "results" / "LearnToMove-snake-run__ppo__0.csv").read_text().splitlines()
    assert curve[0].startswith("steps,wall_s,return") and len(curve) >= 2
    config.total_steps = 6144
    resumed = train.main(config)
    assert resumed["steps"] == 6144
    assert json.loads((tmp_path / "run" / "final.json").read_text())["steps"] == 6144
