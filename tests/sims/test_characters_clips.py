"""Reference clips (.npz), procedural gaits, and BVH reading and retargeting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from visiongym.sims.characters import PRESETS, CharacterScene
from visiongym.sims.characters.bvh import BVHError, read_bvh, retarget_bvh
from visiongym.sims.characters.clips import ClipError, MotionClip, gait_clip


@pytest.fixture(scope="module")
def walker():
    return CharacterScene("walker")


@pytest.fixture(scope="module")
def walker_clip(walker):
    return gait_clip(walker)


def test_clip_round_trips_through_npz(tmp_path, walker_clip):
    path = walker_clip.save(tmp_path / "walk.npz")
    loaded = MotionClip.load(path)
    np.testing.assert_array_equal(loaded.qpos, walker_clip.qpos)
    np.testing.assert_array_equal(loaded.qvel, walker_clip.qvel)
    assert loaded.joint_names == walker_clip.joint_names and loaded.cyclic
    assert loaded.fps == 50 and loaded.duration == pytest.approx(1.0)
    with np.load(path) as data:
        assert str(data["format"]) == "visiongym-clip-1"


def test_clip_for_another_character_is_refused(walker_clip):
    with pytest.raises(ClipError, match="joints missing from the clip"):
        walker_clip.check_model(CharacterScene("snake").model)
    with pytest.raises(ClipError, match="at least 2 frames"):
        MotionClip("x", 30, np.zeros((1, 3)), np.zeros((1, 3)), ("a",))


def test_cyclic_clip_loops_and_moves_on(walker_clip):
    stride = walker_clip.qpos[-1, 0] - walker_clip.qpos[0, 0]
    assert stride > 0.3  # the gait walks forward
    first, _ = walker_clip.sample(0.3)
    later, _ = walker_clip.sample(0.3 + 2 * walker_clip.duration)
    np.testing.assert_allclose(later[1:], first[1:], atol=1e-9)
    assert later[0] == pytest.approx(first[0] + 2 * stride)
    halfway, _ = walker_clip.sample(0.5 / walker_clip.fps)
    np.testing.assert_allclose(halfway, walker_clip.qpos[:2].mean(axis=0))


@pytest.mark.parametrize("name", [n for n in PRESETS if n != "snake"])
def test_gaits_are_grounded_and_feet_do_not_slide(name):
    scene = CharacterScene(name)
    clip = gait_clip(scene)
    lowest = [scene.lowest_point(scene.kinematics(q))[2] for q in clip.qpos]
    np.testing.assert_allclose(lowest, 0.0, atol=1e-6)
    # The foot that carries the weight stays put between consecutive frames.
    feet = [scene.model.geom(f"{f}_geom").id for f in scene.foot_names]
    slides = []
    for k in range(1, clip.num_frames):
        before = [scene.lowest_point(scene.kinematics(clip.qpos[k - 1]), [g]) for g in feet]
        after = [scene.lowest_point(scene.kinematics(clip.qpos[k]), [g]) for g in feet]
        stance = int(np.argmin([p[2] for p in after]))
        slides.append(after[stance][0] - before[stance][0])
    assert np.median(np.abs(slides)) < 0.01
    assert clip.qpos[-1, 0] - clip.qpos[0, 0] > 0.05


def test_ball_joint_quaternions_stay_unit(tmp_path):
    clip = gait_clip(CharacterScene("humanoid"))
    for t in np.linspace(0, 3, 17):
        qpos, _ = clip.sample(t)
        for start in clip.quat_qpos:
            assert np.linalg.norm(qpos[start : start + 4]) == pytest.approx(1.0)


def _walker_bvh(frames: list[tuple[float, float, float]], skip: str = "") -> str:
    """A y-up BVH of the walker: root position (cm) and hip/knee rotations about BVH x."""
    joints = ["thigh_right", "shin_right", "foot_right", "thigh_left", "shin_left", "foot_left"]
    joints = [j for j in joints if j != skip]
    lines = ["HIERARCHY", "ROOT Torso", "{", "OFFSET 0 0 0",
             "CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation"]
    for name in joints:
        lines += [f"JOINT {name}", "{", "OFFSET 0 -45 0", "CHANNELS 3 Zrotation Xrotation Yrotation",
                  "End Site", "{", "OFFSET 0 -45 0", "}", "}"]
    lines += ["}", "MOTION", f"Frames: {len(frames)}", "Frame Time: 0.04"]
    for x, hip, knee in frames:
        values = [0.0, 95.0, x, 0.0, 0.0, 0.0]
        for name in joints:
            angle = hip if name.startswith("thigh") else knee if name.startswith("shin") else 0.0
            values += [0.0, angle, 0.0]
        lines.append(" ".join(f"{v:g}" for v in values))
    return "\n".join(lines) + "\n"


def test_bvh_reader_parses_the_hierarchy(tmp_path):
    path = tmp_path / "walk.bvh"
    path.write_text(_walker_bvh([(0, 10, 20), (4, 20, 30)]))
    motion = read_bvh(path)
    assert [j.name for j in motion.joints][:2] == ["Torso", "thigh_right"]
    assert motion.values.shape == (2, 6 + 3 * 6) and motion.frame_time == pytest.approx(0.04)
    assert motion.joint("shin_left").parent == 0


def test_bvh_retargets_onto_matching_joints(tmp_path, walker):
    path = tmp_path / "walk.bvh"
    path.write_text(_walker_bvh([(0, -10, 20), (4, -20, 30), (8, -30, 40)]))
    clip = retarget_bvh(path, walker, scale=0.01)
    assert clip.fps == pytest.approx(25) and not clip.cyclic
    hip, knee = walker.model.joint("hip_left").qposadr[0], walker.model.joint("knee_right").qposadr[0]
    # BVH x is MuJoCo y: a BVH x rotation becomes the walker's pitch hinges.
    np.testing.assert_allclose(clip.qpos[:, hip], np.radians([-10, -20, -30]))
    np.testing.assert_allclose(clip.qpos[:, knee], np.radians([20, 30, 40]))
    # BVH z (forward, cm) becomes MuJoCo x (m); BVH y height 95 cm is the root height.
    np.testing.assert_allclose(clip.qpos[:, 0], [0.0, 0.04, 0.08])
    np.testing.assert_allclose(clip.qpos[:, 1], 0.0, atol=1e-9)
    assert clip.qvel[0, 0] == pytest.approx(1.0)  # 4 cm per 0.04 s
    clip.check_model(walker.model)


def test_bvh_with_missing_joints_names_them(walker):
    text = _walker_bvh([(0, 0, 0), (1, 0, 0)], skip="shin_left")
    with pytest.raises(BVHError, match=r"shin_left \(joints knee_left\)"):
        retarget_bvh(text, walker)
    renamed = text.replace("thigh_right", "RightUpLeg")
    with pytest.raises(BVHError, match="thigh_right"):
        retarget_bvh(renamed, walker, joint_map={"shin_left": "shin_right"})
    clip = retarget_bvh(renamed, walker, joint_map={"thigh_right": "RightUpLeg", "shin_left": "shin_right"})
    assert clip.num_frames == 2


def test_malformed_bvh_is_refused():
    good = _walker_bvh([(0, 0, 0), (1, 0, 0)])
    with pytest.raises(BVHError, match="values"):
        read_bvh(good.rsplit("\n", 2)[0] + "\n")
    with pytest.raises(BVHError, match="unknown channel"):
        read_bvh(good.replace("Zrotation Xrotation Yrotation", "Zrotation Xrotation Wrotation", 1))
    with pytest.raises(BVHError, match="Frame Time"):
        read_bvh(good.replace("Frame Time: 0.04", "Frame Time: 0"))


def test_ball_joints_take_the_whole_rotation():
    scene = CharacterScene("humanoid")
    names = ["upper_arm_right", "forearm_right", "upper_arm_left", "forearm_left", "thigh_right",
             "shin_right", "foot_right", "thigh_left", "shin_left", "foot_left"]
    lines = ["HIERARCHY", "ROOT torso", "{", "OFFSET 0 0 0",
             "CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation"]
    for name in names:
        lines += [f"JOINT {name}", "{", "OFFSET 0 1 0", "CHANNELS 3 Zrotation Xrotation Yrotation", "}"]
    frame = [0, 89, 0, 0, 0, 0] + [0, 0, 0] * len(names)
    frame[6 + 4 * 3 + 1] = 30.0  # thigh_right: 30 degrees about BVH x = MuJoCo y
    lines += ["}", "MOTION", "Frames: 2", "Frame Time: 0.1", " ".join(map(str, frame)),
              " ".join(map(str, frame))]
    clip = retarget_bvh("\n".join(lines), scene, scale=0.01)
    start = scene.model.joint("hip_right").qposadr[0]
    half = math.radians(30) / 2
    np.testing.assert_allclose(clip.qpos[0, start : start + 4], [math.cos(half), 0, math.sin(half), 0], atol=1e-9)
    np.testing.assert_allclose(clip.qpos[0, :3], [0, 0, 0.89])
