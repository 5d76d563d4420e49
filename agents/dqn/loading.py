"""Rebuild a DQN-family policy from a checkpoint payload (no training state needed)."""

from __future__ import annotations

from typing import Any

import torch

from visiongym.agents.dqn.policy import DQNPolicy

__all__ = ["dqn_policy_from_checkpoint", "build_network_from_meta"]


def build_network_from_meta(meta: dict[str, Any]) -> torch.nn.Module:
    """The network a DQN/DRQN checkpoint's weights belong to, from its saved config."""
    from visiongym.agents.dqn.networks import QNetwork, encoder_kwargs, stacked_space

    config = meta["config"]
    frame_shape = tuple(meta["frame_shape"])
    space = stacked_space(frame_shape, config["frame_stack"])
    if meta["algo"] == "drqn":
        from visiongym.agents.dqn.drqn import RecurrentQNetwork

        return RecurrentQNetwork(
            space, meta["n_actions"], config["encoder"], config["features_dim"], config["lstm_hidden"],
            config["dueling"], encoder_kwargs(config),
        )
    return QNetwork(
        space, meta["n_actions"], config["encoder"], config["features_dim"], config["dueling"], encoder_kwargs(config)
    )


def dqn_policy_from_checkpoint(payload: dict[str, Any], device: torch.device, epsilon: float = 0.0):
    """A :class:`DQNPolicy` (or recurrent policy) with the checkpoint's weights on ``device``."""
    meta = payload["meta"]
    network = build_network_from_meta(meta).to(device)
    network.load_state_dict(payload["state"]["policy"])
    network.eval()
    config = meta["config"]
    frame_shape = tuple(meta["frame_shape"])
    if meta["algo"] == "drqn":
        from visiongym.agents.dqn.drqn import DRQNPolicy

        return DRQNPolicy(network, frame_shape, config["grayscale"], epsilon, seed=config["seed"])
    return DQNPolicy(network, frame_shape, config["frame_stack"], config["grayscale"], epsilon, seed=config["seed"])
