"""Write docs/appearance_grid.png: the soccer and LearnToMove scenes under every named look.

    .venv/bin/python benchmarks/appearance_grid.py [--out docs/appearance_grid.png] [--size 112]

Tiles, left to right and top to bottom, for soccer and then LearnToMove: default, random (two
draws), held_out, then each single-factor shift of ``visiongym.sims.appearance.SHIFTS`` in order.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from visiongym.sims.appearance import SHIFTS

NAMES = ["default", "random", "random", "held_out", *SHIFTS]


def tiles(scene_name: str, size: int) -> list[np.ndarray]:
    frames = []
    if scene_name == "soccer":
        from visiongym.sims.soccer import SoccerScene

        scene = SoccerScene(team_size=3, image_size=(size, size))
    else:
        from visiongym.sims.characters import CharacterScene

        scene = CharacterScene("walker", "flat", offscreen=(size, size))
    for seed, name in enumerate(NAMES):
        if scene_name == "soccer":
            scene.reset(np.random.default_rng(0))
            for _ in range(15):
                scene.step(scene.scripted_commands(np.random.default_rng(1)))
        else:
            scene.reset()
        scene.draw_appearance(np.random.default_rng(seed), spec=name)
        frames.append(scene.render("broadcast", size, size) if scene_name == "soccer" else scene.render(size, size))
    scene.close()
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/appearance_grid.png"))
    parser.add_argument("--size", type=int, default=112)
    args = parser.parse_args()
    import imageio.v3 as iio

    columns = 10
    rows = []
    for scene_name in ("soccer", "learn_to_move"):
        frames = tiles(scene_name, args.size)
        frames += [np.zeros_like(frames[0])] * (-len(frames) % columns)
        rows += [np.concatenate(frames[i : i + columns], axis=1) for i in range(0, len(frames), columns)]
    iio.imwrite(args.out, np.concatenate(rows, axis=0), optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB): {', '.join(NAMES)}")


if __name__ == "__main__":
    main()
