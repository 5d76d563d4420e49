"""`make demo` end to end on a tiny budget: trains, evaluates, writes the video, returns the rate."""

from agents.demo import main


def test_demo_trains_evaluates_and_writes_the_video(tmp_path):
    video = tmp_path / "demo.mp4"
    goal_rate = main(["--total-steps", "400", "--episodes", "2", "--video", str(video),
                      "--runs-dir", str(tmp_path / "runs"), "--no-progress", "--device", "cpu"])
    assert 0.0 <= goal_rate <= 1.0
    assert video.is_file() and video.stat().st_size > 1000
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "checkpoints" / "last.pt").is_file()
