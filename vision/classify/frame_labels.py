"""Frame-level labels computed from a rendered frame's exact boxes: where the ball is, how many players.

A dataset folder (``visiongym render-data``) records, per frame, the tight box and class of every
object visible in at least one pixel (:mod:`visiongym.vision.data.format`). These tasks turn
that record into one class per frame, so a classifier can be trained and scored on any dataset
folder, and on shifted copies of it (the robustness suite keeps or recomputes the boxes):

============== ============================================ =========================================
task           classes                                      label of a frame
============== ============================================ =========================================
``ball_third`` ``left``, ``centre``, ``right``, ``no_ball``  which third of the frame's width holds
                                                            the centre of the ball's box (broadcast
                                                            camera: roughly which third of the pitch)
``ball_cell``  ``top_left`` ... ``bottom_right``,           the 3 x 3 grid cell of the frame holding
               ``no_ball``                                  the ball's box centre, row by row
``players``    ``0`` ... ``6``                              how many players (either team) are
                                                            visible in at least one pixel
============== ============================================ =========================================

``no_ball`` means no pixel of the ball is visible (occluded or out of view). Positions are in the
frame, not on the pitch: a frame records its boxes, not the ball's pitch coordinates, and the
label then follows the picture under a camera shift. No torch here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from visiongym.vision.data.format import CLASS_NAMES
from visiongym.vision.registry import Registry

__all__ = ["FrameTask", "FRAME_TASKS", "frame_labels", "task_class_names"]

BALL = CLASS_NAMES.index("ball")
PLAYERS = (CLASS_NAMES.index("team_a"), CLASS_NAMES.index("team_b"))
MAX_PLAYERS = 6  # three a side, the largest team size a soccer dataset draws
_ROWS, _COLUMNS = ("top", "middle", "bottom"), ("left", "centre", "right")


@dataclass(frozen=True)
class FrameTask:
    """One frame-level label: its class names and how a frame's boxes give its class index.

    Attributes:
        name: the task's name (``--tasks``).
        class_names: class ``i`` is ``class_names[i]``.
        label: ``label(boxes (K, 4) xyxy pixels, labels (K,), (height, width)) -> class index``.
    """

    name: str
    class_names: tuple[str, ...]
    label: Callable[[np.ndarray, np.ndarray, tuple[int, int]], int]

    def __call__(self, boxes: np.ndarray, labels: np.ndarray, size: tuple[int, int]) -> int:
        return self.label(np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(labels), size)


def _ball_centre(boxes: np.ndarray, labels: np.ndarray) -> tuple[float, float] | None:
    balls = boxes[labels == BALL]
    if not len(balls):
        return None
    x0, y0, x1, y1 = balls[0]
    return (x0 + x1) / 2, (y0 + y1) / 2


def _third(value: float, extent: int) -> int:
    return min(2, max(0, int(3 * value / extent)))


def _ball_third(boxes: np.ndarray, labels: np.ndarray, size: tuple[int, int]) -> int:
    centre = _ball_centre(boxes, labels)
    return 3 if centre is None else _third(centre[0], size[1])


def _ball_cell(boxes: np.ndarray, labels: np.ndarray, size: tuple[int, int]) -> int:
    centre = _ball_centre(boxes, labels)
    if centre is None:
        return 9
    return 3 * _third(centre[1], size[0]) + _third(centre[0], size[1])


def _players(boxes: np.ndarray, labels: np.ndarray, size: tuple[int, int]) -> int:
    return min(MAX_PLAYERS, int(np.isin(labels, PLAYERS).sum()))


FRAME_TASKS: Registry[int] = Registry("frame label task")
"""Frame label tasks by name; ``FRAME_TASKS.get(name)`` is the :class:`FrameTask`."""

for _task in (
    FrameTask("ball_third", (*_COLUMNS, "no_ball"), _ball_third),
    FrameTask("ball_cell", (*(f"{r}_{c}" for r in _ROWS for c in _COLUMNS), "no_ball"), _ball_cell),
    FrameTask("players", tuple(str(n) for n in range(MAX_PLAYERS + 1)), _players),
):
    FRAME_TASKS.register(_task.name)(_task)


def task_class_names(tasks: Sequence[str]) -> dict[str, list[str]]:
    """``{task: class names}`` for ``tasks``; an unknown task raises naming the known ones."""
    return {name: list(FRAME_TASKS.get(name).class_names) for name in tasks}


def frame_labels(
    targets: Sequence[dict[str, np.ndarray]], sizes: Sequence[tuple[int, int]], tasks: Sequence[str]
) -> dict[str, np.ndarray]:
    """Per task, the (N,) int64 class of each frame, from its ``boxes`` and ``labels``.

    Args:
        targets: per frame ``boxes`` (K, 4) xyxy pixels and ``labels`` (K,) class indices.
        sizes: per frame (height, width) in pixels, the canvas the boxes are drawn on.
        tasks: task names of :data:`FRAME_TASKS`.
    """
    out = {}
    for name in tasks:
        task = FRAME_TASKS.get(name)
        out[name] = np.asarray(
            [task(t["boxes"], t["labels"], size) for t, size in zip(targets, sizes, strict=True)],
            np.int64,
        )
    return out
