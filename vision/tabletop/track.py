"""Track players across frames: Hungarian matching of ground positions, a constant-velocity
motion model, and the team colour.

Each frame's detections (ground position, team) are matched to the live tracks' predicted
positions with :func:`scipy.optimize.linear_sum_assignment`; a detection may only join a track
of its own team and within ``gate`` metres of the prediction. Unmatched detections start new
tracks; a track unseen for more than ``max_age`` frames ends. Ids are never reused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["Track", "Tracker", "count_id_switches"]

_FORBIDDEN = 1e6


@dataclass
class Track:
    id: int
    team: int
    position: np.ndarray
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    last_frame: int = 0
    frames: list[int] = field(default_factory=list)

    def predict(self, frame: int) -> np.ndarray:
        return self.position + self.velocity * (frame - self.last_frame)


class Tracker:
    """Online multi-player tracker on the pitch plane.

    Args:
        gate: the largest distance (metres) between a prediction and a detection it may take.
        max_age: frames a track survives without a detection.
        smoothing: weight of a new velocity measurement (exponential smoothing).
    """

    def __init__(self, gate: float = 0.2, max_age: int = 5, smoothing: float = 0.5) -> None:
        self.gate, self.max_age, self.smoothing = gate, max_age, smoothing
        self.tracks: dict[int, Track] = {}
        self.finished: dict[int, Track] = {}
        self._next_id = 0

    def update(self, frame: int, positions: np.ndarray, teams: np.ndarray) -> np.ndarray:
        """Track ids (K,) of this frame's detections (``positions`` (K, 2), ``teams`` (K,))."""
        positions = np.asarray(positions, float).reshape(-1, 2)
        teams = np.asarray(teams, int).reshape(-1)
        live = [t for t in self.tracks.values() if frame - t.last_frame <= self.max_age]
        ids = np.full(len(positions), -1, int)
        if live and len(positions):
            predicted = np.stack([t.predict(frame) for t in live])
            cost = np.linalg.norm(predicted[:, None] - positions[None], axis=2)
            cost[np.array([t.team for t in live])[:, None] != teams[None]] = _FORBIDDEN
            cost[cost > self.gate] = _FORBIDDEN
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] >= _FORBIDDEN:
                    continue
                track = live[r]
                step = max(frame - track.last_frame, 1)
                measured = (positions[c] - track.position) / step
                track.velocity = (1 - self.smoothing) * track.velocity + self.smoothing * measured
                track.position, track.last_frame = positions[c].copy(), frame
                track.frames.append(frame)
                ids[c] = track.id
        for c in np.flatnonzero(ids < 0):
            track = Track(self._next_id, int(teams[c]), positions[c].copy(), last_frame=frame, frames=[frame])
            self.tracks[track.id] = track
            ids[c] = track.id
            self._next_id += 1
        for track_id in [i for i, t in self.tracks.items() if frame - t.last_frame > self.max_age]:
            self.finished[track_id] = self.tracks.pop(track_id)
        return ids

    def all_tracks(self) -> dict[int, Track]:
        return dict(sorted({**self.finished, **self.tracks}.items()))


def count_id_switches(assignments: list[dict[int, int]]) -> int:
    """Identity switches over a clip, as in the CLEAR MOT metrics.

    ``assignments[f]`` maps each true identity seen in frame ``f`` to the track id it was given.
    A switch is a true identity given a track id other than the one it last had.
    """
    last: dict[int, int] = {}
    switches = 0
    for frame in assignments:
        for identity, track_id in frame.items():
            if identity in last and last[identity] != track_id:
                switches += 1
            last[identity] = track_id
    return switches
