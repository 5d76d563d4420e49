"""Player crops rendered by the soccer simulator, labelled by identity, for re-identification.

An identity is one player as a camera sees them: their team's colour (drawn afresh for every
"appearance draw" of the scene), their shirt number (which also sets their cap colour) and their
team. Within a draw the players run about under the scripted controllers and are rendered from
the broadcast camera several times; each visible player gives one crop, cut square around its
ground-truth box and resized. Held-out identities come from draws never seen in training.
"""

from __future__ import annotations

import numpy as np
import torch

from visiongym.sims.errors import UsageError

__all__ = ["render_player_crops"]


def _crop(image: np.ndarray, box: np.ndarray, size: int, context: float = 1.4) -> np.ndarray:
    """A square crop around ``box`` (xyxy), ``context`` times its longer side, resized to ``size``."""
    import cv2

    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = context * max(box[2] - box[0], box[3] - box[1]) / 2
    pad = int(np.ceil(half)) + 1
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    x0, y0 = int(round(cx - half)) + pad, int(round(cy - half)) + pad
    side = max(2, int(round(2 * half)))
    return cv2.resize(
        padded[y0 : y0 + side, x0 : x0 + side], (size, size), interpolation=cv2.INTER_AREA
    )


def render_player_crops(
    draws: int,
    frames: int,
    rng: np.random.Generator,
    team_size: int = 5,
    image_size: int = 320,
    crop_size: int = 32,
    min_pixels: int = 60,
    first_identity: int = 0,
) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Render ``draws`` appearance draws x ``frames`` frames of broadcast view; cut player crops.

    Returns:
        ``images`` ``(N, 3, crop, crop)`` float in [0, 1]; ``identities`` ``(N,)`` (consecutive from
        ``first_identity``, ``2 * team_size`` per draw); ``meta`` ``(N, 3)`` = draw, team, number.
    """
    from visiongym.sims.soccer import SoccerScene

    scene = SoccerScene(team_size=team_size, ego_cameras=False)
    crops, identities, meta = [], [], []
    try:
        for draw in range(draws):
            scene.reset(rng)
            scene.randomize_appearance(rng, camera_jitter=0.03)
            for _ in range(frames):
                for _ in range(int(rng.integers(5, 15))):
                    scene.step(scene.scripted_commands(rng))
                truth = scene.render_ground_truth("broadcast", image_size, image_size)
                for box, team, number, pixels in zip(
                    truth["boxes"],
                    truth["teams"],
                    truth["numbers"],
                    truth["visible_pixels"],
                    strict=True,
                ):
                    if team < 0 or pixels < min_pixels:
                        continue
                    crops.append(_crop(truth["rgb"], box, crop_size))
                    identities.append(
                        first_identity + draw * 2 * team_size + team * team_size + number - 1
                    )
                    meta.append((draw, team, number))
    finally:
        scene.close()
    if not crops:
        raise UsageError(
            f"no player was visible with at least {min_pixels} pixels in {draws} x {frames} frames"
        )
    images = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float() / 255.0
    return images, torch.tensor(identities), np.asarray(meta)
