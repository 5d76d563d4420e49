"""`make demo` end to end on a tiny budget: trains, evaluates, writes the video, returns the rate."""

import numpy as np
import pytest

from visiongym.agents.demo import main


def test_demo_trains_evaluates_and_writes_the_video(tmp_path, monkeypatch, check_video):
    import visiongym.agents.common.evaluation as evaluation
    import visiongym.agents.demo as demo

    seen = {}
    evaluate, write_video = demo.evaluate, evaluation.write_video

    def spy_evaluate(*args, **kwargs):
        seen["result"], written = evaluate(*args, **kwargs)
        return seen["result"], written

    def spy_write_video(frames, path, fps=20):
        seen["frames"] = [np.array(frame) for frame in frames]
        return write_video(frames, path, fps)

    monkeypatch.setattr(demo, "evaluate", spy_evaluate)
    monkeypatch.setattr(evaluation, "write_video", spy_write_video)
    video = tmp_path / "demo.mp4"
    goal_rate = main(["--total-steps", "400", "--episodes", "2", "--video", str(video),
                      "--runs-dir", str(tmp_path / "runs"), "--no-progress", "--device", "cpu"])
    # 400 steps teach nothing yet (the goal rate is that of a near-random policy), so what is
    # checked is that the rate returned is the evaluation's, over the episodes asked for.
    result = seen["result"]
    assert len(result.successes) == 2 and goal_rate == sum(result.successes) / 2
    # The video is the first episode, its reset frame and one frame a step, as rendered
    # (env.render(), 360 x 480). Over the pixels that change, H.264 is off by at most 2.9 a frame
    # (measured, seed 1); the frames in reverse order would be off by 7.7 on average.
    assert len(seen["frames"]) == result.lengths[0] + 1
    decoded = check_video(video, seen["frames"], tolerance=5.0)
    assert decoded.shape[1:] == (360, 480, 3)
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "checkpoints" / "last.pt").is_file()


def test_demo_refuses_a_video_format_before_training(tmp_path):
    with pytest.raises(ValueError, match=r"suffix '\.avi' unsupported; choose one of: \.mp4, \.gif"):
        main(["--video", str(tmp_path / "demo.avi"), "--runs-dir", str(tmp_path / "runs"), "--no-progress"])
    assert not (tmp_path / "runs").exists()
