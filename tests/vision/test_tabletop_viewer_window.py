"""``visiongym tabletop view`` in a real window (Xvfb): it plays, space pauses, a drag orbits, Escape ends.

The viewer runs in a subprocess on a private Xvfb; the screen is read and the mouse and keys
driven through the X server (tests/xwindow.py).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from xwindow import changed_pixels, needs_xvfb, wait_for_window

from visiongym.vision.tabletop.viewer import write_ground_truth_reconstruction

pytestmark = needs_xvfb


@pytest.fixture(scope="module")
def truth(tmp_path_factory):
    return write_ground_truth_reconstruction(tmp_path_factory.mktemp("truth"), frames=40, seed=1)


def test_viewer_plays_pauses_on_space_orbits_on_drag_and_escape_ends_it(x, command, truth):
    viewer = command("-m", "visiongym", "tabletop", "view", str(truth), "--size", "640", "480")
    window = wait_for_window(x, viewer, "tabletop view")
    time.sleep(1.0)  # the first frames drawn
    assert changed_pixels(x, 1.0) > 30, viewer.output()  # playing: the players move
    x.key("space", True, window)
    x.key("space", False, window)
    time.sleep(0.5)
    paused = x.screen()
    time.sleep(1.0)
    assert np.array_equal(paused, x.screen()), viewer.output()  # paused: the picture holds still
    assert paused.reshape(-1, 3).std(axis=0).max() > 20  # and it is the table, not one colour
    x.drag((320, 240), (460, 200))
    time.sleep(0.8)
    orbited = x.screen()
    assert np.any(orbited != paused, axis=2).sum() > 20000, viewer.output()  # the view turned
    time.sleep(0.5)
    assert np.array_equal(orbited, x.screen())  # still paused after the drag
    x.key("Escape", True, window)
    x.key("Escape", False, window)
    status, seconds = viewer.wait(timeout=20)
    assert status == 0 and seconds < 5, viewer.output()
