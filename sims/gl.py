"""Choose MuJoCo's OpenGL backend in one place and create offscreen renderers lazily.

MuJoCo reads ``MUJOCO_GL`` when it is first imported, so :func:`configure_gl` runs from
``sims/__init__.py`` before any module imports ``mujoco``. A user who sets ``MUJOCO_GL`` keeps
their choice.

Every frame this suite renders is offscreen (observations, videos, and the pygame viewer, which
blits those frames), so no backend needs a window. On Linux the choice is ``egl`` (NVIDIA or
Mesa, GPU or CPU) when ``libEGL`` loads, else ``osmesa`` (software) when ``libOSMesa`` loads,
whether or not a display exists; ``glfw`` only when neither loads and a display exists. GLFW
opens a hidden X window and a GLX context per renderer: it fails where ``DISPLAY`` is set but
unreachable (a stale ssh or tmux session), it was slower under Xvfb (536 against 619 soccer
frames/s at 480 x 360), and its GLX context is the one the pygame window's own context lost to
(see :mod:`visiongym.envs.viewer`). EGL gives the same bytes with or without a display.
Elsewhere (macOS, Windows) the choice is ``glfw``, as before. When nothing loads, MuJoCo's
rendering is disabled: physics and state observations still work, and the first render raises
:class:`RenderingUnavailableError` saying what to install.

A backend the user names that cannot work (``MUJOCO_GL=osmesa`` without ``libOSMesa``, or a
name MuJoCo does not know) does not fail ``import visiongym``: :func:`configure_gl_at_import`
imports MuJoCo with rendering disabled (``import mujoco`` would otherwise fail deep inside
PyOpenGL), so state-only envs keep working, and the first render raises the
:class:`RenderingUnavailableError`, which every command prints as one ``error:`` line.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

from visiongym.sims.errors import UsageError

__all__ = ["choose_backend", "configure_gl", "configure_gl_at_import", "make_renderer", "RenderingUnavailableError"]

BACKENDS = ("egl", "osmesa", "glfw")
_LIBRARIES = {"egl": ("libEGL.so.1", "libEGL.so"), "osmesa": ("libOSMesa.so.8", "libOSMesa.so.6", "libOSMesa.so")}
INSTALL_HINT = (
    "Install an OpenGL backend: on Debian/Ubuntu `apt-get install libegl1 libgl1-mesa-dri` for EGL "
    "(works on CPUs through Mesa and on NVIDIA GPUs), or `apt-get install libosmesa6` and set "
    "MUJOCO_GL=osmesa. On a desktop with a display and neither library, MUJOCO_GL=glfw."
)


class RenderingUnavailableError(UsageError, RuntimeError):
    """No MuJoCo rendering backend could create an offscreen context."""


def _can_load(backend: str) -> bool:
    for name in _LIBRARIES.get(backend, ()):
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


def choose_backend(
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    can_load: Callable[[str], bool] = _can_load,
) -> str:
    """The backend ``configure_gl`` would pick for this environment (no side effects).

    ``MUJOCO_GL`` wins when set. On Linux: ``egl``, then ``osmesa``, then ``glfw`` if a display
    exists, else ``disable``; elsewhere ``glfw``.
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    chosen = environ.get("MUJOCO_GL")
    if chosen:
        if chosen.lower() not in BACKENDS + ("disable", "disabled", "off", "false", "0"):
            raise RenderingUnavailableError(
                f"MUJOCO_GL={chosen!r} is not a MuJoCo backend; choose one of: {', '.join(BACKENDS)}"
            )
        return chosen.lower()
    if not platform.startswith("linux"):
        return "glfw"
    for backend in ("egl", "osmesa"):
        if can_load(backend):
            return backend
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return "glfw"
    return "disable"  # physics still works; the first render explains what to install


def configure_gl() -> str:
    """Set ``MUJOCO_GL`` (and ``PYOPENGL_PLATFORM``) if the user has not; return the choice.

    With EGL or OSMesa it also sets ``LP_NUM_THREADS=0`` unless the user set it: Mesa's software
    rasteriser (llvmpipe) then draws in the calling thread instead of handing every frame to one
    helper thread per core. For the small offscreen images of this suite that is 1.3-1.5x faster
    at 48-128 px on a 2-core machine (``benchmarks/render_threads.py``), and it leaves the other
    cores to torch. GPU drivers ignore the variable.
    """
    chosen = choose_backend()
    if "MUJOCO_GL" in os.environ and chosen in _LIBRARIES and not _can_load(chosen):
        raise RenderingUnavailableError(
            f"MUJOCO_GL={os.environ['MUJOCO_GL']!r} but its library "
            f"({' or '.join(_LIBRARIES[chosen])}) cannot be loaded. {INSTALL_HINT}"
        )
    if "MUJOCO_GL" not in os.environ:
        os.environ["MUJOCO_GL"] = chosen
        if chosen in ("egl", "osmesa"):
            os.environ.setdefault("PYOPENGL_PLATFORM", chosen)
    if chosen in ("egl", "osmesa"):
        os.environ.setdefault("LP_NUM_THREADS", "0")
    return chosen


def configure_gl_at_import() -> None:
    """:func:`configure_gl` for ``import visiongym.sims``: a backend that cannot work never fails the import.

    When the user's ``MUJOCO_GL`` is refused, MuJoCo is imported now with rendering disabled,
    so that neither this import nor a later ``import mujoco`` fails inside PyOpenGL; the user's
    value is put back (child processes see it too), and :func:`make_renderer` raises the refusal
    at the first render, where commands print it as one ``error:`` line.
    """
    try:
        configure_gl()
    except RenderingUnavailableError:
        if "mujoco" in sys.modules:
            return
        chosen = os.environ["MUJOCO_GL"]
        os.environ["MUJOCO_GL"] = "disable"
        try:
            import mujoco  # noqa: F401 - reads MUJOCO_GL once, now
        finally:
            os.environ["MUJOCO_GL"] = chosen


def _load_triton_first() -> None:
    """Load Triton before the first GL context of a process that also trains with torch.

    Mesa's llvmpipe and Triton each bring their own LLVM; once Mesa has opened an EGL context,
    importing Triton (which torch does when it builds its first optimizer, through
    ``torch._dynamo``) crashes the process. Loading Triton first is safe. Only processes that
    already imported torch pay for it; env workers that only render stay lean.
    """
    if "torch" in sys.modules and "triton" not in sys.modules:
        import importlib.util

        if importlib.util.find_spec("triton") is not None:
            import triton  # noqa: F401


def make_renderer(model, height: int, width: int, max_geom: int | None = None):
    """Create a ``mujoco.Renderer``; if no context can be made, raise with an install hint.

    The model's offscreen buffer must be at least ``height`` x ``width``; builders in this suite
    size it to the observation so no pixels are wasted. ``max_geom`` bounds the visual scene;
    by default it is sized to the model rather than MuJoCo's 10,000, which saves memory per env.
    """
    backend = configure_gl()  # raises the refusal of a user's MUJOCO_GL that cannot work
    _load_triton_first()
    if backend in ("disable", "disabled", "off", "false", "0"):
        raise RenderingUnavailableError(f"MuJoCo rendering is disabled (MUJOCO_GL={backend!r}). {INSTALL_HINT}")
    import mujoco

    try:
        if max_geom is None:
            max_geom = max(1000, 4 * model.ngeom)
        return mujoco.Renderer(model, height=height, width=width, max_geom=max_geom)
    except Exception as error:  # noqa: BLE001 - any context failure gets the same advice
        raise RenderingUnavailableError(
            f"MuJoCo could not create an offscreen OpenGL context with MUJOCO_GL={backend!r} "
            f"({type(error).__name__}: {error}). {INSTALL_HINT}"
        ) from error
