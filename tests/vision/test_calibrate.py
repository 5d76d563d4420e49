"""Camera calibration from the pitch lines: the model lands on the detected features under the
exact camera, calibration recovers the camera with no clicks, and bad frames and inputs fail
clearly."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from visiongym.sims.camera import CameraModel
from visiongym.sims.errors import UsageError
from visiongym.sims.soccer.builders import PitchSpec
from visiongym.vision.calibrate import (
    CalibrationFailed,
    PitchNotVisible,
    calibrate_frame,
    camera_errors,
    detect_features,
    visible_outline,
)
from visiongym.vision.calibrate.frames import render_frames
from visiongym.vision.calibrate.model import ground_occluded, sample_segments

SPEC = PitchSpec()


@pytest.fixture(scope="module")
def frames():
    """One 192-px frame of the default look and one of the held-out look (camera orbited 6-12
    degrees, rolled 4-8, moved and zoomed: every camera factor outside the training jitter)."""
    return {look: next(iter(render_frames(look, 1, 192, seed=3))) for look in ("default", "held_out")}


@pytest.mark.parametrize("look", ["default", "held_out"])
def test_exact_camera_projects_the_model_onto_the_detected_features(frames, look):
    frame = frames[look]
    features = detect_features(frame.rgb)
    camera = frame.camera
    outline = visible_outline(SPEC, camera.position)
    points, index = sample_segments(outline, 0.01)
    uv, depth = camera.project(points)
    inside = (depth > 0) & (uv[:, 0] >= 1) & (uv[:, 0] < 191) & (uv[:, 1] >= 1) & (uv[:, 1] < 191)
    inside &= ~((points[:, 2] < 0.01) & ground_occluded(SPEC, camera.position, points))
    is_line = np.array(outline.kinds)[index] == "line"
    cols, rows = uv[:, 0].astype(int), uv[:, 1].astype(int)
    line = features.line_distance[rows[inside & is_line], cols[inside & is_line]]
    edge = np.abs(features.edge_distance[rows[inside & ~is_line], cols[inside & ~is_line]])
    # The halfway line and the outline as the exact camera sees them lie on detected pixels
    # (most of the line: players, the centre spot and the held-out look's board shadows hide
    # some of it).
    assert len(line) > 50 and np.median(line) <= 1.0 and np.mean(line <= 1.5) > 0.6
    assert len(edge) > 300 and np.median(edge) <= 1.0 and np.mean(edge <= 1.5) > 0.85
    # ... and a camera tilted 2 degrees does not: the check has teeth.
    turned = CameraModel(position=camera.position, fovy=camera.fovy, height=192, width=192,
                         rotation=camera.rotation @ _rotation_x(2.0))
    uv, _ = turned.project(points[inside & ~is_line])
    ok = (uv[:, 0] >= 0) & (uv[:, 0] < 192) & (uv[:, 1] >= 0) & (uv[:, 1] < 192)
    off = np.abs(features.edge_distance[uv[ok, 1].astype(int), uv[ok, 0].astype(int)])
    assert np.median(off) > 3.0


def _rotation_x(degrees: float) -> np.ndarray:
    a = np.deg2rad(degrees)
    return np.array([[1.0, 0.0, 0.0], [0.0, np.cos(a), -np.sin(a)], [0.0, np.sin(a), np.cos(a)]])


@pytest.mark.parametrize("look", ["default", "held_out"])
def test_calibration_recovers_the_exact_camera(frames, look):
    frame = frames[look]
    result = calibrate_frame(frame.rgb, SPEC, (192, 192))
    errors = camera_errors(result.camera, frame.camera, SPEC)
    # Tolerances: reprojection under 1 px (the issue asks < 2), position within 5 % of the
    # camera's 2.8 m distance, orientation within 0.5 degree, field of view within 2 degrees.
    assert errors["reprojection_px"] < 1.0, errors
    assert errors["position_rel"] < 0.05 and errors["rotation_deg"] < 0.5, errors
    assert abs(errors["fovy_deg"]) < 2.0, errors
    assert result.inlier_share > 0.8
    if look == "held_out":  # the search found a camera well away from the prior
        assert errors["position_cm"] < 0.5 * 100 * np.linalg.norm(frame.camera.position - [0.0, -2.054, 1.938])
    # The homography maps the pitch plane to pixels and back.
    corners = np.array([[-1.2, 0.8], [1.2, 0.8], [0.0, 0.0], [0.5, -0.3]])
    uv, _ = result.camera.project(np.c_[corners, np.zeros(len(corners))])
    assert np.allclose(result.pitch_from_pixels(uv), corners, atol=1e-6)
    # A camera for a larger image keeps the field of view and scales the pixels.
    big = calibrate_frame(frame.rgb, SPEC, (384, 384)).camera if look == "default" else None
    if big is not None:
        assert big.height == 384 and np.isclose(big.fovy, result.camera.fovy, atol=1e-6)


def test_a_frame_with_no_pitch_raises_pitch_not_visible():
    black = np.zeros((128, 128, 3), np.uint8)
    with pytest.raises(PitchNotVisible, match="green; too little pitch"):
        calibrate_frame(black, SPEC)
    table = np.broadcast_to(np.array([115, 82, 51], np.uint8), (128, 128, 3)).copy()
    with pytest.raises(PitchNotVisible):
        calibrate_frame(table, SPEC)
    assert issubclass(PitchNotVisible, UsageError) and issubclass(CalibrationFailed, UsageError)


def test_a_green_frame_with_no_lines_is_refused():
    """All pitch and nothing else: no outline to fit, so no camera is claimed."""
    green = np.broadcast_to(np.array([46, 140, 56], np.uint8), (128, 128, 3)).copy()
    with pytest.raises((PitchNotVisible, CalibrationFailed), match="outline|not calibrated"):
        calibrate_frame(green, SPEC)


def test_bad_inputs_name_what_is_allowed(frames):
    rgb = frames["default"].rgb
    with pytest.raises(UsageError, match="need uint8"):
        calibrate_frame(rgb.astype(np.float32), SPEC)
    with pytest.raises(UsageError, match=r"need \(height, width, 3\)"):
        calibrate_frame(rgb[..., 0], SPEC)
    with pytest.raises(UsageError, match="at least 32x32"):
        calibrate_frame(rgb[:16, :16], SPEC)
    with pytest.raises(UsageError, match="aspect ratio"):
        calibrate_frame(rgb, SPEC, (192, 256))
    with pytest.raises(UsageError, match="two positive integers"):
        calibrate_frame(rgb, SPEC, (192.0, 192))
    with pytest.raises(UsageError, match="must be a PitchSpec"):
        calibrate_frame(rgb, {"length": 2.4})
    ortho = CameraModel(np.zeros(3), np.eye(3), 2.0, 192, 192, orthographic=True)
    with pytest.raises(UsageError, match="orthographic"):
        calibrate_frame(rgb, SPEC, prior=ortho)


def test_visible_outline_uses_the_board_top_where_the_board_hides_the_ground_edge():
    broadcast = np.array([0.0, -2.054, 1.938])
    outline = dict(zip(visible_outline(SPEC, broadcast).names, visible_outline(SPEC, broadcast).starts, strict=True))
    assert outline["touchline_south"][2] == pytest.approx(SPEC.board_height)  # near side: the board's top
    assert outline["touchline_north"][2] < 0.01 and outline["goal_line_east_n"][2] < 0.01
    near, far = np.array([[0.0, -0.79, 0.001]]), np.array([[0.0, 0.79, 0.001]])
    assert ground_occluded(SPEC, broadcast, near)[0] and not ground_occluded(SPEC, broadcast, far)[0]


def test_command_writes_cameras_overlays_and_counts_skipped_frames(tmp_path, capsys):
    from visiongym.vision.calibrate.__main__ import main
    from visiongym.vision.data.format import write_image

    out = tmp_path / "run"
    rows = main(["--demo", "--looks", "default", "--frames", "1", "--size", "128", "--out", str(out),
                 "--no-progress"])
    assert rows["default"]["calibrated"] == 1.0 and rows["default"]["reproj_px"] < 2.0
    record = json.loads((out / "cameras" / "default_0000.json").read_text())
    assert record["calibrated"] and record["errors"]["reprojection_px"] < 2.0
    assert len(record["camera"]["position"]) == 3 and (out / "overlays" / "default_0000.png").is_file()
    assert json.loads((out / "summary.json").read_text())["default"]["frames"] == 1
    printed = capsys.readouterr().out
    assert "reproj_px" in printed and "wrote" in printed

    black = tmp_path / "black.png"
    write_image(black, np.zeros((96, 96, 3), np.uint8))
    with warnings.catch_warnings(record=True):
        rows = main(["--frame", str(black), "--out", str(tmp_path / "black_run"), "--no-progress"])
    assert rows["frame"]["calibrated"] == 0.0
    assert "1 frame(s) not calibrated" in capsys.readouterr().out
    record = json.loads((tmp_path / "black_run" / "cameras" / "black.json").read_text())
    assert not record["calibrated"] and "pitch" in record["reason"]

    with pytest.raises(UsageError, match="exactly one of --data, --frame, --demo"):
        main(["--out", str(tmp_path / "none")])
    with pytest.raises(UsageError, match="unknown; choose one of"):
        main(["--demo", "--looks", "sunny", "--out", str(tmp_path / "bad")])
    with pytest.raises(UsageError, match="frames=0 must be at least 1"):
        main(["--demo", "--frames", "0", "--out", str(tmp_path / "bad")])
    with pytest.raises(UsageError, match="not found"):
        main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "bad")])


def test_dataset_frames_come_with_their_exact_cameras(soccer_dataset, tmp_path):
    """A render-data dataset's frames get the exact camera of their recorded look: it projects
    each goal's mouth into that goal's annotated box. The command calibrates them."""
    from visiongym.vision.calibrate.__main__ import main
    from visiongym.vision.calibrate.frames import dataset_frames
    from visiongym.vision.data.format import CLASS_NAMES

    annotations = json.loads((soccer_dataset / "test" / "annotations.json").read_text())["annotations"]
    frames = list(dataset_frames(soccer_dataset, "test", limit=3))
    assert [f.name for f in frames] == ["test_000000", "test_000001", "test_000002"]
    assert len({tuple(np.round(f.camera.position, 4)) for f in frames}) == 3  # jittered per frame (random looks)
    for index, frame in enumerate(frames):
        goals = [a["bbox"] for a in annotations
                 if a["image_id"] == index and a["category_id"] == CLASS_NAMES.index("goal")]
        mouths, _ = frame.camera.project(np.array([[-1.2, 0.0, 0.05], [1.2, 0.0, 0.05]]))
        for u, v in mouths:
            if 0 <= u < 64 and 0 <= v < 64:
                assert any(x <= u <= x + w and y <= v <= y + h for x, y, w, h in goals)
    rows = main(["--data", str(soccer_dataset), "--split", "test", "--frames", "1", "--out", str(tmp_path / "run"),
                 "--no-progress"])
    (row,) = rows.values()
    assert row["frames"] == 1 and len(list((tmp_path / "run" / "cameras").glob("test_*.json"))) == 1
    with pytest.raises(UsageError, match="split 'tset' unknown; choose one of: train, val, test"):
        dataset_frames(soccer_dataset, "tset")
