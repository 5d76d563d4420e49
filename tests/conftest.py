"""Test-wide settings: headless pygame and MuJoCo, few threads (CI has 2 cores); a command runner."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from visiongym.sims.gl import configure_gl  # noqa: E402

configure_gl()

from xwindow import command, x, xserver  # noqa: E402, F401 - the real-window fixtures (tests/xwindow.py)

try:
    import torch

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
except ImportError:  # pragma: no cover
    pass


@pytest.fixture
def run_module():
    """``run_module("visiongym.agents.evaluate", *args)``: ``python -m`` in a fresh process from the repository
    root, without ``VISIONGYM_TRACEBACK``; returns the CompletedProcess (text stdout and stderr)."""
    from visiongym.envs.cli import TRACEBACK_VARIABLE

    env = {key: value for key, value in os.environ.items() if key != TRACEBACK_VARIABLE}

    def run(module: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True,
                              env=env, timeout=120, cwd=Path(__file__).resolve().parents[1])

    return run


@pytest.fixture(scope="session", autouse=True)
def allocator_calls():
    """The trainers tune glibc's allocator by default (``tune_cpu_allocator``: process-wide and
    sticky), which in this process would change it for every later test. Here they get a stand-in
    that records its calls; tests/vision/test_runtime.py tunes it for real, in a child process."""
    calls: list[tuple] = []

    def record(*args, **kwargs) -> bool:
        calls.append((args, kwargs))
        return True

    with pytest.MonkeyPatch.context() as patch:
        for trainer in ("visiongym.agents.dqn.trainer", "visiongym.agents.sb3.trainer"):
            patch.setattr(f"{trainer}.tune_cpu_allocator", record)
        yield calls


@pytest.fixture
def check_video():
    """``check_video(path, frames, tolerance)``: decode the video at ``path`` and assert that it
    holds ``frames``: as many, of the same size, and each decoded frame within ``tolerance`` of its
    own frame (mean absolute difference, 0-255, over the pixels that change during the recording,
    so a still background cannot hide a wrong or reordered frame). Returns the decoded frames."""
    import imageio.v3 as iio

    def check(path, frames, tolerance: float) -> np.ndarray:
        decoded = iio.imread(path)[..., :3].astype(np.int16)  # every frame; a gif's may carry alpha
        expected = np.asarray(frames)[..., :3].astype(np.int16)
        assert decoded.shape == expected.shape, (decoded.shape, expected.shape)
        changing = (expected.max(axis=0) - expected.min(axis=0)).max(axis=-1) > 60
        assert changing.any(), "the recorded frames are a still picture"
        error = np.abs(decoded - expected)[:, changing].mean(axis=(1, 2))
        assert error.max() <= tolerance, f"frame {int(error.argmax())} off by {error.max():.2f} on average"
        return decoded

    return check


@pytest.fixture
def hud_frames(monkeypatch):
    """The frames ``visiongym.envs.play`` hands its video writer (after the HUD), in order."""
    import visiongym.envs.viewer as viewer

    frames: list[np.ndarray] = []
    draw_hud = viewer.draw_hud

    def record(frame, hud):
        out = draw_hud(frame, hud)
        frames.append(np.array(out))
        return out

    monkeypatch.setattr(viewer, "draw_hud", record)
    return frames


@pytest.fixture
def check_pin():
    """``check_pin(path, name, found, what)``: assert ``found`` equals the pin ``name`` in the JSON file
    ``path``; with ``VISIONGYM_UPDATE_PINS=1`` write it there instead (and skip)."""
    import json

    def check(path: Path, name: str, found, what: str) -> None:
        if os.environ.get("VISIONGYM_UPDATE_PINS") == "1":
            pins = json.loads(path.read_text()) if path.exists() else {}
            pins[name] = found
            path.parent.mkdir(exist_ok=True)
            path.write_text(json.dumps(dict(sorted(pins.items())), indent=1) + "\n")
            pytest.skip("pin updated")
        pins = json.loads(path.read_text())
        assert name in pins, f"no pin for {name!r}; run with VISIONGYM_UPDATE_PINS=1"
        assert found == pins[name], f"{name}: {what}"

    return check
