"""The DQN update: n-step (Double) targets, Huber loss, gradient clipping, hard or Polyak targets."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from visiongym.agents.common.augment import colour_jitter, draw_colour_jitter, random_shift
from visiongym.agents.common.replay import ReplayBatch
from visiongym.agents.dqn.networks import plain_state_dict
from visiongym.sims.errors import UsageError

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


class _Prefetched(NamedTuple):
    batch: ReplayBatch  # prepared (shifted, converted)
    next_target: torch.Tensor  # target-network Q of its s'
    target_version: int  # DQNLearner.target_version when that pass ran
    generator_state: torch.Tensor | None  # the generator before the batch was drawn


class DQNLearner:
    """Owns the online and target networks and the optimiser; one call of :meth:`update` = one step.

    Args:
        online: the Q-network being trained.
        learning_rate, adam_eps: Adam settings.
        double: Double-DQN targets.
        max_grad_norm: gradient clipping threshold (global L2 norm).
        augment_pad: DrQ random shift in pixels (0 disables it).
        augment_colour: photometric jitter strength (0 disables it; see
            :func:`~visiongym.agents.common.augment.draw_colour_jitter`).
        frame_channels: colour channels per stacked frame (3 RGB, 1 grey), for the jitter.
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
        augment_colour: float = 0.0,
        frame_channels: int = 3,
        tau: float = 1.0,
        amp: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        if not 0.0 < tau <= 1.0:
            raise UsageError(f"tau={tau} must be in (0, 1]; 1 is a hard target update")
        self.online = online
        """What the updates call: the network, or its ``torch.compile`` wrapper after :meth:`compile`."""
        self.network = online
        """The network itself: its weights are what the target copies and checkpoints hold (a
        compiled wrapper's state-dict keys carry an ``_orig_mod.`` prefix the plain module lacks)."""
        self.target = copy.deepcopy(online).requires_grad_(False)
        try:  # one fused kernel for all parameters (CPU and CUDA), faster than foreach
            self.optimizer = torch.optim.Adam(online.parameters(), lr=learning_rate, eps=adam_eps, fused=True)
        except (RuntimeError, ValueError):  # a device or dtype without the fused kernel
            self.optimizer = torch.optim.Adam(online.parameters(), lr=learning_rate, eps=adam_eps, foreach=True)
        self.double, self.max_grad_norm = double, max_grad_norm
        self.augment_pad, self.tau, self.generator = augment_pad, tau, generator
        self.augment_colour, self.frame_channels = augment_colour, frame_channels
        device = next(online.parameters()).device
        self.amp = amp and device.type == "cuda"
        self.device_type = device.type
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.last_td_errors: torch.Tensor | None = None
        self.target_version = 0  # bumped by every target update
        self._pool: ThreadPoolExecutor | None = None
        self._prefetched: _Prefetched | None = None
        self._pending: Future[_Prefetched] | None = None

    def _autocast(self):
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=torch.float16)

    def apply(self, loss: torch.Tensor) -> torch.Tensor:
        """Backpropagate ``loss``, clip the gradient norm, step Adam; returns the norm (0-dim)."""
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        grad_norm = nn.utils.clip_grad_norm_(self.network.parameters(), self.max_grad_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return grad_norm.detach()

    def prepare(self, batch: ReplayBatch) -> ReplayBatch:
        """Augment and convert a sampled batch for the update (once: s' serves two passes).

        The shifts run on the uint8 frames, a quarter of the bytes of the float batch; then the
        network converts to floats in its memory layout (channels-last on the CPU).
        """
        if self.augment_pad:
            batch = dataclasses.replace(
                batch,
                observations=random_shift(batch.observations, self.augment_pad, self.generator),
                next_observations=random_shift(batch.next_observations, self.augment_pad, self.generator),
            )
        if self.augment_colour and batch.observations.dim() == 4:
            # one light per transition: the same factors for s and s'
            params = draw_colour_jitter(batch.observations.shape[0], self.frame_channels, self.augment_colour,
                                        batch.observations.device, self.generator)
            batch = dataclasses.replace(
                batch,
                observations=colour_jitter(batch.observations, params, self.frame_channels),
                next_observations=colour_jitter(batch.next_observations, params, self.frame_channels),
            )
        prepare = getattr(self.network, "prepare", None)
        if prepare is not None:
            batch = dataclasses.replace(batch, observations=prepare(batch.observations),
                                        next_observations=prepare(batch.next_observations))
        return batch

    @torch.no_grad()
    def _next_online(self, batch: ReplayBatch) -> torch.Tensor | None:
        if not self.double:
            return None
        with self._autocast():
            return self.online(batch.next_observations)

    @torch.no_grad()
    def _next_target(self, batch: ReplayBatch) -> torch.Tensor:
        with self._autocast():
            return self.target(batch.next_observations)

    def _loss(
        self, batch: ReplayBatch, q_all: torch.Tensor, next_online: torch.Tensor | None, next_target: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Huber loss (importance-weighted for prioritized batches) and the Q of the taken actions."""
        targets = targets_from_q(next_online, next_target, batch)
        q_taken = q_all.gather(1, batch.actions[:, None]).squeeze(1).float()
        if batch.weights is None:
            loss = F.smooth_l1_loss(q_taken, targets)
        else:  # prioritized replay: importance-weighted Huber loss
            loss = (batch.weights * F.smooth_l1_loss(q_taken, targets, reduction="none")).mean()
        self.last_td_errors = (targets - q_taken).detach()
        return loss, q_taken

    @staticmethod
    def _stats(loss: torch.Tensor, q_taken: torch.Tensor, grad_norm: torch.Tensor) -> dict[str, torch.Tensor]:
        return {
            "losses/td_loss": loss.detach(),
            "losses/q_values": q_taken.detach().mean(),
            "losses/grad_norm": grad_norm,
        }

    def update(self, batch: ReplayBatch) -> dict[str, torch.Tensor]:
        """One gradient step on ``batch``; returns loss and Q statistics for logging.

        The statistics are 0-dim tensors on the training device: reading them (``float()``,
        TensorBoard) waits for the GPU, so the trainer only does that when it logs, not after
        every update.

        A batch with ``weights`` (prioritized replay) weights each transition's Huber loss; the
        TD errors of the batch are left in :attr:`last_td_errors` for the new priorities.
        """
        batch = self.prepare(batch)
        with self._autocast():
            q_all = self.online(batch.observations)
        # s' goes through the online net without autograd: fusing it into the s pass would make
        # the backward pass twice as large for rows that get no gradient.
        loss, q_taken = self._loss(batch, q_all, self._next_online(batch), self._next_target(batch))
        return self._stats(loss, q_taken, self.apply(loss))

    # -- pipelined updates: a second CPU thread ------------------------------------------------

    def _prefetch(self, sample: Callable[[], ReplayBatch]) -> _Prefetched:
        generator_state = None if self.generator is None else self.generator.get_state()
        batch = self.prepare(sample())
        return _Prefetched(batch, self._next_target(batch), self.target_version, generator_state)

    def pipelined_update(self, sample: Callable[[], ReplayBatch]) -> dict[str, torch.Tensor]:
        """One gradient step like :meth:`update`, with a second thread doing half the work.

        While this thread runs the online pass on s with autograd, the helper thread runs the
        online pass on s' (the Double-DQN argmax; same weights, so the same numbers). While this
        thread runs the backward pass and Adam, the helper samples the *next* batch with
        ``sample``, shifts and converts it and runs its target pass. Between two calls the helper
        is idle, so the trainer may collect, update the target network (a prefetched target pass
        is then redone) or checkpoint (call :meth:`discard_prefetch` first).

        The one difference from :meth:`update`: the next batch is drawn before the transitions
        collected after this update are stored, so a batch never holds the newest vector step.
        Runs are still deterministic for a seed. On a 2-core CPU this gives 1.46-1.57x the env
        steps per second of the one-thread update (``benchmarks/dqn_vs_sb3.py``) when each thread
        has one core, i.e. torch's threads halved (``--pipeline auto`` does that unless
        ``--threads`` is given).
        """
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dqn-pipeline")
        prefetched = self._prefetched if self._prefetched is not None else self._prefetch(sample)
        self._prefetched = None
        batch, next_target = prefetched.batch, prefetched.next_target
        if prefetched.target_version != self.target_version:  # the target net changed since
            next_target = self._next_target(batch)
        helper = self._pool.submit(self._next_online, batch)
        with self._autocast():
            q_all = self.online(batch.observations)
        loss, q_taken = self._loss(batch, q_all, helper.result(), next_target)
        self._pending = self._pool.submit(self._prefetch, sample)
        grad_norm = self.apply(loss)
        self._prefetched, self._pending = self._pending.result(), None
        return self._stats(loss, q_taken, grad_norm)

    def discard_prefetch(self) -> None:
        """Drop the batch sampled ahead and rewind the generator to before it was drawn.

        The trainer calls this at checkpoints: a run resumed from one then draws the same batch
        as the uninterrupted run, which discards its prefetch at the same point.
        """
        if self._pending is not None:  # interrupted inside an update: let the helper finish
            self._prefetched, self._pending = self._pending.result(), None
        if self._prefetched is not None:
            if self._prefetched.generator_state is not None:
                self.generator.set_state(self._prefetched.generator_state)
            self._prefetched = None

    def close(self) -> None:
        """Stop the helper thread of :meth:`pipelined_update` (if it was started)."""
        self.discard_prefetch()
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def compile(self, **options) -> None:
        """Run the updates through ``torch.compile(network, **options)``.

        The target network, :meth:`update_target` and the checkpoints keep using the plain
        module's weights (the wrapper shares them), so a compiled run's checkpoints load into an
        uncompiled network and the other way round.
        """
        self.online = torch.compile(self.network, **options)

    @torch.no_grad()
    def update_target(self) -> None:
        """Hard copy (``tau == 1``) or Polyak average of the online weights into the target."""
        self.target_version += 1
        if self.tau >= 1.0:
            self.target.load_state_dict(self.network.state_dict())
            return
        for target, online in zip(self.target.parameters(), self.network.parameters(), strict=True):
            target.lerp_(online, self.tau)

    def state_dict(self) -> dict:
        return {
            "online": self.network.state_dict(),
            "target": self.target.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.network.load_state_dict(plain_state_dict(state["online"]))
        self.target.load_state_dict(plain_state_dict(state["target"]))
        self.optimizer.load_state_dict(state["optimizer"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
