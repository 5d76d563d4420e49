"""Initial weights pinned: a registered model built with a fixed seed keeps its size and its bytes.

The parameter counts and weight digests in ``data/model_pins.json`` were written by the code
before the model families moved onto :class:`visiongym.vision.registry.Registry`. A deliberate
change regenerates them with ``VISIONGYM_UPDATE_PINS=1 pytest tests/vision/test_model_pins.py``.
The VGGs (138 and 144 M parameters) are left out to keep the suite quick: their builders are the
same lazy torchvision entries as the pinned ResNet, MobileNet and Inception.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

from visiongym.vision.autoencoders.models import AUTOENCODERS
from visiongym.vision.classify.arch import CLASSIFIERS, build_architecture
from visiongym.vision.detect.engine import Detector
from visiongym.vision.detect.model import DETECTORS
from visiongym.vision.encoders import ENCODERS, build_model
from visiongym.vision.runtime import save_checkpoint

PINS = Path(__file__).with_name("data") / "model_pins.json"
UNPINNED = {"architecture/vgg16", "architecture/vgg19"}

CASES = sorted(
    {f"encoder/{name}" for name in ENCODERS.names()}
    | {f"detector/{name}" for name in DETECTORS.names()}
    | {f"autoencoder/{name}" for name in AUTOENCODERS.names()}
    | {f"architecture/{name}" for name in CLASSIFIERS.names()}
    - UNPINNED
)


def _autoencoder_checkpoint(folder: Path) -> Path:
    torch.manual_seed(1)
    model = AUTOENCODERS.build("tiny", image_size=(84, 84))
    return save_checkpoint(folder / "ae.pt", "autoencoder", {"model": model.state_dict()},
                           variant="conv", arch="tiny", image_size=[84, 84], epoch=1)


def _build(case: str, folder: Path) -> nn.Module:
    family, name = case.split("/")
    if family == "encoder":
        extra = {"checkpoint": _autoencoder_checkpoint(folder)} if name == "autoencoder" else {}
        space = gym.spaces.Box(0, 255, (6, 84, 84), np.uint8)
        if name == "detector":
            torch.manual_seed(1)
            extra = {"checkpoint": Detector("grid_tiny", 84).save(folder / "detector.pt")}
        if name == "mlp":
            space = gym.spaces.Box(-1.0, 1.0, (30,), np.float32)
        torch.manual_seed(0)
        return build_model(name, observation_space=space, features_dim=64, **extra)
    torch.manual_seed(0)
    if family == "detector":
        return Detector(name, 64 if name == "faster_rcnn" else 128)
    if family == "autoencoder":
        return AUTOENCODERS.build(name, image_size=(84, 84))
    return build_architecture(name)


def fingerprint(model: nn.Module) -> list:
    """``[parameter count, sha256 of the parameters' names and bytes and the buffers' names and shapes]``.

    Buffer values are left out: the dummy forward pass that sizes a detector updates batch-norm
    running statistics with float sums whose last bits depend on the thread count and the CPU.
    """
    digest = hashlib.sha256()
    for key, value in model.named_parameters():
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    for key, value in model.named_buffers():
        digest.update(key.encode())
        digest.update(str(tuple(value.shape)).encode())
    return [sum(p.numel() for p in model.parameters()), digest.hexdigest()[:16]]


@pytest.mark.parametrize("case", CASES)
def test_initial_weights_are_pinned(case: str, tmp_path: Path, check_pin):
    check_pin(PINS, case, fingerprint(_build(case, tmp_path)), "the same seed no longer gives the same initial weights")


def test_pins_cover_every_registered_model():
    assert sorted(json.loads(PINS.read_text())) == CASES
