"""Character descriptions, the MJCF builder, presets, terrains and the scene's accessors."""

from __future__ import annotations

import json
import pickle

import mujoco
import numpy as np
import pytest

from visiongym.sims.characters import (
    PRESETS,
    TERRAINS,
    CharacterScene,
    CharacterSpec,
    CharacterSpecError,
    JointSpec,
    LimbSpec,
    TerrainSpec,
    load_character,
    preset,
)
from visiongym.sims.characters.builder import build_mjcf
from visiongym.sims.characters.spec import character_from_dict
from visiongym.sims.characters.terrain import heightfield

POGO_YAML = """
name: pogo
root_joint: planar
root_height: 0.8
root:
  name: torso
  end: [0, 0, 0.4]
  radius: 0.08
  children:
    - name: leg
      pos: [0, 0, 0]
      end: [0, 0, -0.7]
      radius: 0.05
      foot: true
      end_effector: true
      joints:
        - {name: hip, type: hinge, axis: [0, 1, 0], range: [-60, 60], gear: 80}
"""


def _pogo(**joint) -> CharacterSpec:
    joint = {"name": "hip", **joint}
    leg = LimbSpec("leg", end=(0, 0, -0.5), joints=[JointSpec(**joint)])
    return CharacterSpec("pogo", LimbSpec("torso", end=(0, 0, 0.4), children=[leg]), root_height=0.6)


# --------------------------------------------------------------------- descriptions
def test_python_description_builds_a_model_with_its_motor():
    scene = CharacterScene(_pogo(gear=80), "flat")
    assert scene.motor_names == ["hip"]
    assert scene.model.actuator_gear[0, 0] == 80
    np.testing.assert_allclose(np.degrees(scene.model.jnt_range[scene.model.joint("hip").id]), [-90, 90])


def test_yaml_and_json_descriptions_load(tmp_path):
    yaml_path = tmp_path / "pogo.yaml"
    yaml_path.write_text(POGO_YAML)
    spec = load_character(yaml_path)
    assert [j.name for j in spec.joints()] == ["hip"] and spec.root_joint == "planar"
    import yaml

    json_path = tmp_path / "pogo.json"
    json_path.write_text(json.dumps(yaml.safe_load(POGO_YAML)))
    scene = CharacterScene(load_character(json_path))
    assert scene.action_size == 1 and scene.foot_names == ["leg"]


@pytest.mark.parametrize(
    ("joint", "field"),
    [
        ({"range": (30, -30)}, "torso.children[0].joints[0].range"),
        ({"type": "slider"}, "torso.children[0].joints[0].type"),
        ({"axis": (0, 0, 0)}, "torso.children[0].joints[0].axis"),
        ({"gear": -5}, "torso.children[0].joints[0].gear"),
        ({"ctrl_range": (1, -1)}, "torso.children[0].joints[0].ctrl_range"),
        ({"type": "ball", "range": (-30, 30)}, "torso.children[0].joints[0].range"),
    ],
)
def test_malformed_joint_errors_name_the_field(joint, field):
    with pytest.raises(CharacterSpecError, match=field.replace("[", r"\[").replace("]", r"\]")):
        _pogo(**joint)


def test_malformed_descriptions_name_the_field():
    with pytest.raises(CharacterSpecError, match="root_joint: 'hover' unknown"):
        CharacterSpec("x", LimbSpec("torso"), root_joint="hover")
    with pytest.raises(CharacterSpecError, match=r"torso\.radius"):
        CharacterSpec("x", LimbSpec("torso", radius=0))
    with pytest.raises(CharacterSpecError, match="limb name 'a' is used twice"):
        CharacterSpec("x", LimbSpec("a", children=[LimbSpec("a", joints=[JointSpec("j")])]))
    with pytest.raises(CharacterSpecError, match=r"root\.children\[0\]: unknown field\(s\) lenght"):
        character_from_dict({"name": "x", "root": {"name": "t", "children": [{"name": "c", "lenght": 1}]}})
    with pytest.raises(CharacterSpecError, match="suffix '.txt' unknown"):
        load_character("pogo.txt")


def test_unknown_preset_and_terrain_are_refused():
    with pytest.raises(ValueError, match="character 'dragon' unknown; choose one of: walker"):
        preset("dragon")
    with pytest.raises(ValueError, match="terrain 'lava' unknown; choose one of: flat, slope"):
        CharacterScene("walker", "lava")


# --------------------------------------------------------------------- presets and terrains
@pytest.mark.parametrize("name", list(PRESETS))
@pytest.mark.parametrize("terrain", TERRAINS)
def test_every_preset_compiles_on_every_terrain(name, terrain):
    model = mujoco.MjModel.from_xml_string(build_mjcf(preset(name), TerrainSpec(terrain)))
    assert model.nu == preset(name).action_size


def _settle(scene: CharacterScene, seconds: float) -> bool:
    """Zero action for ``seconds``; return whether the character fell on the way."""
    fell = False
    for _ in range(round(seconds / scene.timestep / 5)):
        scene.step(np.zeros(scene.action_size), substeps=5)
        fell |= scene.fallen()
        assert not scene.blown_up()
    return fell


@pytest.mark.parametrize("name", ["quadruped", "snake"])
def test_stable_presets_stand_one_second_unactuated(name):
    scene = CharacterScene(name)
    start = scene.root_pose()[0]
    assert not _settle(scene, 1.0)
    assert np.linalg.norm(scene.root_pose()[0] - start) < 0.1
    if scene.foot_names:
        assert scene.foot_contacts().all()


@pytest.mark.parametrize("name", ["walker", "humanoid"])
def test_bipeds_fall_without_control(name):
    scene = CharacterScene(name)
    assert not scene.fallen()
    assert _settle(scene, 3.0)


@pytest.mark.parametrize("name", list(PRESETS))
def test_physics_stays_finite_under_random_actions(name):
    scene = CharacterScene(name, "steps" if name != "snake" else "flat")
    rng = np.random.default_rng(0)
    for _ in range(300):
        scene.step(rng.uniform(-1, 1, scene.action_size), substeps=4)
        assert not scene.blown_up()
    assert np.isfinite(scene.data.qpos).all()


@pytest.mark.parametrize(
    ("terrain", "x"), [("slope", 2.0), ("steps", 3.0), ("random", 3.3), ("flat", 1.0)]
)
def test_terrain_height_matches_the_model_surface(terrain, x):
    scene = CharacterScene("walker", TerrainSpec(terrain, seed=3))
    geomid = np.zeros(1, dtype=np.int32)
    for y in (0.0, 0.7):
        distance = mujoco.mj_ray(
            scene.model, scene.data, np.array([x, y, 5.0]), np.array([0, 0, -1.0]), None, 1, -1, geomid
        )
        assert 5.0 - distance == pytest.approx(scene.ground_height(x, y), abs=0.01)
    if terrain != "flat":
        assert scene.ground_height(x, 0.0) > 0.01


def test_heightfield_is_seeded_and_flat_at_the_start():
    np.testing.assert_array_equal(heightfield(5), heightfield(5))
    assert not np.array_equal(heightfield(5), heightfield(6))
    scene = CharacterScene("quadruped", TerrainSpec("random", seed=5))
    assert scene.ground_height(0.0, 0.0) == 0.0
    assert scene.height_above_ground() == pytest.approx(preset("quadruped").root_height)


# --------------------------------------------------------------------- accessors
def test_named_accessors_report_the_state():
    scene = CharacterScene("humanoid")
    assert scene.joint_angles().shape == (scene.model.nq - 7,)
    assert scene.joint_velocities().shape == (scene.model.nv - 6,)
    position, quat = scene.root_pose()
    np.testing.assert_allclose(position, [0, 0, 0.89])
    np.testing.assert_allclose(quat, [1, 0, 0, 0])
    assert scene.end_effector_names == ["head", "forearm_right", "forearm_left", "foot_right", "foot_left"]
    effectors = scene.end_effector_positions()
    assert effectors[0, 2] > position[2] > effectors[3, 2]  # head above hips above feet
    assert 0.4 < scene.center_of_mass()[2] < 1.2
    assert not scene.foot_contacts().any()
    _settle(scene, 0.2)
    assert scene.foot_contacts().all()
    qpos = scene.data.qpos.copy()
    qpos[scene.model.joint("knee_left").qposadr[0]] = 0.5
    scene.set_state(qpos, np.zeros(scene.model.nv))
    assert scene.joint_angle("knee_left") == pytest.approx(0.5)


def test_scene_pickles_and_renders_in_the_copy():
    scene = CharacterScene("walker")
    copy = pickle.loads(pickle.dumps(scene))
    np.testing.assert_array_equal(copy.data.qpos, scene.data.qpos)
    frame = copy.render(32, 32)
    assert frame.shape == (32, 32, 3) and frame.dtype == np.uint8 and frame.std() > 5
    ghost = copy.render(32, 32, ghost_qpos=copy.data.qpos, ghost_offset=(0.3, 0.0, 0.0))
    assert np.abs(ghost.astype(int) - frame).sum() > 0
    with pytest.raises(ValueError, match="exceeds the offscreen buffer"):
        copy.render(500, 500)
    copy.close()
    copy.close()


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_motor_turns_its_joint_the_positive_way(name):
    scene = CharacterScene(name)
    scene.model.opt.gravity[:] = 0.0
    for motor, motor_name in enumerate(scene.motor_names):
        scene.reset()
        action = np.zeros(scene.action_size)
        action[motor] = 0.3
        for _ in range(10):
            scene.step(action)
        joint = scene.model.joint(scene.model.actuator_trnid[motor, 0])
        address = joint.qposadr[0]
        if joint.type[0] == mujoco.mjtJoint.mjJNT_HINGE:
            turned = scene.data.qpos[address]
        else:
            rotation = np.zeros(3)
            mujoco.mju_quat2Vel(rotation, scene.data.qpos[address : address + 4], 1.0)
            turned = rotation @ scene.model.actuator_gear[motor, :3]
        assert turned > 1e-3, motor_name
