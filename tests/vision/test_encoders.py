"""Encoders: registry, shapes from a dummy pass, uint8 normalisation, SB3 compatibility."""

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

from visiongym.vision.encoders import build_model, get_model_class, list_models


def image_space(channels=3, size=48):
    return gym.spaces.Box(0, 255, (channels, size, size), np.uint8)


def test_registry_lists_and_builds_every_encoder():
    assert {"nature_cnn", "impala_resnet", "small_resnet"} <= set(list_models())
    for name in list_models():
        if name in ("autoencoder", "detector"):  # pretrained: tests/vision/test_pretrained_encoders.py
            module = {"autoencoder": "autoencoders", "detector": "detect"}[name]
            with pytest.raises(ValueError, match=f"needs a checkpoint of visiongym.vision.{module}.train"):
                build_model(name, observation_space=image_space(6, 40), features_dim=32)
            continue
        if name == "mlp":  # vectors: tests/vision/test_pretrained_encoders.py
            continue
        for size in (40, 64):
            encoder = build_model(name, observation_space=image_space(6, size), features_dim=32)
            assert isinstance(encoder, BaseFeaturesExtractor)
            out = encoder(torch.randint(0, 256, (2, 6, size, size), dtype=torch.uint8))
            assert out.shape == (2, 32) and encoder.features_dim == 32


def test_unknown_encoder_names_the_choices():
    with pytest.raises(
        ValueError, match="encoder 'resnet9000' unknown; choose one of: .*nature_cnn"
    ):
        get_model_class("resnet9000")


def test_importing_the_encoders_does_not_import_the_autoencoders():
    """The autoencoders sit above the encoders: their encoder is a lazy entry, imported when built."""
    script = (
        "import sys\n"
        "from visiongym.vision.encoders import get_model_class, list_models\n"
        "assert 'autoencoder' in list_models()\n"
        "assert 'visiongym.vision.autoencoders' not in sys.modules, 'imported at once'\n"
        "from visiongym.vision.autoencoders.features import AutoencoderEncoder\n"
        "assert get_model_class('autoencoder') is AutoencoderEncoder\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_uint8_and_float_pixels_give_the_same_features():
    encoder = build_model("nature_cnn", observation_space=image_space(), features_dim=16)
    pixels = torch.randint(0, 256, (3, 3, 48, 48), dtype=torch.uint8)
    assert torch.allclose(encoder(pixels), encoder(pixels.float()), atol=1e-6)


def test_nature_cnn_matches_the_paper_layout_at_84():
    encoder = build_model("nature_cnn", observation_space=image_space(4, 84), features_dim=512)
    # 3136 = 64 x 7 x 7 flattened conv features, as in the Nature paper
    assert encoder.head[0].in_features == 3136


def test_bad_spaces_are_refused():
    with pytest.raises(ValueError, match="channel-first"):
        build_model("nature_cnn", observation_space=gym.spaces.Box(0, 255, (84, 84, 3), np.uint8))
    with pytest.raises(ValueError, match="at least 36x36"):
        build_model("nature_cnn", observation_space=image_space(3, 20))
    with pytest.raises(ValueError, match="image Box"):
        build_model("small_resnet", observation_space=gym.spaces.Box(-1, 1, (8,)))


def test_sb3_uses_our_encoder_as_features_extractor():
    from stable_baselines3 import PPO

    from visiongym.envs.catch import CatchBallEnv

    model = PPO(
        "CnnPolicy",
        CatchBallEnv(),
        n_steps=16,
        batch_size=16,
        n_epochs=1,
        policy_kwargs={
            "features_extractor_class": get_model_class("small_resnet"),
            "features_extractor_kwargs": {"features_dim": 32},
            "normalize_images": False,
        },
        device="cpu",
    )
    assert type(model.policy.features_extractor).__name__ == "SmallResNet"
    model.learn(16)
