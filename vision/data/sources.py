"""Frame sources: objects that turn a random generator into one ground-truth frame.

``soccer`` renders the MuJoCo tabletop soccer scene (:mod:`visiongym.sims.soccer`) with randomised team
sizes and formations, and a look drawn per frame from an appearance distribution
(:mod:`visiongym.sims.appearance`: lights, shadows, textures, tints, kits, camera jitter). ``shapes`` draws flat 2-D stand-ins
(a disc for the ball, rectangles for players and goals) in the same dict format; it needs no
OpenGL and exists for smoke tests of the pipeline, not for training real models.

Both return the dict documented by ``SoccerScene.render_ground_truth``: ``rgb``, ``depth``,
``class_mask``, ``instance_mask``, ``boxes`` (xyxy pixels), ``labels``, ``instance_ids``,
``teams``, ``numbers``, ``visible_pixels``, plus a ``meta`` dict recorded with the image.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from visiongym.sims.errors import UsageError
from visiongym.vision.data.format import CLASS_NAMES

__all__ = ["FrameSource", "SoccerFrameSource", "ShapesFrameSource", "SOURCES", "make_source"]

SOURCES = ("soccer", "shapes")
TEAM_SIZES = (1, 2, 3)
# visiongym.sims.soccer.TEAM_COLOUR_MODES, spelled out so this module imports without MuJoCo.
TEAM_COLOURS = ("kits", "random")


class FrameSource(Protocol):
    """Anything that renders one randomised, labelled frame from a generator."""

    def frame(self, rng: np.random.Generator, appearance: Any = None) -> dict[str, Any]: ...

    def close(self) -> None: ...


class SoccerFrameSource:
    """Randomised frames of the tabletop soccer scene; one ``SoccerScene`` per team size, built lazily.

    Args:
        camera: one of ``visiongym.sims.soccer.CAMERAS``.
        size: square image side in pixels.
        team_sizes: team sizes drawn uniformly per frame.
        max_settle_steps: up to this many scripted-play control steps after placing everyone,
            so frames show play (players near the ball, the ball moving), not only formations.
        team_colours: ``kits``: random shades inside each team's hue band
            (``visiongym.sims.soccer.KIT_HUES``: team A reds, team B blues); ``random``: any two contrasting
            hues, so nothing in one frame says which team is A.
        appearance: the looks frames are drawn from (``random``: the training distribution;
            ``default``: the built-in look; ``held_out``, a shift name, ``key=value,...`` text or
            an ``AppearanceSpec``).
        players: ``robot`` or ``human`` (``visiongym.sims.soccer.PLAYER_LOOKS``): humans add
            ``keypoints``, ``keypoints_3d``, ``keypoints_depth``, ``player_depth``,
            ``surface_points`` and ``surface_normals`` to every frame.
    """

    def __init__(
        self,
        camera: str = "broadcast",
        size: int = 128,
        team_sizes: tuple[int, ...] = TEAM_SIZES,
        max_settle_steps: int = 30,
        team_colours: str = "kits",
        appearance: Any = "random",
        players: str = "robot",
    ) -> None:
        from visiongym.sims.appearance import make_appearance
        from visiongym.sims.soccer import CAMERAS, PLAYER_LOOKS

        if camera not in CAMERAS:
            raise UsageError(f"camera {camera!r} unknown; choose one of: {', '.join(CAMERAS)}")
        if team_colours not in TEAM_COLOURS:
            raise UsageError(
                f"team_colours {team_colours!r} unknown; choose one of: {', '.join(TEAM_COLOURS)}"
            )
        if players not in PLAYER_LOOKS:
            raise UsageError(f"players {players!r} unknown; choose one of: {', '.join(PLAYER_LOOKS)}")
        self.players = players
        self.team_colours = team_colours
        self.appearance = make_appearance(appearance)
        self.camera = camera
        self.size = size
        self.team_sizes = tuple(team_sizes)
        self.max_settle_steps = max_settle_steps
        self._scenes: dict[int, Any] = {}

    def _scene(self, team_size: int):
        if team_size not in self._scenes:
            from visiongym.sims.soccer import SoccerScene

            self._scenes[team_size] = SoccerScene(team_size=team_size, players=self.players)
        return self._scenes[team_size]

    def frame(self, rng: np.random.Generator, appearance: Any = None) -> dict[str, Any]:
        """One labelled frame; ``appearance`` (default: the source's) changes the look only.

        The look is drawn from a child of ``rng`` (``rng.spawn``, which does not advance ``rng``),
        so the same generator gives the same state under every appearance.
        """
        from visiongym.sims.appearance import make_appearance

        spec = self.appearance if appearance is None else make_appearance(appearance)
        look_rng = rng.spawn(1)[0]
        team_size = int(rng.choice(self.team_sizes))
        scene = self._scene(team_size)
        scene.reset(rng)
        n_players = 2 * team_size
        layout = "scatter" if rng.random() < 0.5 else "kickoff"
        if layout == "scatter":
            # 90 % of the half-sizes keeps everyone inside the touchlines.
            corner = 0.45 * np.array([scene.pitch.length, scene.pitch.width])
            for index in range(n_players):
                position = rng.uniform(-corner, corner)
                scene.set_player(index, position, float(rng.uniform(-np.pi, np.pi)))
            scene.set_ball(rng.uniform(-corner, corner), rng.normal(0.0, 0.5, size=2))
        settle_steps = int(rng.integers(0, self.max_settle_steps + 1))
        for _ in range(settle_steps):
            scene.step(scene.scripted_commands(rng))
        player = int(rng.integers(n_players))
        look = None
        if spec is not None:
            look = scene.draw_appearance(look_rng, spec=spec, team_colours=self.team_colours)
        else:
            scene.apply_look(None)
        ground_truth = dict(
            scene.render_ground_truth(
                camera=self.camera, height=self.size, width=self.size, player=player
            )
        )
        ground_truth["meta"] = {
            "source": "soccer",
            "team_size": team_size,
            "layout": layout,
            "settle_steps": settle_steps,
            "camera": self.camera,
            "player": player,
            "team_colours": self.team_colours,
            "players": self.players,
            "look": None if look is None else look.to_dict(),
        }
        return ground_truth

    def close(self) -> None:
        for scene in self._scenes.values():
            scene.close()
        self._scenes.clear()


class ShapesFrameSource:
    """Flat synthetic frames in the simulator's format (no OpenGL): a smoke-test source.

    Draws a tinted pitch, up to two goals at the sides, ``1..3`` players a team as rectangles in
    two random team colours, and a ball as a disc, painted in that order (later occludes earlier).
    """

    def __init__(self, size: int = 128, camera: str = "broadcast", **_: Any) -> None:
        self.size = size
        self.camera = camera

    def frame(self, rng: np.random.Generator, appearance: Any = None) -> dict[str, Any]:
        size = self.size
        yy, xx = np.mgrid[0:size, 0:size]
        pitch = np.array([40, 140, 50]) + rng.integers(-20, 21, size=3)
        rgb = np.broadcast_to(pitch, (size, size, 3)).astype(np.uint8).copy()
        depth = np.full((size, size), 2.0, np.float32) + 0.001 * yy.astype(np.float32)
        class_mask = np.zeros((size, size), np.uint8)
        instance_mask = np.zeros((size, size), np.int32)
        objects: list[tuple[int, int, int, int, np.ndarray]] = []  # (label, team, number, id, mask)
        colours = rng.integers(0, 256, size=(2, 3))
        goal_w, goal_h = max(2, size // 16), size // 3
        for side in (0, 1):
            if rng.random() < 0.7:
                x0 = 0 if side == 0 else size - goal_w
                y0 = int(rng.integers(size // 6, size - goal_h - size // 6))
                mask = (xx >= x0) & (xx < x0 + goal_w) & (yy >= y0) & (yy < y0 + goal_h)
                objects.append((CLASS_NAMES.index("goal"), -1, -1, mask, np.array([235, 235, 235])))
        team_size = int(rng.integers(1, 4))
        for team in (0, 1):
            for number in range(team_size):
                w, h = (
                    int(rng.integers(size // 14, size // 8)),
                    int(rng.integers(size // 10, size // 5)),
                )
                x0, y0 = int(rng.integers(0, size - w)), int(rng.integers(0, size - h))
                mask = (xx >= x0) & (xx < x0 + w) & (yy >= y0) & (yy < y0 + h)
                label = CLASS_NAMES.index("team_a" if team == 0 else "team_b")
                objects.append((label, team, number + 1, mask, colours[team]))
        radius = max(1.5, size / 40)
        cx, cy = rng.uniform(radius, size - radius, size=2)
        ball = (xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2
        objects.append((CLASS_NAMES.index("ball"), -1, -1, ball, np.array([250, 250, 250])))
        for object_id, (label, _team, _number, mask, colour) in enumerate(objects):
            rgb[mask] = colour
            class_mask[mask] = label
            instance_mask[mask] = object_id + 1
            depth[mask] -= 0.1
        boxes, labels, ids, teams, numbers, visible = [], [], [], [], [], []
        for object_id, (label, team, number, _mask, _colour) in enumerate(objects):
            pixels = instance_mask == object_id + 1
            if not pixels.any():
                continue
            ys, xs = np.nonzero(pixels)
            boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
            labels.append(label)
            ids.append(object_id + 1)  # instance ids are the mask values, as in the simulator
            teams.append(team)
            numbers.append(number)
            visible.append(int(pixels.sum()))
        return {
            "rgb": rgb,
            "depth": depth,
            "class_mask": class_mask,
            "instance_mask": instance_mask,
            "boxes": np.asarray(boxes, np.float32).reshape(-1, 4),
            "labels": np.asarray(labels, np.int64),
            "instance_ids": np.asarray(ids, np.int64),
            "teams": np.asarray(teams, np.int64),
            "numbers": np.asarray(numbers, np.int64),
            "visible_pixels": np.asarray(visible, np.int64),
            "meta": {"source": "shapes", "team_size": team_size, "camera": self.camera},
        }

    def close(self) -> None:
        pass


def make_source(name: str, camera: str, size: int, team_colours: str = "kits",
                appearance: Any = "random", players: str = "robot") -> FrameSource:
    """Build a frame source by name (``soccer`` or ``shapes``; ``shapes`` has neither appearance
    nor human players)."""
    if name == "soccer":
        return SoccerFrameSource(camera=camera, size=size, team_colours=team_colours, appearance=appearance,
                                 players=players)
    if name == "shapes":
        return ShapesFrameSource(camera=camera, size=size)
    raise UsageError(f"source {name!r} unknown; choose one of: {', '.join(SOURCES)}")
