"""The referee: goals, kick-offs, the clock, and restarts that keep play honest.

It reads the ball's position after each control step and decides whether play goes on. Besides
goals it has two restarts:
- *stuck ball*: a ball pinned still against a board for ``stuck_seconds`` is dropped back into
  play a little way inside the pitch (like a throw-in). Without it, a policy can farm shaping
  rewards or run the clock down by jamming the ball into a corner;
- *escape*: a ball that somehow left the pitch or went non-finite is put back on the centre spot.
  This never happens under normal physics; ``escapes`` counts it so tests can assert it stays 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from visiongym.sims.soccer.builders import PitchSpec


@dataclass(frozen=True)
class RefereeDecision:
    goal: int = 0  # +1 team A scored, -1 team B scored
    restart: str = ""  # "", "kickoff", "drop_ball", "escape"


_PLAY_ON = RefereeDecision()  # shared: decisions are frozen


class Referee:
    """Keeps score and time and calls restarts. Team A attacks +x."""

    def __init__(self, pitch: PitchSpec, control_dt: float, stuck_seconds: float = 2.0) -> None:
        self.pitch = pitch
        self.control_dt = control_dt
        self.stuck_steps = max(1, round(stuck_seconds / control_dt))
        self.reset()

    def reset(self) -> None:
        self.goals = [0, 0]
        self.elapsed_steps = 0
        self.stuck_counter = 0
        self.escapes = 0
        self.drop_balls = 0
        self.last_goal = 0

    @property
    def time(self) -> float:
        return self.elapsed_steps * self.control_dt

    def observe(self, ball: Sequence[float], ball_speed: float) -> RefereeDecision:
        """Judge the position after a control step (``ball``: its x, y)."""
        p = self.pitch
        self.elapsed_steps += 1
        self.last_goal = 0
        half_l, half_w = p.length / 2, p.width / 2
        x, y = float(ball[0]), float(ball[1])
        if not (math.isfinite(x) and math.isfinite(y)):
            self.escapes += 1
            return RefereeDecision(restart="escape")
        if abs(y) < p.goal_width / 2 and abs(x) > half_l + p.ball_radius:
            scorer = 0 if x > 0 else 1
            self.goals[scorer] += 1
            self.last_goal = 1 if scorer == 0 else -1
            self.stuck_counter = 0
            return RefereeDecision(goal=self.last_goal, restart="kickoff")
        slack = 0.02
        inside_pitch = abs(x) <= half_l + slack and abs(y) <= half_w + slack
        inside_goal = abs(y) <= p.goal_width / 2 + slack and abs(x) <= half_l + p.goal_depth + slack
        if not (inside_pitch or inside_goal):
            self.escapes += 1
            return RefereeDecision(restart="escape")
        near_board = (
            half_w - abs(y) < p.ball_radius + 0.02
            or (half_l - abs(x) < p.ball_radius + 0.02 and abs(y) > p.goal_width / 2)
        )
        if near_board and ball_speed < 0.08:
            self.stuck_counter += 1
        else:
            self.stuck_counter = 0
        if self.stuck_counter >= self.stuck_steps:
            self.stuck_counter = 0
            self.drop_balls += 1
            return RefereeDecision(restart="drop_ball")
        return _PLAY_ON
