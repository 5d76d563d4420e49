"""Int8 detection (``visiongym.vision.detect.quantize``): float while it calibrates, then int8 with the
same objects found; refused where it cannot run."""

import numpy as np
import pytest
import torch

from visiongym.vision.detect.engine import Detector
from visiongym.vision.detect.quantize import Int8GridNetwork
from visiongym.vision.detect.wrapper import ObjectSlots


def _squares(seed: int, count: int, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Frames of one red square on green, and each square's centre as fractions of the side."""
    rng = np.random.default_rng(seed)
    frames = np.zeros((count, size, size, 3), np.uint8)
    frames[..., 1] = 90
    centres = np.zeros((count, 2), np.float32)
    for index in range(count):
        side = int(rng.integers(14, 24))
        x0, y0 = (int(v) for v in rng.integers(0, size - side, 2))
        frames[index, y0 : y0 + side, x0 : x0 + side] = (220, 40, 40)
        centres[index] = ((x0 + side / 2) / size, (y0 + side / 2) / size)
    return frames, centres


@pytest.fixture(scope="module")
def square_detector() -> Detector:
    """grid_tiny trained briefly to find the square (team_a, label 2)."""
    torch.manual_seed(0)
    detector = Detector("grid_tiny", image_size=64)
    optimizer = torch.optim.AdamW(detector.parameters(), lr=1e-2)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    for step in range(80):
        frames, centres = _squares(step, 8)
        images = torch.from_numpy(frames).permute(0, 3, 1, 2)
        sides = [int((frame[..., 0] == 220).any(0).sum()) for frame in frames]
        targets = [{"boxes": torch.tensor([[cx * 64 - s / 2, cy * 64 - s / 2, cx * 64 + s / 2, cy * 64 + s / 2]]),
                    "labels": torch.tensor([2])} for (cx, cy), s in zip(centres, sides, strict=True)]
        loss, _ = detector.loss(images, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.set_num_threads(previous)
    return detector.eval()


def test_int8_slots_match_float_after_calibration(square_detector: Detector):
    exact = ObjectSlots(square_detector, players_per_team=1)
    int8 = ObjectSlots(square_detector, players_per_team=1, int8=True, calibration_frames=32)
    calibration, _ = _squares(1000, 32)
    np.testing.assert_allclose(int8(calibration), exact(calibration), atol=1e-5)  # float while it calibrates
    assert int8._grid.calibrated
    frames, centres = _squares(2000, 64)
    ours, reference = int8(frames).reshape(64, -1, 6), exact(frames).reshape(64, -1, 6)
    team_a = 1  # slot order: ball, team_a0, team_b0, goal0, goal1
    assert reference[:, team_a, 0].mean() > 0.8, "the float detector finds most squares"
    assert (ours[:, team_a, 0] == reference[:, team_a, 0]).mean() >= 0.95
    both = (ours[:, team_a, 0] > 0) & (reference[:, team_a, 0] > 0)
    shift = np.abs(ours[both, team_a, 1:3] - reference[both, team_a, 1:3]).max(-1) * 64
    # the same cell and box in most frames; in the others a neighbouring cell (4 px away) wins a near-tie
    assert (shift < 1.0).mean() >= 0.9 and shift.max() < 6.0, shift
    assert np.abs(ours[both, team_a, 1:3] - centres[both]).mean() * 64 < 2.0


def test_int8_is_refused_where_it_cannot_run(square_detector: Detector):
    with pytest.raises(ValueError, match="calibration_frames=0 must be at least 1"):
        Int8GridNetwork(square_detector.net, calibration_frames=0)
    with pytest.raises(ValueError, match="int8 runs grid detectors only; got Linear"):
        Int8GridNetwork(torch.nn.Linear(2, 2))
    network = Int8GridNetwork(square_detector.net)
    with pytest.raises(ValueError, match=r"image size \(32, 32\) does not match this detector's \(64, 64\)"):
        network(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))
