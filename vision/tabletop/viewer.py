"""``visiongym tabletop view``: look at a tabletop reconstruction in 3-D, in a window you can orbit.

Examples::

    visiongym tabletop view runs/tabletop__.../            # a reconstruction the pipeline wrote
    visiongym tabletop view --ground-truth-demo            # the simulator's exact points, no pipeline
    visiongym tabletop view DIR --screenshot view.png --frame 20 --azimuth -60 --elevation 30
    visiongym tabletop view DIR --record orbit.mp4         # an orbit video of the clip

The window draws the reconstruction's points (z-buffered square splats, 2-6 px by distance) over
the pitch as the simulator builds it: a green table-top rectangle with its halfway line, centre
spot, boards and goals, on a wooden table, so the clip reads as the paper's "soccer on a
table". Everything is drawn in NumPy (no OpenGL): a perspective orbit camera
(:class:`OrbitView`, projecting through :class:`~visiongym.sims.camera.CameraModel`), flat-shaded
polygons with an exact per-pixel depth, and the points on top.

Controls: left-drag orbits (azimuth, elevation), the wheel zooms, right-drag or the arrow keys
pan, space plays and pauses, ``,`` and ``.`` step a frame back and forward, ``r`` resets the
view, Escape or closing the window ends. The clip plays at the ``fps`` of its
``reconstruction.json``. The folder layout is described in ``docs/vision/tabletop_viewer.md``;
:func:`write_ground_truth_reconstruction` writes one from the simulator's exact data.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import tyro

from visiongym.envs.cli import run_command
from visiongym.sims.camera import CameraModel, look_at_rotation
from visiongym.sims.errors import MissingFileError, UsageError
from visiongym.sims.soccer.builders import LINE_HALF_WIDTH, TEAM_COLOURS, PitchSpec
from visiongym.vision.tabletop.plyio import PointCloud, frame_path, read_ply, write_ply

__all__ = ["FORMAT", "OrbitView", "Reconstruction", "SceneRenderer", "ViewConfig", "default_view", "load_reconstruction",
           "main", "record_orbit", "screenshot", "view", "write_ground_truth_reconstruction"]

#: The ``format`` a reconstruction.json must declare.
FORMAT = "visiongym-tabletop-1"
HELP_LINE = "drag: orbit | wheel: zoom | right-drag/arrows: pan | space: play/pause | , .: step | r: reset | esc: quit"
_LIGHT = np.array([0.35, -0.55, 0.76]) / np.linalg.norm([0.35, -0.55, 0.76])
_WOOD, _WOOD_SIDE = np.array([0.55, 0.38, 0.22]), np.array([0.40, 0.27, 0.15])
_PITCH, _SPOT, _WHITE = np.array([0.18, 0.55, 0.22]), np.array([0.25, 0.62, 0.28]), np.ones(3) * 0.95
_BOARD, _NET = np.array([0.92, 0.92, 0.88]), np.array([0.80, 0.80, 0.80])


# ---------------------------------------------------------------------------------- the folder
@dataclass
class Reconstruction:
    """A reconstruction folder, read lazily: ``meta`` is its reconstruction.json."""

    folder: Path
    meta: dict
    pitch: PitchSpec
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def frames(self) -> int:
        return int(self.meta["frames"])

    @property
    def fps(self) -> float:
        return float(self.meta["fps"])

    def cloud(self, index: int) -> PointCloud:
        """Frame ``index``'s points (an empty cloud where the pipeline skipped the frame)."""
        index = int(index) % self.frames
        if index not in self._cache:
            path = frame_path(self.folder, index)
            empty = np.zeros((0, 3), np.float32)
            self._cache[index] = read_ply(path) if path.exists() else PointCloud(
                empty, empty.astype(np.uint8), np.zeros(0, np.int32))
            if len(self._cache) > 256:
                self._cache.pop(next(iter(self._cache)))
        return self._cache[index]


_EXPECTED_FOLDER = (f"a reconstruction folder with reconstruction.json (format {FORMAT!r}, frames, fps, pitch "
                    "{length, width, goal_width}) and frames/000000.ply ...")


def load_reconstruction(folder: str | os.PathLike) -> Reconstruction:
    """Open a reconstruction folder; raises UsageError naming what is expected when it is not one."""
    folder = Path(folder)
    meta_path = folder / "reconstruction.json"
    if not folder.is_dir():
        raise MissingFileError(f"folder {str(folder)!r} not found; expected {_EXPECTED_FOLDER}")
    if not meta_path.is_file():
        raise MissingFileError(f"{str(folder)!r} has no reconstruction.json; expected {_EXPECTED_FOLDER}")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as error:
        raise UsageError(f"{str(meta_path)!r} is not JSON ({error}); expected {_EXPECTED_FOLDER}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise UsageError(f"{str(meta_path)!r} has format {found!r}; expected {FORMAT!r}")
    pitch = meta.get("pitch") or {}
    try:
        frames, fps = int(meta["frames"]), float(meta["fps"])
        spec = PitchSpec(length=float(pitch["length"]), width=float(pitch["width"]),
                         goal_width=float(pitch["goal_width"]))
    except (KeyError, TypeError, ValueError) as error:
        raise UsageError(f"{str(meta_path)!r} lacks or garbles {error}; expected {_EXPECTED_FOLDER}") from None
    if frames < 1 or not fps > 0:
        raise UsageError(f"{str(meta_path)!r} has frames={frames}, fps={fps}; expected frames >= 1 and fps > 0")
    if not any(frame_path(folder, k).exists() for k in range(min(frames, 8))):
        raise MissingFileError(f"{str(folder)!r} has no frames/000000.ply ...; expected {_EXPECTED_FOLDER}")
    return Reconstruction(folder=folder, meta=meta, pitch=spec)


# ---------------------------------------------------------------------------------- the camera
@dataclass(frozen=True)
class OrbitView:
    """A perspective camera circling ``target``: ``azimuth`` (degrees from +x towards +y of the
    eye's direction), ``elevation`` (degrees above the table), ``distance`` (metres), ``fovy``."""

    azimuth: float = -90.0
    elevation: float = 38.0
    distance: float = 3.0
    target: tuple[float, float, float] = (0.0, 0.0, 0.0)
    fovy: float = 45.0

    def eye(self) -> np.ndarray:
        az, el = math.radians(self.azimuth), math.radians(self.elevation)
        offset = (math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el))
        return np.asarray(self.target, float) + self.distance * np.asarray(offset)

    def camera(self, height: int, width: int) -> CameraModel:
        """The pinhole camera of this view at ``height`` x ``width`` pixels."""
        eye = self.eye()
        return CameraModel(position=eye, rotation=look_at_rotation(eye, self.target), fovy=self.fovy,
                           height=height, width=width)

    def orbit(self, d_azimuth: float, d_elevation: float) -> OrbitView:
        return replace(self, azimuth=(self.azimuth + d_azimuth + 180) % 360 - 180,
                       elevation=float(np.clip(self.elevation + d_elevation, 3.0, 89.0)))

    def zoom(self, factor: float) -> OrbitView:
        return replace(self, distance=float(np.clip(self.distance * factor, 0.3, 30.0)))

    def pan(self, right: float, forward: float) -> OrbitView:
        """Move the target on the table by fractions of the distance, along the view's right and
        forward directions."""
        az = math.radians(self.azimuth)
        right_dir = np.array([-math.sin(az), math.cos(az), 0.0])
        forward_dir = -np.array([math.cos(az), math.sin(az), 0.0])
        target = np.asarray(self.target) + self.distance * (right * right_dir + forward * forward_dir)
        return replace(self, target=tuple(float(v) for v in target))


def default_view(pitch: PitchSpec, aspect: float = 1.5) -> OrbitView:
    """The view ``r`` resets to: from the broadcast side, the whole table in the picture."""
    half_fov = math.radians(45.0) / 2
    needed = max(pitch.length / 2 / (aspect * math.tan(half_fov)), pitch.width / 2 / math.tan(half_fov))
    return OrbitView(distance=1.45 * needed + 0.4)


# ---------------------------------------------------------------------------------- the table
def _box(centre, half, colour) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The five faces (no bottom) of an axis-aligned box as (corners, outward normal, colour)."""
    c, h = np.asarray(centre, float), np.asarray(half, float)
    faces = []
    for axis in range(3):
        for sign in ((1.0,) if axis == 2 else (-1.0, 1.0)):
            u, v = [a for a in range(3) if a != axis]
            corners = []
            for du, dv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                p = c.copy()
                p[axis] += sign * h[axis]
                p[u] += du * h[u]
                p[v] += dv * h[v]
                corners.append(p)
            normal = np.zeros(3)
            normal[axis] = sign
            faces.append((np.array(corners), normal, colour))
    return faces


def table_polygons(p: PitchSpec) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The static scene as the simulator builds it (:mod:`visiongym.sims.soccer.builders`): table,
    pitch, halfway line, centre spot, boards and goals, as (corners, normal, colour) polygons."""
    hl, hw = p.length / 2, p.width / 2
    margin = p.goal_depth + p.board_thickness + 0.3
    up = np.array([0.0, 0.0, 1.0])

    def rect(x0, y0, x1, y1, z):
        return np.array([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]], float)

    tx, ty, thick = hl + margin, hw + margin, 0.05
    polygons = [(rect(-tx, -ty, tx, ty, 0.0), up, _WOOD)]
    for face in _box((0, 0, -thick / 2), (tx, ty, thick / 2), _WOOD_SIDE):
        if face[1][2] == 0:
            polygons.append(face)
    polygons.append((rect(-hl, -hw, hl, hw, 0.001), up, _PITCH))
    angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    spot = p.goal_width / 4
    polygons.append((np.stack([spot * np.cos(angles), spot * np.sin(angles), np.full(40, 0.0011)], 1), up, _SPOT))
    polygons.append((rect(-LINE_HALF_WIDTH, -hw, LINE_HALF_WIDTH, hw, 0.0012), up, _WHITE))
    t, h = p.board_thickness, p.board_height
    for y in (hw + t / 2, -hw - t / 2):
        polygons += _box((0, y, h / 2), (hl + t, t / 2, h / 2), _BOARD)
    segment = (p.width - p.goal_width) / 4
    for x in (-hl - t / 2, hl + t / 2):
        for sign in (1, -1):
            polygons += _box((x, sign * (p.goal_width / 2 + segment), h / 2), (t / 2, segment, h / 2), _BOARD)
    gw, gd, net, post, gh = p.goal_width / 2, p.goal_depth, p.board_thickness / 3, 0.012, 1.6 * p.board_height
    for sign in (-1.0, 1.0):
        for y in (gw + post, -gw - post):
            polygons += _box((sign * hl, y, gh / 2), (post, post, gh / 2), _WHITE)
        polygons += _box((sign * hl, 0, gh), (post, gw + post, post), _WHITE)
        for y in (gw + net / 2 + post, -gw - net / 2 - post):
            polygons += _box((sign * (hl + gd / 2), y, gh / 2), (gd / 2, net / 2, gh / 2), _NET)
        polygons += _box((sign * (hl + gd + net / 2), 0, gh / 2), (net / 2, gw + net + post, gh / 2), _NET)
    return polygons


def _clip(polygon: np.ndarray, planes: list[tuple[np.ndarray, float]]) -> np.ndarray:
    """Sutherland-Hodgman: the part of a convex polygon (camera coordinates) where n . X >= c."""
    for normal, offset in planes:
        if len(polygon) == 0:
            break
        side = polygon @ normal - offset
        kept = []
        for i in range(len(polygon)):
            j = (i + 1) % len(polygon)
            if side[i] >= 0:
                kept.append(polygon[i])
            if (side[i] >= 0) != (side[j] >= 0):
                kept.append(polygon[i] + (polygon[j] - polygon[i]) * (side[i] / (side[i] - side[j])))
        polygon = np.array(kept).reshape(-1, 3)
    return polygon


def _wood(world: np.ndarray) -> np.ndarray:
    """A brightness factor at world points (N, 3): planks 0.2 m wide along x, with a fine grain."""
    x, y = world[:, 0], world[:, 1]
    plank = np.floor(y / 0.2)
    grain = np.sin(2 * np.pi * (y * 31.0 + 0.6 * np.sin(x * 1.7 + plank * 2.3) + 0.25 * np.sin(x * 11.0 + plank)))
    seam = np.abs(y / 0.2 - np.round(y / 0.2)) < 0.02
    return (0.93 + 0.05 * np.sin(plank * 12.9898) + 0.03 * grain) * np.where(seam, 0.72, 1.0)


class SceneRenderer:
    """Draws a reconstruction frame as an orbit view sees it: the table (cached while the view
    stays put), then the points as z-buffered splats with soft shadows on the pitch.

    Args:
        pitch: the pitch the reconstruction was made on.
        near: metres in front of the eye where drawing starts.
    """

    def __init__(self, pitch: PitchSpec, near: float = 0.05) -> None:
        self.pitch = pitch
        self.near = near
        self.polygons = table_polygons(pitch)
        self._static_key = None
        self._static: tuple[np.ndarray, np.ndarray] | None = None
        corners = self.polygons[0][0]
        self._wood_origin, extent = corners[0, :2], corners[2, :2] - corners[0, :2]
        self._wood_pitch = 0.004  # metres per texel
        cols, rows = (extent / self._wood_pitch).astype(int)
        x = self._wood_origin[0] + (np.arange(cols) + 0.5) * self._wood_pitch
        y = self._wood_origin[1] + (np.arange(rows) + 0.5) * self._wood_pitch
        grid = np.stack(np.broadcast_arrays(x[None, :], y[:, None], 0.0), axis=-1).reshape(-1, 3)
        self._wood_texture = np.clip(_WOOD * 255 * _wood(grid)[:, None], 0, 255).astype(np.uint8).reshape(rows, cols, 3)

    def _texture_homography(self, camera: CameraModel) -> np.ndarray:
        """Texel (column, row) of the wood texture -> pixel (OpenCV's centre-at-integer convention)."""
        h, w, f = camera.height, camera.width, camera.focal
        to_pixel = np.array([[f, 0, -w / 2], [0, -f, -h / 2], [0, 0, -1.0]])  # camera xyz -> (u s, v s, s)
        inverse = camera.rotation.T
        plane = np.stack([inverse[:, 0], inverse[:, 1], -inverse @ camera.position], axis=1)  # (x, y, 1) -> camera
        d = self._wood_pitch
        texel = np.array([[d, 0, self._wood_origin[0] + d / 2], [0, d, self._wood_origin[1] + d / 2], [0, 0, 1.0]])
        half = np.array([[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1.0]])
        return half @ to_pixel @ plane @ texel

    def table(self, camera: CameraModel) -> tuple[np.ndarray, np.ndarray]:
        """The table alone: (H, W, 3) uint8 image and (H, W) float32 depth along the camera axis."""
        key = (camera.position.tobytes(), camera.rotation.tobytes(), camera.height, camera.width, camera.fovy)
        if key != self._static_key:
            self._static, self._static_key = self._draw_table(camera), key
        image, depth = self._static
        return image.copy(), depth.copy()

    def _draw_table(self, camera: CameraModel) -> tuple[np.ndarray, np.ndarray]:
        import cv2

        h, w, f = camera.height, camera.width, camera.focal
        rows = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        sky = (1 - rows) * np.float32([41, 43, 51]) + rows * np.float32([18, 18, 20])
        image = np.ascontiguousarray(np.broadcast_to(sky.astype(np.uint8), (h, w, 3)))
        depth = np.full((h, w), np.inf, np.float32)
        # Each pixel's ray in camera coordinates is (ray_x[col], ray_y[row], -1).
        ray_x = ((np.arange(w, dtype=np.float32) + 0.5 - w / 2) / f)[None, :]
        ray_y = (-(np.arange(h, dtype=np.float32) + 0.5 - h / 2) / f)[:, None]
        ax, ay = (w / 2 + 2) / f, (h / 2 + 2) / f
        planes = [(np.array([0.0, 0.0, -1.0]), self.near), (np.array([-1.0, 0.0, -ax]), 0.0),
                  (np.array([1.0, 0.0, -ax]), 0.0), (np.array([0.0, -1.0, -ay]), 0.0), (np.array([0.0, 1.0, -ay]), 0.0)]
        for corners, normal, colour in self.polygons:
            if normal @ (corners.mean(axis=0) - camera.position) >= 0:
                continue  # facing away
            cam = _clip(camera.to_camera(corners), planes)
            if len(cam) < 3:
                continue
            uv = np.stack([w / 2 + f * cam[:, 0] / -cam[:, 2], h / 2 - f * cam[:, 1] / -cam[:, 2]], axis=1)
            x0, y0 = np.maximum(np.floor(uv.min(axis=0)).astype(int) - 1, 0)
            x1, y1 = np.minimum(np.ceil(uv.max(axis=0)).astype(int) + 1, (w, h))
            if x1 <= x0 or y1 <= y0:
                continue
            mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
            cv2.fillPoly(mask, [np.round((uv - 0.5 - (x0, y0)) * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
            # The plane n . X = c meets the ray (x, y, -1) at t = c / (n . ray): depth t.
            n = (camera.rotation.T @ normal).astype(np.float32)
            along = n[0] * ray_x[:, x0:x1] + n[1] * ray_y[y0:y1] - n[2]
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.float32(n @ cam[0]) / along
            region = depth[y0:y1, x0:x1]
            front = mask.astype(bool) & (t > 0) & (t < region)
            if not front.any():
                continue
            shade = 0.62 + 0.38 * max(0.0, float(normal @ _LIGHT))
            if colour is _WOOD and normal[2] == 1:  # the table top: the wood texture, warped onto it
                wood = cv2.warpPerspective(self._wood_texture, self._texture_homography(camera), (w, h),
                                           flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                image[y0:y1, x0:x1][front] = (wood[y0:y1, x0:x1][front] * shade).astype(np.uint8)
            else:
                image[y0:y1, x0:x1][front] = np.clip(colour * shade * 255, 0, 255).astype(np.uint8)
            region[front] = t[front]
        return image, depth

    def _splats(self, camera: CameraModel, points: np.ndarray, size_metres: float, scale: int = 1):
        """Pixels (flat index) and depths of each point's square splat, nearest first per pixel."""
        h, w = camera.height, camera.width
        uv, depth = camera.project(points)
        ok = np.isfinite(depth) & (depth > self.near) & (uv[:, 0] > -8) & (uv[:, 0] < w + 8) & \
            (uv[:, 1] > -8) & (uv[:, 1] < h + 8)
        index = np.flatnonzero(ok)
        uv, depth = uv[ok], depth[ok]
        sides = np.clip(np.round(size_metres * camera.focal / np.maximum(depth, 1e-6)), 2 * scale, 6 * scale)
        sides = sides.astype(int)
        pixels, depths, owners = [], [], []
        for side in np.unique(sides):
            pick = np.flatnonzero(sides == side)
            offsets = np.arange(side) - (side - 1) // 2
            cols = np.floor(uv[pick, 0])[:, None, None] + offsets[None, None, :]
            rows = np.floor(uv[pick, 1])[:, None, None] + offsets[None, :, None]
            cols, rows = np.broadcast_arrays(cols, rows)
            inside = (cols >= 0) & (cols < w) & (rows >= 0) & (rows < h)
            pixels.append((rows * w + cols)[inside].astype(np.int64))
            depths.append(np.broadcast_to(depth[pick][:, None, None], inside.shape)[inside])
            owners.append(np.broadcast_to(index[pick][:, None, None], inside.shape)[inside])
        if not pixels:
            return np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)
        pixels, depths, owners = np.concatenate(pixels), np.concatenate(depths), np.concatenate(owners)
        order = np.lexsort((depths, pixels))
        pixels, depths, owners = pixels[order], depths[order], owners[order]
        first = np.ones(len(pixels), bool)
        first[1:] = pixels[1:] != pixels[:-1]
        return pixels[first], depths[first], owners[first]

    def render(self, cloud: PointCloud, camera: CameraModel, splat_metres: float = 0.006,
               surface_tolerance: float = 0.02, supersample: int = 1) -> np.ndarray:
        """(H, W, 3) uint8: the table with ``cloud`` drawn on it.

        A point shows unless the table is more than ``surface_tolerance`` metres (along the view)
        in front of it: points a pipeline put on the pitch plane (z = 0) stay above the drawn
        pitch (1 mm up), while a board (6 cm thick) still hides what stands behind it. With
        ``supersample`` k the picture is drawn k times larger and shrunk (smooth edges).
        """
        if supersample > 1:
            import cv2

            big = replace(camera, height=camera.height * supersample, width=camera.width * supersample)
            image = self._render(cloud, big, splat_metres, surface_tolerance, supersample)
            return cv2.resize(image, (camera.width, camera.height), interpolation=cv2.INTER_AREA)
        return self._render(cloud, camera, splat_metres, surface_tolerance, 1)

    def _render(self, cloud: PointCloud, camera: CameraModel, splat_metres: float, surface_tolerance: float,
                scale: int) -> np.ndarray:
        image, depth = self.table(camera)
        flat, zbuf = image.reshape(-1, 3), depth.reshape(-1)
        players = cloud.tracks >= 0
        if players.any():  # a soft shadow under each player: its points dropped onto the pitch
            ground = cloud.points[players].astype(float)
            ground[:, 2] = 0.0015
            pixels, depths, _ = self._splats(camera, ground, 1.5 * splat_metres, scale)
            shadowed = pixels[depths <= zbuf[pixels] + 1e-3]
            flat[shadowed] = (flat[shadowed] * 0.62).astype(np.uint8)
        if len(cloud):
            pixels, depths, owners = self._splats(camera, cloud.points, splat_metres, scale)
            front = depths < zbuf[pixels] + surface_tolerance
            flat[pixels[front]] = cloud.colours[owners[front]]
        return image


# ---------------------------------------------------------------------------------- ground truth
def write_ground_truth_reconstruction(out: str | os.PathLike, frames: int = 60, seed: int = 0, team_size: int = 2,
                                      points_per_player: int = 512, image_size: tuple[int, int] = (240, 320)) -> Path:
    """Write a reconstruction folder from the simulator's exact data: what a perfect pipeline would.

    A scripted ``SoccerScene(players="human")`` match plays ``frames`` control steps from a seeded
    kick-off; each frame stores every player's exact surface points (the ``surface_points`` that
    ``render_ground_truth()`` returns, taken here without rendering an image, ``points_per_player``
    of them) in its team colour lit by a fixed light, with the player's index as its track, and
    the ball as points on its sphere (track -1). ``cameras`` holds the exact broadcast camera.

    Returns:
        ``out``, holding ``reconstruction.json`` and ``frames/000000.ply`` ...
    """
    from visiongym.sims.soccer import SoccerScene

    if frames < 1 or points_per_player < 1:
        raise UsageError(f"frames={frames} and points_per_player={points_per_player} must be at least 1")
    out = Path(out)
    scene = SoccerScene(team_size=team_size, players="human")
    rng = np.random.default_rng(seed)
    scene.kickoff(rng)
    golden = np.pi * (3 - np.sqrt(5))
    k = np.arange(160)
    height = 1 - 2 * (k + 0.5) / len(k)
    sphere = np.stack([np.sqrt(1 - height**2) * np.cos(golden * k), np.sqrt(1 - height**2) * np.sin(golden * k),
                       height], axis=1)
    patches = np.abs(sphere @ np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1.0]])).max(axis=1, keepdims=True) > 0.93
    ball_colours = np.where(patches, 30, 245) * (0.6 + 0.4 * np.clip(sphere @ _LIGHT, 0, 1))[:, None]
    ball_colours = np.repeat(ball_colours, 3, axis=1)
    cameras = []
    for index in range(frames):
        if index:
            scene.step(scene.scripted_commands(rng))
        points, normals = scene.player_surface_points(points_per_player)
        light = 0.45 + 0.55 * np.clip(normals @ _LIGHT, 0, 1)
        colours = np.asarray(TEAM_COLOURS)[scene.teams][:, None, :] * light[..., None] * 255
        ball = np.array([*scene.ball_position(), scene.pitch.ball_radius]) + scene.pitch.ball_radius * sphere
        tracks = np.repeat(np.arange(scene.n_players), points_per_player)
        write_ply(frame_path(out, index), np.concatenate([points.reshape(-1, 3), ball]),
                  np.concatenate([colours.reshape(-1, 3), ball_colours]).round(),
                  np.concatenate([tracks, np.full(len(ball), -1)]))
        camera = scene.camera("broadcast", *image_size)
        cameras.append({"position": camera.position.tolist(), "rotation": camera.rotation.tolist(),
                        "fovy": camera.fovy, "image_size": list(image_size)})
    scene.close()
    meta = {"format": FORMAT, "frames": frames, "fps": 1.0 / scene.control_dt,
            "pitch": {"length": scene.pitch.length, "width": scene.pitch.width, "goal_width": scene.pitch.goal_width},
            "cameras": cameras,
            "tracks": {str(i): {"team": int(scene.teams[i]), "frames": list(range(frames))}
                       for i in range(scene.n_players)},
            "stages": {"ground_truth": {"source": "SoccerScene(players='human').player_surface_points",
                                        "seed": seed, "team_size": team_size,
                                        "points_per_player": points_per_player}},
            "skipped_frames": []}
    partial = out / "reconstruction.json.partial"
    partial.write_text(json.dumps(meta, indent=1))
    os.replace(partial, out / "reconstruction.json")
    return out


# ---------------------------------------------------------------------------------- output
def _hud(image: np.ndarray, recon: Reconstruction, index: int, view_: OrbitView, playing: bool) -> np.ndarray:
    import cv2

    from visiongym.envs.viewer import draw_hud

    hud = {"frame": f"{index + 1}/{recon.frames}  ({'playing' if playing else 'paused'}, {recon.fps:g} fps)",
           "view": f"az {view_.azimuth:+.0f}  el {view_.elevation:.0f}  d {view_.distance:.2f} m",
           "points": str(len(recon.cloud(index)))}
    out = draw_hud(image, hud)
    scale = max(0.35, min(0.5, out.shape[1] / 1900))
    y = out.shape[0] - 8
    out[y - 16:, :] = (out[y - 16:, :] * 0.45).astype(np.uint8)
    cv2.putText(out, HELP_LINE, (6, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (235, 235, 235), 1, cv2.LINE_AA)
    return out


def screenshot(recon: Reconstruction, out: str | os.PathLike, frame: int = 0, view_: OrbitView | None = None,
               size: tuple[int, int] = (960, 640), hud: bool = True, supersample: int = 2) -> Path:
    """Render one view of frame ``frame`` to a PNG (no window). ``size`` is (width, height); the
    picture is drawn ``supersample`` times larger and shrunk, for smooth edges."""
    import imageio.v3 as iio

    view_ = view_ or default_view(recon.pitch, size[0] / size[1])
    image = SceneRenderer(recon.pitch).render(recon.cloud(frame), view_.camera(size[1], size[0]),
                                              supersample=supersample)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(out, _hud(image, recon, frame % recon.frames, view_, False) if hud else image)
    return out


def record_orbit(recon: Reconstruction, out: str | os.PathLike, view_: OrbitView | None = None,
                 size: tuple[int, int] = (960, 640), seconds: float = 8.0) -> Path:
    """Write a video of the clip playing (looped) while the camera circles the table once."""
    import imageio.v2 as imageio
    from tqdm import tqdm

    view_ = view_ or default_view(recon.pitch, size[0] / size[1])
    renderer = SceneRenderer(recon.pitch)
    count = max(2, int(round(seconds * recon.fps)))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = imageio.get_writer(out, fps=recon.fps, macro_block_size=8)
    try:
        for step in tqdm(range(count), desc="orbit", unit="frame"):
            turn = view_.orbit(360.0 * step / count, 0.0)
            image = renderer.render(recon.cloud(step), turn.camera(size[1], size[0]))
            writer.append_data(_hud(image, recon, step % recon.frames, turn, True))
    finally:
        writer.close()
    return out


def view(recon: Reconstruction, size: tuple[int, int] = (960, 640), view_: OrbitView | None = None,
         frame: int = 0) -> None:
    """The interactive window; returns when the user closes it (Escape or the close button)."""
    import cv2
    import pygame

    from visiongym.envs.viewer import _set_x11_name

    reset_view = view_ or default_view(recon.pitch, size[0] / size[1])
    current, index, playing = reset_view, frame % recon.frames, True
    renderer = SceneRenderer(recon.pitch)
    pygame.display.init()
    title = f"visiongym tabletop view - {recon.folder.name}"
    pygame.display.set_caption(title)
    screen = pygame.display.set_mode(size)
    _set_x11_name(title)
    clock, clip_time, drawn = pygame.time.Clock(), 0.0, None
    arrows = (pygame.K_LEFT, pygame.K_RIGHT, pygame.K_UP, pygame.K_DOWN)
    try:
        while True:
            seconds = clock.tick(60) / 1000.0
            for event in pygame.event.get():
                if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
                    return
                if event.type == pygame.MOUSEMOTION and event.buttons[0]:
                    current = current.orbit(-0.4 * event.rel[0], 0.3 * event.rel[1])
                elif event.type == pygame.MOUSEMOTION and event.buttons[2]:
                    current = current.pan(-event.rel[0] / size[1], event.rel[1] / size[1])
                elif event.type == pygame.MOUSEWHEEL:
                    current = current.zoom(0.9 ** event.y)
                elif event.type == pygame.KEYDOWN and event.key == pygame.K_SPACE:
                    playing, clip_time = not playing, 0.0
                elif event.type == pygame.KEYDOWN and event.key in (pygame.K_COMMA, pygame.K_PERIOD):
                    playing, index = False, (index + (1 if event.key == pygame.K_PERIOD else -1)) % recon.frames
                elif event.type == pygame.KEYDOWN and event.key == pygame.K_r:
                    current = reset_view
            keys = pygame.key.get_pressed()
            step = 0.6 * seconds
            current = current.pan(step * (keys[pygame.K_RIGHT] - keys[pygame.K_LEFT]),
                                  step * (keys[pygame.K_UP] - keys[pygame.K_DOWN]))
            if playing:
                clip_time += seconds
                advance = int(clip_time * recon.fps)
                index, clip_time = (index + advance) % recon.frames, clip_time - advance / recon.fps
            # While the mouse or an arrow key moves the view, draw at half size: it follows the hand.
            moving = any(pygame.mouse.get_pressed()) or any(keys[k] for k in arrows)
            state = (current, index, playing, moving)
            if state != drawn:  # nothing moved: leave the picture as it is
                scale = 2 if moving else 1
                image = renderer.render(recon.cloud(index), current.camera(size[1] // scale, size[0] // scale))
                if scale > 1:
                    image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
                surface = pygame.surfarray.make_surface(_hud(image, recon, index, current, playing).swapaxes(0, 1))
                screen.blit(surface, (0, 0))
                pygame.display.flip()
                drawn = state
    finally:
        pygame.display.quit()


# ---------------------------------------------------------------------------------- command
@dataclass
class ViewConfig:
    """Look at a tabletop reconstruction in 3-D (window, screenshot or orbit video)."""

    folder: tyro.conf.Positional[Path | None] = None
    """Reconstruction folder (reconstruction.json + frames/*.ply)."""
    ground_truth_demo: bool = False
    """Write a reconstruction from the simulator's exact points into FOLDER (default
    data/tabletop/ground_truth_demo) and show it."""
    screenshot: Path | None = None
    """Render one view to this PNG instead of opening a window."""
    record: Path | None = None
    """Write an orbit video (mp4) instead of opening a window."""
    frame: int = 0
    """Frame to start at (or to screenshot)."""
    azimuth: float | None = None
    """Degrees; -90 looks from the broadcast side (default view if unset)."""
    elevation: float | None = None
    """Degrees above the table."""
    distance: float | None = None
    """Metres from the view's target (default: the whole table in view)."""
    size: tuple[int, int] = (960, 640)
    """Window or picture width and height in pixels."""
    seconds: float = 8.0
    """Length of the --record video (one full orbit)."""
    demo_frames: int = 60
    """Frames of --ground-truth-demo."""
    seed: int = 0
    """Seed of --ground-truth-demo's match."""


def run(config: ViewConfig) -> Path | None:
    """Run the command; returns the picture or video written (None for the window)."""
    folder = config.folder
    if config.ground_truth_demo:
        folder = write_ground_truth_reconstruction(folder or Path("data/tabletop/ground_truth_demo"),
                                                   frames=config.demo_frames, seed=config.seed)
        print(f"wrote the ground-truth reconstruction {folder}")
    if folder is None:
        raise UsageError("give a reconstruction folder (visiongym tabletop view DIR) or --ground-truth-demo")
    if min(config.size) < 64:
        raise UsageError(f"size {config.size} too small; width and height must be at least 64")
    recon = load_reconstruction(folder)
    start = default_view(recon.pitch, config.size[0] / config.size[1])
    start = replace(start, **{k: getattr(config, k) for k in ("azimuth", "elevation", "distance")
                              if getattr(config, k) is not None})
    start = start.orbit(0.0, 0.0)  # clamp the elevation
    if config.screenshot is not None:
        out = screenshot(recon, config.screenshot, config.frame, start, config.size)
        print(f"wrote {out}")
        return out
    if config.record is not None:
        out = record_orbit(recon, config.record, start, config.size, config.seconds)
        print(f"wrote {out}")
        return out
    view(recon, config.size, start, config.frame)
    return None


def main(argv: list[str] | None = None) -> Path | None:
    return run(tyro.cli(ViewConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
