"""Detector as observation: a Gymnasium wrapper that turns pixels into an object list.

Example::

    import gymnasium as gym, envs
    from visiongym.vision.detect.wrapper import DetectedObjects

    env = gym.make("visiongym/TabletopSoccer-1v1-v0", obs_mode="pixels", camera="broadcast", image_size=128)
    env = DetectedObjects(env, "runs/grid/detector.pt", players_per_team=1)

The observation becomes a flat float32 vector of fixed layout, slots in this order: 1 ball,
``players_per_team`` team-A players, ``players_per_team`` team-B players, 2 goals. Each slot holds
``(present, x, y, w, h, score)`` with the box centre and size as fractions of the image. Within a
class, slots are filled by decreasing detector confidence; empty slots are zeros. This lives in
``vision/`` because ``envs/`` may not import vision code.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from torchvision.transforms.v2 import functional as TF

from visiongym.sims.errors import UsageError
from visiongym.vision.detect.engine import Detector, load_detector

__all__ = ["DetectedObjects", "SLOT_FIELDS"]

SLOT_FIELDS = ("present", "x", "y", "w", "h", "score")


class DetectedObjects(gym.ObservationWrapper):
    """Replace an image observation by the detector's object list.

    Args:
        env: an env whose observation is ``Box(0, 255, (H, W, 3), uint8)``, or a ``Dict`` with
            a ``pixels`` key (then the whole dict is replaced).
        detector: a checkpoint path or a loaded :class:`~visiongym.vision.detect.engine.Detector`.
        players_per_team: slots per team.
        score_threshold: minimum confidence for a detection to fill a slot.
        device: where the detector runs.
    """

    def __init__(
        self,
        env: gym.Env,
        detector: str | Path | Detector,
        players_per_team: int = 2,
        score_threshold: float = 0.3,
        device: str = "cpu",
    ) -> None:
        super().__init__(env)
        space = env.observation_space
        if isinstance(space, gym.spaces.Dict):
            space = space.spaces.get("pixels")
        if not (
            isinstance(space, gym.spaces.Box)
            and space.dtype == np.uint8
            and len(space.shape) == 3
            and space.shape[-1] == 3
        ):
            raise UsageError(
                f"DetectedObjects needs RGB pixel observations (Box uint8 (H, W, 3)); got {env.observation_space}. "
                "Make the env with obs_mode='pixels'"
            )
        self.detector = (
            detector if isinstance(detector, Detector) else load_detector(detector, device)[0]
        )
        self.detector.eval()
        self.players_per_team = players_per_team
        self.score_threshold = score_threshold
        names = self.detector.class_names
        self._slots = [
            ("ball", 1),
            ("team_a", players_per_team),
            ("team_b", players_per_team),
            ("goal", 2),
        ]
        self._label_of = {name: names.index(name) + 1 for name, _ in self._slots}
        size = sum(count for _, count in self._slots) * len(SLOT_FIELDS)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (size,), np.float32)

    def slot_names(self) -> list[str]:
        """Human-readable name of every entry of the observation vector."""
        return [
            f"{name}{k}.{field}"
            for name, count in self._slots
            for k in range(count)
            for field in SLOT_FIELDS
        ]

    def observation(self, observation) -> np.ndarray:
        pixels = observation["pixels"] if isinstance(observation, dict) else observation
        image = torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1)
        height, width = image.shape[-2:]
        size = self.detector.image_size
        if (height, width) != (size, size):
            image = TF.resize(image, [size, size], antialias=True)
        device = next(self.detector.parameters()).device
        (found,) = self.detector.predict(
            image[None].to(device), score_threshold=self.score_threshold
        )
        boxes, scores, labels = (found[key].cpu().numpy() for key in ("boxes", "scores", "labels"))
        vector = np.zeros(self.observation_space.shape, np.float32).reshape(-1, len(SLOT_FIELDS))
        row = 0
        for name, count in self._slots:
            chosen = np.flatnonzero(labels == self._label_of[name])
            chosen = chosen[np.argsort(-scores[chosen], kind="stable")][:count]
            for k, index in enumerate(chosen):
                x0, y0, x1, y1 = boxes[index] / size
                vector[row + k] = (
                    1.0,
                    (x0 + x1) / 2,
                    (y0 + y1) / 2,
                    x1 - x0,
                    y1 - y0,
                    scores[index],
                )
            row += count
        return np.clip(vector.reshape(-1), 0.0, 1.0)
