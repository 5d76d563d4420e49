"""MUJOCO_GL is chosen in one place, with a fallback and an install hint."""

import os
import subprocess
import sys

import pytest

from visiongym.sims.gl import RenderingUnavailableError, _can_load, choose_backend


def test_user_choice_wins():
    assert choose_backend({"MUJOCO_GL": "OSMesa"}, "linux") == "osmesa"


def test_headless_linux_prefers_egl_then_osmesa_then_disables_rendering():
    assert choose_backend({}, "linux", can_load=lambda b: True) == "egl"
    assert choose_backend({}, "linux", can_load=lambda b: b == "osmesa") == "osmesa"
    assert choose_backend({}, "linux", can_load=lambda b: False) == "disable"
    assert choose_backend({"DISPLAY": ":0"}, "linux", can_load=lambda b: True) == "glfw"
    assert choose_backend({}, "darwin", can_load=lambda b: False) == "glfw"


def test_unknown_backend_is_refused_with_the_choices():
    with pytest.raises(RenderingUnavailableError, match="'vulkan' is not a MuJoCo backend; choose one of: egl, osmesa, glfw"):
        choose_backend({"MUJOCO_GL": "vulkan"}, "linux")


def _run(code: str, mujoco_gl: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MUJOCO_GL": mujoco_gl}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_without_rendering_physics_works_and_render_explains_what_to_install():
    code = (
        "import numpy as np\n"
        "from visiongym.sims.soccer import SoccerScene\n"
        "from visiongym.sims.gl import RenderingUnavailableError\n"
        "s = SoccerScene(1)\n"
        "s.step(np.zeros((2, 4)))\n"
        "try:\n"
        "    s.render()\n"
        "except RenderingUnavailableError as e:\n"
        "    print('HINT' if 'apt-get install libegl1' in str(e) else e)\n"
    )
    result = _run(code, "disable")
    assert result.stdout.strip() == "HINT", result.stdout + result.stderr


@pytest.mark.skipif(_can_load("osmesa"), reason="OSMesa is installed here")
def test_a_named_backend_that_cannot_load_is_refused_with_advice():
    result = _run("import sims", "osmesa")
    assert result.returncode != 0
    assert "MUJOCO_GL='osmesa' but its library" in result.stderr and "apt-get install" in result.stderr


def test_render_then_train_in_one_process_does_not_crash():
    # Mesa's LLVM and Triton's clash when Triton loads after an EGL context: make_renderer
    # loads it first in processes that use torch.
    code = (
        "import torch\n"
        "from visiongym.sims.soccer import SoccerScene\n"
        "SoccerScene(1).render()\n"
        "torch.optim.Adam([torch.zeros(2, requires_grad=True)])\n"
        "print('trained')\n"
    )
    result = _run(code, os.environ.get("MUJOCO_GL", "egl"))
    assert result.returncode == 0 and "trained" in result.stdout, result.stderr[-2000:]


@pytest.mark.parametrize(("given", "expected"), [(None, "0"), ("3", "3")])
def test_software_rendering_draws_in_the_calling_thread_unless_the_user_chose(given, expected):
    env = {key: value for key, value in os.environ.items() if key != "LP_NUM_THREADS"}
    env["MUJOCO_GL"] = "egl"
    if given is not None:
        env["LP_NUM_THREADS"] = given
    code = "import os, sims\nprint(os.environ.get('LP_NUM_THREADS'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout.strip() == expected, result.stderr[-2000:]
