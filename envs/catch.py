"""CatchBall: a tiny pixel toy task for fast learning tests (after bsuite's *Catch*).

A ball falls one row per step from a random column at the top of a ``rows`` x ``columns`` grid;
the agent slides a one-cell paddle along the bottom row to catch it. Small enough that a DQN
from pixels learns it in well under a minute on a CPU, yet it needs vision: the only input is
the image.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from visiongym.sims.errors import UsageError

__all__ = ["CatchBallEnv"]

BALL_COLOUR = np.array([255, 255, 255], dtype=np.uint8)
PADDLE_COLOUR = np.array([60, 220, 60], dtype=np.uint8)
BACKGROUND_COLOUR = np.array([20, 20, 40], dtype=np.uint8)


class CatchBallEnv(gym.Env):
    """## Description

    A ball drops straight down from a random column of the top row, one row per step. The agent
    moves a paddle along the bottom row; when the ball reaches the bottom the episode ends with
    +1 if the paddle is under it and -1 otherwise. A uniformly random policy catches about a fifth of
    balls on the default 10 x 5 grid; the optimal policy catches all of them.

    ## Action Space

    ``Discrete(3)``: 0 stay, 1 move left, 2 move right (the paddle stops at the walls).

    ## Observation Space

    ``Box(0, 255, (image_size, image_size, 3), uint8)``: an RGB picture of the grid.

    | element | colour |
    |---------|--------|
    | ball    | white (255, 255, 255) |
    | paddle  | green (60, 220, 60) |
    | empty   | dark blue (20, 20, 40) |

    ## Rewards

    ``catch``: +1 when the ball lands on the paddle, -1 when it lands beside it, 0 otherwise.

    ## Starting State

    The ball is in the top row at a uniformly random column; the paddle is at a uniformly
    random column of the bottom row.

    ## Episode End

    Terminates when the ball reaches the bottom row (``rows - 1`` steps). ``info["is_success"]``
    is True on a catch.

    ## Arguments

    - ``rows`` (int, default 10), ``columns`` (int, default 5): grid size.
    - ``image_size`` (int, default 40): side of the square observation in pixels.
    - ``render_mode``: ``None`` or ``"rgb_array"`` (the observation, scaled up 4x).

    ## Version History

    - v0: initial version.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(
        self,
        rows: int = 10,
        columns: int = 5,
        image_size: int = 40,
        render_mode: str | None = None,
    ) -> None:
        if rows < 2 or columns < 1:
            raise UsageError(f"grid {rows}x{columns} too small; need rows >= 2 and columns >= 1")
        if image_size < max(rows, columns):
            raise UsageError(
                f"image_size {image_size} smaller than the grid ({rows}x{columns}); "
                f"choose image_size >= {max(rows, columns)}"
            )
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise UsageError(
                f"render_mode {render_mode!r} unknown; choose one of: None, "
                f"{', '.join(self.metadata['render_modes'])}"
            )
        self.rows, self.columns, self.image_size = rows, columns, image_size
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(3)
        self.observation_space = spaces.Box(0, 255, (image_size, image_size, 3), np.uint8)
        # Pixel -> cell lookup, computed once: nearest-cell rendering of the grid.
        self._pixel_rows = np.arange(image_size) * rows // image_size
        self._pixel_columns = np.arange(image_size) * columns // image_size
        self._ball = np.zeros(2, dtype=np.int64)  # row, column
        self._paddle = 0

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise UsageError(f"action {action!r} invalid; choose one of: 0 (stay), 1 (left), 2 (right)")
        move = (0, -1, 1)[int(action)]
        self._paddle = int(np.clip(self._paddle + move, 0, self.columns - 1))
        self._ball[0] += 1
        terminated = bool(self._ball[0] >= self.rows - 1)
        caught = terminated and self._ball[1] == self._paddle
        reward = (1.0 if caught else -1.0) if terminated else 0.0
        info = {"catch": reward, "is_success": bool(caught)}
        return self._observation(), reward, terminated, False, info

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._ball[:] = (0, self.np_random.integers(self.columns))
        self._paddle = int(self.np_random.integers(self.columns))
        return self._observation(), {}

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array":
            return np.repeat(np.repeat(self._observation(), 4, axis=0), 4, axis=1)
        return None

    def close(self) -> None:
        pass

    def _observation(self) -> np.ndarray:
        grid = np.zeros((self.rows, self.columns), dtype=np.uint8)
        grid[self.rows - 1, self._paddle] = 2
        grid[self._ball[0], self._ball[1]] = 1
        palette = np.stack([BACKGROUND_COLOUR, BALL_COLOUR, PADDLE_COLOUR])
        return palette[grid[self._pixel_rows][:, self._pixel_columns]]
