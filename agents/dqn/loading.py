"""Rebuild a DQN-family policy from a checkpoint payload (no training state, no training config).

A checkpoint describes itself: ``meta["network"]`` holds the network's class and constructor
arguments, ``meta["frame_shape"]``, ``meta["frame_stack"]``, ``meta["grayscale"]`` and
``meta["seed"]`` what the acting wrapper needs. First-release checkpoints lacked those keys;
:func:`describe` derives them from the config those saved, once, so every other line reads only
the new keys.
"""

from __future__ import annotations

from typing import Any

import torch

from visiongym.agents.dqn.networks import (
    build_network,
    encoder_kwargs,
    plain_state_dict,
    stacked_space,
)
from visiongym.agents.dqn.policy import DQNPolicy

__all__ = ["dqn_policy_from_checkpoint", "describe", "network_from_checkpoint"]


def describe(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` with the self-describing keys; a first-release meta gets them from its config."""
    if "network" in meta:
        return meta
    config = meta["config"]
    space = stacked_space(tuple(meta["frame_shape"]), config["frame_stack"])
    kwargs = {"observation_shape": list(space.shape), "n_actions": meta["n_actions"], "encoder": config["encoder"],
              "features_dim": config["features_dim"], "dueling": config["dueling"],
              "encoder_kwargs": encoder_kwargs(config)}
    network = {"class": "QNetwork", "kwargs": kwargs}
    if meta["algo"] == "drqn":
        network = {"class": "RecurrentQNetwork", "kwargs": {**kwargs, "lstm_hidden": config["lstm_hidden"]}}
    return {**meta, "network": network, "frame_stack": config["frame_stack"], "grayscale": config["grayscale"],
            "seed": config["seed"]}


def network_from_checkpoint(payload: dict[str, Any], device: torch.device | str = "cpu",
                            weights: str = "policy") -> torch.nn.Module:
    """The checkpoint's network with its ``state[weights]`` loaded, on ``device``."""
    network = build_network(describe(payload["meta"])["network"]).to(device)
    network.load_state_dict(plain_state_dict(payload["state"][weights]))
    return network


def dqn_policy_from_checkpoint(payload: dict[str, Any], device: torch.device, epsilon: float = 0.0):
    """A :class:`DQNPolicy` (or recurrent policy) with the checkpoint's weights on ``device``."""
    meta = describe(payload["meta"])
    network = network_from_checkpoint(payload, device).eval()
    frame_shape = tuple(meta["frame_shape"])
    if meta["network"]["class"] == "RecurrentQNetwork":
        from visiongym.agents.dqn.drqn import DRQNPolicy

        return DRQNPolicy(network, frame_shape, meta["grayscale"], epsilon, seed=meta["seed"])
    return DQNPolicy(network, frame_shape, meta["frame_stack"], meta["grayscale"], epsilon, seed=meta["seed"])
