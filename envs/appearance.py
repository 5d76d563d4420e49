"""Per-episode looks for the pixel envs: a generator for appearance draws that follows ``np_random``.

Looks are drawn from a child of the env's ``np_random`` (``Generator.spawn``), not from
``np_random`` itself: spawning does not advance the parent, so an episode's states, rewards and
scripted players are the same under every look, and ``appearance="default"`` (which draws
nothing) gives the same bytes as before the argument existed. Reseeding the env makes a new
``np_random``, hence a new child: the same seed gives the same looks.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LookStream"]


class LookStream:
    """The appearance generator of one env, renewed whenever its ``np_random`` is replaced."""

    def __init__(self) -> None:
        self._parent: np.random.Generator | None = None
        self._rng: np.random.Generator | None = None

    def generator(self, np_random: np.random.Generator) -> np.random.Generator:
        """The generator to draw this episode's look from."""
        if self._rng is None or self._parent is not np_random:
            self._parent = np_random
            try:
                self._rng = np_random.spawn(1)[0]
            except (TypeError, ValueError):  # a generator without a seed sequence cannot spawn
                self._rng = np.random.default_rng(np_random.integers(2**63))
        return self._rng
