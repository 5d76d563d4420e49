"""The model registry helper, and the four families (and their CLIs) that use it."""

from __future__ import annotations

import typing
from fractions import Fraction

import pytest

from visiongym.sims.errors import UsageError
from visiongym.vision.autoencoders.models import AUTOENCODERS
from visiongym.vision.autoencoders.train import AutoencoderTrainConfig
from visiongym.vision.classify.arch import CLASSIFIERS, ArchConfig
from visiongym.vision.detect.model import DETECTORS
from visiongym.vision.detect.train import DetectorTrainConfig
from visiongym.vision.encoders import ENCODERS
from visiongym.vision.registry import Registry


@pytest.fixture
def shapes() -> Registry:
    """A registry of two builders, square then circle."""
    registry = Registry("shape")
    registry.register("square")(lambda: 1)
    registry.register("circle")(lambda: 2)
    return registry


def test_register_build_and_list_in_registration_order():
    shapes = Registry("shape")

    @shapes.register("square")
    def square(*, side: int = 1) -> int:
        return side * side

    @shapes.register()
    class UnitCircle:
        pass

    assert shapes.names() == ("square", "unit_circle")
    assert "square" in shapes and "triangle" not in shapes
    assert shapes.build("square", side=3) == 9
    assert shapes.get("unit_circle") is UnitCircle
    assert shapes.register("square")(square) is square  # the same builder again is harmless


def test_a_taken_name_is_refused(shapes: Registry):
    with pytest.raises(UsageError, match="shape name 'square' is already registered by <function"):
        shapes.register("square")(lambda: 2)
    with pytest.raises(UsageError, match="shape name 'square' is already registered"):
        shapes.register_lazy("square", "fractions:Fraction")


def test_unknown_name_names_it_and_the_choices(shapes: Registry):
    for call in (shapes.get, shapes.build, shapes.check):
        with pytest.raises(UsageError, match=r"^shape 'hexagon' unknown; choose one of: square, circle$"):
            call("hexagon")
    assert issubclass(UsageError, ValueError)


def test_lazy_entries_are_listed_at_once_and_imported_on_first_get():
    numbers = Registry("number")
    numbers.register_lazy("fraction", "fractions:Fraction")
    numbers.register_lazy("missing", "visiongym_no_such_module:thing")
    assert numbers.names() == ("fraction", "missing")
    assert numbers.check("missing") == "missing"  # listing and checking import nothing
    assert numbers.build("fraction", numerator=1, denominator=2) == Fraction(1, 2)
    assert numbers.get("fraction") is Fraction
    with pytest.raises(ModuleNotFoundError, match="visiongym_no_such_module"):
        numbers.get("missing")
    with pytest.raises(UsageError, match="lazy number target 'fractions.Fraction' is not"):
        numbers.register_lazy("bad", "fractions.Fraction")


def test_choices_is_a_literal_of_the_names(shapes: Registry):
    assert typing.get_origin(shapes.choices()) is typing.Literal
    assert typing.get_args(shapes.choices()) == ("square", "circle")


def test_each_family_lists_its_models():
    assert ENCODERS.names() == ("nature_cnn", "impala_resnet", "small_resnet", "mlp", "autoencoder", "detector")
    assert DETECTORS.names() == ("grid_small", "grid_fine", "grid_tiny", "grid_nano", "grid_pico", "faster_rcnn")
    assert AUTOENCODERS.names() == ("spatial", "small", "tiny", "spatial_context", "spatial_context_norm")
    assert CLASSIFIERS.names() == ("vgg16", "vgg19", "resnet50", "mobilenet_v3_large", "inception_v3")
    for registry, kind in ((ENCODERS, "encoder"), (DETECTORS, "detector"),
                           (AUTOENCODERS, "autoencoder"), (CLASSIFIERS, "architecture")):
        with pytest.raises(UsageError, match=f"{kind} 'nope' unknown; choose one of: {registry.names()[0]}"):
            registry.build("nope")


def test_the_vision_clis_offer_the_registered_names():
    def choices(config: type, field: str) -> tuple:
        hint = typing.get_type_hints(config)[field]
        if typing.get_origin(hint) is tuple:  # --models takes several
            hint = typing.get_args(hint)[0]
        return typing.get_args(hint)

    assert choices(DetectorTrainConfig, "model") == DETECTORS.names()
    assert choices(AutoencoderTrainConfig, "arch") == AUTOENCODERS.names()
    assert choices(ArchConfig, "models") == CLASSIFIERS.names()
    assert ArchConfig().models == CLASSIFIERS.names()
