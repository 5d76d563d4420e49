"""Two labelled image tasks rendered by the soccer simulator, for transfer learning.

Frames come from the top camera with players and ball placed uniformly at random on the pitch
(default colours, so team A is always the same colour). Labels come from the scene's state:

- ``ball_zone`` (source task): which of 6 zones holds the ball (thirds of the length x halves
  of the width, team A's defensive third first).
- ``possession`` (target task): which team's nearest player is closer to the ball (0 A, 1 B).
- ``count``: how many players are on the pitch (team sizes drawn from 1..3 each; 2..6 -> 0..4).
- ``majority``: which team fields more players (0 A, 1 B, 2 equal; team sizes from 1..3 each).
"""

from __future__ import annotations

import numpy as np
import torch

from visiongym.sims.errors import UsageError

__all__ = ["TASKS", "NUM_CLASSES", "render_task"]

TASKS = ("ball_zone", "possession", "count", "majority")
NUM_CLASSES = {"ball_zone": 6, "possession": 2, "count": 5, "majority": 3}


def _label(
    task: str, ball: np.ndarray, players: np.ndarray, teams: np.ndarray, half: tuple[float, float]
) -> int:
    if task == "ball_zone":
        third = min(2, int((ball[0] + half[0]) / (2 * half[0]) * 3))
        return third * 2 + int(ball[1] > 0)
    if task == "possession":
        distance = np.hypot(*(players - ball).T)
        return int(teams[np.argmin(distance)])
    if task == "majority":
        team_a, team_b = int((teams == 0).sum()), int((teams == 1).sum())
        return 0 if team_a > team_b else 1 if team_b > team_a else 2
    return len(players) - 2


def render_task(
    task: str, count: int, rng: np.random.Generator, image_size: int = 96, camera: str = "top"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Render ``count`` frames for ``task``; return uint8 ``(N, 3, S, S)`` images and int64 labels."""
    from visiongym.sims.soccer import SoccerScene

    if task not in TASKS:
        raise UsageError(f"task {task!r} unknown; choose one of: {', '.join(TASKS)}")
    sizes = (
        [(a, b) for a in (1, 2, 3) for b in (1, 2, 3)]
        if task in ("count", "majority")
        else [(2, 2)]
    )
    scenes = {size: SoccerScene(team_size=size, ego_cameras=False) for size in sizes}
    images = np.empty((count, image_size, image_size, 3), np.uint8)
    labels = np.empty(count, np.int64)
    try:
        for index in range(count):
            scene = scenes[sizes[int(rng.integers(len(sizes)))]]
            half = (scene.pitch.length / 2 - 0.08, scene.pitch.width / 2 - 0.08)
            positions = rng.uniform([-half[0], -half[1]], half, (scene.n_players, 2))
            for player, position in enumerate(positions):
                scene.set_player(player, position, rng.uniform(-np.pi, np.pi))
            ball = rng.uniform([-half[0], -half[1]], half)
            scene.set_ball(ball)
            images[index] = scene.render(camera=camera, height=image_size, width=image_size)
            labels[index] = _label(task, ball, positions, scene.teams, half)
    finally:
        for scene in scenes.values():
            scene.close()
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(labels)
