"""Q-networks: an encoder from :mod:`visiongym.vision.encoders` followed by a plain or dueling head."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

# encoder_kwargs is re-exported: the checkpoints' loaders import it from here
from visiongym.agents.config import encoder_kwargs
from visiongym.sims.errors import UsageError
from visiongym.vision.encoders import build_model

__all__ = ["QNetwork", "encoder_kwargs", "stacked_space", "observation_box", "build_network", "plain_state_dict",
           "NETWORKS"]

NETWORKS = {"QNetwork": "visiongym.agents.dqn.networks", "RecurrentQNetwork": "visiongym.agents.dqn.drqn"}
"""Network class name -> its module, for :func:`build_network`."""


def stacked_space(frame_shape: tuple[int, ...], stack: int) -> gym.spaces.Box:
    """The channel-first Box the encoder sees: ``stack`` frames concatenated on channels (a
    vector ``(D,)`` frame: ``stack`` vectors end to end)."""
    return observation_box((frame_shape[0] * stack, *frame_shape[1:]))


def observation_box(shape: tuple[int, ...]) -> gym.spaces.Box:
    """The encoder's Box of ``shape``: uint8 0..255 images (C, H, W), or float32 vectors (D,)."""
    if len(shape) == 1:
        return gym.spaces.Box(-np.inf, np.inf, tuple(shape), np.float32)
    return gym.spaces.Box(0, 255, tuple(shape), np.uint8)


COMPILED_PREFIX = "_orig_mod."
"""What ``torch.compile``'s wrapper puts before every state-dict key of the module it wraps."""


def plain_state_dict(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with the ``torch.compile`` prefix taken off its keys (a no-op for a plain one).

    The learners save and copy the plain module's weights; this reads weights that were saved
    from a compiled wrapper all the same.
    """
    return {key.removeprefix(COMPILED_PREFIX): value for key, value in state.items()}


def build_network(spec: dict[str, Any]) -> QNetwork:
    """An untrained network from the ``spec`` of one (what a checkpoint's ``meta["network"]`` holds)."""
    import importlib

    name = spec["class"]
    if name not in NETWORKS:
        raise UsageError(f"network class {name!r} unknown; choose one of: {', '.join(NETWORKS)}")
    kwargs = dict(spec["kwargs"])
    space = observation_box(tuple(kwargs.pop("observation_shape")))
    return getattr(importlib.import_module(NETWORKS[name]), name)(space, **kwargs)


class QNetwork(nn.Module):
    """Q(s, ·) from stacked uint8 frames (or stacked float vectors, with the ``mlp`` encoder).

    Args:
        observation_space: channel-first stacked-frames Box (or a 1-D Box of stacked vectors).
        n_actions: size of the discrete action space.
        encoder: registered encoder name (see ``visiongym.vision.encoders.list_models()``).
        features_dim: encoder output size.
        dueling: V(s) + A(s, a) - mean_a A(s, a) head (Wang et al., 2016) instead of a linear one.
        encoder_kwargs: further encoder arguments (``checkpoint`` for ``autoencoder``).
    """

    def __init__(
        self,
        observation_space: gym.spaces.Box,
        n_actions: int,
        encoder: str = "nature_cnn",
        features_dim: int = 512,
        dueling: bool = True,
        encoder_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.spec: dict[str, Any] = {"class": type(self).__name__, "kwargs": {
            "observation_shape": [int(size) for size in observation_space.shape], "n_actions": int(n_actions),
            "encoder": encoder, "features_dim": int(features_dim), "dueling": bool(dueling),
            "encoder_kwargs": dict(encoder_kwargs or {}),
        }}
        """The class and constructor arguments (the observation space as its shape), saved with the
        weights so :func:`build_network` rebuilds this network from the checkpoint alone."""
        self.encoder = build_model(
            encoder, observation_space=observation_space, features_dim=features_dim, **(encoder_kwargs or {})
        )
        self.dueling = dueling
        self.channels_last = False
        self.build_head(features_dim, n_actions)

    def use_channels_last(self, enabled: bool = True) -> QNetwork:
        """Keep conv weights and image batches channels-last (NHWC).

        oneDNN's CPU convolutions (and tensor-core GPU kernels) run faster in that layout: on a
        2-core CPU a Nature-CNN update took about 1.3-1.5x less time. Results are unchanged up to
        float rounding.
        """
        self.channels_last = enabled
        return self.to(memory_format=torch.channels_last if enabled else torch.contiguous_format)

    def prepare(self, observations: torch.Tensor) -> torch.Tensor:
        """uint8 image batches as floats (still 0..255) in the network's memory layout.

        The learner calls this once per batch, before augmenting, so a batch is converted and
        relaid once however many passes use it. Values are unchanged; the encoder scales them.
        """
        if observations.dim() != 4:
            return observations
        if self.channels_last:
            # float first: PyTorch's NCHW -> NHWC copy of uint8 is several times slower than of
            # float32 on the CPU.
            return observations.float().contiguous(memory_format=torch.channels_last)
        return observations

    def encode(self, observations: torch.Tensor) -> torch.Tensor:
        """Encoder features of (B, C, H, W) images, in the layout chosen by :meth:`use_channels_last`."""
        if self.channels_last and observations.dim() == 4:
            observations = self.prepare(observations)
        return self.encoder(observations)

    def build_head(self, in_features: int, n_actions: int) -> None:
        """(Re)create the linear Q head, or the value and advantage streams of a dueling one."""
        if self.dueling:
            self.value = nn.Linear(in_features, 1)
            self.advantage = nn.Linear(in_features, n_actions)
        else:
            self.q = nn.Linear(in_features, n_actions)

    def head(self, features: torch.Tensor) -> torch.Tensor:
        """Q-values from encoder features (shared with the recurrent variant)."""
        if not self.dueling:
            return self.q(features)
        advantage = self.advantage(features)
        return self.value(features) + advantage - advantage.mean(-1, keepdim=True)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.head(self.encode(observations))
