"""The package installs as one ``visiongym`` namespace, with the ``visiongym`` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest

import visiongym
from visiongym.cli import COMMANDS

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("sims", "envs", "vision", "agents")


def test_every_package_folder_is_listed_in_pyproject():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {"visiongym"} | {
        "visiongym." + ".".join(init.parent.relative_to(ROOT).parts)
        for layer in LAYERS for init in (ROOT / layer).rglob("__init__.py")
    }
    assert sorted(setuptools["packages"]) == sorted(found)
    assert setuptools["package-dir"] == {"visiongym": "visiongym", **{f"visiongym.{n}": n for n in LAYERS}}


def test_layers_import_under_the_namespace_only():
    import importlib

    for layer in LAYERS:
        module = importlib.import_module(f"visiongym.{layer}")
        assert Path(module.__file__).parent == ROOT / layer
        assert layer not in sys.modules, f"{layer!r} was imported under its bare name too"


def test_import_registers_envs_and_module_form_works():
    gym.register_envs(visiongym)
    assert "visiongym/TabletopSoccer-v0" in gym.registry
    env = gym.make("visiongym:visiongym/TabletopSoccer-EmptyGoal-v0")
    assert env.spec.id == "visiongym/TabletopSoccer-EmptyGoal-v0"
    env.close()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "visiongym", *args], capture_output=True, text=True,
                          timeout=120, cwd="/")


def test_help_lists_every_command_with_one_line():
    result = _cli("--help")
    assert result.returncode == 0
    for name, (_, text) in COMMANDS.items():
        assert f"{name} " in result.stdout and text in result.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_module_has_main_taking_argv(name):
    import importlib
    import inspect

    main = importlib.import_module(COMMANDS[name][0]).main
    assert list(inspect.signature(main).parameters) == ["argv"]


def test_subcommand_is_the_module_program():
    result = _cli("play", "--help")
    assert result.returncode == 0
    assert "visiongym play" in result.stdout and "--policy" in result.stdout


def test_unknown_command_is_one_error_line():
    result = _cli("trian")
    assert result.returncode == 2
    assert "error: command 'trian' unknown; choose one of: train, evaluate" in result.stderr
    assert "Traceback" not in result.stderr
    group = _cli("detect")
    assert group.returncode == 2 and "needs one of: train, evaluate, predict" in group.stderr


def test_wheel_holds_only_the_visiongym_namespace(tmp_path):
    import zipfile

    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("visiongym-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert "visiongym" in tops and all(top.endswith(".dist-info") for top in tops - {"visiongym"}), tops
    assert not tops & set(LAYERS)
    for layer in LAYERS:
        assert f"visiongym/{layer}/__init__.py" in names
    assert "visiongym/sims/soccer/scene.py" in names and "visiongym/cli.py" in names
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "visiongym = visiongym.cli:main" in text
    assert "visiongym.agents.policies:load_policy" in text
