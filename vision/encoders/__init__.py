"""Image encoders shared by our agents and Stable-Baselines3 (``features_extractor_class``).

Every encoder is an SB3 :class:`~stable_baselines3.common.torch_layers.BaseFeaturesExtractor`:
it takes a channel-first image observation space, reads ``uint8``-range pixels (``uint8`` tensors
or floats in 0..255) and normalises them to 0..1 inside, once. Build one by name::

    from visiongym.vision.encoders import build_model, list_models
    list_models()  # ['autoencoder', 'impala_resnet', 'nature_cnn', 'small_resnet']
    encoder = build_model("nature_cnn", observation_space=space, features_dim=512)

With SB3 pass ``policy_kwargs=dict(features_extractor_class=get_model_class("nature_cnn"),
normalize_images=False)`` so SB3 does not divide by 255 a second time.

``autoencoder`` is the frozen encoder of a pretrained autoencoder
(:class:`visiongym.vision.autoencoders.features.AutoencoderEncoder`); it needs ``checkpoint=`` (the
autoencoder's file). It is a lazy entry of :data:`ENCODERS`: listed here, imported on first build.
"""

from visiongym.vision.encoders.cnn import ImpalaResNet, NatureCNN, SmallResNet
from visiongym.vision.encoders.registry import (
    ENCODERS,
    build_model,
    get_model_class,
    list_models,
    register_model,
)

# The autoencoder encoder lives with the autoencoders whose checkpoints it loads. Named here and
# imported on first build, it never makes importing the encoders import the autoencoders.
ENCODERS.register_lazy("autoencoder", "visiongym.vision.autoencoders.features:AutoencoderEncoder")

__all__ = [
    "ENCODERS",
    "ImpalaResNet",
    "NatureCNN",
    "SmallResNet",
    "build_model",
    "get_model_class",
    "list_models",
    "register_model",
]
