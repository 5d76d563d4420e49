"""The pygame window under a real X server (Xvfb): it moves, the keyboard drives, closing ends the run.

The commands run in subprocesses on a private Xvfb's display, as a person would run them; the
screen is read, keys typed and the window closed through the X server (tests/xwindow.py).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from xwindow import Command, changed_pixels, needs_xvfb, wait_for_window

pytestmark = needs_xvfb


# The backend the suite picks with a display (EGL here), and GLFW, where nothing else loads.
@pytest.mark.parametrize("mujoco_gl", [None, "glfw"])
def test_play_window_moves_and_closing_it_ends_the_run_with_the_return(x, command, mujoco_gl):
    play = command("-m", "visiongym.envs.play", "visiongym/TabletopSoccer-v0", "--scenario", "2v2",
                   "--policy", "scripted", mujoco_gl=mujoco_gl)
    window = wait_for_window(x, play)
    assert changed_pixels(x, 1.5) > 500, play.output()  # the game moves on the screen
    assert x.screen().reshape(-1, 3).std(axis=0).max() > 20  # and it is the game, not one colour
    x.close_window(window)
    status, seconds = play.wait(timeout=20)
    assert status == 0 and seconds < 5, play.output()
    assert "episode 1: return" in play.output() and "(window closed)" in play.output()


# The controlled player's position after every step, printed by the env the play command makes.
_REPORT_POSITIONS = """
import sys, gymnasium as gym, visiongym.envs.play as play
from visiongym.envs.cli import run_command

class Report(gym.Wrapper):
    def step(self, action):
        result = self.env.step(action)
        x, y = self.env.unwrapped.scene.player_positions()[self.env.unwrapped.controlled]
        print(f"pos {x:.4f} {y:.4f}", flush=True)
        return result

make = play.gym.make
play.gym.make = lambda *args, **kwargs: Report(make(*args, **kwargs))
run_command(lambda: play.main(sys.argv[1:]))
"""


def _positions(command: Command) -> np.ndarray:
    return np.array([[float(v) for v in line.split()[1:]] for line in list(command.lines)
                     if line.startswith("pos ")])


def _wait_steps(command: Command, steps: int, timeout: float = 30) -> np.ndarray:
    start, deadline = len(_positions(command)), time.monotonic() + timeout
    while len(_positions(command)) < start + steps:
        assert time.monotonic() < deadline and command.process.poll() is None, command.output()
        time.sleep(0.05)
    return _positions(command)[-1]


def test_arrow_keys_drive_the_player_and_escape_ends_the_run(x, command):
    play = command("-c", _REPORT_POSITIONS, "visiongym/TabletopSoccer-v0", "--scenario", "empty_goal",
                   "--policy", "keyboard")
    window = wait_for_window(x, play)
    still = _wait_steps(play, 5)
    resting = _wait_steps(play, 10)
    x.key("Right", True, window)
    _wait_steps(play, 2)
    moved = _wait_steps(play, 10)
    x.key("Right", False, window)
    assert np.abs(resting - still).max() < 0.01, play.output()[-2000:]  # no key: the player stays
    assert moved[0] - resting[0] > 0.05, (resting, moved)  # Right held: it runs east
    x.key("Escape", True, window)
    x.key("Escape", False, window)
    status, seconds = play.wait(timeout=20)
    assert status == 0 and seconds < 5, play.output()[-2000:]
    assert "(window closed)" in play.output()


_HUMAN_MODE = """
import gymnasium as gym, visiongym
env = gym.make("visiongym/TabletopSoccer-v0", scenario="2v2", render_mode="human")
env.reset(seed=0)
for _ in range(2000):
    env.step(env.unwrapped.scripted_action())
print("ran to the end")
"""


def test_human_render_mode_window_moves_and_closing_it_ends_the_program(x, command):
    script = command("-c", _HUMAN_MODE)
    window = wait_for_window(x, script)
    assert changed_pixels(x, 1.5) > 500, script.output()
    x.close_window(window)
    status, seconds = script.wait(timeout=20)
    assert status == 0 and seconds < 5, script.output()
    assert "ran to the end" not in script.output()
