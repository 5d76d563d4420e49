"""The soccer env's discrete actions: compass directions, turning, commands and back."""

import math

import numpy as np
import pytest

from visiongym.envs.soccer_actions import (
    DISCRETE_ACTIONS,
    KICK,
    NOOP,
    direction_angle,
    discrete_command,
    nearest_direction,
    nearest_discrete_action,
    turn_towards,
)


def test_discrete_directions_go_round_the_compass_and_turn_towards_where_they_go():
    assert DISCRETE_ACTIONS[NOOP] == "noop" and DISCRETE_ACTIONS[KICK] == "kick"
    for index, name in enumerate(DISCRETE_ACTIONS[1:9], start=1):
        angle = direction_angle(index)
        assert nearest_direction(angle) == index
        assert nearest_direction(angle + 0.3) == index and nearest_direction(angle - 2 * math.pi) == index
        command = discrete_command(index, yaw=angle)
        expected = {"E": (1, 0), "N": (0, 1), "W": (-1, 0), "S": (0, -1)}.get(name)
        if expected is not None:
            np.testing.assert_allclose(command[:2], expected, atol=1e-12)
        assert command[2] == pytest.approx(0.0, abs=1e-12) and command[3] == -1.0
    assert turn_towards(math.pi / 2, 0.0) == 1.0 and turn_towards(-math.pi / 2, 0.0) == -1.0
    assert turn_towards(0.1, 0.0) == pytest.approx(0.3)
    assert turn_towards(-math.pi + 0.05, math.pi - 0.05) == pytest.approx(0.3)  # the short way round
    np.testing.assert_array_equal(discrete_command(NOOP, 0.0), (0, 0, 0, -1))
    np.testing.assert_array_equal(discrete_command(KICK, 0.0), (0, 0, 0, 1))


def test_nearest_discrete_action_of_a_scene_command():
    assert nearest_discrete_action(np.array([0.0, 0.0, 0.0, 1.0]), 0.0) == KICK
    assert nearest_discrete_action(np.array([0.05, 0.0, 0.1, -1.0]), 0.0) == NOOP
    assert nearest_discrete_action(np.array([-0.7, 0.7, 0.0, -1.0]), 0.0) == DISCRETE_ACTIONS.index("NW")
    # Standing but turning left from facing east: step north-east, since discrete players turn by moving.
    assert nearest_discrete_action(np.array([0.0, 0.0, 1.0, -1.0]), 0.5) == DISCRETE_ACTIONS.index("NE")
