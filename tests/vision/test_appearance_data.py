"""Datasets drawn from appearance distributions: recorded looks, re-rendering a frame with another look."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from visiongym.sims.errors import UsageError
from visiongym.vision.augment.transforms import make_sample, photometric_transforms
from visiongym.vision.data.render_soccer import RenderConfig, render_dataset, rerender


def test_default_render_is_random_and_records_each_look(soccer_dataset: Path):
    assert RenderConfig().appearance == "random"
    info = json.loads((soccer_dataset / "dataset.json").read_text())
    assert info["appearance"] == "random"
    images = json.loads((soccer_dataset / "train" / "annotations.json").read_text())["images"]
    assert all(image["look"] is not None for image in images)
    assert len({json.dumps(image["look"]) for image in images}) == len(images)


def test_rerender_gives_the_same_state_with_another_look(soccer_dataset: Path):
    own = rerender(soccer_dataset, "val", 1, appearance="random")
    images = json.loads((soccer_dataset / "val" / "annotations.json").read_text())["images"]
    assert own["meta"]["look"] == images[1]["look"]  # the dataset's own look comes back
    for shift in ("default", "light_dim", "pitch_tint", "kits_out_of_range", "textures"):
        other = rerender(soccer_dataset, "val", 1, appearance=shift)
        assert not np.array_equal(other["rgb"], own["rgb"]), shift
        assert {k: v for k, v in other["meta"].items() if k != "look"} == \
            {k: v for k, v in own["meta"].items() if k != "look"}
    # Colour-only shifts of the default look keep the ground truth of the default look exactly.
    default = rerender(soccer_dataset, "val", 1, appearance="default")
    for shift in ("light_dim", "light_warm", "pitch_tint", "kits_out_of_range", "textures"):
        other = rerender(soccer_dataset, "val", 1, appearance=shift)
        np.testing.assert_array_equal(other["boxes"], default["boxes"])
        np.testing.assert_array_equal(other["instance_mask"], default["instance_mask"])
    with pytest.raises(UsageError, match="frame 99 not in split 'val'"):
        rerender(soccer_dataset, "val", 99)


def test_render_refuses_an_unknown_appearance(tmp_path: Path):
    with pytest.raises(UsageError, match="appearance 'neon' unknown"):
        render_dataset(RenderConfig(out=tmp_path, frames=3, appearance="neon", workers=1, progress=False))


def test_photometric_augmentation_keeps_boxes_and_masks_exact():
    torch.manual_seed(0)
    image = torch.randint(0, 256, (3, 48, 48), dtype=torch.uint8)
    masks = torch.zeros(2, 48, 48, dtype=torch.uint8)
    masks[0, 5:15, 5:20] = 1
    masks[1, 30:40, 20:44] = 1
    boxes = [[5, 5, 20, 15], [20, 30, 44, 40]]
    sample, target = make_sample(image, boxes, masks, [1, 2])
    out, out_target = photometric_transforms(p=1.0)(sample, target)
    assert out.dtype == torch.uint8 and out.shape == image.shape and not torch.equal(out, image)
    assert torch.equal(out_target["boxes"], target["boxes"]) and torch.equal(out_target["masks"], masks)
