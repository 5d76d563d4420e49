"""The tabletop pipeline: lifting, tracking, the output folder, bad input, atomic writes."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from visiongym.sims.errors import UsageError
from visiongym.vision.tabletop import (
    FORMAT,
    PitchSkippedWarning,
    Tracker,
    chamfer,
    count_id_switches,
    lift_player,
    read_ply,
    read_video,
    reconstruct,
    render_demo_clip,
)
from visiongym.vision.tabletop.__main__ import main
from visiongym.vision.tabletop.stages import OracleDepth, OracleSegmenter

ORACLE_ALL = "calibrate,segment,depth"


@pytest.fixture(scope="module")
def clip():
    return render_demo_clip(frames=8, size=256, seed=0)


def test_lifting_with_exact_depth_and_camera_reproduces_the_surface(clip):
    for frame in clip.frames[:2]:
        truth = frame.truth
        detections = OracleSegmenter()(frame.rgb, truth)
        OracleDepth()(frame.rgb, detections, truth)
        assert len(detections) == len(truth["teams"])
        for player, detection in enumerate(detections):
            points, colours, position = lift_player(frame.rgb, detection.mask, detection.relative, truth["camera"])
            scores = chamfer(points, truth["surface_points"][player])
            assert scores["accuracy"] < 0.015 and scores["chamfer"] < 0.02, scores  # metres; players are 16 cm
            assert np.linalg.norm(position - truth["positions"][player]) < 0.05
            assert colours.shape == points.shape and colours.dtype == np.uint8
            # A point cloud shifted by 10 cm is far from the surface: the measure sees errors.
            assert chamfer(points + [0.1, 0, 0], truth["surface_points"][player])["accuracy"] > 0.05


def test_tracker_keeps_ids_and_counts_a_forced_switch():
    steps = np.arange(10)
    paths = np.stack([np.stack([-0.6 + 0.03 * steps, 0.1 * np.ones(10)], 1),  # three players in a line
                      np.stack([0.5 - 0.02 * steps, -0.3 + 0.01 * steps], 1),
                      np.stack([0.0 * steps, 0.4 - 0.03 * steps], 1)], axis=1)
    teams = np.array([0, 0, 1])
    tracker = Tracker()
    honest, forced = [], []
    for frame in range(10):
        order = np.random.default_rng(frame).permutation(3)  # detections arrive in any order
        ids = tracker.update(frame, paths[frame, order], teams[order])
        honest.append({int(player): int(track) for player, track in zip(order, ids, strict=True)})
        # The same tracks, but the truth says players 0 and 1 swapped identities from frame 5.
        swap = {0: 1, 1: 0, 2: 2} if frame >= 5 else {0: 0, 1: 1, 2: 2}
        forced.append({swap[p]: t for p, t in honest[-1].items()})
    assert count_id_switches(honest) == 0
    assert len(tracker.all_tracks()) == 3
    assert count_id_switches(forced) == 2
    assert count_id_switches([{7: 0}, {}, {7: 0}, {7: 3}]) == 1  # a lost-and-new track is a switch


def test_tracking_a_demo_clip_has_no_switches(clip):
    result = reconstruct(clip, oracle=tuple(ORACLE_ALL.split(",")), progress=False)
    assert result.scores["id_switches"] == 0
    assert result.scores["recall"] == 1.0
    assert len(result.tracks) == len(clip.frames[0].truth["teams"])
    assert result.scores["ground_cm"] < 5 and result.scores["chamfer_cm"] < 2


def test_demo_command_writes_the_complete_folder(tmp_path):
    out = tmp_path / "run"
    result = main(["--demo", "--frames", "4", "--size", "128", "--oracle", ORACLE_ALL, "--out", str(out),
                   "--no-progress"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary folder left beside it
    info = json.loads((out / "reconstruction.json").read_text())
    assert info["format"] == FORMAT and info["frames"] == 4 and info["fps"] > 0
    assert set(info["pitch"]) == {"length", "width", "goal_width"}
    assert info["stages"] == {"calibrate": "oracle", "segment": "oracle", "depth": "oracle"}
    assert info["skipped_frames"] == [] and len(info["cameras"]) == 4
    assert set(info["cameras"][0]) == {"position", "rotation", "fovy", "image_size"}
    assert np.asarray(info["cameras"][0]["rotation"]).shape == (3, 3)
    track_ids = set()
    for index in range(4):
        cloud = read_ply(out / "frames" / f"{index:06d}.ply")
        assert len(cloud) > 20  # small players at 128 px, 4 points per pixel
        x, z = cloud.points[:, 0], cloud.points[:, 2]
        assert np.all(np.abs(x) < 1.4) and np.all(z > -0.02) and np.all(z < 0.25)
        track_ids |= set(np.unique(cloud.tracks).tolist())
    assert track_ids == {int(k) for k in info["tracks"]}
    assert all(t["team"] in (0, 1) for t in info["tracks"].values())
    video = read_video(out / "ar_view.mp4")
    assert len(video.frames) == 4 and video.frames[0].rgb.shape[1] == 2 * video.frames[0].rgb.shape[0]
    scores = json.loads((out / "scores.json").read_text())
    assert {"ground_cm", "chamfer_cm", "id_switches", "fps", "seconds", "stages"} <= set(scores)
    assert result.scores["fps"]["total"] > 0


def test_learned_stages_run_from_checkpoints(tmp_path, clip):
    segment, depth = _random_checkpoints(tmp_path)
    short = type(clip)(clip.frames[:2], clip.fps, clip.pitch, clip.source)
    result = reconstruct(short, oracle=("calibrate", "segment"), segment_checkpoint=None,
                         depth_checkpoint=depth, progress=False)
    assert result.stages["depth"] == "learned" and result.stages["segment"] == "oracle"
    assert np.isfinite(result.scores["chamfer_cm"])
    result = reconstruct(short, oracle=("calibrate", "depth"), segment_checkpoint=segment, progress=False)
    assert result.stages["segment"] == "learned"  # an untrained segmenter may find nobody; it still runs


def test_unreadable_video_is_a_clear_error(tmp_path):
    bad = tmp_path / "game.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    with pytest.raises(UsageError, match=r"game\.mp4.*cannot be read.*mp4"):
        read_video(bad)
    with pytest.raises(UsageError, match="does not exist"):
        main(["--video", str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


def test_frames_without_pitch_are_skipped_with_a_warning_and_a_count(tmp_path, clip):
    frames = [type(f)(f.rgb.copy(), f.truth) for f in clip.frames[:5]]
    frames[1].rgb[:] = 30  # a dark frame: no pitch
    frames[3].rgb[:] = np.array([200, 40, 40], np.uint8)  # all red
    short = type(clip)(frames, clip.fps, clip.pitch, clip.source)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = reconstruct(short, oracle=tuple(ORACLE_ALL.split(",")), progress=False)
    skipped = [w for w in caught if issubclass(w.category, PitchSkippedWarning)]
    assert len(skipped) == 2 and "frame 1" in str(skipped[0].message)
    assert result.scores["skipped_frames"] == 2
    assert [i for i, f in enumerate(result.frames) if f.skipped] == [1, 3]
    assert result.scores["id_switches"] == 0  # tracks survive a short gap


def test_checkpoint_of_another_model_is_a_clear_error(tmp_path, clip):
    import torch

    from visiongym.vision.runtime import save_checkpoint

    other = save_checkpoint(tmp_path / "model.pt", "dqn", {"q": torch.zeros(1)})
    for flag, oracle in (("--segment-checkpoint", "calibrate,depth"), ("--depth-checkpoint", "calibrate,segment")):
        with pytest.raises(UsageError, match="kind 'dqn'|'dqn'"):
            main(["--demo", "--frames", "1", "--size", "128", "--oracle", oracle, flag, str(other),
                  "--out", str(tmp_path / "out"), "--no-progress"])
    with pytest.raises(UsageError, match="no checkpoint"):
        reconstruct(clip, oracle=("calibrate",), progress=False)
    with pytest.raises(UsageError, match="unknown"):
        main(["--demo", "--oracle", "segmnt", "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


def test_an_interrupted_run_leaves_nothing_half_written(tmp_path, monkeypatch):
    import visiongym.vision.tabletop.pipeline as pipeline

    out = tmp_path / "run"
    calls = {"n": 0}
    real = pipeline.render_tabletop

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "render_tabletop", interrupted)
    argv = ["--demo", "--frames", "4", "--size", "128", "--oracle", ORACLE_ALL, "--out", str(out), "--no-progress"]
    with pytest.raises(KeyboardInterrupt):
        main(argv)
    assert list(tmp_path.iterdir()) == []  # neither the folder nor a temporary one
    monkeypatch.setattr(pipeline, "render_tabletop", real)
    main(argv)
    before = sorted(p.name for p in (out / "frames").iterdir())
    calls["n"] = 0
    monkeypatch.setattr(pipeline, "render_tabletop", interrupted)
    with pytest.raises(KeyboardInterrupt):
        main(argv[:2] + ["3"] + argv[3:])  # a second run of 3 frames, interrupted: the first run stays whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert sorted(p.name for p in (out / "frames").iterdir()) == before


def _random_checkpoints(folder):
    from visiongym.vision.depth.engine import CHECKPOINT_KIND, build_model
    from visiongym.vision.runtime import save_checkpoint
    from visiongym.vision.segment.engine import Segmenter

    Segmenter("unet_tiny", image_size=128).save(folder / "seg.pt")
    meta = {"head": "classification", "bins": {"bins": 49, "bin_width": 0.002},
            "spec": {"crop_size": 64, "stride": 2, "context": 1.25, "mask_input": "box", "min_pixels": 20},
            "stacks": 1, "features": 16, "depth": 3}
    save_checkpoint(folder / "depth.pt", CHECKPOINT_KIND, {"model": build_model(meta).state_dict()}, **meta)
    return folder / "seg.pt", folder / "depth.pt"


def test_a_video_file_runs_with_learned_stages_and_skips_frames_without_pitch(tmp_path, capsys):
    import imageio.v2 as imageio

    clip = render_demo_clip(frames=2, size=128, seed=1)
    video = tmp_path / "game.mp4"
    frames = [clip.frames[0].rgb, np.full_like(clip.frames[0].rgb, 20), clip.frames[1].rgb]
    imageio.mimwrite(video, frames, fps=10, macro_block_size=1, quality=9)
    segment, depth = _random_checkpoints(tmp_path)
    out = tmp_path / "out"
    main(["--video", str(video), "--segment-checkpoint", str(segment), "--depth-checkpoint", str(depth),
          "--out", str(out), "--no-progress"])
    info = json.loads((out / "reconstruction.json").read_text())
    assert info["frames"] == 3 and info["skipped_frames"] == [1] and info["cameras"][1] is None
    assert info["stages"] == {"calibrate": "learned", "segment": "learned", "depth": "learned"}
    camera = info["cameras"][0]
    exact = clip.frames[0].truth["camera"]
    assert np.linalg.norm(np.asarray(camera["position"]) - exact.position) < 0.1  # calibrated from the lines
    printed = capsys.readouterr().out
    assert "1 frame(s) skipped" in printed and "frame 1 skipped" in printed
    assert len(read_video(out / "ar_view.mp4").frames) == 3
    with pytest.raises(UsageError, match="need the simulator's labels"):
        main(["--video", str(video), "--oracle", "segment", "--depth-checkpoint", str(depth), "--out", str(out)])
