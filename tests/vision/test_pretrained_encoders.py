"""Pretrained encoders (a detector's backbone, an autoencoder's encoder): frozen stays frozen,
fine-tuned learns, frames are encoded one at a time, wrong sizes are refused; the mlp encoder."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from visiongym.vision.autoencoders.models import build_autoencoder
from visiongym.vision.detect.engine import Detector
from visiongym.vision.encoders import build_model
from visiongym.vision.runtime import save_checkpoint

SIZE = 36


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Untrained grid_tiny detector and tiny autoencoder checkpoints at 36 px."""
    folder = tmp_path_factory.mktemp("pretrained")
    torch.manual_seed(0)
    detector = Detector("grid_tiny", SIZE).save(folder / "detector.pt")
    autoencoder = build_autoencoder("tiny", image_size=(SIZE, SIZE))
    ae = save_checkpoint(folder / "ae.pt", "autoencoder", {"model": autoencoder.state_dict()}, variant="conv",
                         arch="tiny", image_size=[SIZE, SIZE], epoch=1)
    return {"detector": detector, "autoencoder": ae}


def _space(frames: int = 2) -> gym.spaces.Box:
    return gym.spaces.Box(0, 255, (3 * frames, SIZE, SIZE), np.uint8)


def _one_update(encoder: torch.nn.Module) -> None:
    encoder.train()
    optimizer = torch.optim.Adam([p for p in encoder.parameters() if p.requires_grad], lr=1e-2)
    pixels = torch.randint(0, 256, (4, 6, SIZE, SIZE), dtype=torch.uint8)
    encoder(pixels).square().mean().backward()
    optimizer.step()


@pytest.mark.parametrize("name", ["detector", "autoencoder"])
def test_a_frozen_encoder_gets_no_gradient_and_keeps_its_weights(name: str, checkpoints: dict[str, Path]):
    encoder = build_model(name, observation_space=_space(), features_dim=16, checkpoint=checkpoints[name])
    trunk = encoder.pretrained()
    before = {key: value.clone() for key, value in trunk.state_dict().items()}
    projection = encoder.project[1].weight.clone()
    _one_update(encoder)
    assert all(p.grad is None for p in trunk.parameters()), "no gradient reaches a frozen trunk"
    after = trunk.state_dict()
    assert all(torch.equal(before[key], after[key]) for key in before), "weights and batch-norm statistics kept"
    assert not torch.equal(projection, encoder.project[1].weight), "the projection after it learns"


@pytest.mark.parametrize("name", ["detector", "autoencoder"])
def test_a_fine_tuned_encoder_learns_but_keeps_its_batch_norm_statistics(name: str, checkpoints: dict[str, Path]):
    encoder = build_model(name, observation_space=_space(), features_dim=16, checkpoint=checkpoints[name],
                          freeze=False)
    trunk = encoder.pretrained()
    weights = {key: p.clone() for key, p in trunk.named_parameters()}
    statistics = {key: b.clone() for key, b in trunk.named_buffers()}
    _one_update(encoder)
    assert all(p.grad is not None for p in trunk.parameters())
    assert any(not torch.equal(weights[key], p) for key, p in trunk.named_parameters()), "the trunk learned"
    assert all(torch.equal(statistics[key], b) for key, b in trunk.named_buffers()), "batch norm stays in eval mode"
    assert not trunk.training and encoder.training


def test_the_detector_backbone_encodes_each_stacked_frame_alone(checkpoints: dict[str, Path]):
    from visiongym.vision.detect.engine import load_detector
    from visiongym.vision.detect.features import DetectorBackboneEncoder

    encoder = build_model("detector", observation_space=_space(3), features_dim=8, checkpoint=checkpoints["detector"])
    assert isinstance(encoder, DetectorBackboneEncoder) and encoder.frames == 3
    pixels = torch.randint(0, 256, (2, 9, SIZE, SIZE), dtype=torch.uint8)
    detector = load_detector(checkpoints["detector"])[0]
    # The code of a frame is the detector's deepest backbone stage on that frame (its own scaling).
    x = pixels[:, 3:6].float() / 255 * 2 - 1
    for stage in detector.net.stages:
        x = stage(x)
    codes = encoder.encode_frames(pixels.reshape(6, 3, SIZE, SIZE).float() / 255).reshape(2, 3, -1)
    assert torch.allclose(codes[:, 1], x.flatten(1), atol=1e-5)
    assert torch.allclose(encoder(pixels), encoder(pixels.float()), atol=1e-5), "uint8 and 0..255 floats agree"
    assert encoder(pixels).shape == (2, 8)


def test_wrong_inputs_are_refused_clearly(checkpoints: dict[str, Path], tmp_path: Path):
    with pytest.raises(ValueError, match=r"does not match the detector's input \(3, 36, 36\).*image_size=36"):
        build_model("detector", observation_space=gym.spaces.Box(0, 255, (6, 48, 48), np.uint8),
                    checkpoint=checkpoints["detector"])
    with pytest.raises(ValueError, match="or a stack of k such frames"):
        build_model("detector", observation_space=_space(1).__class__(0, 255, (4, SIZE, SIZE), np.uint8),
                    checkpoint=checkpoints["detector"])
    with pytest.raises(ValueError, match="holds a 'autoencoder' model; expected 'detector'"):
        build_model("detector", observation_space=_space(), checkpoint=checkpoints["autoencoder"])
    with pytest.raises(ValueError, match="the detector encoder needs a checkpoint"):
        build_model("detector", observation_space=_space())


def test_the_mlp_encoder_reads_vectors_only():
    encoder = build_model("mlp", observation_space=gym.spaces.Box(-1, 1, (30,), np.float32), features_dim=16)
    assert encoder(torch.zeros(4, 30)).shape == (4, 16)
    with pytest.raises(ValueError, match="mlp encodes flat vector observations"):
        build_model("mlp", observation_space=_space())
