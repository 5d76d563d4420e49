"""Appearance distributions: what a scene may look like, drawn per episode or per frame.

As in dm_control's ``composer.variation``, a distribution is kept apart from what it changes. An
:class:`AppearanceSpec` is a frozen set of ranges (the distribution); :func:`draw_look` turns it
and a generator into a :class:`Look` (concrete values, JSON-able, recorded with dataset frames);
a :class:`LookBinding` remembers a model's default lights, colours, textures and camera and
writes a look into the model, or puts the defaults back. Physics never reads any of it.

Keys (every range is ``(low, high)``, drawn uniformly; a single number is a fixed value;
``|x|`` keys draw a magnitude and a random sign):

| key | meaning | bounds | default |
|---|---|---|---|
| ``light_intensity`` | head light ambient and diffuse, times | [0.1, 3] | 1 |
| ``light_warmth`` | light colour: -1 cold blue ... +1 warm orange | [-1, 1] | 0 |
| ``light_specular`` | specular highlights of the lights (glossy surfaces) | [0, 1] | 0 |
| ``key_light`` | diffuse strength of a directional key light (0: none) | [0, 1.5] | 0 |
| ``key_elevation`` | key light elevation, degrees above the horizon (azimuth: any) | [5, 90] | 60 |
| ``shadows`` | probability that the key light casts shadows | [0, 1] | 0 |
| ``textures`` | probability that each surface gets a procedural texture | [0, 1] | 0 |
| ``texture_patterns`` | the patterns drawn from: ``checker``, ``noise``, ``stripes`` | names | all |
| ``texture_scale`` | texture repeats per metre, times the scene's base density | [0.25, 4] | 1 |
| ``pitch_tint`` | per-channel colour factor of the pitch (LearnToMove: the ground) | [0.2, 2] | 1 |
| ``table_tint`` | per-channel factor of the table (soccer) | [0.2, 2] | 1 |
| ``board_tint`` | per-channel factor of the boards (soccer) | [0.2, 2] | 1 |
| ``kit_hue_offset`` | \\|hue shift\\| of each kit, fraction of the colour wheel | [0, 0.15] | 0 |
| ``kit_saturation`` | kit saturation, times the kit's base | [0.1, 2] | 1 |
| ``kit_value`` | kit brightness, times the kit's base | [0.1, 2] | 1 |
| ``camera_height`` | main camera height above its target, times | [0.5, 2] | 1 |
| ``camera_distance`` | main camera horizontal distance to its target, times | [0.5, 2] | 1 |
| ``camera_yaw`` | \\|orbit\\| of the main camera about its target, degrees | [0, 45] | 0 |
| ``camera_roll`` | \\|roll\\| of the main camera, degrees | [0, 30] | 0 |
| ``camera_fov`` | main camera field of view, times | [0.5, 1.6] | 1 |

``kit`` is a team's shirt in soccer and the character's limbs in LearnToMove; the main camera is
soccer's ``broadcast`` camera and LearnToMove's ``track`` camera. A key that names a part a
scene lacks (LearnToMove has no table) changes nothing there.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import mujoco
import numpy as np

from visiongym.sims.camera import look_at_rotation
from visiongym.sims.errors import UsageError

__all__ = [
    "PATTERNS", "SURFACES", "BOUNDS", "AppearanceSpec", "DEFAULT", "TRAIN", "HELD_OUT", "SHIFTS",
    "APPEARANCES", "Look", "draw_look", "make_appearance", "parse_appearance", "LookBinding",
    "fill_procedural_textures", "procedural_texture_xml", "SHADOW_SIZE", "prepare_shadows",
]

PATTERNS = ("checker", "noise", "stripes")
SURFACES = ("pitch", "table", "boards")
Range = tuple[float, float]

#: key -> (lowest, highest) allowed value of its range.
BOUNDS: dict[str, Range] = {
    "light_intensity": (0.1, 3.0),
    "light_warmth": (-1.0, 1.0),
    "light_specular": (0.0, 1.0),
    "key_light": (0.0, 1.5),
    "key_elevation": (5.0, 90.0),
    "shadows": (0.0, 1.0),
    "textures": (0.0, 1.0),
    "texture_scale": (0.25, 4.0),
    "pitch_tint": (0.2, 2.0),
    "table_tint": (0.2, 2.0),
    "board_tint": (0.2, 2.0),
    "kit_hue_offset": (0.0, 0.15),
    "kit_saturation": (0.1, 2.0),
    "kit_value": (0.1, 2.0),
    "camera_height": (0.5, 2.0),
    "camera_distance": (0.5, 2.0),
    "camera_yaw": (0.0, 45.0),
    "camera_roll": (0.0, 30.0),
    "camera_fov": (0.5, 1.6),
}
_PROBABILITIES = ("shadows", "textures")
#: Keys drawn as a magnitude with a random sign.
_SIGNED_MAGNITUDES = ("kit_hue_offset", "camera_yaw", "camera_roll")


@dataclass(frozen=True)
class AppearanceSpec:
    """A distribution of looks: one range per key (see the module's table for keys and bounds).

    A single number for a range means that value; ``shadows`` and ``textures`` are
    probabilities. Out-of-bounds values, reversed ranges and unknown patterns raise
    :class:`~visiongym.sims.errors.UsageError`; :meth:`from_mapping` also refuses unknown keys.
    """

    light_intensity: Range = (1.0, 1.0)
    light_warmth: Range = (0.0, 0.0)
    light_specular: Range = (0.0, 0.0)
    key_light: Range = (0.0, 0.0)
    key_elevation: Range = (60.0, 60.0)
    shadows: float = 0.0
    textures: float = 0.0
    texture_patterns: tuple[str, ...] = PATTERNS
    texture_scale: Range = (1.0, 1.0)
    pitch_tint: Range = (1.0, 1.0)
    table_tint: Range = (1.0, 1.0)
    board_tint: Range = (1.0, 1.0)
    kit_hue_offset: Range = (0.0, 0.0)
    kit_saturation: Range = (1.0, 1.0)
    kit_value: Range = (1.0, 1.0)
    camera_height: Range = (1.0, 1.0)
    camera_distance: Range = (1.0, 1.0)
    camera_yaw: Range = (0.0, 0.0)
    camera_roll: Range = (0.0, 0.0)
    camera_fov: Range = (1.0, 1.0)

    def __post_init__(self) -> None:
        for key, (lowest, highest) in BOUNDS.items():
            value = getattr(self, key)
            if key in _PROBABILITIES:
                if not isinstance(value, (int, float, np.floating)) or not lowest <= value <= highest:
                    raise UsageError(f"appearance {key}={value!r} out of bounds; must be a probability in [0, 1]")
                object.__setattr__(self, key, float(value))
                continue
            pair = (value, value) if isinstance(value, (int, float, np.floating)) else tuple(value)
            if len(pair) != 2 or not all(isinstance(v, (int, float, np.floating)) for v in pair):
                raise UsageError(f"appearance {key}={value!r} must be a number or a (low, high) range")
            low, high = float(pair[0]), float(pair[1])
            if not (lowest <= low <= high <= highest):
                raise UsageError(
                    f"appearance {key}={value!r} out of bounds; need {lowest:g} <= low <= high <= {highest:g}"
                )
            object.__setattr__(self, key, (low, high))
        patterns = (self.texture_patterns,) if isinstance(self.texture_patterns, str) else tuple(self.texture_patterns)
        unknown = [p for p in patterns if p not in PATTERNS]
        if unknown or not patterns:
            raise UsageError(
                f"appearance texture_patterns={self.texture_patterns!r} invalid; choose one or more of: "
                f"{', '.join(PATTERNS)}"
            )
        object.__setattr__(self, "texture_patterns", patterns)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], base: AppearanceSpec | None = None) -> AppearanceSpec:
        """``base`` (default: the default look) with the keys of ``values`` replaced."""
        allowed = [f.name for f in fields(cls)]
        unknown = [key for key in values if key not in allowed]
        if unknown:
            raise UsageError(f"appearance key {unknown[0]!r} unknown; choose from: {', '.join(allowed)}")
        return replace(base or cls(), **dict(values))

    def keys(self) -> list[str]:
        return [f.name for f in fields(self)]


DEFAULT = AppearanceSpec()

#: What ``appearance="random"`` means: the ranges training may randomise.
TRAIN = AppearanceSpec(
    light_intensity=(0.75, 1.3), light_warmth=(-0.25, 0.25), light_specular=(0.0, 0.15),
    key_light=(0.0, 0.4), key_elevation=(45.0, 90.0), shadows=0.0,
    textures=0.5, texture_patterns=("checker", "noise"), texture_scale=(0.7, 1.4),
    pitch_tint=(0.75, 1.25), table_tint=(0.6, 1.4), board_tint=(0.85, 1.1),
    kit_hue_offset=(0.0, 0.08), kit_saturation=(0.75, 1.2), kit_value=(0.75, 1.2),
    camera_height=(0.94, 1.06), camera_distance=(0.94, 1.06), camera_yaw=(0.0, 3.0),
    camera_roll=(0.0, 2.0), camera_fov=(0.95, 1.05),
)

#: Every factor at once, each outside its training range: what the robustness suite holds out.
HELD_OUT = AppearanceSpec(
    light_intensity=(0.4, 0.6), light_warmth=(0.45, 0.8), light_specular=(0.3, 0.5),
    key_light=(0.6, 0.9), key_elevation=(10.0, 35.0), shadows=1.0,
    textures=1.0, texture_patterns=("stripes",), texture_scale=(2.0, 3.0),
    pitch_tint=(0.45, 0.7), table_tint=(0.3, 0.5), board_tint=(0.55, 0.75),
    kit_hue_offset=(0.1, 0.15), kit_saturation=(0.35, 0.6), kit_value=(0.45, 0.65),
    camera_height=(1.07, 1.12), camera_distance=(0.85, 0.92), camera_yaw=(6.0, 12.0),
    camera_roll=(4.0, 8.0), camera_fov=(1.06, 1.1),
)

#: Single-factor shifts for scoring: the default look with one factor outside training.
SHIFTS: dict[str, AppearanceSpec] = {
    "light_dim": AppearanceSpec(light_intensity=(0.35, 0.5)),
    "light_bright": AppearanceSpec(light_intensity=(1.6, 2.0)),
    "light_warm": AppearanceSpec(light_warmth=(0.5, 0.8)),
    "light_cold": AppearanceSpec(light_warmth=(-0.8, -0.5)),
    "light_side": AppearanceSpec(key_light=(0.6, 0.9), key_elevation=(10.0, 25.0)),
    "glossy": AppearanceSpec(light_specular=(0.35, 0.6)),
    "shadows": AppearanceSpec(shadows=1.0, key_light=(0.5, 0.6), key_elevation=(40.0, 60.0)),
    "textures": AppearanceSpec(textures=1.0, texture_patterns=("stripes",), texture_scale=(2.0, 3.0)),
    "pitch_tint": AppearanceSpec(pitch_tint=(0.45, 0.7)),
    "table_tint": AppearanceSpec(table_tint=(0.3, 0.5), board_tint=(0.55, 0.75)),
    "kits_out_of_range": AppearanceSpec(kit_hue_offset=(0.1, 0.15), kit_saturation=(0.35, 0.6),
                                        kit_value=(0.45, 0.65)),
    "camera_high": AppearanceSpec(camera_height=(1.2, 1.35)),
    "camera_orbit": AppearanceSpec(camera_yaw=(8.0, 14.0)),
    "camera_roll": AppearanceSpec(camera_roll=(5.0, 10.0)),
    "camera_fov": AppearanceSpec(camera_fov=(1.12, 1.25)),
}

#: Names ``make_appearance`` accepts besides an ``AppearanceSpec`` and ``key=value,...`` text.
APPEARANCES = ("default", "random", "held_out", *SHIFTS)
AppearanceLike = str | AppearanceSpec | None


def parse_appearance(text: str) -> AppearanceSpec:
    """``"key=value,key=low:high,texture_patterns=checker+noise"`` -> a spec over the default look."""
    values: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise UsageError(
                f"appearance {text!r}: {item!r} is not key=value; choose one of: {', '.join(APPEARANCES)} "
                "or key=value,... with keys: " + ", ".join(f.name for f in fields(AppearanceSpec))
            )
        if key == "texture_patterns":
            values[key] = tuple(value.split("+"))
            continue
        try:
            numbers = [float(v) for v in value.split(":")]
        except ValueError as error:
            raise UsageError(f"appearance {key}={value!r} is not a number or low:high") from error
        values[key] = numbers[0] if len(numbers) == 1 else tuple(numbers)
    return AppearanceSpec.from_mapping(values)


def make_appearance(appearance: AppearanceLike) -> AppearanceSpec | None:
    """The spec an ``appearance`` argument names; ``None`` for the default look (which draws nothing).

    Accepts ``"default"`` (or None), ``"random"`` (:data:`TRAIN`), ``"held_out"``
    (:data:`HELD_OUT`), a shift name of :data:`SHIFTS`, an :class:`AppearanceSpec`, or
    ``key=value,...`` text (:func:`parse_appearance`).
    """
    if appearance is None or appearance == "default":
        return None
    if isinstance(appearance, AppearanceSpec):
        return None if appearance == DEFAULT else appearance
    if not isinstance(appearance, str):
        raise UsageError(f"appearance {appearance!r} must be a name, an AppearanceSpec or key=value text")
    named = {"random": TRAIN, "train": TRAIN, "held_out": HELD_OUT, **SHIFTS}
    if appearance in named:
        return named[appearance]
    if "=" in appearance:
        return make_appearance(parse_appearance(appearance))
    raise UsageError(
        f"appearance {appearance!r} unknown; choose one of: {', '.join(APPEARANCES)}, or key=value,... "
        "(keys: " + ", ".join(f.name for f in fields(AppearanceSpec)) + ")"
    )


@dataclass(frozen=True)
class Look:
    """One drawn look: concrete values of every key (``textures``: pattern per surface or None)."""

    light_intensity: float = 1.0
    light_warmth: float = 0.0
    light_specular: float = 0.0
    key_light: float = 0.0
    key_azimuth: float = 0.0
    key_elevation: float = 60.0
    shadows: bool = False
    textures: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(SURFACES))
    texture_scale: float = 1.0
    tints: dict[str, tuple[float, float, float]] = field(
        default_factory=lambda: dict.fromkeys(SURFACES, (1.0, 1.0, 1.0)))
    kit_hue_offsets: tuple[float, float] = (0.0, 0.0)
    #: Absolute kit hues that replace base + offset (soccer's ``team_colours="random"``).
    kit_hues: tuple[float, float] | None = None
    kit_saturation: float = 1.0
    kit_value: float = 1.0
    camera_height: float = 1.0
    camera_distance: float = 1.0
    camera_yaw: float = 0.0
    camera_roll: float = 0.0
    camera_fov: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (tuples as lists), equal to the look after a JSON round trip."""
        def plain(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            return [plain(v) for v in value] if isinstance(value, (tuple, list)) else value

        return plain(asdict(self))


def draw_look(spec: AppearanceSpec, rng: np.random.Generator) -> Look:
    """A look drawn from ``spec``: always the same sequence of draws, whatever the ranges."""

    def uniform(key: str) -> float:
        value = float(rng.uniform(*getattr(spec, key)))
        if key in _SIGNED_MAGNITUDES:
            value *= 1.0 if rng.random() < 0.5 else -1.0
        return value

    light = {key: uniform(key) for key in ("light_intensity", "light_warmth", "light_specular", "key_light")}
    azimuth = float(rng.uniform(-180.0, 180.0))
    elevation = uniform("key_elevation")
    shadows = bool(rng.random() < spec.shadows)
    textures = {}
    for surface in SURFACES:
        textured = rng.random() < spec.textures
        pattern = spec.texture_patterns[int(rng.integers(len(spec.texture_patterns)))]
        textures[surface] = pattern if textured else None
    scale = uniform("texture_scale")
    tints = {surface: tuple(float(v) for v in rng.uniform(*getattr(spec, f"{key}_tint"), 3))
             for surface, key in zip(SURFACES, ("pitch", "table", "board"), strict=True)}
    hue_offsets = (uniform("kit_hue_offset"), uniform("kit_hue_offset"))
    kit = {key: uniform(key) for key in ("kit_saturation", "kit_value")}
    camera = {key: uniform(key) for key in ("camera_height", "camera_distance", "camera_yaw", "camera_roll",
                                            "camera_fov")}
    return Look(**light, key_azimuth=azimuth, key_elevation=elevation, shadows=shadows, textures=textures,
                texture_scale=scale, tints=tints, kit_hue_offsets=hue_offsets, **kit, **camera)


def _warmth_gains(warmth: float) -> np.ndarray:
    """RGB gains of a light colour: warm lights redder, cold ones bluer, about the same brightness."""
    return np.array([1.0 + 0.3 * warmth, 1.0 + 0.02 * warmth, 1.0 - 0.4 * warmth], np.float32)


def procedural_texture_xml(size: int = 64) -> str:
    """MJCF ``<texture>`` elements of the three patterns (``vg_checker``, ``vg_noise``, ``vg_stripes``).

    The checker is MuJoCo's builtin; noise and stripes start flat and are painted by
    :func:`fill_procedural_textures` after compiling, before any renderer uploads the textures.
    """
    common = f'type="2d" width="{size}" height="{size}"'
    return (
        f'<texture name="vg_checker" {common} builtin="checker" rgb1="1 1 1" rgb2="0.72 0.72 0.72"/>'
        f'<texture name="vg_noise" {common} builtin="flat" rgb1="1 1 1"/>'
        f'<texture name="vg_stripes" {common} builtin="flat" rgb1="1 1 1"/>'
    )


def fill_procedural_textures(model: mujoco.MjModel) -> dict[str, int]:
    """Paint the noise and stripes textures into ``model.tex_data``; return pattern -> texture id.

    Call it before the first renderer of the model: a renderer uploads textures when it is made,
    so later writes would need ``mujoco.mjr_uploadTexture`` on every renderer's context.
    """
    ids = {}
    for pattern in PATTERNS:
        tex = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_TEXTURE, f"vg_{pattern}")
        if tex < 0:
            continue
        ids[pattern] = tex
        height, width, channels = model.tex_height[tex], model.tex_width[tex], model.tex_nchannel[tex]
        if pattern == "checker":
            continue
        if pattern == "noise":
            # Value noise: a coarse random grid, bilinearly enlarged; a fixed seed, so the texture
            # is part of the model and never a draw from anyone's generator.
            coarse = np.random.default_rng(12345).uniform(0.62, 1.0, (9, 9))
            ys, xs = np.linspace(0, 8, height), np.linspace(0, 8, width)
            y0, x0 = np.minimum(ys.astype(int), 7), np.minimum(xs.astype(int), 7)
            fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
            grey = ((1 - fy) * (1 - fx) * coarse[y0][:, x0] + fy * (1 - fx) * coarse[y0 + 1][:, x0]
                    + (1 - fy) * fx * coarse[y0][:, x0 + 1] + fy * fx * coarse[y0 + 1][:, x0 + 1])
            grey = grey * np.random.default_rng(54321).uniform(0.93, 1.0, (height, width))
        else:
            grey = np.where((np.arange(width) * 4 // width) % 2 == 0, 1.0, 0.68)[None, :].repeat(height, 0)
        pixels = np.repeat((grey * 255).astype(np.uint8)[..., None], channels, axis=2)
        start = model.tex_adr[tex]
        model.tex_data[start : start + pixels.size] = pixels.ravel()
    return ids


#: Shadow map side (pixels) given to a model whose looks may cast shadows.
SHADOW_SIZE = 1024


def prepare_shadows(model: mujoco.MjModel, spec: AppearanceSpec | None) -> bool:
    """Give ``model`` a shadow map if ``spec`` may draw shadows; True if renderers must be remade.

    A renderer sizes its shadow map once, when it is made, from ``model.vis.quality.shadowsize``
    (0 in this suite's models, for speed), so a model that gains one needs new renderers.
    """
    if spec is None or spec.shadows <= 0 or model.vis.quality.shadowsize > 0:
        return False
    model.vis.quality.shadowsize = SHADOW_SIZE
    return True


@dataclass
class LookTargets:
    """What a look changes in one scene's model (MuJoCo ids).

    Args:
        surfaces: surface name (:data:`SURFACES`) -> geom ids it tints and textures.
        materials: surface -> material used to texture a surface whose geoms have none.
        kits: geom ids of each kit group (soccer: team A, team B; LearnToMove: the character).
        kit_hsv: base (hue, saturation, value) of each group, or None to start from each geom's
            own default colour.
        camera: id of the main camera.
        camera_pivot: the point it looks at (in its tracking frame for a tracking camera).
        key_light: id of the key light (inactive by default).
        texture_density: base repeats per metre of the textures.
    """

    surfaces: dict[str, list[int]]
    materials: dict[str, int]
    kits: list[list[int]]
    kit_hsv: list[tuple[float, float, float]] | None
    camera: int
    camera_pivot: np.ndarray
    key_light: int
    texture_density: float = 8.0


class LookBinding:
    """Writes looks into a model, after remembering its defaults (which :meth:`reset` restores).

    Args:
        model: the scene's model.
        data: the scene's data (camera and light frames are recomputed after a change).
        targets: what to change.
    """

    _FIELDS = ("geom_rgba", "geom_matid", "mat_rgba", "mat_texid", "mat_texrepeat", "mat_texuniform",
               "cam_pos", "cam_quat", "cam_pos0", "cam_poscom0", "cam_mat0", "cam_fovy", "light_active",
               "light_diffuse", "light_ambient", "light_specular", "light_dir", "light_castshadow")

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, targets: LookTargets) -> None:
        self.model, self.data, self.targets = model, data, targets
        self.textures = fill_procedural_textures(model)
        self.defaults = {name: getattr(model, name).copy() for name in self._FIELDS}
        headlight = model.vis.headlight
        self.default_headlight = (headlight.ambient.copy(), headlight.diffuse.copy(), headlight.specular.copy())

    def reset(self) -> None:
        """Back to the model's default look."""
        for name, value in self.defaults.items():
            getattr(self.model, name)[:] = value
        headlight = self.model.vis.headlight
        headlight.ambient[:], headlight.diffuse[:], headlight.specular[:] = self.default_headlight
        mujoco.mj_forward(self.model, self.data)

    def apply(self, look: Look) -> None:
        """The default look changed by ``look``."""
        self.reset()
        model, targets = self.model, self.targets
        gains = _warmth_gains(look.light_warmth)
        ambient, diffuse, _ = self.default_headlight
        headlight = model.vis.headlight
        headlight.ambient[:] = np.clip(ambient * look.light_intensity * gains, 0, 1)
        headlight.diffuse[:] = np.clip(diffuse * look.light_intensity * gains, 0, 1)
        headlight.specular[:] = look.light_specular
        model.light_diffuse[:] *= look.light_intensity * gains  # the scene's own lights, if any
        model.light_specular[:] = look.light_specular
        key = targets.key_light
        if key >= 0 and look.key_light > 0:
            elevation, azimuth = math.radians(look.key_elevation), math.radians(look.key_azimuth)
            model.light_active[key] = 1
            model.light_diffuse[key] = np.clip(look.key_light * gains, 0, 1)
            model.light_dir[key] = (-math.cos(elevation) * math.cos(azimuth),
                                    -math.cos(elevation) * math.sin(azimuth), -math.sin(elevation))
            model.light_castshadow[key] = look.shadows
        for surface, geoms in targets.surfaces.items():
            self._paint_surface(geoms, targets.materials.get(surface, -1), np.asarray(look.tints[surface]),
                                look.textures[surface], look.texture_scale)
        self._paint_kits(look)
        self._move_camera(look)
        mujoco.mj_forward(model, self.data)

    def _paint_surface(self, geoms: list[int], material: int, tint: np.ndarray, pattern: str | None,
                       scale: float) -> None:
        model = self.model
        own = int(model.geom_matid[geoms[0]]) if geoms else -1
        if own >= 0:  # tint the surface's own material (its geoms' rgba is MuJoCo's default)
            model.mat_rgba[own, :3] = np.clip(model.mat_rgba[own, :3] * tint, 0, 1)
        else:
            model.geom_rgba[geoms, :3] = np.clip(model.geom_rgba[geoms, :3] * tint, 0, 1)
        if pattern is None:
            return
        material = own if own >= 0 else material
        if material < 0 or pattern not in self.textures:
            return
        model.geom_matid[geoms] = material
        model.mat_texid[material, mujoco.mjtTextureRole.mjTEXROLE_RGB] = self.textures[pattern]
        model.mat_texuniform[material] = 1
        density = self.targets.texture_density * scale
        model.mat_texrepeat[material] = (density, density)

    def _paint_kits(self, look: Look) -> None:
        model, targets = self.model, self.targets
        for group, geoms in enumerate(targets.kits):
            offset = look.kit_hue_offsets[min(group, 1)]
            for geom in geoms:
                if targets.kit_hsv is not None:
                    hue, saturation, value = targets.kit_hsv[group]
                else:
                    hue, saturation, value = colorsys.rgb_to_hsv(*model.geom_rgba[geom, :3])
                hue = look.kit_hues[min(group, 1)] if look.kit_hues is not None else hue + offset
                model.geom_rgba[geom, :3] = colorsys.hsv_to_rgb(
                    hue % 1.0, min(1.0, saturation * look.kit_saturation), min(1.0, value * look.kit_value))

    def _move_camera(self, look: Look) -> None:
        model, cam = self.model, self.targets.camera
        if (look.camera_height, look.camera_distance, look.camera_yaw, look.camera_roll, look.camera_fov) == (
                1.0, 1.0, 0.0, 0.0, 1.0):
            return  # recomputing the default pose would move it by rounding: masks must not move
        mode = int(model.cam_mode[cam])
        tracking = mode in (int(mujoco.mjtCamLight.mjCAMLIGHT_TRACK), int(mujoco.mjtCamLight.mjCAMLIGHT_TRACKCOM))
        pivot = np.asarray(self.targets.camera_pivot, float)
        if tracking:  # tracking cameras keep their initial offset and world orientation
            position_field = "cam_poscom0" if mode == int(mujoco.mjtCamLight.mjCAMLIGHT_TRACKCOM) else "cam_pos0"
        else:
            position_field = "cam_pos"
        offset = getattr(model, position_field)[cam] - pivot
        yaw = math.radians(look.camera_yaw)
        horizontal = np.array([[math.cos(yaw), -math.sin(yaw)], [math.sin(yaw), math.cos(yaw)]]) @ offset[:2]
        offset = np.array([*(horizontal * look.camera_distance), offset[2] * look.camera_height])
        position = pivot + offset
        rotation = look_at_rotation(position, pivot, look.camera_roll)
        getattr(model, position_field)[cam] = position
        if tracking:
            model.cam_mat0[cam] = rotation.ravel()
            if position_field == "cam_pos0":
                model.cam_pos[cam] = position
        else:
            mujoco.mju_mat2Quat(model.cam_quat[cam], rotation.ravel())
        model.cam_fovy[cam] = model.cam_fovy[cam] * look.camera_fov
