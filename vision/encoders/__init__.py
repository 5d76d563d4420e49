"""Encoders shared by our agents and Stable-Baselines3 (``features_extractor_class``).

Every encoder is an SB3 :class:`~stable_baselines3.common.torch_layers.BaseFeaturesExtractor`.
The image encoders take a channel-first image observation space, read ``uint8``-range pixels
(``uint8`` tensors or floats in 0..255) and normalise them to 0..1 inside, once; ``mlp`` takes a
flat vector. Build one by name::

    from visiongym.vision.encoders import build_model, list_models
    list_models()  # ['autoencoder', 'detector', 'impala_resnet', 'mlp', 'nature_cnn', 'small_resnet']
    encoder = build_model("nature_cnn", observation_space=space, features_dim=512)

With SB3 pass ``policy_kwargs=dict(features_extractor_class=get_model_class("nature_cnn"),
normalize_images=False)`` so SB3 does not divide by 255 a second time.

The :data:`PRETRAINED` encoders load a checkpoint (``checkpoint=``) and are frozen unless built
with ``freeze=False``: ``autoencoder`` is the encoder of a pretrained autoencoder
(:class:`visiongym.vision.autoencoders.features.AutoencoderEncoder`), ``detector`` the backbone
of a pretrained grid detector (:class:`visiongym.vision.detect.features.DetectorBackboneEncoder`).
They are lazy entries of :data:`ENCODERS`: listed here, imported on first build.
"""

from visiongym.vision.encoders.cnn import ImpalaResNet, NatureCNN, SmallResNet
from visiongym.vision.encoders.mlp import MLPEncoder
from visiongym.vision.encoders.registry import (
    ENCODERS,
    build_model,
    get_model_class,
    list_models,
    register_model,
)

# The pretrained encoders live with the models whose checkpoints they load. Named here and
# imported on first build, they never make importing the encoders import those models.
ENCODERS.register_lazy("autoencoder", "visiongym.vision.autoencoders.features:AutoencoderEncoder")
ENCODERS.register_lazy("detector", "visiongym.vision.detect.features:DetectorBackboneEncoder")

PRETRAINED = ("autoencoder", "detector")
"""Encoders that load a pretrained checkpoint (``checkpoint=``, ``--encoder-checkpoint``) and take
``freeze`` (frozen by default; ``--no-freeze-encoder`` fine-tunes them)."""

VECTOR_ENCODERS = ("mlp",)
"""Encoders of flat vector observations; every other one reads images."""

__all__ = [
    "ENCODERS",
    "ImpalaResNet",
    "MLPEncoder",
    "NatureCNN",
    "PRETRAINED",
    "SmallResNet",
    "VECTOR_ENCODERS",
    "build_model",
    "get_model_class",
    "list_models",
    "register_model",
]
