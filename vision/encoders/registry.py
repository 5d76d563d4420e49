"""A name -> encoder registry, so a CLI can list encoders and build one from a string."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from visiongym.sims.errors import UsageError

__all__ = ["register_model", "list_models", "get_model_class", "build_model"]

_MODELS: dict[str, type] = {}

T = TypeVar("T", bound=type)


def register_model(name: str | None = None) -> Callable[[T], T]:
    """Class decorator: register an encoder under ``name`` (default: the class name in snake case)."""

    def decorator(cls: T) -> T:
        key = name or "".join(
            "_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(cls.__name__)
        )
        if key in _MODELS and _MODELS[key] is not cls:
            raise UsageError(f"encoder name {key!r} is already registered by {_MODELS[key]!r}")
        _MODELS[key] = cls
        return cls

    return decorator


def list_models() -> list[str]:
    """Names of every registered encoder, sorted."""
    return sorted(_MODELS)


def get_model_class(name: str) -> type:
    """The encoder class registered as ``name``; an unknown name raises naming the choices."""
    try:
        return _MODELS[name]
    except KeyError:
        raise UsageError(
            f"encoder {name!r} unknown; choose one of: {', '.join(list_models())}"
        ) from None


def build_model(name: str, **kwargs: Any):
    """Build the encoder registered as ``name`` with keyword arguments (``observation_space``, ...)."""
    return get_model_class(name)(**kwargs)
