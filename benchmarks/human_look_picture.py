"""Write docs/soccer_human_look.png: the human look of the soccer players.

    .venv/bin/python benchmarks/human_look_picture.py [--out docs/soccer_human_look.png] [--steps 70]

Top row: the broadcast camera (the whole frame, and the players round the ball cut out of a
1024 px render) and the ego camera of the player nearest the ball (its eyes). Bottom row: that
player's follow camera (a crop of a 1024 px render), the same crop with the ground truth's
skeleton keypoints (yellow: visible, red: hidden) and the instance mask.
A 3 v 3 match after ``--steps`` scripted control steps from kick-off, seed ``--seed``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/soccer_human_look.png"))
    parser.add_argument("--steps", type=int, default=70)
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()

    from PIL import Image, ImageDraw

    from visiongym.sims.soccer import SKELETON, SoccerScene

    scene = SoccerScene(team_size=3, players="human")
    rng = np.random.default_rng(args.seed)
    scene.reset(rng)
    for _ in range(args.steps):
        scene.step(scene.scripted_commands(rng))
    tile = (480, 360)
    big = scene.render("broadcast", 768, 1024)
    whole = Image.fromarray(big).resize(tile, Image.LANCZOS)
    near = int(np.argmin(np.hypot(*(scene.player_positions() - scene.ball_position()).T)))
    uv, _ = scene.camera("broadcast", 768, 1024).project(np.array([[*scene.player_positions()[near], 0.08]]))
    u, v = uv[0].astype(int)
    close = Image.fromarray(big).crop((u - 120, v - 90, u + 120, v + 90)).resize(tile, Image.LANCZOS)

    size, zoom = 1024, 2
    truth = scene.render_ground_truth("follow", size, size, player=near)
    box = (size // 2 - tile[0] // (2 * zoom), size // 2 - tile[1] // (2 * zoom))
    follow = Image.fromarray(truth["rgb"]).crop((*box, box[0] + tile[0] // zoom, box[1] + tile[1] // zoom))
    follow = follow.resize(tile, Image.NEAREST)
    skeleton = follow.copy()
    draw = ImageDraw.Draw(skeleton)
    for keypoints in truth["keypoints"]:
        points = [((x - box[0]) * zoom, (y - box[1]) * zoom) for x, y, _ in keypoints]
        for a, b in SKELETON:
            if keypoints[a, 2] > 0 and keypoints[b, 2] > 0:
                draw.line([points[a], points[b]], fill=(255, 255, 0), width=2)
        for (x, y), visibility in zip(points, keypoints[:, 2], strict=True):
            if visibility > 0:
                colour = (255, 255, 0) if visibility == 2 else (255, 40, 40)
                draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=colour)
    palette = np.random.default_rng(0).integers(60, 255, (64, 3)).astype(np.uint8)
    palette[0] = 0
    mask = Image.fromarray(palette[truth["instance_mask"] % 64]).crop(
        (*box, box[0] + tile[0] // zoom, box[1] + tile[1] // zoom)).resize(tile, Image.NEAREST)

    canvas = Image.new("RGB", (3 * tile[0], 2 * tile[1]))
    canvas.paste(whole, (0, 0))
    canvas.paste(close, (tile[0], 0))
    canvas.paste(Image.fromarray(scene.render("ego", 360, 480, player=near)) if scene.spec.ego_cameras
                 else whole, (2 * tile[0], 0))
    canvas.paste(follow, (0, tile[1]))
    canvas.paste(skeleton, (tile[0], tile[1]))
    canvas.paste(mask, (2 * tile[0], tile[1]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(args.out)
    scene.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
