"""Filters as convolutions: equality with OpenCV, the course's curve-detector example, the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from visiongym.vision.classify.training import torch_threads
from visiongym.vision.filters import (
    CURVE_DETECTOR,
    FILTER_NAMES,
    apply_filter,
    apply_kernel,
    load_image,
    make_kernel,
    max_difference,
    opencv_reference,
    shipped_images,
)
from visiongym.vision.filters.__main__ import main


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


@pytest.mark.parametrize("name", FILTER_NAMES)
@pytest.mark.parametrize(
    ("photo", "mode"), [("astronaut", "rgb"), ("camera", "gray"), ("china", "rgb")]
)
def test_conv2d_filter_matches_opencv(name: str, photo: str, mode: str) -> None:
    image = load_image(photo, mode, size=48).astype(np.float32) / 255.0
    assert max_difference(image, name) < 1e-4
    ours = apply_filter(image, name)
    assert ours.shape == image.shape
    assert not np.allclose(ours, image), "a filter that changes nothing proves nothing"


def test_gaussian_matches_opencv_for_other_sizes() -> None:
    image = load_image("coins", "gray", size=40).astype(np.float32) / 255.0
    for size, sigma in [(3, 0.8), (7, 2.0), (11, 3.0)]:
        gap = np.abs(
            apply_filter(image, "gaussian", size, sigma)
            - opencv_reference(image, "gaussian", size, sigma)
        )
        assert gap.max() < 1e-4


def test_curve_detector_reproduces_the_course_example() -> None:
    # The deck's receptive fields: one with the curve (sum 6600), one without (sum 0).
    with_curve = np.array(
        [[0, 0, 0, 0, 0, 0, 30], [0, 0, 0, 0, 50, 50, 50], [0, 0, 0, 20, 50, 0, 0]]
        + [[0, 0, 0, 50, 50, 0, 0]] * 4,
        dtype=np.float32,
    )
    elsewhere = np.array(
        [
            [0] * 7,
            [0, 40, 0, 0, 0, 0, 0],
            [40, 0, 40, 0, 0, 0, 0],
            [40, 20, 0, 0, 0, 0, 0],
            [0, 50, 0, 0, 0, 0, 0],
            [0, 0, 50, 0, 0, 0, 0],
            [25, 25, 0, 50, 0, 0, 0],
        ],
        dtype=np.float32,
    )
    assert apply_kernel(with_curve, CURVE_DETECTOR)[3, 3] == pytest.approx(6600.0)
    assert apply_kernel(elsewhere, CURVE_DETECTOR)[3, 3] == pytest.approx(0.0)


def test_blur_kernels_sum_to_one_and_sobel_to_zero() -> None:
    assert make_kernel("box", 5).sum() == pytest.approx(1.0)
    assert make_kernel("gaussian", 7, 2.0).sum() == pytest.approx(1.0)
    assert make_kernel("sobel_x").sum() == 0
    assert make_kernel("sharpen").sum() == 1


def test_only_shipped_files_are_offered() -> None:
    images = shipped_images()
    assert {"astronaut", "camera", "china", "flower"} <= set(images)
    assert all(path.is_file() for path in images.values())


def test_bad_inputs_name_the_value_and_the_choices(tmp_path) -> None:
    with pytest.raises(ValueError, match="filter 'blurr' unknown; choose one of: box"):
        make_kernel("blurr")
    with pytest.raises(FileNotFoundError, match="missing.png.*shipped photos: .*astronaut"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="image mode 'cmyk' unknown; choose one of: rgb, gray"):
        load_image("camera", "cmyk")
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("hello")
    with pytest.raises(ValueError, match="could not read"):
        load_image(not_an_image)
    with pytest.raises(ValueError, match="kernel size 4"):
        make_kernel("box", 4)
    with pytest.raises(ValueError, match=r"not \(H, W\) or \(H, W, C\)"):
        apply_filter(np.zeros((1, 2, 3, 4), np.float32), "box")


def test_grey_photo_filtered_as_rgb_works() -> None:
    image = load_image("camera", "rgb", size=16)
    assert image.shape == (16, 16, 3) and image.dtype == np.uint8


def test_cli_saves_grid_and_feature_maps(tmp_path, capsys) -> None:
    from visiongym.vision.classify.digits import CHECKPOINT_KIND, lenet
    from visiongym.vision.runtime import save_checkpoint

    save_checkpoint(tmp_path / "lenet.pt", CHECKPOINT_KIND, lenet().state_dict())
    code = main(
        [
            "--size",
            "32",
            "--cnn",
            str(tmp_path / "lenet.pt"),
            "--out",
            str(tmp_path),
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    assert (tmp_path / "astronaut_rgb_filters.png").stat().st_size > 1000
    assert (tmp_path / "astronaut_first_layer.png").stat().st_size > 1000
    out = capsys.readouterr().out
    assert "| curve |" in out and "lenet.pt" in out


def test_cli_reports_a_missing_image(tmp_path, capsys) -> None:
    assert main(["--image", str(tmp_path / "x.jpg"), "--out", str(tmp_path)]) == 2
    assert "x.jpg" in capsys.readouterr().err


def test_cli_rejects_an_unknown_option() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--colour", "red"])
    assert exit_info.value.code == 2
