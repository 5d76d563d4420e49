"""FaceNet-style metric learning: L2-normalised embeddings, triplet loss, semi-hard mining in the batch.

Distances are squared Euclidean, as in FaceNet: ``d(a, b) = ‖f(a) − f(b)‖²`` with ``‖f‖ = 1``,
so ``d`` lies in [0, 4]. The loss of a triplet is ``max(0, d(a, p) − d(a, n) + α)`` with
``α = 0.2``. For every anchor-positive pair of the batch the negative is *semi-hard*: the closest
negative that is still farther than the positive (``d(a, p) < d(a, n)``); when no negative is
farther, the farthest negative is used, as in TensorFlow Addons' ``triplet_semihard_loss``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["EmbeddingNet", "pairwise_squared_distances", "mine_semi_hard", "triplet_loss"]


class EmbeddingNet(nn.Module):
    """Small CNN -> ``dim``-d embedding on the unit sphere (inputs ``(N, 3, S, S)`` in [0, 1])."""

    def __init__(self, dim: int = 128, width: int = 32) -> None:
        super().__init__()

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            )

        self.features = nn.Sequential(
            block(3, width),
            block(width, 2 * width),
            block(2 * width, 4 * width),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(4 * width, dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.head(self.features(images)), dim=1)


def pairwise_squared_distances(embeddings: torch.Tensor) -> torch.Tensor:
    """``(N, N)`` squared Euclidean distances, clamped at 0 against rounding."""
    return torch.cdist(embeddings, embeddings).pow(2).clamp_min(0.0)


def mine_semi_hard(
    distances: torch.Tensor, labels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every anchor-positive pair and its semi-hard negative.

    Args:
        distances: ``(N, N)`` squared distances.
        labels: ``(N,)`` identity of each embedding.

    Returns:
        ``(anchors, positives, negatives)`` index tensors of equal length. Anchors without a
        positive or without any negative in the batch are skipped.
    """
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    anchors, positives = torch.nonzero(same & ~eye, as_tuple=True)
    if len(anchors) == 0:
        empty = torch.zeros(0, dtype=torch.long, device=labels.device)
        return empty, empty, empty
    d_ap = distances[anchors, positives][:, None]
    d_an = distances[anchors]  # (pairs, N)
    negative = ~same[anchors]
    keep = negative.any(dim=1)
    farther = negative & (d_an > d_ap)
    inf = torch.tensor(float("inf"), device=distances.device)
    semi_hard = torch.where(farther, d_an, inf).argmin(dim=1)
    fallback = torch.where(negative, d_an, -inf).argmax(dim=1)
    negatives = torch.where(farther.any(dim=1), semi_hard, fallback)
    return anchors[keep], positives[keep], negatives[keep]


def triplet_loss(
    embeddings: torch.Tensor, labels: torch.Tensor, margin: float = 0.2
) -> tuple[torch.Tensor, dict]:
    """Mean triplet loss over all anchor-positive pairs with semi-hard negatives; plus statistics."""
    distances = pairwise_squared_distances(embeddings)
    anchors, positives, negatives = mine_semi_hard(distances, labels)
    if len(anchors) == 0:
        return embeddings.sum() * 0.0, {"triplets": 0, "active": 0.0}
    losses = F.relu(distances[anchors, positives] - distances[anchors, negatives] + margin)
    return losses.mean(), {"triplets": len(anchors), "active": float((losses > 0).float().mean())}
