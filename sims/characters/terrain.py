"""Terrains for characters: flat ground, a slope, a flight of steps and a random heightfield.

Each terrain is a :class:`TerrainSpec`; :func:`add_terrain` writes its MJCF into a ``worldbody``
and :meth:`TerrainSpec.height` gives the ground height under any (x, y), which the character
scene uses for heights above ground and for grounding reference clips. The random heightfield is
drawn from ``seed`` alone, so the same seed gives the same ground.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np

from visiongym.sims.errors import UsageError

__all__ = ["TERRAINS", "TerrainSpec", "make_terrain", "heightfield", "add_terrain"]

TERRAINS = ("flat", "slope", "steps", "random")

# The random heightfield: a square of 2 * HFIELD_HALF_SIZE metres sampled every 0.2 m.
HFIELD_HALF_SIZE = 20.0
HFIELD_POINTS = 201
FLAT_START_RADIUS = 1.5


@dataclass(frozen=True)
class TerrainSpec:
    """A terrain and its parameters.

    Attributes:
        kind: ``flat``, ``slope``, ``steps`` or ``random``.
        slope_deg: Incline of ``slope`` (uphill towards +x), degrees.
        step_height: Rise of each step of ``steps`` (metres).
        step_length: Run of each step of ``steps`` (metres).
        num_steps: Number of steps before the top landing.
        steps_start: x where the first step begins (the start area is flat).
        roughness: Highest bump of ``random`` (metres).
        seed: Seed of the ``random`` heightfield.
        friction: Ground sliding friction.
    """

    kind: str = "flat"
    slope_deg: float = 8.0
    step_height: float = 0.05
    step_length: float = 0.6
    num_steps: int = 20
    steps_start: float = 1.5
    roughness: float = 0.12
    seed: int = 0
    friction: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in TERRAINS:
            raise UsageError(f"terrain {self.kind!r} unknown; choose one of: {', '.join(TERRAINS)}")
        if not -30 <= self.slope_deg <= 30:
            raise UsageError(f"slope_deg: expected [-30, 30] degrees, got {self.slope_deg}")
        if self.step_length <= 0 or self.num_steps < 1:
            raise UsageError(
                f"step_length must be > 0 and num_steps >= 1, got {self.step_length}, "
                f"{self.num_steps}"
            )
        if self.roughness < 0:
            raise UsageError(f"roughness: expected >= 0 metres, got {self.roughness}")

    def height(self, x: float, y: float, heights: np.ndarray | None = None) -> float:
        """Ground height at (x, y). ``heights`` overrides the seeded field of ``random``."""
        if self.kind == "flat":
            return 0.0
        if self.kind == "slope":
            return x * math.tan(math.radians(self.slope_deg))
        if self.kind == "steps":
            if x < self.steps_start:
                return 0.0
            index = int((x - self.steps_start) // self.step_length) + 1
            return min(index, self.num_steps) * self.step_height
        grid = heightfield(self.seed) if heights is None else heights
        return self.roughness * _bilinear(grid, x, y)


def make_terrain(terrain: str | TerrainSpec, **overrides) -> TerrainSpec:
    """A :class:`TerrainSpec` from a name (``flat``, ``slope``, ...) or an existing spec."""
    if isinstance(terrain, TerrainSpec):
        return terrain
    if not isinstance(terrain, str) or terrain not in TERRAINS:
        raise UsageError(f"terrain {terrain!r} unknown; choose one of: {', '.join(TERRAINS)}")
    return TerrainSpec(kind=terrain, **overrides)


def heightfield(seed: int, points: int = HFIELD_POINTS) -> np.ndarray:
    """Smooth random heights in [0, 1], shape (points, points), flat (0) around the origin.

    Row ``r`` is y = -HFIELD_HALF_SIZE + 2 * HFIELD_HALF_SIZE * r / (points - 1); columns run
    along x the same way (MuJoCo's heightfield layout).
    """
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    field = gaussian_filter(rng.standard_normal((points, points)), sigma=3.0, mode="wrap")
    field += 0.5 * gaussian_filter(rng.standard_normal((points, points)), sigma=1.2, mode="wrap")
    field -= field.min()
    field /= max(float(field.max()), 1e-9)
    axis = np.linspace(-HFIELD_HALF_SIZE, HFIELD_HALF_SIZE, points)
    radius = np.hypot(*np.meshgrid(axis, axis))
    ramp = np.clip((radius - FLAT_START_RADIUS) / 1.5, 0.0, 1.0)
    return (field * ramp * ramp * (3 - 2 * ramp)).astype(np.float32)


def _bilinear(grid: np.ndarray, x: float, y: float) -> float:
    points = grid.shape[0]
    scale = (points - 1) / (2 * HFIELD_HALF_SIZE)
    u, v = (x + HFIELD_HALF_SIZE) * scale, (y + HFIELD_HALF_SIZE) * scale
    if not (0 <= u <= points - 1 and 0 <= v <= points - 1):
        return 0.0
    c0, r0 = min(int(u), points - 2), min(int(v), points - 2)
    fu, fv = u - c0, v - r0
    top = grid[r0, c0] * (1 - fu) + grid[r0, c0 + 1] * fu
    bottom = grid[r0 + 1, c0] * (1 - fu) + grid[r0 + 1, c0 + 1] * fu
    return float(top * (1 - fv) + bottom * fv)


def add_terrain(root: ET.Element, worldbody: ET.Element, spec: TerrainSpec) -> None:
    """Write the terrain's assets into ``root``'s ``<asset>`` and its geoms into ``worldbody``.

    Terrain geoms are named ``terrain*`` and use contype = conaffinity = 1.
    """
    asset = root.find("asset")
    if asset is None:
        asset = ET.SubElement(root, "asset")
    ET.SubElement(
        asset, "texture", name="sky", type="skybox", builtin="gradient", width="32", height="32",
        rgb1=".55 .7 .85", rgb2=".9 .93 .96",
    )
    ET.SubElement(
        asset, "texture", name="grid", type="2d", builtin="checker", width="64", height="64",
        rgb1=".82 .84 .86", rgb2=".62 .66 .70",
    )
    ET.SubElement(asset, "material", name="ground", texture="grid", texrepeat="1 1", texuniform="true")
    common = {"contype": "1", "conaffinity": "1", "material": "ground",
              "friction": f"{spec.friction} 0.005 0.0001"}
    if spec.kind == "slope":
        ET.SubElement(
            worldbody, "geom", name="terrain", type="plane", size="0 0 0.1",
            euler=f"0 {-spec.slope_deg:g} 0", **common,
        )
        return
    ET.SubElement(worldbody, "geom", name="terrain", type="plane", size="0 0 0.1", **common)
    if spec.kind == "steps":
        half_width = 5.0
        for i in range(spec.num_steps + 1):
            length = spec.step_length if i < spec.num_steps else 30.0
            top = min(i + 1, spec.num_steps) * spec.step_height
            x0 = spec.steps_start + i * spec.step_length
            ET.SubElement(
                worldbody, "geom", name=f"terrain_step{i}", type="box",
                pos=f"{x0 + length / 2:g} 0 {top / 2:g}",
                size=f"{length / 2:g} {half_width:g} {top / 2:g}", **common,
            )
    elif spec.kind == "random":
        ET.SubElement(
            asset, "hfield", name="terrain_hfield", nrow=str(HFIELD_POINTS),
            ncol=str(HFIELD_POINTS),
            size=f"{HFIELD_HALF_SIZE:g} {HFIELD_HALF_SIZE:g} {max(spec.roughness, 1e-3):g} 0.1",
        )
        ET.SubElement(
            worldbody, "geom", name="terrain_rough", type="hfield", hfield="terrain_hfield",
            **common,
        )
