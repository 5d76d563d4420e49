"""Player instances from class masks: splitting touching players, re-attaching cut-off pieces, the
contact head's target, its learning, and starting it from a plain U-Net's weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from visiongym.sims.errors import UsageError
from visiongym.vision.segment.engine import Segmenter, evaluate
from visiongym.vision.segment.instances import (
    class_instances,
    contact_mask_from_instances,
    split_instances,
)
from visiongym.vision.segment.metrics import (
    PlayerMaskIoU,
    class_mask_from_instances,
    instances_from_class_mask,
)
from visiongym.vision.segment.train import init_weights

TEAM_A, TEAM_B = 2, 3


def _disc(shape: tuple[int, int], centre: tuple[float, float], radius: float) -> np.ndarray:
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    return (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius**2


def _player_iou(truth: np.ndarray, labels, instances: dict) -> dict[str, float]:
    players = PlayerMaskIoU()
    players.update(truth, labels, instances["masks"], instances["labels"])
    return players.compute()


def test_two_touching_discs_of_one_team_are_split_into_two_instances():
    discs = np.stack([_disc((48, 48), (24, 17), 6), _disc((48, 48), (24, 29), 6)])
    discs[1] &= ~discs[0]  # the simulator's masks are disjoint
    class_mask = class_mask_from_instances(discs, [TEAM_A, TEAM_A])
    assert len(instances_from_class_mask(class_mask)["labels"]) == 1  # the baseline: one blob

    split = split_instances(class_mask)
    assert split["labels"].tolist() == [TEAM_A, TEAM_A]
    scores = _player_iou(discs, [TEAM_A, TEAM_A], split)
    assert scores["player_iou"] > 0.9 and scores["player_precision50"] == 1.0

    lone = class_mask_from_instances(_disc((48, 48), (24, 24), 6)[None], [TEAM_B])
    assert split_instances(lone)["labels"].tolist() == [TEAM_B]  # one disc, one maximum: stays whole


def test_a_cut_off_limb_rejoins_its_player_and_a_speck_is_dropped():
    class_mask = torch.zeros(32, 32, dtype=torch.long)
    class_mask[8:16, 10:14] = TEAM_A  # a body, 32 px
    class_mask[17:20, 15] = TEAM_A  # a 3-pixel limb cut off from it (2.8 pixels away): its own component
    class_mask[28:30, 2] = TEAM_A  # a 2-pixel speck far from everything
    assert len(instances_from_class_mask(class_mask)["labels"]) == 3

    (mask,) = split_instances(class_mask)["masks"]
    assert mask.sum() == 32 + 3 and mask[18, 15] == 1 and mask[28, 2] == 0
    assert class_instances(class_mask, method="components")["masks"].shape[0] == 3
    with pytest.raises(UsageError, match="instances 'blobs' unknown; choose one of: split, contact, components"):
        class_instances(class_mask, method="blobs")


def test_the_contact_target_marks_only_where_players_of_one_team_touch():
    masks = np.zeros((3, 16, 24), np.uint8)
    masks[0, 4:10, 2:6] = 1  # team_a
    masks[1, 4:10, 6:10] = 1  # team_a, touching the first along column 5|6
    masks[2, 4:10, 10:14] = 1  # team_b, touching the second: other team, no contact
    contact = contact_mask_from_instances(masks, [TEAM_A, TEAM_A, TEAM_B])
    assert contact[4:10, 5].all() and contact[4:10, 6].all()
    assert contact.sum() == 2 * 6
    assert not contact[:, 9].any() and not contact[:, 10].any()


def test_a_contact_map_splits_players_the_distance_transform_cannot():
    # Two 4 x 10 players standing shoulder to shoulder: the union is an 8 x 10 block with a single
    # distance maximum ridge, so only the contact cue separates them.
    masks = np.zeros((2, 20, 20), np.uint8)
    masks[0, 5:15, 4:8] = 1
    masks[1, 5:15, 8:12] = 1
    class_mask = class_mask_from_instances(masks, [TEAM_A, TEAM_A])
    contact = contact_mask_from_instances(masks, [TEAM_A, TEAM_A]).float()
    scores = _player_iou(masks, [TEAM_A, TEAM_A], split_instances(class_mask, contact))
    assert scores["player_iou"] == 1.0 and scores["player_precision50"] == 1.0
    assert _player_iou(masks, [TEAM_A, TEAM_A], split_instances(class_mask))["player_iou"] <= 0.6


def _touching_pairs(frames: int, seed: int, size: int = 40):
    """Frames with two touching 8 x 8 team_a squares of different shades on a noisy pitch."""
    generator = np.random.default_rng(seed)
    images, targets = [], []
    for _ in range(frames):
        image = np.empty((3, size, size), np.float32)
        image[:] = np.array([40, 120, 50])[:, None, None] + generator.normal(0, 8, (3, size, size))
        row, col = generator.integers(4, size - 12), generator.integers(4, size - 20)
        shift = int(generator.integers(-3, 4))
        masks = np.zeros((2, size, size), np.uint8)
        masks[0, row : row + 8, col : col + 8] = 1
        masks[1, max(row + shift, 0) : row + shift + 8, col + 8 : col + 16] = 1
        for mask, red in zip(masks, generator.permutation([150.0, 240.0]), strict=True):
            image[:, mask.astype(bool)] = np.array([red, 30, 30])[:, None]
        images.append(np.clip(image, 0, 255).astype(np.uint8))
        targets.append({"masks": torch.from_numpy(masks), "labels": torch.tensor([TEAM_A, TEAM_A])})
    return torch.from_numpy(np.stack(images)), targets


def test_the_contact_head_learns_to_split_touching_players(tmp_path: Path):
    torch.manual_seed(0)
    segmenter = Segmenter("unet_tiny_contact", 40)
    images, targets = _touching_pairs(16, seed=0)
    optimizer = torch.optim.AdamW(segmenter.parameters(), lr=1e-2)
    segmenter.train()
    first = None
    for step in range(200):
        batch = slice(8 * (step % 2), 8 * (step % 2) + 8)
        loss, terms = segmenter.loss(images[batch], targets[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        first = terms["contact"].item() if first is None else first
    assert terms["contact"].item() < first / 2

    test = [_touching_pairs(8, seed=1)]
    split, components = evaluate(segmenter, test, "contact"), evaluate(segmenter, test, instances="components")
    assert split["miou"] > 0.8
    # Connected components see one blob per pair: half the players found at best.
    assert components["player_recall50"] <= 0.5 and split["player_recall50"] >= 0.8, (split, components)
    with pytest.raises(UsageError, match="needs a model with the contact head; 'unet_tiny' has none"):
        Segmenter("unet_tiny", 40).predict(test[0][0][:1], instances="contact")
    assert "contact" in segmenter.predict(test[0][0][:1])[0]

    # The tabletop pipeline's learned segmenter takes the same choice.
    from visiongym.vision.tabletop.stages import LearnedSegmenter

    path = segmenter.save(tmp_path / "segmenter.pt")
    rgb = test[0][0][0].permute(1, 2, 0).numpy()
    assert len(LearnedSegmenter(path, instances="contact")(rgb)) == 2
    assert len(LearnedSegmenter(path, instances="components")(rgb)) == 1


def test_a_contact_model_starts_from_a_plain_unet_checkpoint(tmp_path: Path, capsys):
    plain = Segmenter("unet_tiny", 48)
    path = plain.save(tmp_path / "segmenter.pt")
    contact = Segmenter("unet_tiny_contact", 48)
    loaded = init_weights(contact, path)
    own = contact.net.state_dict()
    assert loaded == len(plain.net.state_dict()) and loaded < len(own)
    assert all(torch.equal(value, own[name]) for name, value in plain.net.state_dict().items())
    assert f"initialised {loaded} of {len(own)} tensors" in capsys.readouterr().out
    with pytest.raises(UsageError, match="has no tensor that fits 'maskrcnn'"):
        init_weights(Segmenter("maskrcnn", 48), path)
