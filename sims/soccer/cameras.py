"""The soccer scene's cameras: names, image sizes, and the lazily created offscreen renderers.

The cameras themselves are built into the MJCF (:func:`visiongym.sims.soccer.builders.build_mjcf`);
this module says which name to look up for a view and keeps one renderer per image size. The
renderers hold GL contexts, which belong to the process that made them, so they are created on
first use and dropped when the scene is pickled.
"""

from __future__ import annotations

import math
from typing import Any

import mujoco
import numpy as np

from visiongym.sims.errors import UsageError, check_choice
from visiongym.sims.gl import make_renderer

__all__ = ["CAMERAS", "PLAYER_CAMERAS", "MIN_IMAGE", "MAX_IMAGE", "MAX_TILED", "check_image_size", "camera_id",
           "RendererCache", "tile_grid", "render_tiled"]

CAMERAS = ("broadcast", "top", "ego", "follow", "heading")
#: Cameras that belong to one player (``player=i`` picks whose).
PLAYER_CAMERAS = ("ego", "follow", "heading")
MIN_IMAGE, MAX_IMAGE = 16, 1024
#: Largest side of the buffer that :func:`render_tiled` draws several views into.
MAX_TILED = 4096


def check_image_size(height: int, width: int) -> None:
    """Refuse an image side that is not an integer in [MIN_IMAGE, MAX_IMAGE]."""
    for name, value in (("height", height), ("width", width)):
        if not (isinstance(value, (int, np.integer)) and MIN_IMAGE <= value <= MAX_IMAGE):
            raise UsageError(
                f"image {name} {value!r} out of range; must be an integer in [{MIN_IMAGE}, {MAX_IMAGE}]"
            )


def camera_id(model: mujoco.MjModel, camera: str, player: int, n_players: int, ego_cameras: bool) -> int:
    """MuJoCo id of view ``camera`` (of player ``player`` for the player cameras)."""
    check_choice("camera", camera, CAMERAS)
    name = camera
    if camera in PLAYER_CAMERAS:
        if camera == "ego" and not ego_cameras:
            raise UsageError("this scene was built with ego_cameras=False; 'ego' is unavailable")
        if not 0 <= player < n_players:
            raise UsageError(f"player {player} out of range; this scene has {n_players} players")
        name = f"{camera}_{player}"
    return mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, name)


class RendererCache:
    """One offscreen renderer per image size, created on first use; pickles empty.

    Args:
        model: the model to draw; its offscreen buffer grows to the largest size asked for.
    """

    def __init__(self, model: mujoco.MjModel) -> None:
        self.model = model
        self._renderers: dict[tuple[int, int], Any] = {}

    def get(self, height: int, width: int, tiled: bool = False):
        """The renderer of ``height`` x ``width`` frames (``tiled``: a buffer of several frames,
        each side up to :data:`MAX_TILED`)."""
        if not tiled:
            check_image_size(height, width)
        key = (height, width)
        if key not in self._renderers:
            vis = self.model.vis.global_
            vis.offheight = max(vis.offheight, height)
            vis.offwidth = max(vis.offwidth, width)
            self._renderers[key] = make_renderer(self.model, height, width)
        return self._renderers[key]

    def close(self) -> None:
        """Release the GL contexts; safe to call twice."""
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers = {}

    def __getstate__(self) -> dict:
        return {"model": self.model, "_renderers": {}}


def tile_grid(count: int, height: int, width: int) -> tuple[int, int]:
    """(rows, columns) of the near-square grid :func:`render_tiled` lays ``count`` views out in."""
    columns = max(1, math.ceil(math.sqrt(count)))
    return max(1, math.ceil(count / columns)), columns


def render_tiled(renderer, data: mujoco.MjData, camera_ids: list[int], height: int, width: int) -> np.ndarray:
    """Several cameras' frames, (len(camera_ids), height, width, 3) uint8, drawn in one pass.

    Each camera is drawn into its own viewport of one offscreen buffer (``renderer`` is a
    ``mujoco.Renderer`` of the whole grid, :func:`tile_grid`), and the buffer is read back once:
    the read-back waits for the GPU or the software rasteriser to finish, so one read instead
    of one per view is most of the saving. Each frame has the same bytes as a frame of its own.
    """
    rows, columns = tile_grid(len(camera_ids), height, width)
    context = renderer._mjr_context  # noqa: SLF001 - mujoco.Renderer draws one viewport; we draw several
    if renderer._gl_context:  # noqa: SLF001
        renderer._gl_context.make_current()  # noqa: SLF001
    for index, cam in enumerate(camera_ids):
        renderer.update_scene(data, cam)
        row, column = divmod(index, columns)
        viewport = mujoco.MjrRect(column * width, row * height, width, height)
        mujoco.mjr_render(viewport, renderer.scene, context)
    buffer = np.empty((rows * height, columns * width, 3), dtype=np.uint8)
    mujoco.mjr_readPixels(buffer, None, mujoco.MjrRect(0, 0, columns * width, rows * height), context)
    # GL rows run bottom-up: tile (row, column) sits upside down in rows row*height.. of the buffer.
    tiles = buffer.reshape(rows, height, columns, width, 3).transpose(0, 2, 1, 3, 4)
    tiles = tiles.reshape(rows * columns, height, width, 3)[: len(camera_ids), ::-1]
    return np.ascontiguousarray(tiles)
