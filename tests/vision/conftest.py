"""Shared fixtures: one tiny dataset rendered from the real soccer simulator per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from visiongym.vision.data.render_soccer import RenderConfig, render_dataset


@pytest.fixture(scope="session")
def soccer_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """48 broadcast frames at 64 px (train 36, val 6, test 6), rendered in this process."""
    out = tmp_path_factory.mktemp("soccer") / "soccer"
    render_dataset(
        RenderConfig(
            out=out,
            frames=48,
            val_fraction=0.125,
            test_fraction=0.125,
            size=64,
            workers=1,
            progress=False,
        )
    )
    return out


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models run fastest on one thread; two threads on a loaded 2-core CI box mostly wait."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def frame_classifier_checkpoint(soccer_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small_resnet frame classifier (ball_third + players, 32 features) trained for 3 epochs
    on the 36 training frames of ``soccer_dataset``: a feature network for the GAN metrics."""
    import torch

    from visiongym.vision.classify.frames import FrameClassifierConfig, train_frame_classifier

    run_dir = tmp_path_factory.mktemp("frame_classifier")
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_frame_classifier(
            FrameClassifierConfig(
                data=soccer_dataset, encoder="small_resnet", features_dim=32, epochs=3, batch_size=12,
                run_dir=run_dir, progress=False,
            )
        )
    finally:
        torch.set_num_threads(previous)
    return run_dir / "frame_classifier.pt"


@pytest.fixture(scope="module")
def soccer_detector(soccer_dataset: Path):
    """grid_tiny trained for 90 steps on the 36 training frames (no augmentation; ~10 s).

    On 20 test frames of an 800-frame render it then finds 4.4 players, 0.85 balls and 1.95 goals
    a frame above a 0.3 score (the frames hold 2, 4 or 6 players, one ball, two goals)."""
    import torch

    from visiongym.vision.data.dataset import SoccerDetection
    from visiongym.vision.detect.engine import Detector

    torch.manual_seed(0)
    dataset = SoccerDetection(soccer_dataset, "train", masks=False)
    samples = [dataset[i] for i in range(len(dataset))]
    images = torch.stack([torch.as_tensor(image) for image, _ in samples])
    targets = [{"boxes": t["boxes"], "labels": t["labels"]} for _, t in samples]
    detector = Detector("grid_tiny", image_size=64)
    optimizer = torch.optim.AdamW(detector.parameters(), lr=1e-2)
    generator = torch.Generator().manual_seed(0)
    previous = torch.get_num_threads()  # a module fixture starts before the one-thread autouse one
    torch.set_num_threads(1)
    for _ in range(90):
        index = torch.randperm(len(images), generator=generator)[:12].tolist()
        loss, _ = detector.loss(images[index], [targets[i] for i in index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.set_num_threads(previous)
    return detector.eval()
