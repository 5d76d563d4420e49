"""``visiongym tabletop view``: the PLY frames, the orbit camera's maths, the picture and bad folders."""

from __future__ import annotations

import json

import numpy as np
import pytest

from visiongym.sims.errors import UsageError
from visiongym.sims.soccer.builders import PitchSpec
from visiongym.vision.tabletop.plyio import PointCloud, frame_path, read_ply, write_ply
from visiongym.vision.tabletop.viewer import (
    FORMAT,
    OrbitView,
    SceneRenderer,
    default_view,
    load_reconstruction,
    record_orbit,
    screenshot,
    write_ground_truth_reconstruction,
)

FRAMES = 12


@pytest.fixture(scope="module")
def truth(tmp_path_factory):
    """A ground-truth reconstruction folder of a short scripted 2v2 clip."""
    return write_ground_truth_reconstruction(tmp_path_factory.mktemp("truth"), frames=FRAMES, seed=3)


def test_ply_round_trip_keeps_every_value_and_the_layout_is_the_documented_one(tmp_path):
    rng = np.random.default_rng(0)
    points = rng.normal(size=(500, 3)).astype(np.float32)
    colours = rng.integers(0, 256, (500, 3)).astype(np.uint8)
    tracks = rng.integers(-1, 9, 500).astype(np.int32)
    path = write_ply(tmp_path / "frames" / "000000.ply", points, colours, tracks)
    cloud = read_ply(path)
    np.testing.assert_array_equal(cloud.points, points)
    np.testing.assert_array_equal(cloud.colours, colours)
    np.testing.assert_array_equal(cloud.tracks, tracks)
    raw = path.read_bytes()
    assert raw.startswith(b"ply\nformat binary_little_endian 1.0\nelement vertex 500\nproperty float x\n")
    assert len(raw) - raw.index(b"end_header\n") - len(b"end_header\n") == 500 * 19  # packed records
    assert len(read_ply(write_ply(tmp_path / "empty.ply", np.zeros((0, 3)), np.zeros((0, 3))))) == 0


def test_other_ply_files_are_refused_naming_the_expected_layout(tmp_path):
    ascii_ply = tmp_path / "ascii.ply"
    ascii_ply.write_text("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nend_header\n0\n")
    with pytest.raises(UsageError, match="binary_little_endian 1.0 PLY .*int track"):
        read_ply(ascii_ply)
    good = write_ply(tmp_path / "good.ply", np.zeros((4, 3)), np.zeros((4, 3)))
    (tmp_path / "cut.ply").write_bytes(good.read_bytes()[:-5])
    with pytest.raises(UsageError, match="truncated"):
        read_ply(tmp_path / "cut.ply")
    with pytest.raises(UsageError, match="not found"):
        read_ply(tmp_path / "missing.ply")


def test_a_known_point_lands_on_the_expected_pixel_and_orbiting_moves_it():
    view = OrbitView(azimuth=-90.0, elevation=30.0, distance=2.0, fovy=45.0)
    camera = view.camera(480, 640)
    focal = 240 / np.tan(np.radians(22.5))
    uv, depth = camera.project(np.array([[0.0, 0.0, 0.0], [0.1, 0.0, 0.0]]))
    np.testing.assert_allclose(uv[0], [320, 240], atol=1e-9)  # the target is the picture's centre
    # Seen from -y, +x is to the right: 0.1 m at 2 m is focal * 0.05 pixels right of the centre.
    np.testing.assert_allclose(uv[1], [320 + focal * 0.05, 240], atol=1e-9)
    np.testing.assert_allclose(depth, [2.0, 2.0], atol=1e-12)
    np.testing.assert_allclose(view.eye(), [0, -2 * np.cos(np.radians(30)), 2 * np.sin(np.radians(30))], atol=1e-12)
    # A quarter turn: from +x, the same point now lies on the axis, 0.1 m nearer.
    turned = view.orbit(90.0, 0.0).camera(480, 640)
    uv_turned, depth_turned = turned.project(np.array([[0.1, 0.0, 0.0]]))
    np.testing.assert_allclose(uv_turned[0, 0], 320, atol=1e-9)
    assert depth_turned[0] == pytest.approx(2.0 - 0.1 * np.cos(np.radians(30)))
    assert view.orbit(0.0, 200.0).elevation == 89.0 and view.zoom(0.5).distance == 1.0
    panned = view.pan(0.5, 0.0)  # half the distance to the right: +x
    np.testing.assert_allclose(panned.target, (1.0, 0.0, 0.0), atol=1e-12)


def test_points_are_drawn_where_they_project_and_the_boards_hide_what_is_behind_them():
    pitch = PitchSpec(length=2.4, width=1.6, goal_width=0.4)
    renderer = SceneRenderer(pitch)
    magenta = np.array([[255, 0, 255]], np.uint8)
    behind_board = np.array([[0.3, pitch.width / 2 + pitch.board_thickness + 0.02, 0.02]], np.float32)
    cloud = PointCloud(behind_board, magenta, np.array([-1], np.int32))
    for azimuth, seen in ((90.0, True), (-90.0, False)):  # from the north it shows; from the south the board hides it
        camera = OrbitView(azimuth=azimuth, elevation=10.0, distance=2.5).camera(240, 320)
        (u, v), = camera.project(behind_board)[0]
        image = renderer.render(cloud, camera)
        assert (tuple(image[int(v), int(u)]) == (255, 0, 255)) == seen, azimuth
    on_pitch = PointCloud(np.array([[0.5, 0.2, 0.05]], np.float32), magenta, np.array([0], np.int32))
    camera = OrbitView(azimuth=-60.0, elevation=40.0, distance=2.0).camera(240, 320)
    (u, v), = camera.project(on_pitch.points)[0]
    image = renderer.render(on_pitch, camera)
    assert tuple(image[int(v), int(u)]) == (255, 0, 255)
    assert (image == (255, 0, 255)).all(axis=2).sum() in range(4, 37)  # one splat, 2 to 6 pixels a side
    on_plane = PointCloud(np.array([[0.5, 0.2, 0.0]], np.float32), magenta, np.array([-1], np.int32))
    (u, v), = camera.project(on_plane.points)[0]
    assert tuple(renderer.render(on_plane, camera)[int(v), int(u)]) == (255, 0, 255)  # not under the pitch


def _counts(image: np.ndarray) -> dict[str, int]:
    r, g, b = (image[..., k].astype(int) for k in range(3))
    return {"pitch": int(((g > r + 40) & (g > b + 40)).sum()), "red": int(((r > g + 60) & (r > b + 60)).sum()),
            "blue": int(((b > r + 60) & (b > g + 40)).sum())}


def test_screenshot_of_the_ground_truth_shows_the_pitch_and_both_teams(truth, tmp_path):
    import imageio.v3 as iio

    recon = load_reconstruction(truth)
    meta = json.loads((truth / "reconstruction.json").read_text())
    assert meta["format"] == FORMAT and recon.frames == FRAMES and recon.fps == pytest.approx(20.0)
    assert len(meta["cameras"]) == FRAMES and set(meta["tracks"]) == {"0", "1", "2", "3"}
    cloud = recon.cloud(5)
    assert sorted(set(cloud.tracks.tolist())) == [-1, 0, 1, 2, 3]
    assert 0.0 < cloud.points[cloud.tracks >= 0, 2].max() < 0.25  # players stand on the table
    view = OrbitView(azimuth=-90.0, elevation=35.0, distance=1.6)
    shot = iio.imread(screenshot(recon, tmp_path / "shot.png", frame=5, view_=view, size=(480, 320), hud=False))
    empty = SceneRenderer(recon.pitch).render(PointCloud(cloud.points[:0], cloud.colours[:0], cloud.tracks[:0]),
                                              view.camera(320, 480))
    with_points, without = _counts(shot), _counts(empty)
    assert with_points["pitch"] > 0.25 * 480 * 320, with_points
    assert with_points["red"] > 60 and with_points["blue"] > 60, with_points
    assert without["red"] < 5 and without["blue"] < 5, without
    assert iio.imread(screenshot(recon, tmp_path / "hud.png", frame=5)).shape == (640, 960, 3)


def test_orbit_video_has_one_frame_per_clip_step_and_turns(truth, tmp_path):
    import imageio.v3 as iio

    recon = load_reconstruction(truth)
    video = iio.imread(record_orbit(recon, tmp_path / "orbit.mp4", size=(320, 224), seconds=0.5))
    assert video.shape == (10, 224, 320, 3)
    assert np.abs(video[0].astype(int) - video[5]).mean() > 5  # the camera has moved


def test_default_view_fits_the_table():
    pitch = PitchSpec()
    camera = default_view(pitch, 1.5).camera(640, 960)
    hl, hw = pitch.length / 2, pitch.width / 2
    uv, _ = camera.project(np.array([[sx * hl, sy * hw, 0.0] for sx in (-1, 1) for sy in (-1, 1)]))
    assert (uv[:, 0] > 0).all() and (uv[:, 0] < 960).all() and (uv[:, 1] > 0).all() and (uv[:, 1] < 640).all()


def test_bad_folders_raise_usage_errors_naming_what_is_expected(tmp_path, truth, run_module):
    with pytest.raises(UsageError, match="not found; expected a reconstruction folder"):
        load_reconstruction(tmp_path / "nowhere")
    with pytest.raises(UsageError, match="no reconstruction.json"):
        load_reconstruction(tmp_path)
    (tmp_path / "reconstruction.json").write_text(json.dumps({"format": "colmap", "frames": 1}))
    with pytest.raises(UsageError, match="format 'colmap'; expected 'visiongym-tabletop-1'"):
        load_reconstruction(tmp_path)
    (tmp_path / "reconstruction.json").write_text(json.dumps({"format": FORMAT, "frames": 2, "fps": 20}))
    with pytest.raises(UsageError, match="lacks or garbles 'length'"):
        load_reconstruction(tmp_path)
    meta = json.loads((truth / "reconstruction.json").read_text())
    (tmp_path / "reconstruction.json").write_text(json.dumps(meta))
    with pytest.raises(UsageError, match=r"no frames/000000.ply"):
        load_reconstruction(tmp_path)
    frame_path(tmp_path, 0).parent.mkdir()
    frame_path(tmp_path, 0).write_text("not a ply")
    with pytest.raises(UsageError, match="not a PLY file"):
        load_reconstruction(tmp_path).cloud(0)
    result = run_module("visiongym", "tabletop", "view", str(tmp_path / "nowhere"), "--screenshot",
                        str(tmp_path / "x.png"))
    assert result.returncode == 2 and "error:" in result.stderr and "reconstruction.json" in result.stderr, result
