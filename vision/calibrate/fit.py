"""Calibrate the broadcast camera of one frame from its pitch lines: search, then refine.

:func:`calibrate_frame` runs three steps, none needing a click:

1. :func:`~visiongym.vision.calibrate.detect.detect_features` finds line pixels and the pitch
   outline, and their distance fields.
2. **Search.** Cameras are laid on a coarse grid around a prior (default: the scene's broadcast
   camera as built), moved the way looks move it: orbit (yaw) and roll about the point it looks
   at, height, distance and field of view factors. Each is scored by a two-way truncated chamfer
   distance: model points to the detected features, and detected features to the projected
   model segments.
3. **Refinement.** From the best few grid cameras, :func:`scipy.optimize.least_squares` moves all
   7 numbers (position, rotation, focal length) to minimise the same two-way chamfer distance,
   now with sub-pixel distance fields and a Cauchy loss, first over a wide basin and then a
   narrow one. The camera with the lowest cost wins.

A frame whose pitch is not visible enough raises
:class:`~visiongym.vision.calibrate.detect.PitchNotVisible`; a fit that explains too few of the
model's points raises :class:`CalibrationFailed`. Both are ``UsageError`` subclasses: the
commands catch them per frame, warn and count the frame as not calibrated.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage
from scipy.optimize import least_squares

from visiongym.sims.camera import CameraModel
from visiongym.sims.errors import UsageError
from visiongym.sims.soccer.builders import PitchSpec
from visiongym.vision.calibrate.detect import (
    MIN_LINE_LENGTH,
    Features,
    PitchNotVisible,
    check_rgb,
    detect_features,
)
from visiongym.vision.calibrate.model import (
    LINE_TOP,
    Parametrisation,
    broadcast_prior,
    ground_occluded,
    prior_camera,
    sample_segments,
    visible_outline,
)

__all__ = ["CalibrationResult", "CalibrationFailed", "SearchGrid", "calibrate_frame", "homography",
           "MIN_INLIER_SHARE"]

#: A fit must put at least this share of its visible model points on detected features.
MIN_INLIER_SHARE = 0.6
#: Loss scales of the refinement, fractions of the image height: a wide basin, then narrow ones.
WIDE_SCALE, FINE_SCALES = 0.02, (0.008, 0.003)
#: Typical sizes of the 7 parameters (metres, radians, log focal) for the optimiser.
X_SCALE = np.array([0.05, 0.05, 0.05, 0.01, 0.01, 0.01, 0.02])
#: Model points sampled every this many metres.
SAMPLE_STEP = 0.02


class CalibrationFailed(UsageError):
    """The refined camera explains too few of the model's points: no reliable calibration."""


@dataclass(frozen=True)
class SearchGrid:
    """The coarse grid of cameras around the prior (look-style moves; see :func:`prior_camera`)."""

    yaw: tuple[float, ...] = tuple(np.linspace(-16.0, 16.0, 9))
    roll: tuple[float, ...] = tuple(np.linspace(-12.0, 12.0, 7))
    height: tuple[float, ...] = (0.85, 1.0, 1.15, 1.3)
    distance: tuple[float, ...] = (0.8, 0.9, 1.0, 1.1)
    fov: tuple[float, ...] = (0.9, 1.0, 1.1, 1.2)
    starts: int = 6
    """How many of the best grid cameras are refined over the wide basin."""
    finalists: int = 2
    """How many of those are refined to the end."""


def homography(camera: CameraModel, z: float = 0.0) -> np.ndarray:
    """The 3x3 map from pitch-plane points ``(x, y, 1)`` at height ``z`` to pixels ``(u, v, 1)``."""
    f, h, w = camera.focal, camera.height, camera.width
    intrinsics = np.array([[f, 0.0, w / 2], [0.0, -f, h / 2], [0.0, 0.0, 1.0]])
    # camera coordinates x_c = R^T (X - C); pixels use (x_c, y_c) / (-z_c)
    flip = np.diag([1.0, 1.0, -1.0])
    rt = camera.rotation.T
    columns = np.stack([rt[:, 0], rt[:, 1], rt @ (np.array([0.0, 0.0, z]) - camera.position)], axis=1)
    matrix = intrinsics @ flip @ columns
    return matrix / matrix[2, 2]


@dataclass
class CalibrationResult:
    """One frame's estimated camera.

    Attributes:
        camera: the estimated :class:`~visiongym.sims.camera.CameraModel` (for ``image_size``).
        cost: mean robust chamfer distance of the fit, pixels of the calibrated frame.
        inlier_share: share of the model points inside the frame that lie within
            ``inlier_pixels`` of a detected feature.
        inlier_pixels: that tolerance.
        line_pixels: detected line pixels; ``edge_points``: detected outline points.
        starts: grid cameras refined.
    """

    camera: CameraModel
    cost: float
    inlier_share: float
    inlier_pixels: float
    line_pixels: int
    edge_points: int
    starts: int
    features: Features | None = field(default=None, repr=False)

    @property
    def homography(self) -> np.ndarray:
        """Pitch plane (metres) to pixels, 3x3."""
        return homography(self.camera)

    def pitch_from_pixels(self, uv: np.ndarray) -> np.ndarray:
        """Pixels (N, 2) back to points (N, 2) on the pitch plane, metres."""
        uv = np.asarray(uv, float).reshape(-1, 2)
        points = np.linalg.solve(self.homography, np.concatenate([uv, np.ones((len(uv), 1))], axis=1).T).T
        return points[:, :2] / points[:, 2:]

    def to_dict(self) -> dict:
        """JSON values: the camera (position, rotation, fovy, image size) and the fit's figures."""
        camera = self.camera
        return {
            "position": camera.position.tolist(),
            "rotation": camera.rotation.tolist(),
            "fovy": float(camera.fovy),
            "focal_pixels": float(camera.focal),
            "height": int(camera.height),
            "width": int(camera.width),
            "homography": self.homography.tolist(),
            "cost": float(self.cost),
            "inlier_share": float(self.inlier_share),
            "inlier_pixels": float(self.inlier_pixels),
            "line_pixels": int(self.line_pixels),
            "edge_points": int(self.edge_points),
        }


def _project(positions: np.ndarray, rotations: np.ndarray, focals: np.ndarray, points: np.ndarray,
             height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Project ``points`` (N, 3) with K cameras at once: ``(uv (K, N, 2), depth (K, N))``."""
    cam = np.einsum("knj,kji->kni", points[None] - positions[:, None], rotations)
    depth = -cam[..., 2]
    scale = focals[:, None] / np.maximum(depth, 1e-6)
    uv = np.stack([width / 2 + cam[..., 0] * scale, height / 2 - cam[..., 1] * scale], axis=-1)
    return uv, depth


def _segment_distance(points: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Distance of points (M, 2) to the nearest of K sets of segments (K, S, 2): (K, M)."""
    d = ends - starts
    length2 = np.maximum((d**2).sum(-1), 1e-12)  # (K, S)
    rel = points[None, :, None, :] - starts[:, None]  # (K, M, S, 2)
    t = np.clip((rel * d[:, None]).sum(-1) / length2[:, None], 0.0, 1.0)
    nearest = rel - t[..., None] * d[:, None]
    return np.sqrt((nearest**2).sum(-1)).min(axis=2)


def _lookup(field_: np.ndarray, uv: np.ndarray, order: int) -> np.ndarray:
    """Values of a per-pixel field at sub-pixel (u, v) (pixel centres at half-integers)."""
    coords = np.stack([uv[..., 1].ravel() - 0.5, uv[..., 0].ravel() - 0.5])
    return ndimage.map_coordinates(field_, coords, order=order, mode="nearest").reshape(uv.shape[:-1])


class _Problem:
    """The model, the features and the chamfer terms for one frame."""

    def __init__(self, features: Features, spec: PitchSpec, height: int, width: int, side_camera: np.ndarray,
                 rng: np.random.Generator) -> None:
        self.features, self.spec, self.height, self.width = features, spec, height, width
        outline = visible_outline(spec, side_camera)
        if len(features.line_points) < MIN_LINE_LENGTH * height:
            # No painted line found (at low resolution a thin line can fall between pixel
            # centres and not be drawn at all): fit the outline alone.
            outline = outline.of_kind("edge")
        self.points, index = sample_segments(outline, SAMPLE_STEP)
        kinds = np.array(outline.kinds)
        self.point_is_line = kinds[index] == "line"
        self.ground = self.points[:, 2] <= LINE_TOP + 1e-9
        self.line_segments = [i for i, k in enumerate(outline.kinds) if k == "line"]
        self.edge_segments = [i for i, k in enumerate(outline.kinds) if k == "edge"]
        self.outline = outline

        def subsample(points: np.ndarray, limit: int) -> np.ndarray:
            if len(points) <= limit:
                return points
            return points[np.sort(rng.choice(len(points), limit, replace=False))]

        self.line_points = subsample(features.line_points if self.line_segments else np.zeros((0, 2)), 300)
        self.edge_points = subsample(features.edge_points, 500)
        # the coarse search scores thousands of cameras: fewer detected points do there
        self.grid_line_points = self.line_points[:: max(1, len(self.line_points) // 100)]
        self.grid_edge_points = self.edge_points[:: max(1, len(self.edge_points) // 150)]

    # ---------------------------------------------------------------- coarse search
    def grid_scores(self, positions: np.ndarray, rotations: np.ndarray, focals: np.ndarray,
                    truncate: float) -> np.ndarray:
        uv, depth = _project(positions, rotations, focals, self.points, self.height, self.width)
        u, v = uv[..., 0], uv[..., 1]
        inside = (depth > 0) & (u >= 0) & (u < self.width) & (v >= 0) & (v < self.height)
        cols = np.clip(u.astype(int), 0, self.width - 1)
        rows = np.clip(v.astype(int), 0, self.height - 1)
        line_cost = np.minimum(self.features.line_distance[rows, cols], truncate)
        edge_cost = np.minimum(np.abs(self.features.edge_distance[rows, cols]), truncate)
        cost = np.where(self.point_is_line[None], line_cost, edge_cost)
        score = np.zeros(len(positions))
        for mask in (self.point_is_line, ~self.point_is_line):
            counted = inside & mask[None]
            score += np.where(counted.sum(1) > 0, (cost * counted).sum(1) / np.maximum(counted.sum(1), 1), truncate)
        starts, ends, _ = _project_segments(positions, rotations, focals, self.outline, self.height, self.width)
        for points, segments in ((self.grid_line_points, self.line_segments),
                                 (self.grid_edge_points, self.edge_segments)):
            if len(points):
                distance = _segment_distance(points, starts[:, segments], ends[:, segments])
                score += np.minimum(distance, truncate).mean(axis=1)
        return score / truncate

    # ---------------------------------------------------------------- refinement
    def terms(self, camera: CameraModel) -> list[tuple[np.ndarray, np.ndarray]]:
        """The four chamfer terms as ``(distances, counted)``: model line and outline points to the
        features (counted where in view and not hidden), detected line and outline points to the
        projected model."""
        forward_line, forward_edge, valid = self.forward(camera)
        starts, ends, _ = _project_segments(camera.position[None], camera.rotation[None],
                                            np.array([camera.focal]), self.outline, self.height, self.width)
        terms = [(forward_line, valid[self.point_is_line]), (forward_edge, valid[~self.point_is_line])]
        for points, segments in ((self.line_points, self.line_segments), (self.edge_points, self.edge_segments)):
            distance = (_segment_distance(points, starts[:, segments], ends[:, segments])[0] if len(points)
                        else np.zeros(0))
            terms.append((distance, np.ones(len(distance), bool)))
        return terms

    def residuals(self, camera: CameraModel, scale: float) -> np.ndarray:
        """Cauchy-weighted residuals, each term weighted equally (by one over its size)."""
        parts = []
        for values, counted in self.terms(camera):
            robust = scale * np.sign(values) * np.sqrt(np.log1p((values / scale) ** 2))
            parts.append(robust * counted / np.sqrt(max(len(values), 1)))
        return np.concatenate(parts)

    def cost(self, camera: CameraModel) -> float:
        """Mean of the four terms' mean distances (pixels), each truncated at 5 % of the height."""
        means = [np.minimum(np.abs(values[counted]), 0.05 * self.height).mean()
                 for values, counted in self.terms(camera) if counted.any()]
        return float(np.mean(means)) if means else float("inf")

    def forward(self, camera: CameraModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Model-point distances to the features (0 where the point is out of view or hidden)."""
        uv, depth = camera.project(self.points)
        valid = ((depth > 0) & (uv[:, 0] >= 0) & (uv[:, 0] < self.width) & (uv[:, 1] >= 0)
                 & (uv[:, 1] < self.height))
        hidden = self.ground & ground_occluded(self.spec, camera.position, self.points)
        valid &= ~hidden
        line = np.where(valid & self.point_is_line, _lookup(self.features.line_distance, uv, 1), 0.0)
        edge = np.where(valid & ~self.point_is_line, _lookup(self.features.edge_distance, uv, 1), 0.0)
        return line[self.point_is_line], edge[~self.point_is_line], valid

    def inlier_share(self, camera: CameraModel, tolerance: float) -> float:
        line, edge, valid = self.forward(camera)
        distances = np.zeros(len(self.points))
        distances[self.point_is_line], distances[~self.point_is_line] = line, edge
        if not valid.any():
            return 0.0
        return float((np.abs(distances[valid]) <= tolerance).mean())


def _project_segments(positions, rotations, focals, segments, height, width):
    ends3 = np.concatenate([segments.starts, segments.ends])
    uv, depth = _project(positions, rotations, focals, ends3, height, width)
    n = len(segments)
    return uv[:, :n], uv[:, n:], depth


def _refine(problem: _Problem, param: Parametrisation, x: np.ndarray, scale: float, max_nfev: int) -> np.ndarray:
    """``least_squares`` of the Cauchy chamfer residuals at one loss scale (pixels)."""
    fit = least_squares(lambda p: problem.residuals(param.camera(p), scale), x, x_scale=X_SCALE,
                        diff_step=1e-4, max_nfev=max_nfev)
    return fit.x


def _target_of(camera: CameraModel) -> np.ndarray:
    """Where the camera's optical axis meets the pitch plane (or a point 3 m ahead if it misses)."""
    forward = -camera.rotation[:, 2]
    if forward[2] < -1e-6:
        return camera.position + forward * (-camera.position[2] / forward[2])
    return camera.position + 3.0 * forward


def calibrate_frame(rgb, pitch_spec: PitchSpec | None = None, image_size: tuple[int, int] | None = None,
                    prior: CameraModel | None = None, *, grid: SearchGrid | None = None,
                    keep_features: bool = False) -> CalibrationResult:
    """The broadcast camera of one frame, from its pitch lines alone.

    Args:
        rgb: (H, W, 3) uint8 frame.
        pitch_spec: the pitch's dimensions (default: the scene's default pitch).
        image_size: ``(height, width)`` the returned camera is for; default the frame's own size.
            Another size must keep the frame's aspect ratio (the camera is scaled to it).
        prior: an approximate camera to search around (default: the broadcast camera as built).
        grid: the coarse search grid.
        keep_features: keep the detected features in the result (for pictures).

    Raises:
        PitchNotVisible: too little pitch or too few line features in the frame.
        CalibrationFailed: the best fit explains less than ``MIN_INLIER_SHARE`` of the model.
        UsageError: a bad input, named with what is allowed.
    """
    rgb = check_rgb(rgb)
    spec = pitch_spec if pitch_spec is not None else PitchSpec()
    if not isinstance(spec, PitchSpec):
        raise UsageError(f"pitch_spec {spec!r} must be a PitchSpec")
    height, width = rgb.shape[:2]
    if image_size is None:
        image_size = (height, width)
    if (len(tuple(image_size)) != 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in image_size)):
        raise UsageError(f"image_size {image_size!r} must be (height, width), two positive integers")
    if abs(image_size[0] / image_size[1] - height / width) > 0.01:
        raise UsageError(f"image_size {tuple(image_size)} has another aspect ratio than the frame "
                         f"({height}x{width}); give a size of the frame's shape")
    if prior is not None and not isinstance(prior, CameraModel):
        raise UsageError(f"prior {prior!r} must be a CameraModel or None")
    if prior is not None and prior.orthographic:
        raise UsageError("prior is an orthographic camera; calibration fits perspective (broadcast) cameras")
    grid = grid or SearchGrid()
    features = detect_features(rgb)
    if len(features.edge_points) < 0.5 * height:
        raise PitchNotVisible(f"the pitch outline has {len(features.edge_points)} points, too few to calibrate from")
    if prior is None:
        position, target, fovy = broadcast_prior(spec)
    else:
        position, target, fovy = prior.position, _target_of(prior), prior.fovy
    rng = np.random.default_rng(0)
    problem = _Problem(features, spec, height, width, position, rng)

    # -- search
    combos = list(itertools.product(grid.yaw, grid.roll, grid.height, grid.distance, grid.fov))
    cameras = [prior_camera(position, target, fovy, height, width, camera_yaw=a, camera_roll=r, camera_height=h,
                            camera_distance=d, camera_fov=f) for a, r, h, d, f in combos]
    positions = np.array([c.position for c in cameras])
    rotations = np.array([c.rotation for c in cameras])
    focals = np.array([c.focal for c in cameras])
    truncate = 0.08 * height
    scores = np.concatenate([problem.grid_scores(positions[i : i + 256], rotations[i : i + 256],
                                                 focals[i : i + 256], truncate)
                             for i in range(0, len(cameras), 256)])
    order = np.argsort(scores)[: grid.starts]

    # -- refinement: every start over a wide basin, the best few on to the narrow ones
    candidates = []
    for index in order:
        start = cameras[index]
        param = Parametrisation(base_rotation=start.rotation, height=height, width=width)
        x = _refine(problem, param, param.params(start), WIDE_SCALE * height, max_nfev=40)
        candidates.append((problem.cost(param.camera(x)), x, param))
    candidates.sort(key=lambda item: item[0])
    best = None
    for _, x, param in candidates[: grid.finalists]:
        for scale in FINE_SCALES:
            x = _refine(problem, param, x, scale * height, max_nfev=100)
        camera = param.camera(x)
        cost = problem.cost(camera)
        if best is None or cost < best[0]:
            best = (cost, camera)
    cost, camera = best
    tolerance = max(1.0, 0.006 * height)
    share = problem.inlier_share(camera, tolerance)
    if share < MIN_INLIER_SHARE:
        raise CalibrationFailed(
            f"the best camera puts {share:.0%} of the visible model within {tolerance:.1f} px of the detected "
            f"lines (need {MIN_INLIER_SHARE:.0%}); the frame is not calibrated"
        )
    if tuple(image_size) != (height, width):
        camera = CameraModel(position=camera.position, rotation=camera.rotation, fovy=camera.fovy,
                             height=int(image_size[0]), width=int(image_size[1]))
    return CalibrationResult(camera=camera, cost=cost, inlier_share=share, inlier_pixels=tolerance,
                             line_pixels=int(features.lines.sum()), edge_points=len(features.edge_points),
                             starts=len(order), features=features if keep_features else None)
