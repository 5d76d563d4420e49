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


def test_init_from_checkpoint_copies_what_fits_and_refuses_a_model_that_shares_only_counters(tmp_path, capsys):
    """Weights of the same layout are copied; a model of another layout whose only matches are
    BatchNorm's scalar step counters is refused, not reported as initialised."""
    import torch
    from torch import nn

    from visiongym.vision.runtime import CheckpointError, init_from_checkpoint, save_checkpoint

    torch.manual_seed(0)
    trained = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    path = save_checkpoint(tmp_path / "a.pt", "toy", {"model": trained.state_dict()})
    same = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    assert init_from_checkpoint(same, path, "toy") == len(same.state_dict())
    assert torch.equal(same[0].weight, trained[0].weight)
    assert "initialised 7 of 7 tensors" in capsys.readouterr().out
    other = nn.Sequential(nn.Conv2d(3, 8, 5), nn.BatchNorm2d(8))
    with pytest.raises(CheckpointError, match="has no tensor that fits"):
        init_from_checkpoint(other, path, "toy")
