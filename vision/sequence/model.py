"""An LSTM that reads a sequence of vectors and predicts the next ``horizon`` vectors."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["SequenceLSTM"]


class SequenceLSTM(nn.Module):
    """LSTM encoder and a linear head: ``(N, T, dim)`` -> ``(N, horizon, out_dim)``.

    Args:
        dim: size of each input (and predicted) vector.
        hidden: LSTM hidden units.
        layers: stacked LSTM layers.
        horizon: how many future steps the head predicts at once.
        out_dim: size of each predicted vector (default ``dim``).
    """

    def __init__(
        self,
        dim: int = 1,
        hidden: int = 64,
        layers: int = 1,
        horizon: int = 1,
        out_dim: int | None = None,
    ) -> None:
        super().__init__()
        self.out_dim, self.horizon = out_dim or dim, horizon
        self.lstm = nn.LSTM(dim, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, horizon * self.out_dim)

    def forward(self, sequence: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.lstm(sequence)
        return self.head(outputs[:, -1]).view(len(sequence), self.horizon, self.out_dim)
