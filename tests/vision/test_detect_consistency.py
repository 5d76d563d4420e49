"""AugMix-style consistency training of the grid detector: views, the divergence, the trainer."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torchvision.transforms import v2

from visiongym.sims.errors import UsageError
from visiongym.vision.augment.transforms import AugmentedViews, make_sample
from visiongym.vision.data.dataset import detection_transforms
from visiongym.vision.detect.engine import Detector
from visiongym.vision.detect.loss import consistency_loss


def _sample(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    image = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8, generator=generator)
    masks = torch.zeros(1, 32, 32, dtype=torch.uint8)
    masks[0, 8:16, 4:20] = 1
    return make_sample(image, [[4.0, 8.0, 20.0, 16.0]], masks, [2])


def test_views_stack_the_clean_image_and_independent_pixel_only_draws():
    image, target = _sample()
    brighten = v2.RandomChoice([v2.ColorJitter(brightness=(1.3, 1.3)), v2.ColorJitter(brightness=(0.6, 0.6))])
    torch.manual_seed(3)
    views, out = AugmentedViews(brighten, views=4)(image, target)
    assert views.shape == (4, 3, 32, 32) and views.dtype == torch.uint8
    assert torch.equal(views[0], image)  # view 0 is the clean frame
    assert all(not torch.equal(view, image) for view in views[1:])
    assert torch.equal(out["boxes"], target["boxes"]) and torch.equal(out["masks"], target["masks"])
    with pytest.raises(UsageError, match="views 1 must be at least 2"):
        AugmentedViews(brighten, views=1)


def test_training_transforms_share_the_geometry_across_views():
    image, target = _sample(1)
    for seed in range(5):
        torch.manual_seed(seed)
        views, out = detection_transforms(True, 32, photometric=True, robust=True, views=3)(image, target)
        # The geometric steps draw first, so the same seed without the photometric set gives
        # the clean view and the boxes: one flip/affine/jitter, shared by every view.
        torch.manual_seed(seed)
        moved, moved_target = detection_transforms(True, 32, photometric=False)(image, target)
        assert views.shape == (3, 3, 32, 32)
        assert torch.equal(views[0], moved) and torch.equal(out["boxes"], moved_target["boxes"])
    with pytest.raises(UsageError, match="views=3 needs train and photometric"):
        detection_transforms(False, 32, views=3)
    with pytest.raises(UsageError, match="views=3 needs train and photometric"):
        detection_transforms(True, 32, photometric=False, views=3)


def test_divergence_is_zero_for_equal_views_and_matches_the_definition():
    torch.manual_seed(0)
    raw = torch.randn(1, 2, 9, 4, 4)
    assert consistency_loss(raw.expand(3, -1, -1, -1, -1), 1.0).abs() < 1e-6
    views = torch.randn(2, 1, 9, 1, 1)
    loss = consistency_loss(views, 2.0)
    distributions = []
    for view in views[:, 0, :, 0, 0]:
        p_obj = torch.sigmoid(view[0])
        distributions.append(torch.cat([(1 - p_obj)[None], p_obj * view[5:].softmax(0)]))
    mean = sum(distributions) / 2
    expected = sum((p * (p / mean).log()).sum() for p in distributions) / 2 / 2.0
    assert math.isclose(float(loss), float(expected), rel_tol=1e-5)
    assert 0 < float(loss) <= math.log(2) / 2.0 + 1e-6  # JSD of two views is at most log 2


def test_loss_of_views_adds_the_weighted_divergence_to_the_clean_views_loss():
    torch.manual_seed(0)
    detector = Detector("grid_tiny", image_size=32).eval()  # batch norm by running stats: views alone
    clean = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    augmented = (clean.int() * 0.5).to(torch.uint8)
    targets = [
        {"boxes": torch.tensor([[4.0, 4.0, 12.0, 12.0]]), "labels": torch.tensor([2])},
        {"boxes": torch.tensor([[10.0, 6.0, 20.0, 30.0]]), "labels": torch.tensor([3])},
    ]
    views = torch.stack([clean, augmented, clean], dim=1)  # N x V x 3 x H x W
    total, terms = detector.loss(views, targets, consistency=12.0)
    alone, _ = detector.loss(clean, targets)
    assert float(terms["consistency"]) > 0
    expected = float(alone.detach()) + 12.0 * float(terms["consistency"])
    assert math.isclose(float(total.detach()), expected, rel_tol=1e-4)
    detector.train()
    total, _ = detector.loss(views, targets, consistency=12.0)
    total.backward()
    assert all(p.grad is not None for p in detector.parameters() if p.requires_grad)
    _, terms = detector.loss(torch.stack([clean, clean], dim=1), targets, consistency=12.0)
    assert float(terms["consistency"]) < 1e-6


def test_faster_rcnn_refuses_views():
    detector = Detector("faster_rcnn", image_size=32).train()
    views = torch.zeros(1, 3, 3, 32, 32, dtype=torch.uint8)
    with pytest.raises(UsageError, match="need a grid detector, not 'faster_rcnn'; choose one of: grid_small"):
        detector.loss(views, [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}])


def test_trainer_runs_consistency_training_and_refuses_bad_settings(
    soccer_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from visiongym.vision import runs
    from visiongym.vision.detect.train import DetectorTrainConfig, train_detector

    monkeypatch.setattr(runs, "LOSS_LOG_INTERVAL", 1)
    base = dict(data=soccer_dataset, model="grid_tiny", image_size=64, batch_size=12, fps_frames=0, progress=False)
    scores = train_detector(DetectorTrainConfig(**base, steps=2, consistency=12.0, run_dir=tmp_path / "jsd"))
    assert {"map", "map_50"} <= set(scores)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "jsd")).Reload()
    assert any("consistency" in tag for tag in events.Tags()["scalars"])
    with pytest.raises(UsageError, match="consistency=-1.0 must be 0"):
        train_detector(DetectorTrainConfig(**base, steps=1, consistency=-1.0, run_dir=tmp_path / "a"))
    with pytest.raises(UsageError, match="--consistency needs the photometric augmentation"):
        train_detector(
            DetectorTrainConfig(**base, steps=1, consistency=12.0, photometric=False, run_dir=tmp_path / "b")
        )
    with pytest.raises(UsageError, match="views=1 must be at least 2"):
        train_detector(DetectorTrainConfig(**base, steps=1, consistency=12.0, views=1, run_dir=tmp_path / "c"))
    with pytest.raises(UsageError, match="needs a grid detector, not 'faster_rcnn'"):
        train_detector(
            DetectorTrainConfig(**{**base, "model": "faster_rcnn"}, steps=1, consistency=12.0, run_dir=tmp_path / "d")
        )
