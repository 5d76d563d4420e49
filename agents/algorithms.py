"""The one table of training algorithms: name -> family, config, trainer, policy loader, description.

The command line's choices (:data:`visiongym.agents.config.CONFIGS`), the trainer dispatch
(:func:`visiongym.agents.train.train`), the policy loader (:func:`visiongym.agents.policies.load_policy`)
and every "unknown algorithm" message read it. Trainers and loaders are named as ``module:attribute``
and imported only when used, so listing the algorithms imports neither torch nor SB3.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal

from visiongym.sims.errors import UsageError

__all__ = ["Algorithm", "ALGORITHMS", "ENGINES", "get_algorithm", "unknown_algorithm", "names"]


@dataclass(frozen=True)
class Algorithm:
    """One trainable algorithm."""

    name: str
    family: Literal["ours", "sb3"]
    """ours: the DQN family of :mod:`visiongym.agents.dqn`; sb3: Stable-Baselines3 / sb3-contrib."""
    description: str
    """One line for ``--help`` and the docs."""
    trainer: str
    """``module:Class`` whose ``Class(config).train()`` trains it."""
    policy_loader: str
    """``module:function`` turning a checkpoint payload into a policy: ``f(payload, device, epsilon)``."""
    config: str = "SB3Config"
    """Config class in :mod:`visiongym.agents.config` (SB3 algorithms get a subclass of their own)."""
    sb3_class: str | None = None
    """``module:Class`` of the SB3 algorithm."""
    on_policy: bool = False
    actions: Literal["any", "discrete", "continuous"] = "any"
    """The action spaces it can act in."""
    recurrent: bool = False
    """Its policy carries an LSTM state (SB3: the ``*LstmPolicy`` policies)."""
    engines: tuple[str, ...] = ()
    """Other libraries that also train it (``--engine``), each with the trainer and policy loader
    of :data:`ENGINES`."""

    def load(self, what: Literal["trainer", "policy_loader", "sb3_class"], engine: str | None = None) -> Any:
        """Import the object named by ``trainer``, ``policy_loader`` or ``sb3_class`` (of ``engine``,
        one of :attr:`engines`, when given; the algorithm's own family's when None or that family)."""
        target = getattr(self, what)
        if engine not in (None, self.family):
            if engine not in self.engines:
                raise UsageError(f"engine {engine!r} does not train {self.name}; choose one of: "
                                 f"{', '.join((self.family, *self.engines))}")
            target = ENGINES[engine][what]
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module), attribute)


ENGINES: dict[str, dict[str, str]] = {
    "rllib": {"trainer": "visiongym.agents.rllib.trainer:RLlibTrainer",
              "policy_loader": "visiongym.agents.rllib.policy:rllib_policy_from_checkpoint"},
}
"""Engines other than an algorithm's own family: ``--engine NAME`` -> its trainer and policy loader."""

_OURS = {"family": "ours", "trainer": "", "policy_loader": "visiongym.agents.dqn.loading:dqn_policy_from_checkpoint",
         "actions": "discrete"}
_SB3 = {"family": "sb3", "trainer": "visiongym.agents.sb3.trainer:SB3Trainer",
        "policy_loader": "visiongym.agents.sb3.policy:sb3_policy_from_checkpoint"}

ALGORITHMS: dict[str, Algorithm] = {
    algo.name: algo
    for algo in (
        Algorithm("dqn", description="our DQN from pixels: Double, Dueling, n-step, DrQ shifts, uint8 frame replay",
                  config="DQNConfig", **{**_OURS, "trainer": "visiongym.agents.dqn.trainer:DQNTrainer"}),
        Algorithm("drqn", description="our DRQN: an LSTM after the encoder, sequence replay with burn-in",
                  config="DRQNConfig", recurrent=True, **{**_OURS, "trainer": "visiongym.agents.dqn.drqn:DRQNTrainer"}),
        Algorithm("ppo", description="PPO: Stable-Baselines3 with our encoder, or Ray RLlib (--engine rllib)",
                  sb3_class="stable_baselines3:PPO", on_policy=True, config="PPOConfig", engines=("rllib",), **_SB3),
        Algorithm("a2c", description="Stable-Baselines3 A2C with our encoder",
                  sb3_class="stable_baselines3:A2C", on_policy=True, **_SB3),
        Algorithm("sac", description="Stable-Baselines3 SAC (continuous actions) with our encoder",
                  sb3_class="stable_baselines3:SAC", actions="continuous", **_SB3),
        Algorithm("sb3-dqn", description="Stable-Baselines3 DQN (the baseline) with our encoder",
                  sb3_class="stable_baselines3:DQN", actions="discrete", **_SB3),
        Algorithm("qrdqn", description="sb3-contrib QR-DQN with our encoder",
                  sb3_class="sb3_contrib:QRDQN", actions="discrete", **_SB3),
        Algorithm("recurrent-ppo", description="sb3-contrib RecurrentPPO (LSTM) with our encoder",
                  sb3_class="sb3_contrib:RecurrentPPO", on_policy=True, recurrent=True, **_SB3),
    )
}


def names(**where: Any) -> tuple[str, ...]:
    """Algorithm names, optionally those whose fields match: ``names(family="sb3", on_policy=True)``."""
    return tuple(name for name, algo in ALGORITHMS.items()
                 if all(getattr(algo, key) == value for key, value in where.items()))


def unknown_algorithm(name: object) -> UsageError:
    """The error for an algorithm name not in the table."""
    return UsageError(f"algorithm {name!r} unknown; choose one of: {', '.join(ALGORITHMS)}")


def get_algorithm(name: str) -> Algorithm:
    """The table entry of ``name``, or a :class:`UsageError` listing the choices."""
    if name not in ALGORITHMS:
        raise unknown_algorithm(name)
    return ALGORITHMS[name]
