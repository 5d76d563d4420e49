"""`make demo` end to end on a tiny budget: trains, evaluates, writes the video, returns the rate."""

import pytest

from visiongym.agents.demo import main


def test_demo_trains_evaluates_and_writes_the_video(tmp_path):
    video = tmp_path / "demo.mp4"
    goal_rate = main(["--total-steps", "400", "--episodes", "2", "--video", str(video),
                      "--runs-dir", str(tmp_path / "runs"), "--no-progress", "--device", "cpu"])
    assert 0.0 <= goal_rate <= 1.0
    assert video.is_file() and video.stat().st_size > 1000
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "checkpoints" / "last.pt").is_file()


def test_demo_refuses_a_video_format_before_training(tmp_path):
    with pytest.raises(ValueError, match=r"suffix '\.avi' unsupported; choose one of: \.mp4, \.gif"):
        main(["--video", str(tmp_path / "demo.avi"), "--runs-dir", str(tmp_path / "runs"), "--no-progress"])
    assert not (tmp_path / "runs").exists()
