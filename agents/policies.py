"""Load a trained policy from a run folder or checkpoint: ``load_policy(path, env)(obs) -> action``.

Used by ``visiongym.agents.evaluate`` and by ``python -m visiongym.envs.play ... --policy <run or checkpoint>``. The
checkpoint is read with ``weights_only=True``; a file written for another env, or a corrupt file,
raises :class:`visiongym.vision.runtime.CheckpointError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import torch

from visiongym.agents.algorithms import ALGORITHMS, get_algorithm
from visiongym.agents.common.envs import make_env, wrapper_options
from visiongym.agents.common.evaluation import Policy
from visiongym.agents.common.run import resolve_checkpoint
from visiongym.vision.runtime import CheckpointError, load_checkpoint, pick_device

__all__ = ["load_policy", "read_checkpoint", "EpisodeAwarePolicy"]


def read_checkpoint(path: str | Path, env_id: str | None = None, device: str | torch.device = "cpu") -> dict[str, Any]:
    """Payload of a policy checkpoint (run folder -> best.pt, else last.pt), checked for ``env_id``."""
    checkpoint = resolve_checkpoint(path)
    expected = {"env_id": env_id} if env_id is not None else {}
    return load_checkpoint(checkpoint, kind=tuple(ALGORITHMS), map_location=device, **expected)


def _env_id(env: gym.Env | None) -> str | None:
    spec = getattr(env, "spec", None) if env is not None else None
    return spec.id if spec is not None else None


def load_policy(path: str | Path, env: gym.Env | None = None, device: str = "auto", epsilon: float = 0.0) -> Policy:
    """Rebuild the policy saved at ``path`` (a run folder or a ``.pt`` checkpoint).

    Args:
        path: run folder (its ``checkpoints/best.pt``, else ``last.pt``) or checkpoint file.
        env: the env the policy will act in; its id must match the checkpoint's env.
        device: where the network runs.
        epsilon: random-action probability (DQN family; refused for SB3 policies, which act
            deterministically).

    Returns:
        An object with ``reset()`` (call at each episode start) and ``__call__(obs) -> action``.
    """
    torch_device = pick_device(device)
    payload = read_checkpoint(path, _env_id(env), torch_device)
    meta, kind = payload["meta"], payload["kind"]
    if env is not None:
        _check_spaces(env, meta, path)
    policy = get_algorithm(kind).load("policy_loader", meta.get("engine"))(payload, torch_device, epsilon)
    return EpisodeAwarePolicy(policy, env, meta) if env is not None else policy


class EpisodeAwarePolicy:
    """Resets a stateful policy (frame stack, LSTM) by itself when ``env`` starts an episode.

    Callers such as ``visiongym.envs.play`` only call ``policy(obs)``; the env's time-limit step counter
    is 0 right after a reset, which is when the frames and memory of the last episode must go.

    ``rebuild_env`` is set when the run preprocessed its pixels (Atari wrappers): callers that made
    the raw env (``visiongym.envs.play``) call it to get the env the policy acts in, evaluation's.
    """

    def __init__(self, policy: Policy, env: gym.Env, meta: dict[str, Any] | None = None) -> None:
        self.policy, self.env, self.meta = policy, env, meta or {}
        options = wrapper_options(self.meta.get("config", {}), training=False)
        self.rebuild_env = self._rebuild_env if options["pixels"] is not None else None

    def _rebuild_env(self, render_mode: str | None = "rgb_array", **env_kwargs: Any) -> gym.Env:
        """The checkpoint's env with its evaluation preprocessing; ``env_kwargs`` override its own."""
        kwargs = {**self.meta.get("env_kwargs", {}), **env_kwargs}
        options = wrapper_options(self.meta.get("config", {}), training=False)
        self.env = make_env(self.meta["env_id"], kwargs, render_mode=render_mode, **options)()
        return self.env

    def _elapsed(self) -> int | None:
        try:
            return int(self.env.get_wrapper_attr("_elapsed_steps"))
        except (AttributeError, TypeError, ValueError):
            return None

    def reset(self) -> None:
        self.policy.reset()

    def __call__(self, observation: Any) -> Any:
        if self._elapsed() == 0:
            self.policy.reset()
        return self.policy(observation)


def _check_spaces(env: gym.Env, meta: dict[str, Any], path: str | Path) -> None:
    n_actions = meta.get("n_actions")
    if n_actions is not None and (
        not isinstance(env.action_space, gym.spaces.Discrete) or int(env.action_space.n) != n_actions
    ):
        raise CheckpointError(
            f"checkpoint {str(path)!r} acts with {n_actions} discrete actions, but the env has "
            f"{env.action_space}; create the env with the checkpoint's env_kwargs {meta.get('env_kwargs')}"
        )
