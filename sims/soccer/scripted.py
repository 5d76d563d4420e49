"""Scripted players: a goalkeeper, a chaser/shooter and a defender.

They drive the opponents and the uncontrolled teammates. Commands are in the scene's format
``(vx, vy, turn, kick)`` in [-1, 1], world frame. They are simple but purposeful: the chaser walks
round the ball to shoot, the keeper tracks the ball along its line and clears, the defender stands
between the ball and its goal. ``skill`` in [0, 1] scales their speed, so a curriculum can start
against a weak side. Everything is vectorised over players: the env's step rate depends on it.
"""

from __future__ import annotations

import math

import numpy as np

from visiongym.sims.errors import UsageError

KEEPER, CHASER, DEFENDER, SUPPORT = "keeper", "chaser", "defender", "support"
ROLES = (KEEPER, CHASER, DEFENDER, SUPPORT)


def default_roles(team_size: int) -> list[str]:
    """Roles by shirt order: a keeper from two players up, then a chaser, then defenders/chasers."""
    if team_size <= 1:
        return [CHASER] * team_size
    roles = [KEEPER, CHASER]
    for k in range(2, team_size):
        roles.append(DEFENDER if k % 2 == 0 else SUPPORT)
    return roles


def default_lanes(roles: list[str]) -> list[float]:
    """Spread players who share a role across the pitch (-1 = south board, +1 = north)."""
    lanes = [0.0] * len(roles)
    for role in (DEFENDER, SUPPORT):
        members = [i for i, r in enumerate(roles) if r == role]
        if len(members) > 1:
            for rank, i in enumerate(members):
                lanes[i] = -1.0 + 2.0 * rank / (len(members) - 1)
        elif members and role == SUPPORT:
            lanes[members[0]] = 0.6
    return lanes


def _wrap(angle: float) -> float:
    return (angle + math.pi) % (2 * math.pi) - math.pi


def scripted_commands(
    roles: list[str] | np.ndarray,
    positions: np.ndarray,
    yaws: np.ndarray,
    ball: np.ndarray,
    attack_signs: np.ndarray,
    pitch_length: float,
    goal_width: float,
    reach: float,
    skill: float = 1.0,
    aim_noise: np.ndarray | None = None,
    ball_velocity: np.ndarray | None = None,
    keeper_speed: float = 0.55,
    lanes: list[float] | None = None,
    pitch_width: float | None = None,
) -> np.ndarray:
    """Commands (n, 4) for players with the given roles.

    Plain float arithmetic per player: for the 2 to 22 players of a scene it is several times
    faster than numpy on tiny arrays, and the env's step rate depends on it.

    Args:
        roles: (n,) role names (``"keeper"``, ``"chaser"``, ``"defender"``).
        positions: (n, 2) player positions.
        yaws: (n,) headings in radians.
        ball: (2,) ball position.
        attack_signs: (n,) +1 for players attacking +x, -1 otherwise.
        pitch_length: metres.
        goal_width: metres.
        reach: centre distance at which a player can kick the ball.
        skill: speed scale in [0, 1].
        aim_noise: optional (n,) offsets in [-1, 1] that move a chaser's aim across the goal.
        ball_velocity: (2,) ball velocity; lets the keeper read a shot.
        keeper_speed: the keeper's speed relative to field players. A keeper as quick as the ball
            moves sideways saves every penalty on a goal this size; 0.55 lets well-placed shots in.
        lanes: (n,) in [-1, 1]: where defenders and supporters line up across the pitch
            (:func:`default_lanes`), so several of them do not stand on one spot.
        pitch_width: metres; default four goal widths.
    """
    n = len(roles)
    out = np.empty((n, 4))
    half_width = (pitch_width if pitch_width is not None else 4 * goal_width) / 2
    lanes = [0.0] * n if lanes is None else lanes
    half = pitch_length / 2
    bx, by = float(ball[0]), float(ball[1])
    bvx, bvy = (0.0, 0.0) if ball_velocity is None else (float(ball_velocity[0]), float(ball_velocity[1]))
    speed = 0.55 + 0.45 * skill
    pos = positions.tolist()
    yaw_list = yaws.tolist()
    for i in range(n):
        role = roles[i]
        px, py = pos[i]
        yaw = yaw_list[i]
        sign = float(attack_signs[i])
        dx, dy = bx - px, by - py
        dist = math.hypot(dx, dy)
        cos_y, sin_y = math.cos(yaw), math.sin(yaw)
        facing_ball = (cos_y * dx + sin_y * dy) / max(dist, 1e-9)
        ball_heading = math.atan2(dy, dx)
        if role == CHASER:
            aim_y = 0.0 if aim_noise is None else 0.4 * goal_width * float(aim_noise[i])
            sx, sy = sign * half - bx, aim_y - by
            norm = max(math.hypot(sx, sy), 1e-9)
            sx, sy = sx / norm, sy / norm
            tx, ty = bx - sx * reach * 0.9, by - sy * reach * 0.9
            if (px - bx) * sx + (py - by) * sy > -0.02 and dist < 3 * reach:
                # On the wrong side of the ball: walk round it instead of pushing it backwards.
                qx, qy = -sy, sx
                if (px - bx) * qx + (py - by) * qy < 0:
                    qx, qy = -qx, -qy
                tx, ty = bx + qx * reach * 1.4 - sx * reach, by + qy * reach * 1.4 - sy * reach
            slow = 0.08
            heading = math.atan2(sy, sx)
            kick = dist < reach and facing_ball > 0.5 and cos_y * sx + sin_y * sy > 0.95
        elif role == KEEPER:
            tx = -sign * half + sign * 0.08
            ty = by * 0.8
            if bvx * sign < -0.5:  # a shot: go where it will cross the line
                ty = by + bvy * (tx - bx) / bvx
            ty = min(max(ty, -goal_width / 2), goal_width / 2)
            slow = 0.05 / keeper_speed
            heading = ball_heading
            kick = dist < reach * 1.05 and dx * sign > 0
        elif role == DEFENDER:
            gx = -sign * half
            if dist < 0.25:
                tx, ty, heading = bx, by, ball_heading
            else:
                tx, ty = gx + 0.35 * (bx - gx), 0.35 * by + 0.3 * half_width * lanes[i]
                heading = math.atan2(-py, sign * half - px)
            slow = 0.15
            kick = dist < reach and abs(_wrap(heading - yaw)) < 0.8
        elif role == SUPPORT:
            # Ahead of the ball in a lane, ready for a loose ball; shoots when it gets one.
            tx = min(max(bx + sign * 0.3 * half, -0.85 * half), 0.85 * half)
            ty = 0.6 * half_width * lanes[i]
            heading = math.atan2(-py, sign * half - px)
            if dist < 0.2:
                tx, ty = bx - sign * reach * 0.9, by
            slow = 0.12
            kick = dist < reach and facing_ball > 0.5 and abs(_wrap(heading - yaw)) < 0.5
        else:
            raise UsageError(f"role {role!r} unknown; choose one of: {', '.join(ROLES)}")
        mx, my = tx - px, ty - py
        distance = math.hypot(mx, my)
        gain = speed * min(1.0, distance / slow) / max(distance, 1e-9)
        if role == KEEPER:
            gain *= keeper_speed
        out[i, 0] = mx * gain
        out[i, 1] = my * gain
        out[i, 2] = min(1.0, max(-1.0, 3.0 * _wrap(heading - yaw)))
        out[i, 3] = 1.0 if kick else -1.0
    return out
