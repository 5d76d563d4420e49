"""Augmentation: boxes and masks follow every transform (hypothesis), the CLI, the ablation."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from visiongym.vision.augment.__main__ import box_mask_agreement, main
from visiongym.vision.augment.ablation import AblationConfig, run_ablation, small_subset
from visiongym.vision.augment.transforms import (
    TRANSFORM_NAMES,
    make_pipeline,
    make_sample,
    make_transform,
    mask_boxes,
)
from visiongym.vision.classify.training import torch_threads


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


@st.composite
def labelled_images(draw):
    """A random image with 1-3 rectangles, each with its mask and its tight box."""
    height, width = draw(st.integers(24, 48)), draw(st.integers(24, 48))
    count = draw(st.integers(1, 3))
    masks = torch.zeros(count, height, width, dtype=torch.bool)
    for k in range(count):
        top, left = draw(st.integers(0, height - 4)), draw(st.integers(0, width - 4))
        bottom, right = draw(st.integers(top + 3, height)), draw(st.integers(left + 3, width))
        masks[k, top:bottom, left:right] = True
    image = torch.randint(0, 256, (height, width, 3), dtype=torch.uint8)
    return make_sample(image, mask_boxes(masks), masks, list(range(1, count + 1)))


def _follow(name: str, sample, seed: int, strength: float):
    image, target = sample
    torch.manual_seed(seed)
    out_image, out_target = make_transform(name, strength)(image, target)
    tight = mask_boxes(out_target["masks"].bool())
    present = ~torch.isnan(tight[:, 0])
    return out_image, out_target["boxes"][present], tight[present], out_target


def _worst(gap: torch.Tensor) -> float:
    return gap.abs().max().item() if gap.numel() else 0.0


PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(sample=labelled_images(), seed=st.integers(0, 10_000), strength=st.floats(0.1, 1.0))
def test_flip_and_translation_move_boxes_exactly_with_masks(sample, seed, strength) -> None:
    for name in ("flip", "translation"):
        image, boxes, tight, _ = _follow(name, sample, seed, strength)
        assert image.shape == sample[0].shape
        assert torch.equal(boxes, tight), name


@PROPERTY
@given(sample=labelled_images(), seed=st.integers(0, 10_000), strength=st.floats(0.1, 1.0))
def test_scale_and_crop_keep_boxes_on_masks_to_the_pixel(sample, seed, strength) -> None:
    # Masks are resampled with nearest neighbour on the pixel grid; boxes stay continuous.
    for name in ("scale", "crop"):
        _, boxes, tight, _ = _follow(name, sample, seed, strength)
        assert _worst(boxes - tight) <= 1.0, name


@PROPERTY
@given(sample=labelled_images(), seed=st.integers(0, 10_000), strength=st.floats(0.1, 1.0))
def test_rotation_boxes_enclose_rotated_masks(sample, seed, strength) -> None:
    _, boxes, tight, _ = _follow("rotation", sample, seed, strength)
    assert (tight[:, :2] >= boxes[:, :2] - 1).all() and (tight[:, 2:] <= boxes[:, 2:] + 1).all()


@PROPERTY
@given(sample=labelled_images(), seed=st.integers(0, 10_000))
def test_quarter_turn_rotates_boxes_exactly(sample, seed) -> None:
    from torchvision.transforms import v2

    image, target = sample
    height, width = image.shape[-2:]
    side = min(height, width)
    square = v2.CenterCrop(side)(image, target)
    out_image, out_target = v2.RandomRotation((90, 90))(*square)
    tight = mask_boxes(out_target["masks"].bool())
    present = ~torch.isnan(tight[:, 0])
    assert _worst(out_target["boxes"][present] - tight[present]) <= 1.0


@PROPERTY
@given(sample=labelled_images(), seed=st.integers(0, 10_000), strength=st.floats(0.1, 1.0))
def test_noise_changes_pixels_only(sample, seed, strength) -> None:
    image, boxes, tight, target = _follow("noise", sample, seed, strength)
    assert image.dtype == torch.float32 and not torch.allclose(image, sample[0].float() / 255)
    assert torch.equal(target["boxes"], sample[1]["boxes"]) and torch.equal(
        target["masks"], sample[1]["masks"]
    )


def test_pipeline_and_errors() -> None:
    image, target = make_sample(
        torch.zeros(16, 16, 3, dtype=torch.uint8),
        [[2, 2, 6, 6]],
        torch.zeros(1, 16, 16, dtype=torch.bool),
        [1],
    )
    out_image, _ = make_pipeline(TRANSFORM_NAMES, p=1.0)(image, target)
    assert out_image.shape == (3, 16, 16)
    with pytest.raises(
        ValueError, match="transform 'shear' unknown; choose one of: flip, rotation"
    ):
        make_transform("shear")
    with pytest.raises(ValueError, match="strength 2"):
        make_transform("flip", 2)


def test_box_mask_agreement_flags_a_box_off_its_mask() -> None:
    masks = torch.zeros(1, 10, 10, dtype=torch.bool)
    masks[0, 2:5, 2:5] = True
    assert box_mask_agreement(torch.tensor([[2.0, 2.0, 5.0, 5.0]]), masks) == {
        "gap_px": 0.0,
        "contains": True,
    }
    assert not box_mask_agreement(torch.tensor([[4.0, 4.0, 8.0, 8.0]]), masks)["contains"]


def test_show_cli_on_a_rendered_frame(tmp_path, capsys) -> None:
    assert main(["show", "--size", "96", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "flip: 0.00 px, contains=True" in out and "translation: 0.00 px, contains=True" in out
    assert (tmp_path / "transforms_broadcast.png").is_file()
    with pytest.raises(SystemExit):
        main(["show", "--transforms", "shear"])


def test_small_subset_is_balanced() -> None:
    labels = torch.arange(10).repeat(5)
    chosen = small_subset(labels, 3, seed=0)
    assert torch.bincount(labels[chosen]).tolist() == [3] * 10
    with pytest.raises(ValueError, match="fewer than per_class=6"):
        small_subset(labels, 6, seed=0)


def test_ablation_runs_and_reports_every_setting(tmp_path) -> None:
    results = run_ablation(
        AblationConfig(
            per_class=3,
            epochs=10,
            seeds=(0,),
            single=True,
            transforms=("rotation",),
            out=tmp_path,
            progress=False,
        )
    )
    assert set(results["table"]) == {"none", "all", "rotation"}
    # Ten epochs (one batch of 30 digits each) lift every setting off chance (0.1): 0.28-0.64 over
    # seeds 0-3, where the former two epochs left them at 0.10-0.19.
    assert all(row["mean"] >= 0.2 and len(row["runs"]) == 1 for row in results["table"].values()), results["table"]
    assert (tmp_path / "ablation.png").is_file()
