"""The soccer env's discrete actions and their compass geometry, in one place.

``Discrete(10)``: 0 no-op, 1-8 move E, NE, N, NW, W, SW, S, SE (world frame, E = +x), 9 kick.
Move ``i`` heads at ``(i - 1) * pi / 4`` radians and turns the player to face where it moves.
The env (actions to commands, the scripted action), the keyboard of :mod:`visiongym.envs.play`
and the tests all use these functions, so the geometry is written once.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "DISCRETE_ACTIONS",
    "NOOP",
    "KICK",
    "TURN_GAIN",
    "direction_angle",
    "nearest_direction",
    "turn_towards",
    "discrete_command",
    "discrete_values",
    "nearest_discrete_action",
]

DISCRETE_ACTIONS = ("noop", "E", "NE", "N", "NW", "W", "SW", "S", "SE", "kick")
NOOP, KICK = 0, len(DISCRETE_ACTIONS) - 1
_STEP = math.pi / 4
#: Turn command per radian of heading error (clipped to [-1, 1]).
TURN_GAIN = 3.0


def direction_angle(index: int) -> float:
    """Heading (radians from +x) of move ``index`` in 1..8."""
    return (index - 1) * _STEP


def nearest_direction(angle: float) -> int:
    """The move index (1..8) whose heading is nearest ``angle`` radians."""
    return 1 + int(round(angle / _STEP)) % 8


def turn_towards(angle: float, yaw: float) -> float:
    """Turn command in [-1, 1] of a player facing ``yaw`` that should face ``angle``."""
    error = (angle - yaw + math.pi) % (2 * math.pi) - math.pi
    return max(-1.0, min(1.0, TURN_GAIN * error))


def discrete_command(index: int, yaw: float) -> np.ndarray:
    """The scene command (vx, vy, turn, kick) of discrete action ``index`` for a player facing ``yaw``."""
    return np.array(discrete_values(index, yaw))


def discrete_values(index: int, yaw: float) -> tuple[float, float, float, float]:
    """:func:`discrete_command` as four Python floats (cheaper to build, for an env that writes
    many players' commands a step)."""
    if 1 <= index <= 8:
        cos, sin, angle = _MOVES[index]
        error = (angle - yaw + math.pi) % _TWO_PI - math.pi  # turn_towards, inlined: it runs for every player every step
        return cos, sin, max(-1.0, min(1.0, TURN_GAIN * error)), -1.0
    return 0.0, 0.0, 0.0, 1.0 if index == KICK else -1.0


_TWO_PI = 2 * math.pi
#: Move index -> (cos, sin, angle) of its heading (index 0 unused).
_MOVES = [(0.0, 0.0, 0.0)] + [(math.cos(direction_angle(i)), math.sin(direction_angle(i)), direction_angle(i))
                              for i in range(1, 9)]


def nearest_discrete_action(command: np.ndarray, yaw: float) -> int:
    """The discrete action closest to scene command ``command`` of a player facing ``yaw``.

    A kick stays a kick; a (nearly) standing command is a no-op, unless it turns, since discrete
    players turn only by moving: then it steps towards where the command would face it.
    """
    if command[3] > 0:
        return KICK
    if np.hypot(command[0], command[1]) < 0.15:
        if abs(command[2]) < 0.2:
            return NOOP
        return nearest_direction(yaw + command[2] / TURN_GAIN)
    return nearest_direction(math.atan2(command[1], command[0]))
