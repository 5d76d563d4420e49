"""The detector's object list for a Stable-Baselines3 vector env: one detector pass a step.

SB3 collects from its own ``VecEnv`` (``DummyVecEnv``/``SubprocVecEnv``), not a Gymnasium vector
env, so :class:`visiongym.vision.detect.wrapper.DetectedObjectsVector` does not apply; this wrapper
does the same with :class:`~visiongym.vision.detect.wrapper.ObjectSlots`, including the
``terminal_observation`` SB3 puts in the infos of an episode's last step (off-policy algorithms
bootstrap truncated episodes from it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper

__all__ = ["VecDetectedObjects"]


class VecDetectedObjects(VecEnvWrapper):
    """Replace the pixel observations of every env of ``venv`` by the detected object list.

    Args:
        venv: an SB3 vector env of RGB pixel observations (H, W, 3) uint8.
        detector: a detector checkpoint (``visiongym.vision.detect.train``).
        players_per_team: slots per team.
        device: where the detector runs.
        int8: the detector's convolutions in int8 on the CPU (:class:`~visiongym.vision.detect.wrapper.ObjectSlots`).
    """

    def __init__(self, venv: VecEnv, detector: str | Path, players_per_team: int = 1,
                 device: Any = "cpu", int8: bool = False) -> None:
        from visiongym.vision.detect.wrapper import ObjectSlots, pixel_space

        pixel_space(venv.observation_space, "the batched detector observation")
        self.objects = ObjectSlots(detector, players_per_team, device=device, int8=int8)
        super().__init__(venv, observation_space=self.objects.space)

    def reset(self) -> np.ndarray:
        return self.objects(self.venv.reset())

    def step_wait(self):
        observations, rewards, dones, infos = self.venv.step_wait()
        finished = [index for index, info in enumerate(infos) if "terminal_observation" in info]
        if finished:
            last = [infos[index]["terminal_observation"] for index in finished]
            vectors = self.objects(np.stack([item["pixels"] if isinstance(item, dict) else item for item in last]))
            for index, vector in zip(finished, vectors, strict=True):
                infos[index]["terminal_observation"] = vector
        return self.objects(observations), rewards, dones, infos
