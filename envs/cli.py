"""Running the suite's commands: a bad input ends with one ``error:`` line, not a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TypeVar

from visiongym.sims.errors import UsageError

__all__ = ["TRACEBACK_VARIABLE", "USER_ERRORS", "run_command"]


T = TypeVar("T")

#: What the suite raises for a bad input or set-up: an unknown algorithm, env, device or option
#: value, an action space the algorithm cannot use, a corrupt or mismatched checkpoint
#: (``CheckpointError``), a replay buffer too large (``ReplayMemoryError``), a dataset folder that
#: is not one, a missing file (``MissingFileError``), no way to render
#: (``RenderingUnavailableError``). All are :class:`UsageError`; each names the bad value. Any
#: other exception is a bug and keeps its traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (UsageError,)

#: Set to 1 to get the full traceback of a bad input (a report of a bug wants it).
TRACEBACK_VARIABLE = "VISIONGYM_TRACEBACK"


def run_command(main: Callable[[], T]) -> T:
    """Call a command's ``main()``; a bad input prints ``error: <message>`` and exits with status 2.

    Every ``python -m envs.*``, ``visiongym.agents.*`` and ``visiongym.vision.*`` command runs through this, as argparse
    ends a bad argument. ``main`` itself still raises (tests and scripts call it directly). With
    ``VISIONGYM_TRACEBACK=1`` in the environment the exception propagates with its traceback.
    """
    try:
        return main()
    except USER_ERRORS as error:
        if os.environ.get(TRACEBACK_VARIABLE, "") not in ("", "0"):
            raise
        print(f"error: {error}", file=sys.stderr)
        print(f"({TRACEBACK_VARIABLE}=1 shows the traceback)", file=sys.stderr)
        raise SystemExit(2) from None
