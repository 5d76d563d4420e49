"""The soccer scene: physics, kicks, referee, scripted players, cameras and ground truth."""

import pickle

import mujoco
import numpy as np
import pytest

from visiongym.sims.soccer import CLASS_NAMES, SoccerScene

IDLE = np.zeros((4, 4))


@pytest.fixture(scope="module")
def scene():
    s = SoccerScene(team_size=2)
    yield s
    s.close()


def spread(scene: SoccerScene) -> None:
    """Players and ball apart from each other, so no object hides another in any camera."""
    scene.reset(np.random.default_rng(0), jitter=0.0)
    for i, (x, y) in enumerate([(-0.7, -0.35), (-0.25, 0.3), (0.3, -0.3), (0.75, 0.35)]):
        scene.set_player(i, (x, y), yaw=0.3 * i)
    scene.set_ball((0.05, 0.05))


def test_named_accessors_report_state(scene):
    spread(scene)
    np.testing.assert_allclose(scene.ball_position(), (0.05, 0.05))
    np.testing.assert_allclose(scene.player_positions()[3], (0.75, 0.35))
    assert scene.player_yaws().shape == (4,)
    assert scene.score() == (0, 0)
    scene.step(IDLE)
    assert scene.time() == pytest.approx(scene.control_dt)


@pytest.mark.parametrize(
    ("accessor", "array", "shape"),
    [
        ("ball_position", "qpos", (2,)),
        ("ball_velocity", "qvel", (2,)),
        ("player_positions", "qpos", (4, 2)),
        ("player_velocities", "qvel", (4, 2)),
        ("player_yaws", "qpos", (4,)),
        ("player_poses", "qpos", (4, 3)),
    ],
)
def test_state_accessors_are_read_only_views_that_follow_the_scene(scene, accessor, array, shape):
    spread(scene)
    view = getattr(scene, accessor)()
    assert view.shape == shape and np.shares_memory(view, getattr(scene.data, array))
    assert getattr(scene, accessor)() is view  # no new array per call: free on the hot path
    np.testing.assert_array_equal(scene.player_poses()[:, :2], scene.player_positions())
    np.testing.assert_array_equal(scene.player_poses()[:, 2], scene.player_yaws())
    with pytest.raises(ValueError, match="read-only"):
        view[...] = 0.0
    before = view.copy()
    scene.set_ball((0.4, -0.2), vel=(0.5, 0.1))
    for i in range(scene.n_players):
        scene.set_player(i, (0.1 * i - 0.2, 0.3), yaw=0.5 + i)
    commands = np.zeros((4, 4))
    commands[:, 0] = 0.5
    commands[:, 2] = 0.5
    scene.step(commands)
    assert not np.array_equal(view, before)  # the view moved with the state


def test_accessor_views_survive_pickling(scene):
    spread(scene)
    clone = pickle.loads(pickle.dumps(scene))
    assert np.shares_memory(clone.ball_position(), clone.data.qpos)
    assert not np.shares_memory(clone.ball_position(), scene.data.qpos)
    assert not clone.player_positions().flags.writeable
    np.testing.assert_array_equal(clone.player_positions(), scene.player_positions())
    assert list(clone.team_players(1)) == [2, 3] and list(clone.attack_signs) == [1, 1, -1, -1]
    clone.close()


def test_public_names_import_from_the_package_and_the_split_modules():
    import visiongym.sims.soccer as soccer
    from visiongym.sims.soccer import appearance, cameras, ground_truth, scene

    assert soccer.CAMERAS is cameras.CAMERAS is scene.CAMERAS
    assert soccer.CLASS_NAMES is ground_truth.CLASS_NAMES is scene.CLASS_NAMES
    assert soccer.KIT_HUES is appearance.KIT_HUES and soccer.TEAM_COLOUR_MODES is appearance.TEAM_COLOUR_MODES


def test_instance_table_names_every_object(scene):
    table = scene.instances
    n = scene.n_players
    assert [CLASS_NAMES[c] for c in table.instance_class] == (
        ["background", "ball"] + ["team_a"] * 2 + ["team_b"] * 2 + ["goal"] * 2
    )
    assert list(table.instance_team[2 : 2 + n]) == [0, 0, 1, 1]
    assert list(table.instance_number[2 : 2 + n]) == [1, 2, 1, 2]
    ball = mujoco.mj_name2id(scene.model, mujoco.mjtObj.mjOBJ_GEOM, "ball")
    assert ball in table.geoms_of(1) and len(table.geoms_of(2)) == 3  # body, cap, nose


def test_kick_is_an_impulse_only_when_close_and_facing(scene):
    spread(scene)
    scene.set_player(0, (0.0, 0.0), yaw=0.0)
    scene.set_ball((scene.reach - 0.01, 0.0))
    scene.step(np.array([[0, 0, 0, 1.0]] + [[0, 0, 0, -1.0]] * 3))
    assert scene.ball_velocity()[0] > 0.8 * scene.kick_speed
    # Facing away: no kick.
    spread(scene)
    scene.set_player(0, (0.0, 0.0), yaw=np.pi)
    scene.set_ball((scene.reach - 0.01, 0.0))
    scene.step(np.array([[0, 0, 0, 1.0]] + [[0, 0, 0, -1.0]] * 3))
    assert abs(scene.ball_velocity()[0]) < 0.2
    # Too far: no kick.
    spread(scene)
    scene.set_player(0, (0.0, 0.0), yaw=0.0)
    scene.set_ball((3 * scene.reach, 0.0))
    scene.step(np.array([[0, 0, 0, 1.0]] + [[0, 0, 0, -1.0]] * 3))
    assert np.hypot(*scene.ball_velocity()) < 0.05


def test_kick_target_aims_the_ball_instead_of_the_facing_direction(scene):
    spread(scene)
    scene.set_player(0, (0.0, 0.0), yaw=np.pi / 4)  # facing north-east
    scene.set_ball((0.07, 0.05))  # in reach, inside the facing cone
    target = (scene.pitch.length / 2, 0.0)
    scene.kick_targets[0] = target
    try:
        scene.step(np.array([[0, 0, 0, 1.0]] + [[0, 0, 0, -1.0]] * 3))
    finally:
        scene.kick_targets.clear()
    velocity = scene.ball_velocity()
    aim = np.subtract(target, (0.07, 0.05))
    cosine = velocity @ aim / (np.linalg.norm(velocity) * np.linalg.norm(aim))
    assert np.linalg.norm(velocity) > 0.8 * scene.kick_speed and cosine > 0.99


@pytest.mark.parametrize(
    ("yaw", "ball", "expected_aim"),
    [
        (np.pi / 4, (0.07, 0.05), "top_end"),  # would cross the goal line wide: pulled to the window's end
        (0.05, (0.08, 0.0), "facing"),  # crosses inside the window: left as it is
        (np.pi, (-0.08, 0.0), "facing"),  # away from the line: never pulled round
    ],
)
def test_kick_window_keeps_the_facing_direction_inside_the_window(scene, yaw, ball, expected_aim):
    spread(scene)
    scene.set_player(0, (0.0, 0.0), yaw=yaw)
    scene.set_ball(ball)
    line_x, low, high = scene.pitch.length / 2, -0.19, 0.19
    scene.kick_windows[0] = (line_x, low, high)
    try:
        scene.step(np.array([[0, 0, 0, 1.0]] + [[0, 0, 0, -1.0]] * 3))
    finally:
        scene.kick_windows.clear()
    velocity = scene.ball_velocity()
    if expected_aim == "top_end":
        aim = np.subtract((line_x, high), ball)
    else:
        aim = np.array([np.cos(yaw), np.sin(yaw)])
    cosine = velocity @ aim / (np.linalg.norm(velocity) * np.linalg.norm(aim))
    assert np.linalg.norm(velocity) > 0.8 * scene.kick_speed and cosine > 0.99


def test_goal_scores_and_restarts_with_kickoff(scene):
    spread(scene)
    half = scene.pitch.length / 2
    scene.set_ball((half - 0.05, 0.0), vel=(2.0, 0.0))
    goals = [scene.step(IDLE) for _ in range(5)]
    assert 1 in goals and scene.score() == (1, 0) and scene.last_goal() in (0, 1)
    # Kick-off: ball on the centre spot, every player in its own half.
    np.testing.assert_allclose(scene.ball_position(), (0, 0), atol=1e-6)
    x = scene.player_positions()[:, 0]
    assert (x[:2] < 0).all() and (x[2:] > 0).all()
    scene.set_ball((-half + 0.05, 0.0), vel=(-2.0, 0.0))
    goals = [scene.step(IDLE) for _ in range(5)]
    assert -1 in goals and scene.score() == (1, 1)


def test_ball_off_target_hits_the_board_not_a_goal(scene):
    spread(scene)
    half = scene.pitch.length / 2
    scene.set_ball((half - 0.1, 0.5), vel=(2.0, 0.0))
    for _ in range(10):
        assert scene.step(IDLE) == 0
    assert scene.ball_position()[0] < half and scene.score() == (0, 0)


def test_ball_pinned_to_a_board_is_dropped_back_into_play(scene):
    spread(scene)
    edge = scene.pitch.width / 2 - scene.pitch.ball_radius
    scene.set_ball((0.3, edge))
    for _ in range(int(2.5 / scene.control_dt)):
        scene.step(IDLE)
    assert scene.referee.drop_balls >= 1
    assert scene.ball_position()[1] < edge - 0.1


def test_bad_commands_and_team_sizes_are_refused(scene):
    with pytest.raises(ValueError, match=r"expected \(4, 4\)"):
        scene.step(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        scene.step(np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match="does not fit"):
        SoccerScene(team_size=500)
    with pytest.raises(ValueError, match="camera 'tv' unknown"):
        scene.render("tv")
    with pytest.raises(ValueError, match=r"\[16, 1024\]"):
        scene.render("top", 8, 8)


def test_scripted_chaser_scores_on_an_empty_goal():
    scene = SoccerScene(team_size=(1, 0))
    rng = np.random.default_rng(1)
    goals = 0
    for _ in range(5):
        scene.reset(rng)
        scene.set_player(0, (rng.uniform(-0.5, 0.3), rng.uniform(-0.5, 0.5)), rng.uniform(-3, 3))
        scene.set_ball((rng.uniform(0.0, 0.5), rng.uniform(-0.5, 0.5)))
        for _ in range(300):
            if scene.step(scene.scripted_commands(rng)) == 1:
                goals += 1
                break
    assert goals == 5


def test_scene_pickles_and_keeps_stepping(scene):
    spread(scene)
    clone = pickle.loads(pickle.dumps(scene))
    for _ in range(5):
        clone.step(clone.scripted_commands())
        scene.step(scene.scripted_commands())
    np.testing.assert_array_equal(clone.ball_position(), scene.ball_position())


def _geom_points(model, data, geom_ids):
    """Points on the surfaces of the given geoms, dense enough to find their silhouettes."""
    points = []
    for g in geom_ids:
        size, centre, rot = model.geom_size[g], data.geom_xpos[g], data.geom_xmat[g].reshape(3, 3)
        kind = model.geom_type[g]
        if kind == mujoco.mjtGeom.mjGEOM_SPHERE:
            k = np.arange(4000) + 0.5
            phi, theta = np.arccos(1 - 2 * k / 4000), np.pi * (1 + 5**0.5) * k
            local = size[0] * np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], 1)
        elif kind == mujoco.mjtGeom.mjGEOM_CYLINDER:
            a = np.linspace(0, 2 * np.pi, 256, endpoint=False)
            ring = np.stack([size[0] * np.cos(a), size[0] * np.sin(a)], 1)
            local = np.concatenate([np.c_[ring, np.full(256, z)] for z in (-size[1], size[1])])
        elif kind == mujoco.mjtGeom.mjGEOM_BOX:
            local = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]) * size
        else:
            continue
        points.append(local @ rot.T + centre)
    return np.concatenate(points)


@pytest.mark.parametrize("camera", ["broadcast", "top"])
def test_ground_truth_boxes_match_projection_within_a_pixel(scene, camera):
    spread(scene)
    truth = scene.render_ground_truth(camera, 128, 128)
    cam = scene.camera(camera, 128, 128)
    m = scene.model
    checked = 0
    for k, box in zip(truth["instance_ids"], truth["boxes"], strict=True):
        if not 1 <= k <= scene.n_players + 1:
            continue  # goals are cut by the image border in some views
        geoms = scene.instances.geoms_of(k)
        uv, _ = cam.project(_geom_points(m, scene.data, geoms))
        projected = np.array([uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max()])
        np.testing.assert_allclose(box, projected, atol=1.0, err_msg=f"instance {k} in {camera}")
        checked += 1
    assert checked == scene.n_players + 1  # ball and every player were visible and checked
    # Masks and boxes agree: every mask pixel of an object lies in its box, classes line up.
    for k, box, label in zip(truth["instance_ids"], truth["boxes"], truth["labels"], strict=True):
        rows, cols = np.nonzero(truth["instance_mask"] == k)
        assert cols.min() == box[0] and rows.min() == box[1]
        assert cols.max() + 1 == box[2] and rows.max() + 1 == box[3]
        assert (truth["class_mask"][rows, cols] == label).all()
    assert CLASS_NAMES[truth["labels"][0]] == "ball"
    assert set(truth["teams"][truth["labels"] == 2]) == {0}


def test_follow_camera_keeps_its_player_centred_and_north_up(scene):
    spread(scene)
    size, half_view = 64, scene.pitch.length / 4  # the view is half the pitch length wide
    for position in [(-0.7, -0.35), (0.4, 0.2)]:
        scene.set_player(1, position, yaw=1.0)
        scene.set_ball((position[0] + 0.2, position[1] + 0.1))  # east-north-east of the player
        truth = scene.render_ground_truth("follow", size, size, player=1)
        boxes = dict(zip(truth["instance_ids"].tolist(), truth["boxes"], strict=True))
        player_box, ball_box = boxes[2 + 1], boxes[1]
        centre = np.array([(player_box[0] + player_box[2]) / 2, (player_box[1] + player_box[3]) / 2])
        np.testing.assert_allclose(centre, (size / 2, size / 2), atol=1.0)
        ball = np.array([(ball_box[0] + ball_box[2]) / 2, (ball_box[1] + ball_box[3]) / 2])
        metres_per_pixel = 2 * half_view / size
        np.testing.assert_allclose((ball - centre) * metres_per_pixel, (0.2, -0.1), atol=0.03)  # rows grow south


@pytest.mark.parametrize("yaw", [0.0, 1.0, -2.5])
def test_heading_camera_turns_with_its_player_so_that_ahead_is_up(scene, yaw):
    spread(scene)
    size, view = 64, scene.pitch.length / 2  # the same square as follow, turning with the player
    position = (-0.3, 0.1)
    scene.set_player(1, position, yaw=yaw)
    scene.set_ball((position[0] + 0.25 * np.cos(yaw), position[1] + 0.25 * np.sin(yaw)))  # 0.25 m ahead
    truth = scene.render_ground_truth("heading", size, size, player=1)
    boxes = dict(zip(truth["instance_ids"].tolist(), truth["boxes"], strict=True))
    player_box, ball_box = boxes[2 + 1], boxes[1]
    centre = np.array([(player_box[0] + player_box[2]) / 2, (player_box[1] + player_box[3]) / 2])
    np.testing.assert_allclose(centre, (size / 2, 0.75 * size), atol=1.0)  # a quarter above the bottom
    ball = np.array([(ball_box[0] + ball_box[2]) / 2, (ball_box[1] + ball_box[3]) / 2])
    np.testing.assert_allclose((ball - centre) * view / size, (0.0, -0.25), atol=0.03)  # straight up


def test_depth_is_consistent_with_the_camera(scene):
    spread(scene)
    truth = scene.render_ground_truth("broadcast", 96, 96)
    cam = scene.camera("broadcast", 96, 96)
    rows, cols = np.nonzero(truth["class_mask"] == 0)
    depth = truth["depth"][rows, cols]
    on_table = depth < 20  # pixels beyond the far plane see nothing
    points = cam.unproject(cols[on_table] + 0.5, rows[on_table] + 0.5, depth[on_table])
    flat = np.abs(points[:, 2]) < 0.004  # table, pitch and lines lie within 2 mm of z = 0
    assert flat.mean() > 0.8  # the rest is boards and goal frames, which stand up
    # The ball's nearest pixel is as far from the camera as the ball's surface.
    rows, cols = np.nonzero(truth["instance_mask"] == 1)
    ball = np.array([*scene.ball_position(), scene.pitch.ball_radius])
    nearest = truth["depth"][rows, cols].min()
    centre_depth = -cam.to_camera(ball[None])[0, 2]
    assert centre_depth - scene.pitch.ball_radius - 0.005 < nearest < centre_depth


def test_every_camera_renders_and_appearance_randomises():
    s = SoccerScene(team_size=1)
    base = s.render("broadcast", 64, 64)
    assert s.render("top", 64, 64).shape == (64, 64, 3)
    assert s.render("ego", 48, 64, player=1).shape == (48, 64, 3)
    s.randomize_appearance(np.random.default_rng(3))
    assert not np.array_equal(base, s.render("broadcast", 64, 64))
    s.reset_appearance()
    np.testing.assert_array_equal(base, s.render("broadcast", 64, 64))
    s.close()
    s.close()  # twice is fine


def test_kits_keep_team_a_red_and_team_b_blue():
    import colorsys

    s = SoccerScene(team_size=2)
    rng = np.random.default_rng(5)
    for _ in range(10):
        s.randomize_appearance(rng, team_colours="kits")
        for team, (low, high) in ((0, (-0.08, 0.08)), (1, (0.52, 0.68))):
            hue = colorsys.rgb_to_hsv(*s.model.geom_rgba[s.appearance.team_geoms[team][0], :3])[0]
            hue = hue - 1 if hue > 0.5 and team == 0 else hue
            assert low - 1e-6 <= hue <= high + 1e-6
    with pytest.raises(ValueError, match="team_colours 'pink' unknown; choose one of: kits, random"):
        s.randomize_appearance(rng, team_colours="pink")
    s.close()
