"""Choose MuJoCo's OpenGL backend in one place and create offscreen renderers lazily.

MuJoCo reads ``MUJOCO_GL`` when it first creates a rendering context, so the variable must be set
before ``mujoco.Renderer`` is built. :func:`configure_gl` is called by every renderer factory in
the suite; a user who sets ``MUJOCO_GL`` themselves keeps their choice.

Order of preference on Linux without a display: ``egl`` (GPU or Mesa), then ``osmesa``
(software). With a display the default (GLFW) is used.
"""

from __future__ import annotations

import os
import sys

__all__ = ["configure_gl", "make_renderer", "RenderingUnavailableError"]

_BACKENDS = ("egl", "osmesa", "glfw")
_INSTALL_HINT = (
    "Install an OpenGL backend: on Debian/Ubuntu `apt-get install libegl1 libgl1-mesa-dri` for EGL "
    "(works on CPUs through Mesa and on NVIDIA GPUs), or `apt-get install libosmesa6` and set "
    "MUJOCO_GL=osmesa. On a desktop with a display, MUJOCO_GL=glfw."
)


class RenderingUnavailableError(RuntimeError):
    """No MuJoCo rendering backend could create an offscreen context."""


def configure_gl() -> str:
    """Set ``MUJOCO_GL`` (and ``PYOPENGL_PLATFORM``) if the user has not, and return the choice."""
    chosen = os.environ.get("MUJOCO_GL")
    if chosen:
        if chosen.lower() not in _BACKENDS + ("disable", "disabled", "off", "false", "0"):
            raise RenderingUnavailableError(
                f"MUJOCO_GL={chosen!r} is not a MuJoCo backend; choose one of: {', '.join(_BACKENDS)}"
            )
        return chosen.lower()
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    chosen = "egl" if headless else "glfw"
    os.environ["MUJOCO_GL"] = chosen
    if chosen in ("egl", "osmesa"):
        os.environ.setdefault("PYOPENGL_PLATFORM", chosen)
    return chosen


def make_renderer(model, height: int, width: int, max_geom: int | None = None):
    """Create a ``mujoco.Renderer``; if no context can be made, raise with an install hint.

    The model's offscreen buffer must be at least ``height`` x ``width``; builders in this suite
    size it to the observation so no pixels are wasted. ``max_geom`` bounds the visual scene;
    by default it is sized to the model rather than MuJoCo's 10,000, which saves memory per env.
    """
    backend = configure_gl()
    import mujoco

    try:
        if max_geom is None:
            max_geom = max(1000, 4 * model.ngeom)
        return mujoco.Renderer(model, height=height, width=width, max_geom=max_geom)
    except Exception as error:  # noqa: BLE001 - any context failure gets the same advice
        raise RenderingUnavailableError(
            f"MuJoCo could not create an offscreen OpenGL context with MUJOCO_GL={backend!r} "
            f"({type(error).__name__}: {error}). {_INSTALL_HINT}"
        ) from error
