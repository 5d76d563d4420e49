"""An SB3 policy acting in one (unwrapped-by-SB3) env: stacks and transposes frames and normalises
observations exactly like training did."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import torch

from visiongym.agents.algorithms import get_algorithm, names
from visiongym.agents.sb3.spaces import space_from_dict
from visiongym.sims.errors import UsageError

__all__ = ["SB3Policy", "ObservationNormalizer", "sb3_policy_from_checkpoint", "algorithm_class", "ACTIVATIONS"]

#: ``--activation`` name -> torch module class.
ACTIVATIONS = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "elu": torch.nn.ELU}

def algorithm_class(algo: str):
    """The SB3 class of ``algo`` (imported lazily), from :data:`visiongym.agents.algorithms.ALGORITHMS`."""
    algorithm = get_algorithm(algo)
    if algorithm.sb3_class is None:
        raise UsageError(f"algorithm {algo!r} is not a Stable-Baselines3 one; choose one of: {', '.join(names(family='sb3'))}")
    return algorithm.load("sb3_class")


class ObservationNormalizer:
    """Frozen ``VecNormalize`` observation statistics: ``clip((obs - mean) / sqrt(var + eps))``."""

    def __init__(self, mean: np.ndarray, var: np.ndarray, clip: float, epsilon: float) -> None:
        self.mean = np.asarray(mean, dtype=np.float64)
        self.var = np.asarray(var, dtype=np.float64)
        self.clip, self.epsilon = float(clip), float(epsilon)

    def __call__(self, observation: np.ndarray) -> np.ndarray:
        scaled = (np.asarray(observation, dtype=np.float64) - self.mean) / np.sqrt(self.var + self.epsilon)
        return np.clip(scaled, -self.clip, self.clip).astype(np.float32)

    def state_dict(self) -> dict[str, Any]:
        """Tensors and floats only, so the checkpoint stays ``weights_only``-loadable."""
        return {"mean": torch.from_numpy(self.mean.copy()), "var": torch.from_numpy(self.var.copy()),
                "clip": self.clip, "epsilon": self.epsilon}

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> ObservationNormalizer:
        return cls(state["mean"].numpy(), state["var"].numpy(), state["clip"], state["epsilon"])


class SB3Policy:
    """``reset()`` then ``policy(obs) -> action`` for an SB3 policy trained on stacked frames.

    Image observations (H, W, C) are stacked along channels with zero padding at the episode
    start, then transposed to (C*k, H, W): exactly what ``VecFrameStack`` + ``VecTransposeImage``
    did in training. Vector observations go through the training run's ``VecNormalize``
    statistics when it had them (``normalizer``). Recurrent policies carry their LSTM state.
    """

    def __init__(self, policy, frame_stack: int, image: bool, deterministic: bool = True,
                 normalizer: ObservationNormalizer | None = None) -> None:
        self.policy, self.frame_stack, self.image = policy, frame_stack, image
        self.deterministic = deterministic
        self.normalizer = normalizer
        self.reset()

    def reset(self) -> None:
        self._frames: deque[np.ndarray] = deque(maxlen=self.frame_stack)
        self._state: Any = None
        self._episode_start = np.ones(1, dtype=bool)

    def _observation(self, observation: Any) -> np.ndarray:
        observation = np.asarray(observation)
        if not self.image:
            return observation if self.normalizer is None else self.normalizer(observation)
        if not self._frames:
            for _ in range(self.frame_stack - 1):
                self._frames.append(np.zeros_like(observation))
        self._frames.append(observation)
        return np.concatenate(list(self._frames), axis=-1).transpose(2, 0, 1)

    def __call__(self, observation: Any) -> Any:
        obs = self._observation(observation)
        action, self._state = self.policy.predict(
            obs[None], state=self._state, episode_start=self._episode_start, deterministic=self.deterministic
        )
        self._episode_start = np.zeros(1, dtype=bool)
        action = action[0]
        return int(action) if np.ndim(action) == 0 and np.issubdtype(np.asarray(action).dtype, np.integer) else action


def build_policy_network(meta: dict[str, Any], device: torch.device):
    """An untrained policy module of the checkpoint's algorithm, spaces and encoder."""
    from visiongym.vision.encoders import get_model_class

    cls = algorithm_class(meta["algo"])
    policy_class = cls.policy_aliases[meta["policy"]]
    kwargs = dict(meta.get("policy_kwargs", {}))
    if "encoder" in kwargs:
        kwargs["features_extractor_class"] = get_model_class(kwargs.pop("encoder"))
        kwargs["features_extractor_kwargs"] = {"features_dim": kwargs.pop("features_dim"),
                                               **kwargs.pop("encoder_kwargs", {})}
    if "activation" in kwargs:
        kwargs["activation_fn"] = ACTIVATIONS[kwargs.pop("activation")]
    policy = policy_class(
        space_from_dict(meta["observation_space"]),
        space_from_dict(meta["action_space"]),
        lambda _: 0.0,
        **kwargs,
    )
    return policy.to(device)


def sb3_policy_from_checkpoint(payload: dict[str, Any], device: torch.device, epsilon: float = 0.0) -> SB3Policy:
    """Rebuild the policy network, load the weights, wrap it for one env.

    ``epsilon`` (random actions) belongs to the DQN family: a value other than 0 is refused.
    """
    meta = payload["meta"]
    if epsilon:
        raise UsageError(f"epsilon={epsilon} applies to dqn and drqn policies; {meta['algo']} acts deterministically")
    policy = build_policy_network(meta, device)
    policy.load_state_dict(payload["state"]["policy"])
    policy.set_training_mode(False)
    state = payload["state"].get("observation_normalizer")
    normalizer = ObservationNormalizer.from_state_dict(state) if state is not None else None
    return SB3Policy(policy, meta["frame_stack"], meta["image"], normalizer=normalizer)
