import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vision.runtime import TRACEBACK_VARIABLE, tune_cpu_allocator


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_tune_cpu_allocator_applies_on_glibc_and_keeps_tensors_working():
    assert tune_cpu_allocator() is True
    a = torch.ones(1 << 20)  # 4 MiB, freed and reallocated below
    del a
    assert float(torch.ones(1 << 20).sum()) == float(1 << 20)


def test_tune_cpu_allocator_reports_false_without_glibc(monkeypatch):
    monkeypatch.setattr(platform, "libc_ver", lambda: ("", ""))
    assert tune_cpu_allocator() is False


def test_vision_command_ends_bad_input_with_one_error_line(tmp_path):
    missing = tmp_path / "nowhere"
    env = {key: value for key, value in os.environ.items() if key != TRACEBACK_VARIABLE}
    result = subprocess.run([sys.executable, "-m", "vision.detect.train", "--data", str(missing)],
                            capture_output=True, text=True, env=env, timeout=120,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: dataset folder {str(missing)!r} does not exist")
    assert "Traceback" not in result.stderr
