"""Metric learning: semi-hard mining on a hand-built batch, the loss, pairs, a tiny re-id run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from visiongym.sims.errors import UsageError
from visiongym.vision.classify.training import torch_threads
from visiongym.vision.metric.__main__ import main
from visiongym.vision.metric.players import render_player_crops
from visiongym.vision.metric.reid import (
    MetricConfig,
    pk_batches,
    run_metric,
    verification_accuracy,
    verification_pairs,
)
from visiongym.vision.metric.triplet import (
    EmbeddingNet,
    mine_semi_hard,
    pairwise_squared_distances,
    triplet_loss,
)


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


def _points_on_a_line(xs: list[float]) -> torch.Tensor:
    return torch.tensor([[x, 0.0] for x in xs])


def test_semi_hard_mining_on_a_hand_built_batch() -> None:
    # 1-D points (squared distances are easy to read): identities 0, 0, 1, 1, 2.
    points = _points_on_a_line([0.0, 0.5, 0.3, 0.8, 2.0])
    labels = torch.tensor([0, 0, 1, 1, 2])
    distances = pairwise_squared_distances(points)
    anchors, positives, negatives = mine_semi_hard(distances, labels)
    chosen = {
        (a, p): n
        for a, p, n in zip(anchors.tolist(), positives.tolist(), negatives.tolist(), strict=True)
    }
    assert set(chosen) == {(0, 1), (1, 0), (2, 3), (3, 2)}
    # Anchor 0, positive 1: d_ap = 0.25; negatives at 0.09 (2), 0.64 (3), 4.0 (4): the closest farther one is 3.
    assert chosen[(0, 1)] == 3
    # Anchor 1, positive 0: d_ap = 0.25; negatives 2 (0.04), 3 (0.09), 4 (2.25): only 4 is farther.
    assert chosen[(1, 0)] == 4
    # Anchor 2, positive 3: d_ap = 0.25; negatives 0 (0.09), 1 (0.04), 4 (2.89): 4.
    assert chosen[(2, 3)] == 4
    for a, p, n in zip(anchors, positives, negatives, strict=True):
        assert labels[n] != labels[a]
        farther = [
            m for m in range(5) if labels[m] != labels[a] and distances[a, m] > distances[a, p]
        ]
        if farther:  # a semi-hard negative exists: we took the closest of them
            assert distances[a, n] > distances[a, p]
            assert distances[a, n] == min(distances[a, m] for m in farther)


def test_mining_falls_back_to_the_farthest_negative() -> None:
    points = _points_on_a_line([0.0, 1.0, 0.2, 0.4])
    labels = torch.tensor([0, 0, 1, 1])
    anchors, positives, negatives = mine_semi_hard(pairwise_squared_distances(points), labels)
    first = anchors.tolist().index(0)
    assert negatives[first] == 3  # every negative is closer than the positive: take the farthest


def test_triplet_loss_is_zero_when_identities_are_separated_by_the_margin() -> None:
    embeddings = torch.nn.functional.normalize(
        torch.tensor([[1.0, 0.0], [1.0, 0.01], [-1.0, 0.0], [-1.0, 0.01]]), dim=1
    )
    labels = torch.tensor([0, 0, 1, 1])
    loss, stats = triplet_loss(embeddings, labels, margin=0.2)
    assert loss.item() == pytest.approx(0.0) and stats["triplets"] == 4
    # Identities across the clusters: every semi-hard triplet sits at the margin (loss ~ alpha).
    mixed, stats = triplet_loss(embeddings, torch.tensor([0, 1, 0, 1]), margin=0.2)
    assert mixed.item() == pytest.approx(0.2, abs=1e-3) and stats["active"] == 1.0


def test_embeddings_are_unit_128d() -> None:
    output = EmbeddingNet()(torch.rand(3, 3, 32, 32))
    assert output.shape == (3, 128)
    assert torch.allclose(output.norm(dim=1), torch.ones(3), atol=1e-5)


def test_pairs_batches_and_threshold() -> None:
    identities = torch.tensor([0, 0, 1, 1, 2, 2, 2])
    a, b, same = verification_pairs(identities, 20, seed=0)
    assert same.sum() == 20 and (~same).sum() == 20
    assert torch.equal(identities[a] == identities[b], same)
    batch = next(pk_batches(identities, p=2, k=3, generator=torch.Generator().manual_seed(0)))
    assert len(batch) == 6 and len(identities[batch].unique()) == 2
    accuracy, threshold = verification_accuracy(
        torch.tensor([0.1, 0.2, 0.9, 1.0]), torch.tensor([True, True, False, False])
    )
    assert accuracy == 1.0 and 0.2 <= threshold <= 0.9


def test_rendered_crops_carry_identities() -> None:
    images, identities, meta = render_player_crops(1, 2, np.random.default_rng(0), team_size=2)
    assert images.shape[1:] == (3, 32, 32) and 0 <= images.min() and images.max() <= 1
    assert set(identities.tolist()) <= {0, 1, 2, 3}
    assert np.array_equal(identities.numpy(), meta[:, 1] * 2 + meta[:, 2] - 1)


def test_tiny_reid_run_separates_held_out_identities(tmp_path) -> None:
    results = run_metric(
        MetricConfig(
            train_draws=3,
            val_draws=1,
            test_draws=1,
            frames=4,
            team_size=3,
            steps=60,
            p=8,
            k=4,
            pairs=200,
            out=tmp_path,
            progress=False,
            device="cpu",
        )
    )
    assert results["verification_accuracy"] > 0.7
    assert results["nmi"] > 0.3
    assert (tmp_path / "embeddings_2d.png").is_file()


def test_cli_rejects_bad_values(tmp_path, capsys) -> None:
    with pytest.raises(UsageError, match="test_draws=0"):
        main(["--test-draws", "0", "--out", str(tmp_path)])
    with pytest.raises(SystemExit):
        main(["--margin", "big"])
