"""The one exception type for a bad input, shared by every layer of the suite.

Validators raise :class:`UsageError` with a message that names the bad value and the allowed
ones. It subclasses ``ValueError``, so code that catches ``ValueError`` keeps working. The
commands (:func:`visiongym.envs.cli.run_command`) print it as one ``error:`` line; any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["MissingFileError", "UsageError", "check_choice"]


class UsageError(ValueError):
    """A bad input or set-up: an unknown name, a value out of range, a file that is not there."""


def check_choice(name: str, value, choices: Iterable) -> None:
    """Raise :class:`UsageError` unless ``value`` is one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        raise UsageError(f"{name} {value!r} unknown; choose one of: {', '.join(map(str, choices))}")


class MissingFileError(UsageError, FileNotFoundError):
    """A file or folder the user named is not there (also a ``FileNotFoundError``)."""
