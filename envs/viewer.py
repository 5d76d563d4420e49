"""A pygame window that shows env frames with a heads-up display, for every visiongym env.

The HUD is drawn onto the frame with OpenCV (:func:`draw_hud`), so a recorded video shows exactly
what the window shows. pygame is imported lazily, in the process that opens the window.

On X11 the window is drawn without OpenGL. By default SDL 2 puts the window surface that
pygame draws on behind an OpenGL renderer of its own (a "texture framebuffer"), with a GLX
context it believes stays current on the main thread. MuJoCo makes its own context current
for every frame it renders and never gives SDL's back, so SDL's later draws went into MuJoCo's
context: the window showed its first frame and froze (GLFW), or the process died with an X error
``BadAccess`` on ``X_GLXMakeCurrent`` (EGL, whose contexts libglvnd will not mix with GLX on one
thread). ``SDL_FRAMEBUFFER_ACCELERATION=0`` makes SDL use its plain X11 (shared-memory)
framebuffer, which needs no GL, unless the user set that variable.

The X11 ``WM_NAME`` is rewritten as a plain ``STRING``: under a UTF-8 locale SDL stores it
with an encoding named ``UTF-8`` that tools such as ``xdotool search --name`` cannot decode.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

import numpy as np

__all__ = ["Viewer", "draw_hud", "upscale"]


def upscale(frame: np.ndarray, min_height: int = 360) -> np.ndarray:
    """Nearest-neighbour enlarge small frames (84x84 observations) so people can see them."""
    factor = max(1, int(np.ceil(min_height / frame.shape[0])))
    if factor == 1:
        return frame
    return np.repeat(np.repeat(frame, factor, axis=0), factor, axis=1)


def draw_hud(frame: np.ndarray, hud: dict[str, str] | None) -> np.ndarray:
    """Return a copy of ``frame`` with ``hud`` lines (``key: value``) in a translucent box."""
    import cv2

    out = np.ascontiguousarray(frame).copy()
    if not hud:
        return out
    lines = [f"{key}: {value}" for key, value in hud.items()]
    scale = max(0.4, out.shape[0] / 900)
    line_height = int(22 * scale / 0.5)
    box_height = line_height * len(lines) + 8
    box_width = min(out.shape[1], int(max(len(line) for line in lines) * 10 * scale / 0.5) + 12)
    region = out[:box_height, :box_width]
    region[:] = (region * 0.45).astype(np.uint8)
    for row, text in enumerate(lines):
        cv2.putText(out, text, (6, line_height * (row + 1)), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), 1, cv2.LINE_AA)
    return out


class Viewer:
    """A window that shows frames at ``fps``; ``show`` returns False once the user closed it.

    Closing the window (the window manager's close button, or Escape) ends the program, as
    Gymnasium's MuJoCo viewer does, unless ``exit_on_close`` is False: ``show`` then returns
    False and the caller decides (``visiongym play`` prints the returns so far).

    Args:
        title: window caption.
        fps: frames per second to cap the display at (0 for no cap).
        exit_on_close: raise ``SystemExit(0)`` from ``show`` when the user closes the window.
    """

    def __init__(self, title: str = "visiongym", fps: int = 20, exit_on_close: bool = True) -> None:
        try:
            import pygame
        except ImportError as error:  # pragma: no cover - pygame-ce is a dependency
            raise ImportError(
                "the pygame viewer needs pygame-ce: pip install pygame-ce"
            ) from error
        self._pygame = pygame
        pygame.display.init()  # not pygame.init(): a window needs no audio device
        if pygame.display.get_driver() == "x11":
            os.environ.setdefault("SDL_FRAMEBUFFER_ACCELERATION", "0")
        pygame.display.set_caption(title)
        self.title = title
        self.fps = fps
        self.exit_on_close = exit_on_close
        self._clock = pygame.time.Clock()
        self._screen = None
        self.open = True
        #: Keys held now or pressed since the previous frame: a tap shorter than a frame still counts.
        self.pressed: set[int] = set()
        self._held: set[int] = set()

    def show(self, frame: np.ndarray, hud: dict[str, str] | None = None) -> bool:
        """Draw ``frame`` (uint8 H x W x 3) with ``hud`` text; pump events; keep the frame rate."""
        if not self.open:
            return False
        pygame = self._pygame
        image = draw_hud(upscale(frame), hud)
        height, width = image.shape[:2]
        if self._screen is None or self._screen.get_size() != (width, height):
            self._screen = pygame.display.set_mode((width, height))
            _set_x11_name(self.title)
        surface = pygame.surfarray.make_surface(image.swapaxes(0, 1))
        self._screen.blit(surface, (0, 0))
        pygame.display.flip()
        self.poll()
        if self.open and self.fps:
            self._clock.tick(self.fps)
        if not self.open and self.exit_on_close:
            raise SystemExit(0)
        return self.open

    def poll(self) -> None:
        """Handle window events: closing, Escape, and which keys are held or were pressed."""
        pygame = self._pygame
        went_down = set()
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
                self.close()
                return
            if event.type == pygame.KEYDOWN:
                self._held.add(event.key)
                went_down.add(event.key)
            elif event.type == pygame.KEYUP:
                self._held.discard(event.key)
        self.pressed = self._held | went_down

    def close(self) -> None:
        """Close the window; safe to call twice."""
        if self.open:
            self.open = False
            self.pressed = set()
            self._pygame.display.quit()


def _set_x11_name(title: str) -> None:
    """Store ``title`` as the window's ``WM_NAME`` in ICCCM's ``STRING`` type (Latin-1), on X11."""
    pygame = sys.modules["pygame"]
    info = pygame.display.get_wm_info()
    if pygame.display.get_driver() != "x11" or "window" not in info:
        return
    path = ctypes.util.find_library("X11")
    try:
        encoded = title.encode("latin-1")
        xlib = ctypes.CDLL(path or "libX11.so.6")
    except (UnicodeEncodeError, OSError):
        return  # the caption SDL wrote stays; only the lookup by name is affected
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XChangeProperty.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                                     ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    xlib.XFlush.argtypes = xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = xlib.XOpenDisplay(None)
    if not display:
        return
    xa_string, xa_wm_name, prop_mode_replace = 31, 39, 0  # predefined atoms of X11/Xatom.h
    xlib.XChangeProperty(display, info["window"], xa_wm_name, xa_string, 8, prop_mode_replace,
                         encoded, len(encoded))
    xlib.XFlush(display)
    xlib.XCloseDisplay(display)
