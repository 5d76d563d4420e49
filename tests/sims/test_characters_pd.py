"""PD position control of a character's motors: ``CharacterScene.step_pd``."""

from __future__ import annotations

import numpy as np

from visiongym.sims.characters import CharacterScene, CharacterSpec, JointSpec, LimbSpec


def _arm(gear: float = 30.0) -> CharacterScene:
    """A fixed base with a hinge elbow and a ball shoulder, hanging under gravity."""
    forearm = LimbSpec("forearm", pos=(0, 0, -0.3), end=(0, 0, -0.3), radius=0.03,
                       joints=[JointSpec("elbow", "hinge", axis=(0, 1, 0), range=(-120, 120), gear=gear)])
    upper = LimbSpec("upper", end=(0, 0, -0.3), radius=0.04, children=[forearm],
                     joints=[JointSpec("shoulder", "ball", range=(0, 120), gear=gear)])
    base = LimbSpec("base", end=(0, 0, 0.1), radius=0.05, children=[upper])
    return CharacterScene(CharacterSpec("arm", base, root_joint="fixed", root_height=1.5))


def test_pd_drives_hinge_and_ball_joints_to_their_targets():
    scene = _arm()
    # motors: shoulder_x, shoulder_y, shoulder_z, elbow
    targets = np.array([0.3, -0.4, 0.2, 0.8])
    kp, kd = 8.0 * scene.motor_strength, 0.4 * scene.motor_strength
    scene.step_pd(targets, kp, kd, substeps=400)  # 2 s
    reached = scene.motor_positions()
    # The remaining error is what gravity needs from a P controller: small against the target.
    np.testing.assert_allclose(reached, targets, atol=0.05)
    assert np.abs(scene.data.qvel).max() < 0.05


def test_pd_torque_is_clipped_to_the_motor():
    scene = _arm(gear=0.5)  # far too weak to lift the forearm
    scene.step_pd(np.array([0.0, 0.0, 0.0, 1.5]), 100 * scene.motor_strength, 0 * scene.motor_strength, 50)
    assert np.all(np.abs(scene.data.ctrl) <= 1.0)
    assert abs(scene.data.ctrl[3]) == 1.0  # saturated
    assert scene.motor_positions()[3] < 0.5


def test_motor_positions_and_ranges_follow_the_joints():
    scene = CharacterScene("walker")
    assert np.allclose(scene.motor_positions(), 0.0)
    np.testing.assert_allclose(np.degrees(scene.motor_range[1]), (0, 150))  # right knee
    scene.data.qpos[scene.root_nq + 1] = 0.7
    assert scene.motor_positions()[1] == 0.7
    humanoid = CharacterScene("humanoid")
    np.testing.assert_allclose(np.degrees(humanoid.motor_range[0]), (-120, 120))  # shoulder cone
