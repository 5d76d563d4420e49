"""Gatys style transfer: Gram matrix by hand, both losses fall, honest labels, clear errors."""

from __future__ import annotations

import pytest
import torch

from visiongym.vision.classify.arch import build_architecture
from visiongym.vision.classify.training import torch_threads
from visiongym.vision.style.__main__ import main
from visiongym.vision.style.gatys import VGG19_LAYER_NAMES, FeatureExtractor, gram_matrix, stylize
from visiongym.vision.style.suite_vgg import SmallVGG19


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


def test_gram_matrix_equals_a_hand_computation() -> None:
    # Two channels over a 2x2 map: F = [[1, 2, 3, 4], [0, 1, 0, -1]].
    features = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, -1.0]]]])
    # F Fᵀ = [[1+4+9+16, 0+2+0-4], [-2, 0+1+0+1]] = [[30, -2], [-2, 2]], divided by C*H*W = 8.
    expected = torch.tensor([[[30.0, -2.0], [-2.0, 2.0]]]) / 8
    assert torch.allclose(gram_matrix(features), expected)


def test_layer_names_follow_torchvision_vgg19() -> None:
    features = build_architecture("vgg19", device="meta").features
    assert len(features) == len(VGG19_LAYER_NAMES) == 37
    for name, module in zip(VGG19_LAYER_NAMES, features, strict=True):
        assert (
            name[:4]
            == {"Conv2d": "conv", "ReLU": "relu", "MaxPool2d": "pool"}[type(module).__name__]
        )
    assert VGG19_LAYER_NAMES.index("conv4_2") == 21  # the tutorial's content layer is features[21]


def test_small_vgg_fuses_batch_norm_exactly() -> None:
    torch.manual_seed(0)
    model = SmallVGG19(num_classes=3, widths=(4, 4, 8, 8, 8))
    model.train()
    for _ in range(3):
        model(torch.rand(6, 3, 32, 32))
    model.eval()
    fused = model.fuse()
    images = torch.rand(2, 3, 32, 32)
    assert torch.allclose(model(images), fused(images), atol=1e-5)
    assert len(fused.features) == 37


def test_both_losses_fall_from_noise() -> None:
    torch.manual_seed(0)
    net = SmallVGG19(widths=(8, 8, 16, 16, 16), batch_norm=False)
    extractor = FeatureExtractor(net.features, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    content, style = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 40, 40) ** 3
    for optimizer in ("adam", "lbfgs"):
        # Shallow layers: a random, untrained stack without BatchNorm has vanishing deep features.
        result = stylize(
            extractor,
            content,
            style,
            steps=25,
            optimizer=optimizer,
            init="noise",
            content_layers=("conv2_1",),
            style_layers=("conv1_1", "conv2_1", "conv3_1"),
            style_weight=100.0,
            lr=0.05,
            progress=False,
        )
        assert result.content_losses[-1] < result.content_losses[0]
        assert result.style_losses[-1] < result.style_losses[0]
        assert (
            result.image.shape == content.shape
            and 0 <= result.image.min() <= result.image.max() <= 1
        )


def test_errors_name_value_and_choices() -> None:
    net = SmallVGG19(widths=(4, 4, 4, 4, 4), batch_norm=False)
    extractor = FeatureExtractor(net.features, (0, 0, 0), (1, 1, 1))
    with pytest.raises(ValueError, match=r"layer\(s\) \['conv6_1'\] unknown; choose from: conv1_1"):
        extractor(torch.rand(1, 3, 16, 16), ("conv6_1",))
    with pytest.raises(ValueError, match="optimizer 'sgd' unknown; choose one of: lbfgs, adam"):
        stylize(extractor, torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), optimizer="sgd")


def test_cli_offline_run_is_labelled_honestly(tmp_path, capsys) -> None:
    code = main(
        [
            "--size",
            "32",
            "--steps",
            "5",
            "--suite-vgg-steps",
            "3",
            "--suite-vgg",
            str(tmp_path / "vgg.pt"),
            "--out",
            str(tmp_path),
            "--no-progress",
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "NOT ImageNet VGG19" in out and "s per 32x" in out
    assert (tmp_path / "vgg.pt").is_file() and (
        tmp_path / "chelsea_in_flower_suite_grid.png"
    ).is_file()


def test_cli_bad_inputs(tmp_path, capsys, monkeypatch) -> None:
    assert main(["--content", str(tmp_path / "nope.jpg"), "--out", str(tmp_path)]) == 2
    assert "nope.jpg" in capsys.readouterr().err
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    assert main(["--weights", "imagenet", "--size", "16", "--out", str(tmp_path)]) == 2
    assert "never downloads" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--optimizer", "sgd"])
