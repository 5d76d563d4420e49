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
