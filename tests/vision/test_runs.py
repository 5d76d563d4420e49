"""The one run-folder writer (visiongym.vision.runs) of the vision trainers and the agents."""

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from visiongym.vision.runs import (
    RUN_TIME_FORMAT,
    RunOptions,
    create_run_folder,
    prepare_run,
    read_run_config,
    run_name,
)


@dataclass
class _Config(RunOptions):
    seed: int = 3
    data: Path = Path("data/soccer")
    sizes: tuple[int, ...] = (1, 2)


def test_run_names_end_with_one_time_stamp_format():
    name = run_name("soccer", "dcgan", 3)
    assert re.fullmatch(r"soccer__dcgan__3__\d{8}-\d{6}", name)
    time.strptime(name.rsplit("__", 1)[1], RUN_TIME_FORMAT)


def test_vision_runs_save_config_yaml(tmp_path):
    run_dir, writer = prepare_run(_Config(), Path("data/soccer"), "dcgan", tmp_path / "run")
    writer.close()
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved == {"device": "auto", "threads": 0, "progress": True, "seed": 3, "data": "data/soccer",
                     "sizes": [1, 2]}
    assert read_run_config(run_dir) == saved


def test_old_vision_run_folders_with_config_json_are_still_read(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"seed": 1}))
    assert read_run_config(tmp_path) == {"seed": 1}
    assert read_run_config(tmp_path / "missing") is None


def test_a_new_run_never_overwrites_another(tmp_path):
    create_run_folder(tmp_path, "run", {"seed": 1}, exist_ok=False)
    with pytest.raises(FileExistsError, match="already holds a run"):
        create_run_folder(tmp_path, "run", {"seed": 2}, exist_ok=False)


def test_agents_write_the_same_run_folder(tmp_path):
    from visiongym.agents.common.run import Run
    from visiongym.agents.config import DQNConfig, config_from_dict

    run = Run.create(DQNConfig(runs_dir=tmp_path, seed=4))
    assert re.fullmatch(r"CatchBall-v0__dqn__4__\d{8}-\d{6}", run.path.name)
    saved = read_run_config(run.path)
    assert saved["algo"] == "dqn" and saved["device"] == "auto" and saved["threads"] == 0
    assert Run.open(run.path).config == run.config
    assert config_from_dict({**saved, "threads": None}).threads == 0  # first-release configs saved null
