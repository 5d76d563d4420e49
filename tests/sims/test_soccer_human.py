"""The human look of the soccer players: same physics, posed humanoids, keypoints and surface points."""

import colorsys
import pickle

import numpy as np
import pytest

from visiongym.sims.errors import UsageError
from visiongym.sims.soccer import KIT_HUES, SoccerScene
from visiongym.sims.soccer.humans import KEYPOINT_NAMES, human_height

SPOTS = [(-0.7, -0.35), (-0.25, 0.3), (0.3, -0.3), (0.75, 0.35)]


@pytest.fixture(scope="module")
def scene():
    s = SoccerScene(team_size=2, players="human")
    yield s
    s.close()


def spread(scene: SoccerScene) -> None:
    """Players and ball apart from each other, so no object hides another in any camera."""
    scene.reset(np.random.default_rng(0), jitter=0.0)
    for i, position in enumerate(SPOTS):
        scene.set_player(i, position, yaw=0.3 * i)
    scene.set_ball((0.05, 0.05))


def _trajectory(players: str, steps: int = 150) -> np.ndarray:
    scene = SoccerScene(team_size=2, players=players)
    rng = np.random.default_rng(3)
    scene.reset(rng)
    states = []
    for k in range(steps):
        commands = scene.scripted_commands(rng)
        commands[:, 3] = np.where(k % 5 == 0, 1.0, commands[:, 3])
        scene.step(commands)
        states.append(np.concatenate([scene.data.qpos, scene.data.qvel, [scene.kicks_taken, *scene.score()]]))
    scene.close()
    return np.array(states)


def test_state_trajectories_are_bit_identical_to_the_robots():
    robot, human = _trajectory("robot"), _trajectory("human")
    assert robot[-1, -3] > 0  # kicks happened
    np.testing.assert_array_equal(robot, human)


def test_the_physics_model_is_the_robots_own():
    robot, human = SoccerScene(team_size=2), SoccerScene(team_size=2, players="human")
    assert human.model.ngeom == robot.model.ngeom and human.model.nbody == robot.model.nbody
    assert human.view_model.ngeom > 2 * robot.model.ngeom  # the humanoids live in the drawn model only
    assert robot.view_model is robot.model


def test_bad_players_value_names_the_allowed_ones():
    with pytest.raises(UsageError, match="players 'alien' unknown; choose one of: robot, human"):
        SoccerScene(players="alien")


def test_masks_cover_every_human_and_boxes_hold_its_keypoints(scene):
    spread(scene)
    for camera in ("broadcast", "top"):
        truth = scene.render_ground_truth(camera, 256, 256)
        for i in range(scene.n_players):
            k = 2 + i
            assert k in truth["instance_ids"], f"player {i} has no mask in {camera}"
            box = truth["boxes"][list(truth["instance_ids"]).index(k)]
            u, v, visibility = truth["keypoints"][i].T
            assert (visibility > 0).all()  # everyone is in the picture
            assert (u >= box[0] - 1).all() and (u <= box[2] + 1).all(), (camera, i)
            assert (v >= box[1] - 1).all() and (v <= box[3] + 1).all(), (camera, i)
        # The robot's own geoms are hidden: the mask is the humanoid's alone.
        shirt = scene.view_model.geom("p0_h_shirt").id
        assert scene.instances.geom_to_instance[shirt + 1] == 2
        assert scene.instances.geom_to_instance[scene.view_model.geom("p0_body").id + 1] == 0


def test_visible_keypoints_lie_on_their_players_mask_and_hidden_ones_do_not(scene):
    spread(scene)
    truth = scene.render_ground_truth("broadcast", 256, 256)
    mask = truth["instance_mask"]
    for i in range(scene.n_players):
        u, v, visibility = truth["keypoints"][i].T
        rows, cols = v.astype(int), u.astype(int)
        assert (visibility == 2).mean() >= 0.5, f"player {i}: {visibility}"
        assert (mask[rows, cols][visibility == 2] == 2 + i).all()
    # From straight above every head is seen.
    top = scene.render_ground_truth("top", 256, 256)
    assert (top["keypoints"][:, KEYPOINT_NAMES.index("head"), 2] == 2).all()
    # A player straight behind another, seen by the broadcast camera, loses keypoints to it.
    cam = scene.camera("broadcast", 256, 256)
    front = np.array([0.0, -0.3])
    towards_camera = cam.position[:2] - front
    scene.set_player(0, front, yaw=0.0)
    scene.set_player(1, front - 0.12 * towards_camera / np.linalg.norm(towards_camera), yaw=0.0)
    hidden = scene.render_ground_truth("broadcast", 256, 256)
    assert (hidden["keypoints"][1, :, 2] == 1).sum() >= 4
    assert (hidden["keypoints"][1, :, 2] == 1).sum() > (hidden["keypoints"][0, :, 2] == 1).sum()
    # Depths: a visible keypoint lies close behind the surface the depth image shows at its pixel.
    u, v, visibility = truth["keypoints"][:, :, :3].reshape(-1, 3).T
    seen = visibility == 2
    surface = truth["depth"][v[seen].astype(int), u[seen].astype(int)]
    gap = truth["keypoints_depth"].ravel()[seen] - surface
    assert np.median(np.abs(gap)) < 0.01 and (gap > -0.02).mean() > 0.9
    assert np.all(np.abs(truth["player_depth"] - truth["keypoints_depth"][:, 8]) < 0.05)


def test_surface_points_lie_on_the_player(scene):
    spread(scene)
    points, normals = scene.player_surface_points(256)
    assert points.shape == (4, 256, 3) and normals.shape == (4, 256, 3)
    height = human_height()
    for i, (x, y) in enumerate(SPOTS):
        horizontal = np.hypot(points[i, :, 0] - x, points[i, :, 1] - y)
        assert horizontal.max() < 0.5 * height
        assert points[i, :, 2].min() > -0.002 and points[i, :, 2].max() < height + 0.005
        assert points[i, :, 2].max() > 0.9 * height  # the head is there too
    np.testing.assert_allclose(np.linalg.norm(normals, axis=-1), 1.0, atol=1e-5)
    # Seen from the camera, the points that face it project onto their player's mask.
    truth = scene.render_ground_truth("top", 256, 256)
    cam = scene.camera("top", 256, 256)
    uv, _ = cam.project(points[2])
    facing = normals[2, :, 2] > 0.5
    labels = truth["instance_mask"][uv[facing, 1].astype(int), uv[facing, 0].astype(int)]
    assert (labels == 4).mean() > 0.8


def _leg_geoms(scene, player):
    return scene.view_data.geom_xpos[scene.view_model.geom(f"p{player}_h_boot_right").id].copy()


def test_the_gait_advances_with_the_distance_covered_and_poses_the_legs(scene):
    spread(scene)
    run = np.zeros((4, 4))
    run[1, 0] = 1.0  # player 1 runs east at top speed, facing east
    scene.set_player(1, SPOTS[1], yaw=0.0)
    scene.render("broadcast", 32, 32)
    start_x, phase0 = scene.player_positions()[1, 0], scene.gait_phases()[1]
    boots = []
    for _ in range(8):
        scene.step(run)
        scene.render("broadcast", 32, 32)
        boots.append(_leg_geoms(scene, 1) - (*scene.player_positions()[1], 0.0))
    covered = scene.player_positions()[1, 0] - start_x
    advanced = scene.gait_phases()[1] - phase0
    assert advanced == pytest.approx(covered / scene.humans.stride, rel=0.01)
    assert advanced > 0.5
    assert np.ptp(np.array(boots)[:, 0]) > 0.01  # the foot swings back and forth under the body
    standing = scene.gait_phases()[[0, 2, 3]].copy()
    scene.step(np.zeros((4, 4)))
    np.testing.assert_allclose(scene.gait_phases()[[0, 2, 3]], standing, atol=1e-3)
    # Backing up plays the cycle backwards.
    back = np.zeros((4, 4))
    back[1, 0] = -0.5
    before = scene.gait_phases()[1]
    for _ in range(15):
        scene.step(back)
    assert scene.gait_phases()[1] < before - 0.3


def test_a_kick_command_shows_the_kick_pose_for_the_cool_down(scene):
    spread(scene)
    scene.set_player(2, (0.3, -0.3), yaw=0.0)
    scene.set_ball((0.3 + scene.reach - 0.01, -0.3))
    toe = KEYPOINT_NAMES.index("right_toe")
    still = scene.player_keypoints()[2, toe].copy()
    kick = np.zeros((4, 4))
    kick[2, 3] = 1.0
    kicks = scene.kicks_taken
    scene.step(kick)
    assert scene.kicks_taken == kicks + 1 and scene.kick_weights()[2] == 1.0
    kicked = scene.player_keypoints()[2, toe]
    assert kicked[0] - still[0] > 0.3 * human_height() * 0.5  # the right foot swung forward
    assert kicked[2] > still[2] + 0.01  # and up
    for _ in range(round(scene.kick_cooldown / scene.control_dt)):
        scene.step(np.zeros((4, 4)))
    assert scene.kick_weights()[2] == 0.0


def test_kits_paint_the_shirts_and_the_scene_pickles(scene):
    spread(scene)
    scene.draw_appearance(np.random.default_rng(5), spec="random")
    for team, player in ((0, 0), (1, 2)):
        rgb = scene.view_model.geom_rgba[scene.view_model.geom(f"p{player}_h_shirt").id, :3]
        hue = colorsys.rgb_to_hsv(*rgb)[0]
        low, high = KIT_HUES[team]
        assert low <= hue <= high or low <= hue - 1 <= high, (team, hue)
    frame = scene.render("follow", 64, 64, player=1)
    clone = pickle.loads(pickle.dumps(scene))
    assert clone.appearance.model is clone.view_model and clone.view_model is not clone.model
    np.testing.assert_array_equal(clone.render("follow", 64, 64, player=1), frame)
    clone.step(np.zeros((4, 4)))
    assert clone.render_ground_truth("top", 64, 64)["keypoints"].shape == (4, len(KEYPOINT_NAMES), 3)
    clone.close()
    scene.apply_look(None)


def test_robots_have_no_skeleton_and_keep_their_ground_truth():
    scene = SoccerScene(team_size=1)
    with pytest.raises(UsageError, match="players='human'"):
        scene.player_keypoints()
    assert "keypoints" not in scene.render_ground_truth("top", 32, 32)
    points, _ = scene.player_surface_points(64)
    assert points.shape == (2, 64, 3) and points[:, :, 2].max() < scene.pitch.player_height + 1e-3
    scene.close()
