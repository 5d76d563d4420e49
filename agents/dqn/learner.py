"""The DQN update: n-step (Double) targets, Huber loss, gradient clipping, hard or Polyak targets."""

from __future__ import annotations

import contextlib
import copy
import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from agents.common.augment import random_shift
from agents.common.replay import ReplayBatch

__all__ = ["DQNLearner", "td_targets", "targets_from_q"]


def targets_from_q(
    next_q_online: torch.Tensor | None, next_q_target: torch.Tensor, batch: ReplayBatch
) -> torch.Tensor:
    """``returns + discounts * bootstrap`` from next-state Q-values (``None`` online: plain DQN)."""
    next_q_target = next_q_target.float()
    if next_q_online is not None:
        best = next_q_online.argmax(1, keepdim=True)
        bootstrap = next_q_target.gather(1, best).squeeze(1)
    else:
        bootstrap = next_q_target.max(1).values
    return batch.returns + batch.discounts * bootstrap


@torch.no_grad()
def td_targets(
    online: nn.Module, target: nn.Module, batch: ReplayBatch, double: bool = True
) -> torch.Tensor:
    """``returns + discounts * Q_target(s', a*)``.

    Double DQN picks ``a* = argmax_a Q_online(s', a)`` and evaluates it with the target network
    (van Hasselt et al., 2016); plain DQN uses ``max_a Q_target(s', a)``.
    """
    next_online = online(batch.next_observations) if double else None
    return targets_from_q(next_online, target(batch.next_observations), batch)


class DQNLearner:
    """Owns the online and target networks and the optimiser; one call of :meth:`update` = one step.

    Args:
        online: the Q-network being trained.
        learning_rate, adam_eps: Adam settings.
        double: Double-DQN targets.
        max_grad_norm: gradient clipping threshold (global L2 norm).
        augment_pad: DrQ random shift in pixels (0 disables it).
        tau: 1.0 copies the online weights (hard update); < 1 mixes them in (Polyak).
        amp: bfloat16/float16 autocast on CUDA (ignored elsewhere).
        generator: torch generator for the augmentation.
    """

    def __init__(
        self,
        online: nn.Module,
        learning_rate: float = 1e-4,
        adam_eps: float = 1.5e-4,
        double: bool = True,
        max_grad_norm: float = 10.0,
        augment_pad: int = 4,
        tau: float = 1.0,
        amp: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        if not 0.0 < tau <= 1.0:
            raise ValueError(f"tau={tau} must be in (0, 1]; 1 is a hard target update")
        self.online = online
        self.network = online  # the module itself, for its helpers, should `online` be compiled later
        self.target = copy.deepcopy(online).requires_grad_(False)
        try:  # one fused kernel for all parameters (CPU and CUDA), faster than foreach
            self.optimizer = torch.optim.Adam(online.parameters(), lr=learning_rate, eps=adam_eps, fused=True)
        except (RuntimeError, ValueError):  # a device or dtype without the fused kernel
            self.optimizer = torch.optim.Adam(online.parameters(), lr=learning_rate, eps=adam_eps, foreach=True)
        self.double, self.max_grad_norm = double, max_grad_norm
        self.augment_pad, self.tau, self.generator = augment_pad, tau, generator
        device = next(online.parameters()).device
        self.amp = amp and device.type == "cuda"
        self.device_type = device.type
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.last_td_errors: torch.Tensor | None = None

    def _autocast(self):
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=torch.float16)

    def apply(self, loss: torch.Tensor) -> torch.Tensor:
        """Backpropagate ``loss``, clip the gradient norm, step Adam; returns the norm (0-dim)."""
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        grad_norm = nn.utils.clip_grad_norm_(self.online.parameters(), self.max_grad_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return grad_norm.detach()

    def update(self, batch: ReplayBatch) -> dict[str, torch.Tensor]:
        """One gradient step on ``batch``; returns loss and Q statistics for logging.

        The statistics are 0-dim tensors on the training device: reading them (``float()``,
        TensorBoard) waits for the GPU, so the trainer only does that when it logs, not after
        every update.

        A batch with ``weights`` (prioritized replay) weights each transition's Huber loss; the
        TD errors of the batch are left in :attr:`last_td_errors` for the new priorities.
        """
        prepare = getattr(self.network, "prepare", None)
        if prepare is not None:  # once per batch: s' serves both the online and the target pass
            batch = dataclasses.replace(batch, observations=prepare(batch.observations),
                                        next_observations=prepare(batch.next_observations))
        if self.augment_pad:
            batch = dataclasses.replace(
                batch,
                observations=random_shift(batch.observations, self.augment_pad, self.generator),
                next_observations=random_shift(batch.next_observations, self.augment_pad, self.generator),
            )
        with self._autocast():
            q_all = self.online(batch.observations)
            with torch.no_grad():
                # s' goes through the online net without autograd: fusing it into the s pass would
                # make the backward pass twice as large for rows that get no gradient.
                next_online = self.online(batch.next_observations) if self.double else None
                targets = targets_from_q(next_online, self.target(batch.next_observations), batch)
            q_taken = q_all.gather(1, batch.actions[:, None]).squeeze(1).float()
            if batch.weights is None:
                loss = F.smooth_l1_loss(q_taken, targets)
            else:  # prioritized replay: importance-weighted Huber loss
                loss = (batch.weights * F.smooth_l1_loss(q_taken, targets, reduction="none")).mean()
        self.last_td_errors = (targets - q_taken).detach()
        grad_norm = self.apply(loss)
        return {
            "losses/td_loss": loss.detach(),
            "losses/q_values": q_taken.detach().mean(),
            "losses/grad_norm": grad_norm,
        }

    @torch.no_grad()
    def update_target(self) -> None:
        """Hard copy (``tau == 1``) or Polyak average of the online weights into the target."""
        if self.tau >= 1.0:
            self.target.load_state_dict(self.online.state_dict())
            return
        for target, online in zip(self.target.parameters(), self.online.parameters(), strict=True):
            target.lerp_(online, self.tau)

    def state_dict(self) -> dict:
        return {
            "online": self.online.state_dict(),
            "target": self.target.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.online.load_state_dict(state["online"])
        self.target.load_state_dict(state["target"])
        self.optimizer.load_state_dict(state["optimizer"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
