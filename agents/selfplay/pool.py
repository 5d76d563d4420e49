"""The opponent pool of self-play: scripted teams at graded skill and frozen snapshots.

Names: ``scripted:<skill>`` (the scene's scripted roles at that skill in [0, 1]) and
``snapshot:<k>`` (the learner frozen at its k-th promotion; ``snapshot:0`` is its initial
weights, as RLlib's self-play example starts against a random policy). Each training episode
draws its opponent from the pool (:meth:`OpponentPool.sample`), the learner's results against
each member are kept over a sliding window (:meth:`OpponentPool.record`), and when its win rate
against the newest snapshot passes ``threshold`` a new frozen copy joins the pool
(:meth:`OpponentPool.should_promote`, :meth:`OpponentPool.add_snapshot`).

On disk, in the run folder: ``pool/pool.pt`` (members, results, promotions) and
``pool/snapshot_<k>.pt`` (policy checkpoints), each written atomically, so ``--resume``
continues with the same pool.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from visiongym.sims.errors import UsageError
from visiongym.vision.runtime import load_checkpoint, save_checkpoint

__all__ = ["OpponentPool", "parse_opponent", "OPPONENT_KINDS", "POOL_KIND", "SCORES"]

OPPONENT_KINDS = ("scripted", "snapshot")
POOL_KIND = "selfplay_pool"
#: Points of a result for the win rate: a draw counts half.
SCORES = {"win": 1.0, "draw": 0.5, "loss": 0.0}


def parse_opponent(name: str) -> tuple[str, float | int]:
    """``"scripted:0.5"`` -> ``("scripted", 0.5)``; ``"snapshot:3"`` -> ``("snapshot", 3)``.

    Raises:
        UsageError: naming the bad name and the accepted forms.
    """
    kind, _, value = str(name).partition(":")
    forms = "scripted:<skill in [0, 1]> (e.g. scripted:0.5) or snapshot:<k> (e.g. snapshot:0)"
    if kind not in OPPONENT_KINDS or not value:
        raise UsageError(f"opponent {name!r} unknown; choose one of the kinds {', '.join(OPPONENT_KINDS)}: {forms}")
    try:
        number = float(value) if kind == "scripted" else int(value)
    except ValueError:
        raise UsageError(f"opponent {name!r} unknown; choose {forms}") from None
    if kind == "scripted" and not 0.0 <= number <= 1.0:
        raise UsageError(f"opponent {name!r}: skill {number:g} out of range; must lie in [0, 1]")
    if kind == "snapshot" and number < 0:
        raise UsageError(f"opponent {name!r}: snapshot numbers start at 0")
    return kind, number


def scripted_name(skill: float) -> str:
    return f"scripted:{float(skill):g}"


class OpponentPool:
    """Who the learner plays, and when it freezes a copy of itself.

    Args:
        folder: where ``pool.pt`` and the snapshots live (None: in memory only).
        scripted_levels: skills of the scripted members.
        scripted_fraction: probability that an episode's opponent is scripted (the rest go to
            snapshots; without snapshots every opponent is scripted).
        latest_fraction: of the snapshot episodes, the share played against the newest snapshot
            (the rest are spread evenly over the older ones).
        threshold: win rate (draws half) against the newest snapshot that promotes a new one.
        window: results per opponent kept for the win rate.
        min_matches: results against the newest snapshot needed before a promotion.
        max_snapshots: the oldest snapshots (but never ``snapshot:0``... unless it is the only
            old one) leave the sampling once there are more; they stay on disk.
    """

    def __init__(
        self,
        folder: Path | None,
        scripted_levels: Sequence[float] = (0.25, 0.5, 0.75, 1.0),
        scripted_fraction: float = 0.5,
        latest_fraction: float = 0.5,
        threshold: float = 0.6,
        window: int = 50,
        min_matches: int = 20,
        max_snapshots: int = 10,
    ) -> None:
        for name, value in (("scripted_fraction", scripted_fraction), ("latest_fraction", latest_fraction),
                            ("threshold", threshold)):
            if not 0.0 <= value <= 1.0:
                raise UsageError(f"{name} {value!r} out of range; must lie in [0, 1]")
        if not scripted_levels and scripted_fraction > 0:
            raise UsageError("scripted_fraction > 0 needs at least one scripted level (--pool-scripted-levels)")
        for level in scripted_levels:
            parse_opponent(scripted_name(level))
        if window < 1 or min_matches < 1 or max_snapshots < 1:
            raise UsageError(f"window, min_matches and max_snapshots must be >= 1; got {window}, {min_matches}, "
                             f"{max_snapshots}")
        self.folder = None if folder is None else Path(folder)
        self.scripted = [scripted_name(level) for level in scripted_levels]
        self.scripted_fraction, self.latest_fraction = scripted_fraction, latest_fraction
        self.threshold, self.window, self.min_matches = threshold, window, min_matches
        self.max_snapshots = max_snapshots
        #: snapshot number -> {"step": ..., "promoted_at_win_rate": ...}.
        self.snapshots: dict[int, dict[str, Any]] = {}
        self.results: dict[str, deque[str]] = {}
        self.matches_played = 0

    # ------------------------------------------------------------------ members
    @property
    def members(self) -> list[str]:
        """Every member's name: the scripted levels, then the snapshots in order."""
        return [*self.scripted, *(f"snapshot:{k}" for k in sorted(self.snapshots))]

    @property
    def latest(self) -> str | None:
        """The newest snapshot's name (None before the first)."""
        return f"snapshot:{max(self.snapshots)}" if self.snapshots else None

    def active_snapshots(self) -> list[str]:
        """The snapshots opponents are drawn from: the newest ``max_snapshots``."""
        return [f"snapshot:{k}" for k in sorted(self.snapshots)[-self.max_snapshots:]]

    def sample(self, rng: np.random.Generator) -> str:
        """An opponent for the next episode."""
        snapshots = self.active_snapshots()
        if not snapshots or (self.scripted and rng.random() < self.scripted_fraction):
            if not self.scripted:
                raise UsageError("the pool is empty: no scripted levels and no snapshots")
            return self.scripted[int(rng.integers(len(self.scripted)))]
        older = snapshots[:-1]
        if not older or rng.random() < self.latest_fraction:
            return snapshots[-1]
        return older[int(rng.integers(len(older)))]

    # ------------------------------------------------------------------ results and promotion
    def record(self, opponent: str, result: str) -> None:
        """The learner's result (``win``/``draw``/``loss``) of a finished episode against ``opponent``."""
        if result not in SCORES:
            raise UsageError(f"result {result!r} unknown; choose one of: {', '.join(SCORES)}")
        self.results.setdefault(opponent, deque(maxlen=self.window)).append(result)
        self.matches_played += 1

    def win_rate(self, opponent: str) -> tuple[float, int]:
        """(points per match, draws half; matches) over the window against ``opponent``."""
        results = self.results.get(opponent, ())
        if not results:
            return float("nan"), 0
        return float(np.mean([SCORES[r] for r in results])), len(results)

    def should_promote(self) -> bool:
        """True once the learner beats the newest snapshot often enough (RLlib's self-play rule)."""
        latest = self.latest
        if latest is None:
            return False
        rate, matches = self.win_rate(latest)
        return matches >= self.min_matches and rate > self.threshold

    def add_snapshot(self, policy_state: dict[str, Any], meta: dict[str, Any], step: int) -> str:
        """Freeze ``policy_state`` as the next snapshot (saved atomically with the pool); its name."""
        number = max(self.snapshots) + 1 if self.snapshots else 0
        rate = self.win_rate(self.latest)[0] if self.latest else float("nan")
        self.snapshots[number] = {"step": int(step), "promoted_at_win_rate": rate}
        if self.folder is not None:
            save_checkpoint(self.snapshot_path(number), meta["algo"], policy_state, **meta, step=int(step),
                            snapshot=number)
            self.save()
        return f"snapshot:{number}"

    def snapshot_path(self, number: int) -> Path:
        if self.folder is None:
            raise UsageError("this pool keeps no files (folder=None)")
        return self.folder / f"snapshot_{number}.pt"

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        return {
            "snapshots": {str(k): dict(v) for k, v in self.snapshots.items()},
            "results": {name: list(results) for name, results in self.results.items()},
            "matches_played": self.matches_played,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.snapshots = {int(k): dict(v) for k, v in state["snapshots"].items()}
        self.results = {name: deque(results, maxlen=self.window) for name, results in state["results"].items()}
        self.matches_played = int(state["matches_played"])

    def save(self) -> Path:
        """``pool/pool.pt``, atomically."""
        if self.folder is None:
            raise UsageError("this pool keeps no files (folder=None)")
        return save_checkpoint(self.folder / "pool.pt", POOL_KIND, self.state_dict(), members=self.members)

    def load(self) -> bool:
        """Read ``pool/pool.pt`` when it exists (a resumed run); whether it did."""
        if self.folder is None or not (self.folder / "pool.pt").is_file():
            return False
        self.load_state_dict(load_checkpoint(self.folder / "pool.pt", kind=POOL_KIND)["state"])
        return True
