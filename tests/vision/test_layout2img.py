"""Layout-conditioned generation: exact layouts, a generator that learns, labelled generated data."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from visiongym.sims.errors import UsageError
from visiongym.vision.data.dataset import SoccerDetection
from visiongym.vision.data.render_soccer import rerender
from visiongym.vision.detect.engine import Detector
from visiongym.vision.detect.train import DetectorTrainConfig, train_detector
from visiongym.vision.layout2img.generate import (
    LayoutGenerateConfig,
    LayoutSampler,
    generate_dataset,
)
from visiongym.vision.layout2img.layout import instance_edges, layout_tensor, load_layout_frames
from visiongym.vision.layout2img.models import LAYOUT_GANS
from visiongym.vision.layout2img.train import LayoutTrainConfig, load_layout_gan, train_layout2img
from visiongym.vision.runtime import CheckpointError, load_checkpoint


def test_layouts_are_the_simulators_masks(soccer_dataset: Path):
    frames = load_layout_frames(soccer_dataset, "test", limit=2)
    for k, record in enumerate(frames.records):
        truth = rerender(soccer_dataset, "test", record["id"], appearance=None)  # the dataset's own look
        assert np.array_equal(frames.class_masks[k].numpy(), truth["class_mask"])
        assert np.array_equal(frames.instance_masks[k].numpy(), truth["instance_mask"])
        assert np.array_equal(frames.images[k].permute(1, 2, 0).numpy(), truth["rgb"])


def test_layout_tensor_is_one_hot_plus_instance_edges():
    instance = torch.zeros(1, 6, 6, dtype=torch.int16)
    instance[0, 1:3, 1:3], instance[0, 1:3, 3:5] = 2, 3  # two touching players
    classes = (instance > 0).to(torch.uint8) * 2
    layout = layout_tensor(classes, instance)
    assert layout.shape == (1, 6, 6, 6) and torch.equal(layout[:, :5].sum(1), torch.ones(1, 6, 6))
    edges = instance_edges(instance)[0, 0]
    assert edges[1, 2] == 1 and edges[1, 3] == 1  # the border between the two players is drawn
    assert edges[5, 5] == 0 and torch.equal(layout[0, 5], edges)


def test_generator_learns_resumes_and_writes_a_labelled_dataset(soccer_dataset: Path, tmp_path: Path):
    config = LayoutTrainConfig(
        data=soccer_dataset,
        model="pix2pix_tiny",
        look_dim=4,
        epochs=0,
        batch_size=6,
        lr=1e-3,
        train_limit=None,
        eval_limit=6,
        run_dir=tmp_path / "untrained",
        progress=False,
    )
    untrained = train_layout2img(config)
    trained = train_layout2img(dataclasses.replace(config, epochs=12, run_dir=tmp_path / "gan"))
    # 12 epochs of 6 steps on 36 frames (64 px), a few seconds. Seeds 0-2: the L1 to the true
    # frame, drawn with its encoded look, fell from 0.31-0.39 (untrained) to 0.11-0.12 on the
    # training frames and to 0.10-0.11 on the held-out ones (the mean frame's is 0.083: 72 steps
    # learn the layout's colours and places, not yet every look).
    assert trained["train_l1"] < 0.5 * untrained["train_l1"], (trained, untrained)
    assert trained["l1"] < 0.5 * untrained["l1"], (trained, untrained)
    assert (tmp_path / "gan" / "samples.png").is_file()
    resumed = train_layout2img(dataclasses.replace(config, epochs=13, run_dir=tmp_path / "gan"))
    assert load_checkpoint(tmp_path / "gan" / "layout2img.pt")["meta"]["epoch"] == 13
    assert resumed["l1"] < 0.5 * untrained["l1"]

    out = tmp_path / "generated"
    generate = LayoutGenerateConfig(checkpoint=tmp_path / "gan" / "layout2img.pt", out=out, frames=5, seed=7,
                                    batch_size=2, progress=False)
    info = generate_dataset(generate)
    assert info["source"] == "layout2img" and info["splits"] == {"train": {"frames": 5, "seed_prefix": [7, 0]}}
    dataset = SoccerDetection(out, "train")
    assert len(dataset) == 5
    _, meta = load_layout_gan(generate.checkpoint)
    sampler = LayoutSampler(meta["data"])
    try:
        for index in range(5):
            image, target = dataset[index]
            layout = sampler(7, "train", index)
            assert image.shape == (3, 64, 64)
            assert torch.equal(target["boxes"], torch.as_tensor(layout["boxes"]))  # labelled by construction
            assert torch.equal(target["labels"], torch.as_tensor(layout["labels"]))
            ids = torch.as_tensor(layout["instance_ids"])[:, None, None]
            assert torch.equal(target["masks"].bool(), torch.as_tensor(layout["instance_mask"])[None] == ids)
    finally:
        sampler.close()
    # the generated folder trains a detector beside the real frames; several --extra-data folders add up
    shutil.copytree(out, tmp_path / "generated2")
    train_detector(
        DetectorTrainConfig(data=soccer_dataset, model="grid_tiny", image_size=64, epochs=1, batch_size=4,
                            train_limit=4, eval_limit=4, extra_data=(out, tmp_path / "generated2"), fps_frames=0,
                            run_dir=tmp_path / "det", progress=False)
    )
    scheduler = load_checkpoint(tmp_path / "det" / "detector.pt")["state"]["scheduler"]
    assert scheduler["total_steps"] == (4 + 5 + 5) // 4  # every folder's frames were in the loader
    train_detector(  # --steps instead of whole epochs: the benchmark's arms get equal steps
        DetectorTrainConfig(data=soccer_dataset, model="grid_tiny", image_size=64, epochs=30, steps=2, batch_size=4,
                            train_limit=4, eval_limit=4, extra_data=(out,), fps_frames=0,
                            run_dir=tmp_path / "det_steps", progress=False)
    )
    payload = load_checkpoint(tmp_path / "det_steps" / "detector.pt")
    assert payload["state"]["scheduler"]["last_epoch"] == 2 and payload["meta"]["epoch"] == 1

    with pytest.raises(UsageError, match="seed of the generator's training data"):
        generate_dataset(dataclasses.replace(generate, seed=0))
    with pytest.raises(CheckpointError, match="expected 'layout2img'"):
        load_layout_gan(Detector("grid_tiny", image_size=64).save(tmp_path / "det.pt"))
    with pytest.raises(CheckpointError, match="pix2pix_small"):
        train_layout2img(dataclasses.replace(config, model="pix2pix_small", epochs=14, run_dir=tmp_path / "gan"))


def _copy_without(dataset: Path, tmp_path: Path, edit) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(dataset, copy)
    path = copy / "train" / "annotations.json"
    coco = json.loads(path.read_text())
    edit(coco)
    path.write_text(json.dumps(coco))
    return copy


def test_a_dataset_without_exact_masks_is_refused(soccer_dataset: Path, tmp_path: Path):
    def strip(coco):
        for annotation in coco["annotations"]:
            del annotation["segmentation"]

    with pytest.raises(UsageError, match="without masks.*visiongym render-data"):
        load_layout_frames(_copy_without(soccer_dataset, tmp_path / "a", strip))

    def pseudo(coco):
        coco["annotations"][0]["pseudo_label"] = True

    with pytest.raises(UsageError, match="pseudo-labels.*visiongym render-data"):
        load_layout_frames(_copy_without(soccer_dataset, tmp_path / "b", pseudo))


def test_builders_check_the_size():
    assert LAYOUT_GANS.names()[:2] == ("pix2pix", "pix2pix_small")
    with pytest.raises(UsageError, match="image_size 48"):
        LAYOUT_GANS.build("pix2pix", image_size=48)
    with pytest.raises(UsageError, match="layout generator 'spade' unknown"):
        LAYOUT_GANS.build("spade")
