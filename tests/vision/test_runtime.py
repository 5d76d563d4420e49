import platform

import pytest
import torch

from visiongym.vision.runtime import tune_cpu_allocator


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_tune_cpu_allocator_applies_on_glibc_and_keeps_tensors_working():
    assert tune_cpu_allocator() is True
    a = torch.ones(1 << 20)  # 4 MiB, freed and reallocated below
    del a
    assert float(torch.ones(1 << 20).sum()) == float(1 << 20)


def test_tune_cpu_allocator_reports_false_without_glibc(monkeypatch):
    monkeypatch.setattr(platform, "libc_ver", lambda: ("", ""))
    assert tune_cpu_allocator() is False

