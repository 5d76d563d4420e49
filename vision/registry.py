"""One name -> builder registry per model family, so a CLI can list the models and build one by name.

The design is torchvision's ``torchvision.models`` (``register_model`` / ``get_model`` /
``list_models``), with one :class:`Registry` object per family instead of a single global table:
the encoders (:data:`visiongym.vision.encoders.ENCODERS`), the detectors
(:data:`visiongym.vision.detect.model.DETECTORS`), the autoencoders
(:data:`visiongym.vision.autoencoders.models.AUTOENCODERS`) and the classic classification
architectures (:data:`visiongym.vision.classify.arch.ARCHITECTURE_BUILDERS`)::

    DETECTORS = Registry("detector")

    @DETECTORS.register("grid_small")
    def grid_small(*, num_classes: int = 4) -> GridDetector: ...

    DETECTORS.names()                      # ('grid_small', ...)
    DETECTORS.build("grid_small", num_classes=3)
    DETECTORS.build("yolo")                # UsageError: detector 'yolo' unknown; choose one of: ...

A builder may also be registered lazily, as ``"package.module:attribute"``: the name is listed at
once and the module is imported on first :meth:`Registry.get`. That lets a family name a model
that lives in a package above it in the layers without importing that package.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Generic, Literal, TypeVar

from visiongym.sims.errors import UsageError

__all__ = ["Registry"]

M = TypeVar("M")
B = TypeVar("B", bound=Callable[..., Any])


def _snake_case(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


class Registry(Generic[M]):
    """Builders of one model family by name, in registration order.

    Args:
        kind: what one entry is, as error messages name it (``"encoder"``, ``"detector"``, ...).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Callable[..., M] | str] = {}

    def register(self, name: str | None = None) -> Callable[[B], B]:
        """Decorator: register a builder (a function or a class) under ``name``.

        ``name`` defaults to the builder's ``__name__`` in snake case (``NatureCNN`` ->
        ``nature_c_n_n``, so classes usually give one). Registering the same builder twice is
        harmless; another builder under a taken name raises :class:`UsageError`.
        """

        def decorator(builder: B) -> B:
            key = name or _snake_case(builder.__name__)
            taken = self._entries.get(key)
            if taken is not None and taken is not builder:
                raise UsageError(f"{self.kind} name {key!r} is already registered by {taken!r}")
            self._entries[key] = builder
            return builder

        return decorator

    def register_lazy(self, name: str, target: str) -> None:
        """Register ``target`` (``"package.module:attribute"``) under ``name``, imported on first use."""
        module, _, attribute = target.partition(":")
        if not module or not attribute:
            raise UsageError(f"lazy {self.kind} target {target!r} is not 'package.module:attribute'")
        if self._entries.get(name, target) != target:
            raise UsageError(f"{self.kind} name {name!r} is already registered by {self._entries[name]!r}")
        self._entries[name] = target

    def names(self) -> tuple[str, ...]:
        """Every registered name, in registration order."""
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def check(self, name: str) -> str:
        """Return ``name`` if it is registered; otherwise raise naming it and the choices."""
        if name not in self._entries:
            raise UsageError(f"{self.kind} {name!r} unknown; choose one of: {', '.join(self._entries)}")
        return name

    def get(self, name: str) -> Callable[..., M]:
        """The builder registered as ``name`` (a lazy one is imported now)."""
        entry = self._entries[self.check(name)]
        if isinstance(entry, str):
            module, _, attribute = entry.partition(":")
            entry = getattr(importlib.import_module(module), attribute)
            self._entries[name] = entry
        return entry

    def build(self, name: str, /, **kwargs: Any) -> M:
        """Build the model registered as ``name`` with keyword arguments."""
        return self.get(name)(**kwargs)

    def choices(self) -> Any:
        """``Literal[...]`` of the registered names: the type of a tyro CLI field choosing one."""
        return Literal[self.names()]
