"""Gymnasium spaces <-> plain dicts, so checkpoints stay ``weights_only``-loadable."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from visiongym.sims.errors import UsageError

__all__ = ["space_to_dict", "space_from_dict"]


def _bound(values: np.ndarray) -> Any:
    flat = np.asarray(values).ravel()
    return float(flat[0]) if flat.size and (flat == flat[0]).all() else flat.astype(float).tolist()


def space_to_dict(space: gym.Space) -> dict[str, Any]:
    """A Box or Discrete space as a dict of Python scalars and lists."""
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n)}
    if isinstance(space, gym.spaces.Box):
        return {"type": "Box", "shape": list(space.shape), "dtype": str(space.dtype),
                "low": _bound(space.low), "high": _bound(space.high)}
    raise UsageError(f"space {space} cannot be saved; only Box and Discrete are supported")


def space_from_dict(data: dict[str, Any]) -> gym.Space:
    """Inverse of :func:`space_to_dict`."""
    if data["type"] == "Discrete":
        return gym.spaces.Discrete(data["n"])
    shape, dtype = tuple(data["shape"]), np.dtype(data["dtype"])
    low = np.broadcast_to(np.asarray(data["low"], dtype=dtype), shape)
    high = np.broadcast_to(np.asarray(data["high"], dtype=dtype), shape)
    return gym.spaces.Box(low, high, shape, dtype)
