"""Helpers for tests of real windows under a private Xvfb: look at the screen, type, click, close.

The suite runs pygame with ``SDL_VIDEODRIVER=dummy`` (tests/conftest.py); real-window tests start
their own Xvfb (the ``xserver`` fixture) and run the commands in subprocesses on its x11 display,
as a person would. The screen is read from the X server (the root window, not pygame's surface),
keys and the mouse go through XTEST and windows are closed the way a window manager closes them
(a ``WM_DELETE_WINDOW`` message), all through ctypes on libX11 and libXtst, so Xvfb is the only
program needed (``.ci/run`` installs it). tests/conftest.py makes the fixtures (``xserver``, ``x``,
``command``) available everywhere; a test module skips itself with :data:`needs_xvfb`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 800, 600

#: ``pytestmark = needs_xvfb`` in a module of real-window tests.
needs_xvfb = pytest.mark.skipif(shutil.which("Xvfb") is None,
                                reason="no Xvfb here (apt-get install xvfb); .ci/run installs it")


class _XImage(ctypes.Structure):
    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int),
                ("format", ctypes.c_int), ("data", ctypes.c_void_p), ("byte_order", ctypes.c_int),
                ("bitmap_unit", ctypes.c_int), ("bitmap_bit_order", ctypes.c_int),
                ("bitmap_pad", ctypes.c_int), ("depth", ctypes.c_int), ("bytes_per_line", ctypes.c_int),
                ("bits_per_pixel", ctypes.c_int)]


class _XClientMessageEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                ("format", ctypes.c_int), ("data", ctypes.c_long * 5)]


class _XEvent(ctypes.Union):
    _fields_ = [("xclient", _XClientMessageEvent), ("pad", ctypes.c_long * 24)]


class XDisplay:
    """The few Xlib calls a person's actions need: look at the screen, type, close a window."""

    def __init__(self, name: str) -> None:
        self.x = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        self.xtst = ctypes.CDLL(ctypes.util.find_library("Xtst") or "libXtst.so.6")
        x = self.x
        x.XOpenDisplay.restype = ctypes.c_void_p
        x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x.XDefaultRootWindow.restype = ctypes.c_ulong
        x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        x.XGetImage.restype = ctypes.POINTER(_XImage)
        x.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int, ctypes.c_uint,
                                ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
        x.XDestroyImage.argtypes = [ctypes.POINTER(_XImage)]
        x.XQueryTree.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
                                 ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
                                 ctypes.POINTER(ctypes.c_uint)]
        x.XFetchName.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_char_p)]
        x.XFree.argtypes = [ctypes.c_void_p]
        x.XInternAtom.restype = ctypes.c_ulong
        x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                                 ctypes.POINTER(_XEvent)]
        x.XSetInputFocus.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_ulong]
        x.XStringToKeysym.restype = ctypes.c_ulong
        x.XStringToKeysym.argtypes = [ctypes.c_char_p]
        x.XKeysymToKeycode.restype = ctypes.c_ubyte
        x.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        x.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        self.xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
        self.xtst.XTestFakeButtonEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
        self.xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                                   ctypes.c_ulong]
        self.display = x.XOpenDisplay(name.encode())
        assert self.display, f"cannot open X display {name}"
        self.root = x.XDefaultRootWindow(self.display)

    def screen(self) -> np.ndarray:
        """The whole screen as uint8 H x W x 3, read from the X server."""
        image = self.x.XGetImage(self.display, self.root, 0, 0, WIDTH, HEIGHT, 0xFFFFFFFF, 2)  # ZPixmap
        assert image, "XGetImage failed"
        info = image.contents
        width, height, stride, bits = info.width, info.height, info.bytes_per_line, info.bits_per_pixel
        raw = ctypes.string_at(info.data, stride * height)
        self.x.XDestroyImage(image)
        assert bits == 32, bits
        pixels = np.frombuffer(raw, np.uint8).reshape(height, stride // 4, 4)
        return pixels[:, :width, 2::-1].copy()  # BGRX -> RGB

    def window(self, name_part: str) -> int | None:
        """The first top-level window whose WM_NAME contains ``name_part``."""
        root, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children, count = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
        self.x.XQueryTree(self.display, self.root, ctypes.byref(root), ctypes.byref(parent),
                          ctypes.byref(children), ctypes.byref(count))
        found = None
        for index in range(count.value):
            name = ctypes.c_char_p()
            if self.x.XFetchName(self.display, children[index], ctypes.byref(name)) and name.value:
                if name_part.encode() in name.value and found is None:
                    found = children[index]
                self.x.XFree(name)
        if children:
            self.x.XFree(children)
        return found

    def key(self, keysym: str, press: bool, window: int) -> None:
        """Press or release a key in ``window``, as a keyboard does (XTEST)."""
        self.x.XSetInputFocus(self.display, window, 2, 0)  # RevertToParent, CurrentTime
        code = self.x.XKeysymToKeycode(self.display, self.x.XStringToKeysym(keysym.encode()))
        self.xtst.XTestFakeKeyEvent(self.display, code, press, 0)
        self.x.XSync(self.display, 0)

    def move(self, x: int, y: int) -> None:
        """Move the pointer to screen pixel (x, y), as a mouse does (XTEST)."""
        self.xtst.XTestFakeMotionEvent(self.display, -1, int(x), int(y), 0)
        self.x.XSync(self.display, 0)

    def button(self, number: int, press: bool) -> None:
        """Press or release mouse button ``number`` (1 left, 2 middle, 3 right, 4/5 wheel) (XTEST)."""
        self.xtst.XTestFakeButtonEvent(self.display, number, press, 0)
        self.x.XSync(self.display, 0)

    def drag(self, start: tuple[int, int], end: tuple[int, int], button: int = 1, steps: int = 12,
             seconds: float = 0.6) -> None:
        """Press ``button`` at ``start``, move in ``steps`` to ``end``, release there."""
        self.move(*start)
        time.sleep(0.05)
        self.button(button, True)
        for k in range(1, steps + 1):
            time.sleep(seconds / steps)
            self.move(start[0] + (end[0] - start[0]) * k // steps, start[1] + (end[1] - start[1]) * k // steps)
        self.button(button, False)

    def close_window(self, window: int) -> None:
        """Ask ``window`` to close, as a window manager's close button does (ICCCM WM_DELETE_WINDOW)."""
        event = _XEvent()
        event.xclient.type = 33  # ClientMessage
        event.xclient.window = window
        event.xclient.message_type = self.x.XInternAtom(self.display, b"WM_PROTOCOLS", 0)
        event.xclient.format = 32
        event.xclient.data[0] = self.x.XInternAtom(self.display, b"WM_DELETE_WINDOW", 0)
        self.x.XSendEvent(self.display, window, 0, 0, ctypes.byref(event))
        self.x.XSync(self.display, 0)

    def close(self) -> None:
        self.x.XCloseDisplay(self.display)


@pytest.fixture(scope="module")
def xserver():
    """A private Xvfb on a display number it picks itself (``-displayfd``); yields its name."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{WIDTH}x{HEIGHT}x24",
                               "-nolisten", "tcp"], pass_fds=(write_end,), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()
    assert number, "Xvfb did not report a display number"
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def x(xserver):
    display = XDisplay(xserver)
    yield display
    display.close()


class Command:
    """A subprocess on the X display (x11 video, no MuJoCo or SDL settings from the test run)."""

    def __init__(self, display: str, *args: str, mujoco_gl: str | None = None) -> None:
        env = {key: value for key, value in os.environ.items()
               if key not in ("SDL_VIDEODRIVER", "MUJOCO_GL", "PYOPENGL_PLATFORM", "VISIONGYM_TRACEBACK")}
        env.update(DISPLAY=display, SDL_AUDIODRIVER="dummy", PYTHONUNBUFFERED="1")
        if mujoco_gl is not None:
            env["MUJOCO_GL"] = mujoco_gl
        self.process = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait(self, timeout: float) -> tuple[int, float]:
        """Exit status and seconds it took to end."""
        start = time.monotonic()
        status = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return status, time.monotonic() - start

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def wait_for_window(x: XDisplay, command: Command, name: str = "visiongym", timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        window = x.window(name)
        if window:
            return window
        assert command.process.poll() is None, f"ended before its window appeared:\n{command.output()}"
        time.sleep(0.2)
    raise AssertionError(f"no window named {name!r} within {timeout} s:\n{command.output()}")


def changed_pixels(x: XDisplay, seconds: float) -> int:
    first = x.screen()
    time.sleep(seconds)
    return int(np.any(first != x.screen(), axis=2).sum())


@pytest.fixture
def command(xserver):
    started: list[Command] = []

    def start(*args: str, mujoco_gl: str | None = None) -> Command:
        started.append(Command(xserver, *args, mujoco_gl=mujoco_gl))
        return started[-1]

    yield start
    for each in started:
        each.kill()
