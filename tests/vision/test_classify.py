"""Digits LeNet vs SVM, and the architecture tour (parameter counts against torchvision's docs)."""

from __future__ import annotations

import pytest
import torch

from visiongym.vision.classify.__main__ import main
from visiongym.vision.classify.arch import (
    WeightsUnavailableError,
    build_architecture,
    count_parameters,
    format_layer_table,
    layer_table,
)
from visiongym.vision.classify.digits import (
    DigitsConfig,
    evaluate,
    load_digit_splits,
    random_shift,
    run_digits,
    svm_baseline,
    train_lenet,
)
from visiongym.vision.classify.training import torch_threads

# Documented by torchvision, copied from /work/shared/REFERENCE.md (not from our module).
DOCUMENTED = {
    "vgg16": 138_357_544,
    "vgg19": 143_667_240,
    "resnet50": 25_557_032,
    "mobilenet_v3_large": 5_483_032,
    "inception_v3": 27_161_264,
}


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


@pytest.mark.parametrize(("name", "count"), DOCUMENTED.items())
def test_parameter_counts_equal_torchvision_documentation(name: str, count: int) -> None:
    assert count_parameters(build_architecture(name, device="meta")) == count


def test_layer_listing_follows_the_forward_pass() -> None:
    model = build_architecture("vgg19", device="meta")
    rows = layer_table(model, (1, 3, 224, 224))
    assert rows[0].kind == "Conv2d" and rows[0].output_shape == (1, 64, 224, 224)
    assert sum(row.kind == "Conv2d" for row in rows) == 16
    assert rows[-1].output_shape == (1, 1000)
    assert sum(row.parameters for row in rows) == DOCUMENTED["vgg19"]
    text = format_layer_table(rows, "vgg19", DOCUMENTED["vgg19"])
    assert "features.0 (Conv2d)" in text and "Total params: 143,667,240" in text


def test_imagenet_weights_missing_gives_a_clear_message(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(WeightsUnavailableError, match="(?s)never downloads.*vgg16-397923af.pth"):
        build_architecture("vgg16", "imagenet")
    with pytest.raises(WeightsUnavailableError, match="'nowhere.pth' is not 'none', 'imagenet'"):
        build_architecture("vgg16", "nowhere.pth")
    with pytest.raises(ValueError, match="architecture 'vgg17' unknown; choose one of: vgg16"):
        build_architecture("vgg17")


def test_arch_cli_times_a_small_model(tmp_path, capsys, monkeypatch) -> None:
    assert (
        main(["arch", "--models", "mobilenet_v3_large", "--repeats", "1", "--out", str(tmp_path)])
        == 0
    )
    out = capsys.readouterr().out
    assert "5,483,032" in out and "forward cpu ms/image" in out
    assert (tmp_path / "mobilenet_v3_large_layers.txt").is_file()
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    assert (
        main(
            [
                "arch",
                "--models",
                "vgg16",
                "--weights",
                "imagenet",
                "--layers",
                "none",
                "--out",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "never downloads" in capsys.readouterr().err


def test_cli_rejects_unknown_subcommand_and_option() -> None:
    for argv in (["lenet"], ["arch", "--models", "vgg17"], ["digits", "--epoch", "3"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2


def test_random_shift_moves_content_by_at_most_one_pixel() -> None:
    image = torch.zeros(1, 1, 8, 8)
    image[..., 4, 4] = 1.0
    for _ in range(20):
        rows, cols = torch.nonzero(random_shift(image)[0, 0], as_tuple=True)
        assert abs(rows.item() - 4) <= 1 and abs(cols.item() - 4) <= 1


def test_digit_cnn_clears_90_percent_after_a_short_run() -> None:
    torch.manual_seed(0)
    data = load_digit_splits(seed=0)
    model, history = train_lenet(data, epochs=5, batch_size=32, progress=False)
    _, accuracy = evaluate(model, data.test_x, data.test_y)
    assert accuracy > 0.90
    assert history.train_loss[-1] < history.train_loss[0]


def test_svm_baseline_is_a_strong_baseline() -> None:
    accuracy, params = svm_baseline(load_digit_splits(seed=0))
    assert accuracy > 0.97 and {"C", "gamma"} <= set(params)


@pytest.mark.slow
def test_full_digits_run_beats_svm_and_shows_overfitting(tmp_path) -> None:
    results = run_digits(DigitsConfig(out=tmp_path, progress=False, device="cpu"))
    regularised, plain = results["cnn_regularised"], results["cnn_unregularised"]
    assert regularised["test_accuracy"] >= 0.985
    assert regularised["test_accuracy"] > results["svm"]["test_accuracy"]
    # Without regularisation the training loss collapses while validation loss climbs off its minimum.
    assert plain["final_train_loss"] < 0.01
    assert plain["final_val_loss"] > plain["min_val_loss"]
    assert (tmp_path / "curves.png").is_file() and (tmp_path / "lenet.pt").is_file()
