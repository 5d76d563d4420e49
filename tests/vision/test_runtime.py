import platform
import subprocess
import sys

import pytest

from visiongym.vision.runtime import tune_cpu_allocator

# mallopt is process-wide and sticky (glibc has no call that reads the thresholds back), so the
# tuning runs in a child process: no other test of this run sees the changed allocator.
_TUNE_AND_ALLOCATE = """
import torch
from visiongym.vision.runtime import tune_cpu_allocator
assert tune_cpu_allocator() is True
a = torch.ones(1 << 20)  # 4 MiB, freed and reallocated below
del a
assert float(torch.ones(1 << 20).sum()) == float(1 << 20)
print("tuned")
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_tune_cpu_allocator_applies_on_glibc_and_keeps_tensors_working():
    done = subprocess.run([sys.executable, "-c", _TUNE_AND_ALLOCATE], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "tuned"


def test_tune_cpu_allocator_reports_false_without_glibc(monkeypatch):
    monkeypatch.setattr(platform, "libc_ver", lambda: ("", ""))
    assert tune_cpu_allocator() is False
