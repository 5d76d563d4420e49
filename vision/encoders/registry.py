"""The encoder registry (:data:`ENCODERS`), and the torchvision-style functions over it.

Every entry is a :class:`~stable_baselines3.common.torch_layers.BaseFeaturesExtractor` class, so
:func:`get_model_class` gives SB3 its ``features_extractor_class`` and :func:`build_model` builds one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from visiongym.vision.registry import Registry

__all__ = ["ENCODERS", "register_model", "list_models", "get_model_class", "build_model"]

ENCODERS: Registry[Any] = Registry("encoder")
"""Encoder name -> feature-extractor class."""

T = TypeVar("T", bound=type)


def register_model(name: str | None = None) -> Callable[[T], T]:
    """Class decorator: register an encoder under ``name`` (default: the class name in snake case)."""
    return ENCODERS.register(name)


def list_models() -> list[str]:
    """Names of every registered encoder, sorted."""
    return sorted(ENCODERS.names())


def get_model_class(name: str) -> type:
    """The encoder class registered as ``name``; an unknown name raises naming the choices."""
    return ENCODERS.get(name)


def build_model(name: str, **kwargs: Any):
    """Build the encoder registered as ``name`` with keyword arguments (``observation_space``, ...)."""
    return ENCODERS.build(name, **kwargs)
