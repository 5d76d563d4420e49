"""MUJOCO_GL is chosen in one place, with a fallback and an install hint."""

import os
import subprocess
import sys

import pytest

from visiongym.sims.gl import RenderingUnavailableError, choose_backend


def test_user_choice_wins():
    assert choose_backend({"MUJOCO_GL": "OSMesa"}, "linux") == "osmesa"


@pytest.mark.parametrize("display", [{}, {"DISPLAY": ":0"}, {"WAYLAND_DISPLAY": "wayland-0"}])
def test_linux_prefers_egl_then_osmesa_with_or_without_a_display(display):
    # Offscreen frames never need a window: GLFW's hidden X window and GLX context are no gain.
    assert choose_backend(display, "linux", can_load=lambda b: True) == "egl"
    assert choose_backend(display, "linux", can_load=lambda b: b == "osmesa") == "osmesa"


def test_glfw_only_where_nothing_else_loads_and_a_display_exists():
    assert choose_backend({"DISPLAY": ":0"}, "linux", can_load=lambda b: False) == "glfw"
    assert choose_backend({}, "linux", can_load=lambda b: False) == "disable"
    assert choose_backend({}, "darwin", can_load=lambda b: True) == "glfw"


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


def _without_osmesa(code: str) -> str:
    """``code`` run where libOSMesa cannot load, whether or not this machine has it."""
    return ("import visiongym.sims.gl as gl\n"
            "gl._LIBRARIES['osmesa'] = ('libOSMesa-not-installed.so.0',)\n" + code)


def test_a_named_backend_that_cannot_load_leaves_physics_working_and_the_first_render_says_why():
    code = _without_osmesa(
        "import numpy as np, mujoco\n"
        "from visiongym.sims.soccer import SoccerScene\n"
        "s = SoccerScene(1)\n"
        "s.step(np.zeros((2, 4)))\n"
        "print('stepped', __import__('os').environ['MUJOCO_GL'])\n"
        "s.render()\n"
    )
    result = _run(code, "osmesa")
    assert result.stdout.strip() == "stepped osmesa", result.stdout + result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("visiongym.sims.gl.RenderingUnavailableError: MUJOCO_GL='osmesa' but its library")
    assert "libOSMesa-not-installed.so.0" in last and "apt-get install" in last


@pytest.mark.parametrize("command", [["visiongym.envs.play"], ["visiongym", "play"]])
def test_a_named_backend_that_cannot_load_ends_the_play_command_with_one_error_line(command):
    code = _without_osmesa(f"import runpy\nrunpy.run_module({command[0]!r}, run_name='__main__', alter_sys=True)")
    env = {key: value for key, value in os.environ.items() if key != "VISIONGYM_TRACEBACK"}
    env["MUJOCO_GL"] = "osmesa"
    args = [*command[1:], "visiongym/TabletopSoccer-v0", "--policy", "random", "--record", "/tmp/never.mp4"]
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("error: MUJOCO_GL='osmesa' but its library") and "apt-get install libosmesa6" in errors[0]


def test_an_unknown_backend_does_not_break_state_envs():
    code = ("import gymnasium as gym, visiongym\n"
            "env = gym.make('visiongym/TabletopSoccer-v0')\n"
            "env.reset(seed=0); env.step(env.action_space.sample()); print('stepped')\n")
    result = _run(code, "vulkan")
    assert result.stdout.strip() == "stepped", result.stderr[-2000:]


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
    code = "import os, visiongym.sims\nprint(os.environ.get('LP_NUM_THREADS'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.stdout.strip() == expected, result.stderr[-2000:]
