"""An RLlib policy outside Ray: rebuild a PPO RLModule from a ``.pt`` checkpoint and act greedily.

The trainer saves each module's weights (``state_dict``) with the spaces and model config that
built it, so ``visiongym.agents.evaluate`` and ``visiongym.envs.play`` load an RLlib run the way
they load an SB3 one (``weights_only=True``, no pickle, no Ray cluster); only RLlib's module
classes are imported.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from visiongym.agents.rllib.envs import import_ray
from visiongym.agents.sb3.spaces import space_from_dict, space_to_dict
from visiongym.vision.runtime import CheckpointError

__all__ = ["RLlibPolicy", "module_record", "build_module", "rllib_policy_from_checkpoint", "module_policies"]


def module_record(module: Any) -> dict[str, Any]:
    """What rebuilding ``module`` needs, as plain values: its spaces and its full model config
    (RLlib's defaults merged in: they decide the layer names, e.g. a shared or separate encoder)."""
    model_config = module.model_config
    if dataclasses.is_dataclass(model_config):
        model_config = dataclasses.asdict(model_config)
    plain = {key: value for key, value in dict(model_config).items() if _is_plain(value)}
    return {"observation_space": space_to_dict(module.observation_space),
            "action_space": space_to_dict(module.action_space), "model_config": plain}


def _is_plain(value: Any) -> bool:
    """Kept in a ``weights_only`` checkpoint: numbers, strings, None and lists/dicts of them."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _is_plain(item) for key, item in value.items())
    return False


def build_module(record: dict[str, Any], state: dict[str, torch.Tensor], device: torch.device | str = "cpu") -> Any:
    """An inference-only PPO RLModule from :func:`module_record`'s dict and saved weights."""
    import_ray("ray.rllib")
    from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import DefaultPPOTorchRLModule

    module = DefaultPPOTorchRLModule(
        observation_space=space_from_dict(record["observation_space"]),
        action_space=space_from_dict(record["action_space"]),
        model_config=dict(record["model_config"]),
        inference_only=True,
    )
    # strict=False: a learner's module also holds the value head, which an inference module lacks
    missing = module.load_state_dict(state, strict=False).missing_keys
    if missing:
        raise CheckpointError(f"the checkpoint's weights do not fit the RLlib module it describes "
                              f"(missing {', '.join(missing[:4])}); was it written by another RLlib version?")
    return module.to(device).eval()


class RLlibPolicy:
    """``policy(obs) -> action``: the module's most likely action, unsquashed into the action space
    as RLlib's env runners do it (``normalize_actions``), then clipped to its bounds."""

    def __init__(self, module: Any, image: bool = False, device: torch.device | str = "cpu") -> None:
        self.module, self.image, self.device = module, image, torch.device(device)
        self.action_space = module.action_space
        self.distribution = module.get_inference_action_dist_cls()

    def reset(self) -> None:
        """Stateless: nothing to forget between episodes."""

    @torch.no_grad()
    def __call__(self, observation: Any) -> Any:
        obs = np.asarray(observation, np.float32)
        if self.image:
            obs = obs / 255.0  # as the training envs' ScaleImage
        batch = {"obs": torch.as_tensor(obs, device=self.device)[None]}
        inputs = self.module.forward_inference(batch)["action_dist_inputs"]
        action = self.distribution.from_logits(inputs).to_deterministic().sample()[0].cpu().numpy()
        space = self.action_space
        if isinstance(space, gym.spaces.Discrete):
            return int(action)
        low, high = space.low, space.high
        return np.clip(low + (action + 1.0) * (high - low) / 2.0, low, high).astype(space.dtype)


def module_policies(payload: dict[str, Any], device: torch.device | str = "cpu") -> dict[str, RLlibPolicy]:
    """Every module of an RLlib checkpoint payload as a policy, by module id."""
    meta = payload["meta"]
    return {module_id: RLlibPolicy(build_module(record, payload["state"]["modules"][module_id], device),
                                   image=bool(meta.get("image")), device=device)
            for module_id, record in meta["modules"].items()}


def rllib_policy_from_checkpoint(payload: dict[str, Any], device: torch.device, epsilon: float = 0.0) -> RLlibPolicy:
    """The policy loader of ``ppo --engine rllib`` checkpoints (single-agent runs)."""
    from visiongym.sims.errors import UsageError

    if epsilon:
        raise UsageError(f"epsilon={epsilon}: RLlib PPO policies act greedily; use epsilon 0")
    if payload["meta"].get("multi_agent"):
        raise UsageError("this RLlib run trained a team of agents (--multi-agent); evaluate it with "
                         "python -m visiongym.agents.evaluate RUN, which plays its team against scripted opponents")
    (policy,) = module_policies(payload, device).values()
    return policy
