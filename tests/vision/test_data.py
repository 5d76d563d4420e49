"""The rendered dataset: on-disk format, seeds, the PyTorch reader, augmentation, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils
from torchvision import tv_tensors
from torchvision.transforms import v2

from visiongym.vision.data import format as fmt
from visiongym.vision.data.dataset import (
    SoccerDetection,
    collate_detection,
    detection_transforms,
    load_frames,
)
from visiongym.vision.data.render_soccer import frame_rng, split_sizes
from visiongym.vision.data.sources import SoccerFrameSource


def test_class_names_match_the_simulator():
    from visiongym.sims.soccer import CLASS_NAMES

    assert fmt.CLASS_NAMES == tuple(CLASS_NAMES)


def test_layout_and_coco_json(soccer_dataset: Path):
    info = json.loads((soccer_dataset / "dataset.json").read_text())
    assert info["format_version"] == fmt.FORMAT_VERSION
    assert {k: v["frames"] for k, v in info["splits"].items()} == {"train": 36, "val": 6, "test": 6}
    coco = json.loads((soccer_dataset / "train" / "annotations.json").read_text())
    assert [c["name"] for c in coco["categories"]] == list(fmt.DETECTION_CLASSES)
    assert len(coco["images"]) == 36
    ids = [a["id"] for a in coco["annotations"]]
    assert len(ids) == len(set(ids)) and min(ids) == 1
    labels = {a["category_id"] for a in coco["annotations"]}
    assert labels <= {1, 2, 3, 4} and {2, 3} <= labels  # both teams appear somewhere
    for annotation in coco["annotations"][:20]:
        rle = {
            "size": annotation["segmentation"]["size"],
            "counts": annotation["segmentation"]["counts"].encode(),
        }
        assert mask_utils.area(rle) == annotation["visible_pixels"] == annotation["area"]
        x, y, w, h = mask_utils.toBbox(rle)
        assert np.allclose([x, y, w, h], annotation["bbox"])  # tight box of the mask


def test_frames_reproduce_from_their_seed_and_splits_differ(soccer_dataset: Path):
    coco = json.loads((soccer_dataset / "val" / "annotations.json").read_text())
    record = coco["images"][2]
    source = SoccerFrameSource(camera="broadcast", size=64)
    again = source.frame(frame_rng(0, "val", record["id"]))
    source.close()
    stored = fmt.read_image(soccer_dataset / "val" / record["file_name"])
    assert np.array_equal(again["rgb"], stored)
    depth = fmt.png16_to_depth(fmt.read_image(soccer_dataset / "val" / record["depth_file"]))
    near = again["depth"] < 65.0  # farther (the sky beyond the table) saturates at 65.535 m
    assert near.mean() > 0.5
    assert np.abs(depth - again["depth"])[near].max() <= 0.0006  # millimetre quantisation
    assert np.all(depth[~near] == np.float32(65.535))
    draws = {split: frame_rng(0, split, 0).integers(0, 2**62) for split in fmt.SPLITS}
    assert len(set(draws.values())) == 3


def test_split_sizes():
    assert split_sizes(100, 0.1, 0.1) == {"train": 80, "val": 10, "test": 10}
    assert split_sizes(3, 0.01, 0.01) == {"train": 1, "val": 1, "test": 1}
    with pytest.raises(ValueError, match="leaves no training frames"):
        split_sizes(10, 0.5, 0.5)


def test_dataset_reads_boxes_masks_and_depth(soccer_dataset: Path):
    dataset = SoccerDetection(soccer_dataset, "train", depth=True)
    image, target = dataset[0]
    assert (
        isinstance(image, tv_tensors.Image)
        and image.dtype == torch.uint8
        and image.shape == (3, 64, 64)
    )
    assert isinstance(target["boxes"], tv_tensors.BoundingBoxes)
    assert len(target["boxes"]) == len(target["labels"]) == len(target["masks"]) > 0
    for box, mask in zip(target["boxes"], target["masks"], strict=True):
        ys, xs = torch.nonzero(mask, as_tuple=True)
        assert box.tolist() == [
            xs.min().item(),
            ys.min().item(),
            xs.max().item() + 1,
            ys.max().item() + 1,
        ]
    assert 0.1 < float(target["depth"].min()) < float(target["depth"].max()) <= 65.536
    images, targets = collate_detection([dataset[0], dataset[1]])
    assert images.shape == (2, 3, 64, 64) and len(targets) == 2


def test_flip_moves_boxes_and_masks_with_the_pixels(soccer_dataset: Path):
    plain = SoccerDetection(soccer_dataset, "train")
    flipped = SoccerDetection(soccer_dataset, "train", transforms=v2.RandomHorizontalFlip(p=1.0))
    (image, target), (image_f, target_f) = plain[3], flipped[3]
    assert torch.equal(image_f, image.flip(-1))
    assert torch.equal(target_f["masks"], target["masks"].flip(-1))
    expected = target["boxes"].clone()
    expected[:, 0], expected[:, 2] = 64 - target["boxes"][:, 2], 64 - target["boxes"][:, 0]
    assert torch.allclose(target_f["boxes"], expected)


def test_training_transforms_keep_boxes_inside_and_consistent(soccer_dataset: Path):
    torch.manual_seed(0)
    dataset = SoccerDetection(
        soccer_dataset, "train", transforms=detection_transforms(True, size=96)
    )
    for index in range(6):
        image, target = dataset[index]
        assert image.shape == (3, 96, 96)
        boxes = target["boxes"]
        assert len(boxes) == len(target["labels"]) == len(target["masks"])
        assert (
            (boxes[:, 0] >= 0).all()
            and (boxes[:, 2] <= 96).all()
            and (boxes[:, 2] > boxes[:, 0]).all()
        )


def test_load_frames_resizes(soccer_dataset: Path):
    frames = load_frames(soccer_dataset, "test", size=32)
    assert frames.shape == (6, 3, 32, 32) and frames.dtype == torch.uint8


def test_missing_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(fmt.DatasetFormatError, match="does not exist.*render_soccer"):
        SoccerDetection(tmp_path / "nowhere", "train")


def test_unknown_split_names_the_choices(soccer_dataset: Path):
    with pytest.raises(fmt.DatasetFormatError, match="choose one of: train, val, test"):
        SoccerDetection(soccer_dataset, "training")


def test_corrupt_files_are_clear_errors(soccer_dataset: Path, tmp_path: Path):
    broken = tmp_path / "broken"
    shutil.copytree(soccer_dataset, broken)
    (broken / "train" / "annotations.json").write_text("{not json")
    with pytest.raises(fmt.DatasetFormatError, match="not valid JSON"):
        SoccerDetection(broken, "train")
    (broken / "val" / "images" / "000000.png").write_bytes(b"garbage")
    with pytest.raises(fmt.DatasetFormatError, match="corrupt"):
        SoccerDetection(broken, "val")[0]
    (broken / "test" / "images" / "000001.png").unlink()
    with pytest.raises(fmt.DatasetFormatError, match="missing"):
        SoccerDetection(broken, "test")


def test_render_rejects_bad_options(tmp_path: Path):
    from visiongym.vision.data.render_soccer import RenderConfig, render_dataset

    with pytest.raises(ValueError, match="source 'unreal' unknown; choose one of: soccer, shapes"):
        render_dataset(RenderConfig(out=tmp_path, source="unreal"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="camera 'drone' unknown"):
        SoccerFrameSource(camera="drone")
    with pytest.raises(ValueError, match="size=8 is too small"):
        render_dataset(RenderConfig(out=tmp_path, size=8))


def test_parallel_workers_write_the_same_frames_as_one_process(tmp_path: Path):
    from visiongym.vision.data.render_soccer import RenderConfig, render_dataset

    for workers in (1, 2):
        render_dataset(
            RenderConfig(
                out=tmp_path / str(workers),
                frames=4,
                size=32,
                workers=workers,
                chunk=1,
                source="shapes",
                progress=False,
            )
        )
    one = json.loads((tmp_path / "1" / "train" / "annotations.json").read_text())
    two = json.loads((tmp_path / "2" / "train" / "annotations.json").read_text())
    assert one["annotations"] == two["annotations"] and len(one["images"]) == 2
    assert np.array_equal(
        fmt.read_image(tmp_path / "1" / "train" / "images" / "000001.png"),
        fmt.read_image(tmp_path / "2" / "train" / "images" / "000001.png"),
    )


def test_team_kits_make_team_identity_visible(soccer_dataset: Path):
    # Per team and frame, not per player: under random looks (a warm key light on the caps) a
    # single small player can come out reddish, but team B stays bluer than team A.
    dataset = SoccerDetection(soccer_dataset, "train")
    for index in range(4):
        image, target = dataset[index]
        redness = {2: [], 3: []}
        for label, mask in zip(target["labels"].tolist(), target["masks"], strict=True):
            if label in (2, 3) and mask.sum() >= 6:
                red, _green, blue = image[:, mask.bool()].float().mean(dim=1).tolist()
                redness[label].append(red - blue)
        if redness[2] and redness[3]:
            assert np.mean(redness[2]) > np.mean(redness[3]), (index, redness)
