"""A trained DQN as a policy: one env's observation in, an action out (no training state)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from visiongym.agents.common.frames import FrameStacker, to_frames

__all__ = ["DQNPolicy"]


class DQNPolicy:
    """ε-greedy (default greedy) actions from a Q-network, stacking frames itself.

    Call :meth:`reset` at the start of each episode, then ``policy(observation)``.

    Args:
        network: maps (B, stack*C, H, W) uint8 to Q-values (B, n_actions).
        frame_shape: one channel-first frame.
        stack: frames per observation.
        grayscale: convert RGB frames to grey, as in training.
        epsilon: probability of a uniformly random action.
        seed: seed of the exploration generator.
    """

    def __init__(
        self,
        network: nn.Module,
        frame_shape: tuple[int, int, int],
        stack: int,
        grayscale: bool = False,
        epsilon: float = 0.0,
        seed: int | None = None,
    ) -> None:
        self.network = network
        self.device = next(network.parameters()).device
        self.frame_shape, self.stack, self.grayscale = frame_shape, stack, grayscale
        self.epsilon = epsilon
        self.n_actions: int | None = None
        self._rng = np.random.default_rng(seed)
        self._stacker: FrameStacker | None = None

    def reset(self) -> None:
        """Forget the frames of the previous episode."""
        self._stacker = None

    @torch.no_grad()
    def q_values(self, observation: Any) -> np.ndarray:
        """Q-values of the current (stacked) observation, after adding ``observation``."""
        frames = to_frames(np.asarray(observation)[None], self.device, self.grayscale)
        if self._stacker is None:
            self._stacker = FrameStacker(1, self.frame_shape, self.stack, self.device)
            self._stacker.reset(frames)
        else:
            self._stacker.push(frames)
        was_training = self.network.training
        self.network.eval()
        q = self.network(self._stacker.observation())[0].float().cpu().numpy()
        self.network.train(was_training)
        return q

    def __call__(self, observation: Any) -> int:
        q = self.q_values(observation)
        if self.epsilon > 0 and self._rng.random() < self.epsilon:
            return int(self._rng.integers(len(q)))
        return int(q.argmax())
