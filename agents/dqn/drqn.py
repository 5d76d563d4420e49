"""DRQN (Hausknecht & Stone, 2015) with R2D2-style sequence replay and burn-in.

An LSTM sits between the encoder and the Q head; the agent sees one frame a step and carries
memory in the LSTM state, which helps when observations flicker or hide things. Training
samples sequences of ``burn_in + sequence_length (+ n_step)`` consecutive rows from the same
single-frame memory as DQN, starts the LSTM from zeros, unrolls the burn-in part without
gradients to warm the state up (Kapturowski et al., 2019), and trains on the rest. The state
is reset wherever an episode starts, in acting and in replay alike. Observations are frames, or
flat vectors (a state, a detector's object list) with the ``mlp`` encoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from visiongym.agents.common.augment import colour_jitter, draw_colour_jitter, random_shift
from visiongym.agents.common.frames import to_frames
from visiongym.agents.common.replay import FrameStackReplay
from visiongym.agents.config import DRQNConfig, config_to_dict
from visiongym.agents.dqn.learner import DQNLearner
from visiongym.agents.dqn.networks import QNetwork, encoder_kwargs
from visiongym.agents.dqn.trainer import DQNTrainer
from visiongym.sims.errors import UsageError

__all__ = ["RecurrentQNetwork", "SequenceReplay", "SequenceBatch", "DRQNLearner", "DRQNPolicy", "DRQNTrainer"]

State = tuple[torch.Tensor, torch.Tensor]


class RecurrentQNetwork(QNetwork):
    """encoder -> LSTM cell -> plain or dueling Q head.

    Args:
        observation_space: channel-first Box of one frame.
        n_actions: number of discrete actions.
        encoder, features_dim, dueling, encoder_kwargs: as in :class:`QNetwork`.
        lstm_hidden: LSTM state size (the head reads it).
    """

    def __init__(
        self,
        observation_space: gym.spaces.Box,
        n_actions: int,
        encoder: str = "nature_cnn",
        features_dim: int = 256,
        lstm_hidden: int = 256,
        dueling: bool = True,
        encoder_kwargs: dict | None = None,
    ) -> None:
        super().__init__(observation_space, n_actions, encoder, features_dim, dueling, encoder_kwargs)
        self.spec["kwargs"]["lstm_hidden"] = int(lstm_hidden)
        self.lstm = nn.LSTMCell(features_dim, lstm_hidden)
        self.lstm_hidden = lstm_hidden
        self.build_head(lstm_hidden, n_actions)  # the head reads the LSTM output

    def initial_state(self, batch: int, device: torch.device) -> State:
        zeros = torch.zeros(batch, self.lstm_hidden, device=device)
        return zeros, zeros.clone()

    def step(self, frames: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """One step for a batch of envs: (B, C, H, W) frames -> Q (B, A) and the next state."""
        h, c = self.lstm(self.encode(frames), state)
        return self.head(h), (h, c)

    def _run(self, frames: torch.Tensor, first: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        batch, steps = frames.shape[:2]
        features = self.encode(frames.flatten(0, 1)).view(batch, steps, -1)
        h, c = state
        outputs = []
        for t in range(steps):
            keep = (~first[:, t]).float()[:, None]
            h, c = self.lstm(features[:, t], (h * keep, c * keep))
            outputs.append(h)
        return torch.stack(outputs, 1), (h, c)

    def unroll(self, frames: torch.Tensor, first: torch.Tensor, burn_in: int = 0) -> torch.Tensor:
        """Q-values (B, T - burn_in, A) of sequences (B, T, C, H, W) from a zero state.

        ``first`` (B, T) marks episode starts, where the state is reset; the first ``burn_in``
        steps only warm the state up and get no gradient.
        """
        state = self.initial_state(frames.shape[0], frames.device)
        if burn_in:
            with torch.no_grad():
                _, state = self._run(frames[:, :burn_in], first[:, :burn_in], state)
        outputs, _ = self._run(frames[:, burn_in:], first[:, burn_in:], state)
        return self.head(outputs)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """Q-values of single frames from a zero state (no memory; for inspection only)."""
        return self.step(observations, self.initial_state(observations.shape[0], observations.device))[0]


@dataclass
class SequenceBatch:
    """Sequences of ``W = burn_in + length + n_step`` rows; training targets for ``length`` of them."""

    frames: torch.Tensor  # (B, W, C, H, W) uint8
    first: torch.Tensor  # (B, W) bool
    actions: torch.Tensor  # (B, L)
    returns: torch.Tensor  # (B, L)
    discounts: torch.Tensor  # (B, L)
    bootstrap_index: torch.Tensor  # (B, L) position after burn-in of each bootstrap row
    mask: torch.Tensor  # (B, L) float: 0 on episode-final rows (not transitions)


class SequenceReplay(FrameStackReplay):
    """The single-frame memory, sampled as sequences for a recurrent agent."""

    def sequence_window(self, burn_in: int, length: int) -> int:
        return burn_in + length + self.n_step

    def can_sample_sequences(self, burn_in: int, length: int) -> bool:
        return self.size >= self.sequence_window(burn_in, length)

    def sample_sequences(self, batch_size: int, burn_in: int, length: int) -> SequenceBatch:
        """Uniform sequence starts among the stored rows of every env."""
        window = self.sequence_window(burn_in, length)
        if not self.can_sample_sequences(burn_in, length):
            raise RuntimeError(f"replay holds {self.size} rows per env; sequences need {window}")
        oldest = (self.pos - self.size) % self.rows
        offsets = torch.randint(0, self.size - window + 1, (batch_size,), device=self.device, generator=self.generator)
        envs = torch.randint(0, self.num_envs, (batch_size,), device=self.device, generator=self.generator)
        rows = (oldest + offsets[:, None] + torch.arange(window, device=self.device)) % self.rows  # (B, W)
        train_rows = rows[:, burn_in : burn_in + length]
        returns, discounts, offset = self.n_step_returns(
            train_rows.reshape(-1), envs.repeat_interleave(length)
        )
        positions = torch.arange(length, device=self.device)[None] + offset.view(batch_size, length)
        return SequenceBatch(
            frames=self.frames[rows, envs[:, None]],
            first=self.first[rows, envs[:, None]],
            actions=self.actions[train_rows, envs[:, None]],
            returns=returns.view(batch_size, length),
            discounts=discounts.view(batch_size, length),
            bootstrap_index=positions,
            mask=(~self.final[train_rows, envs[:, None]]).float(),
        )


class DRQNLearner(DQNLearner):
    """The DQN update on sequences: burn-in, masked Huber loss, (Double) n-step targets."""

    def __init__(self, online: RecurrentQNetwork, burn_in: int = 8, **kwargs: Any) -> None:
        super().__init__(online, **kwargs)
        self.burn_in = burn_in
        self.unroll = online.unroll

    def compile(self, **options) -> None:
        """Compile the sequence unroll the updates run (``forward`` alone is not what they call)."""
        self.unroll = torch.compile(self.network.unroll, **options)

    def update(self, batch: SequenceBatch) -> dict[str, torch.Tensor]:  # type: ignore[override]
        frames = batch.frames
        if self.augment_pad:
            # One shift per sequence: the scene does not jump around between steps.
            b, w, c, h, wd = frames.shape
            frames = random_shift(frames.reshape(b, w * c, h, wd), self.augment_pad, self.generator).view(b, w, c, h, wd)
        if self.augment_colour:
            # one light per sequence, like the shift
            b, w, c, h, wd = frames.shape
            params = draw_colour_jitter(b, self.frame_channels, self.augment_colour, frames.device, self.generator)
            frames = colour_jitter(frames.reshape(b, w * c, h, wd), params, self.frame_channels).view(b, w, c, h, wd)
        length = batch.actions.shape[1]
        with self._autocast():
            q_online = self.unroll(frames, batch.first, self.burn_in)  # (B, L + n, A)
            with torch.no_grad():
                q_target = self.target.unroll(frames, batch.first, self.burn_in).float()
                index = batch.bootstrap_index[..., None]
                next_target = q_target.gather(1, index.expand(-1, -1, q_target.shape[-1]))
                if self.double:
                    next_online = q_online.detach().gather(1, index.expand(-1, -1, q_online.shape[-1]))
                    best = next_online.argmax(-1, keepdim=True)
                    bootstrap = next_target.gather(-1, best).squeeze(-1)
                else:
                    bootstrap = next_target.max(-1).values
                targets = batch.returns + batch.discounts * bootstrap
            q_taken = q_online[:, :length].gather(-1, batch.actions[..., None]).squeeze(-1).float()
            losses = F.smooth_l1_loss(q_taken, targets, reduction="none")
            loss = (losses * batch.mask).sum() / batch.mask.sum().clamp(min=1.0)
        grad_norm = self.apply(loss)
        return {
            "losses/td_loss": loss.detach(),
            "losses/q_values": (q_taken.detach() * batch.mask).sum() / batch.mask.sum().clamp(min=1.0),
            "losses/grad_norm": grad_norm,
        }


class DRQNPolicy:
    """Greedy (or ε-greedy) recurrent policy for one env; :meth:`reset` clears the memory."""

    def __init__(self, network: RecurrentQNetwork, frame_shape: tuple[int, int, int], grayscale: bool = False,
                 epsilon: float = 0.0, seed: int | None = None) -> None:
        self.network, self.grayscale, self.epsilon = network, grayscale, epsilon
        self.frame_shape = frame_shape
        self.device = next(network.parameters()).device
        self._rng = np.random.default_rng(seed)
        self.reset()

    def reset(self) -> None:
        self._state = self.network.initial_state(1, self.device)

    @torch.no_grad()
    def __call__(self, observation: Any) -> int:
        frames = to_frames(np.asarray(observation)[None], self.device, self.grayscale)
        q, self._state = self.network.step(frames, self._state)
        if self.epsilon > 0 and self._rng.random() < self.epsilon:
            return int(self._rng.integers(q.shape[-1]))
        return int(q[0].argmax())


class DRQNTrainer(DQNTrainer):
    """The DQN loop with a recurrent network, per-env LSTM state and sequence replay."""

    stateful_acting = True
    vector_observations = True
    feature_cache = False

    config: DRQNConfig

    def _validate(self, config: DRQNConfig) -> None:
        super()._validate(config)
        if config.frame_stack != 1:
            raise UsageError(f"drqn sees one frame a step; frame_stack={config.frame_stack} must be 1")
        if config.pipeline == "on":
            raise UsageError("--pipeline on is available for dqn only; drqn updates on sequences in one thread")
        if config.sequence_length < 1 or config.burn_in < 0:
            raise UsageError(f"need sequence_length >= 1 and burn_in >= 0; got {config.sequence_length}, {config.burn_in}")

    def use_pipeline(self) -> bool:
        return False

    def build_network(self, observation_space: gym.spaces.Box, n_actions: int) -> torch.nn.Module:
        c = self.config
        return RecurrentQNetwork(observation_space, n_actions, c.encoder, c.features_dim, c.lstm_hidden, c.dueling,
                                 encoder_kwargs(config_to_dict(c)))

    def build_replay(self) -> SequenceReplay:
        c = self.config
        return SequenceReplay(c.buffer_size, c.num_envs, self.frame_shape, stack=1, n_step=c.n_step,
                              gamma=c.gamma, device=self.device, generator=self.generator)

    def build_learner(self) -> DRQNLearner:
        return DRQNLearner(self.network, burn_in=self.config.burn_in, **self.learner_kwargs())

    def reset_memory(self, envs: np.ndarray) -> None:
        mask = torch.as_tensor(np.asarray(envs), device=self.device)
        if not hasattr(self, "lstm_state"):
            self.lstm_state = self.network.initial_state(self.config.num_envs, self.device)
        keep = (~mask).float()[:, None]
        self.lstm_state = (self.lstm_state[0] * keep, self.lstm_state[1] * keep)

    @torch.no_grad()
    def greedy_actions(self) -> np.ndarray:
        q, self.lstm_state = self.network.step(self.frames, self.lstm_state)
        return q.argmax(1).cpu().numpy()

    def learn(self) -> dict[str, torch.Tensor]:
        c = self.config
        if self.step < c.learning_starts or not self.replay.can_sample_sequences(c.burn_in, c.sequence_length):
            return {}
        self.updates_due += c.num_envs / c.train_frequency
        metrics: dict[str, torch.Tensor] = {}
        while self.updates_due >= 1:
            self.updates_due -= 1
            metrics = self.learner.update(self.replay.sample_sequences(c.batch_size, c.burn_in, c.sequence_length))
            self.updates += 1
        return metrics

    def policy(self, epsilon: float | None = None) -> DRQNPolicy:
        c = self.config
        return DRQNPolicy(self.network, self.frame_shape, c.grayscale,
                          c.eval_epsilon if epsilon is None else epsilon, seed=c.seed)
