"""Datasets of the human look: `render-data --players human` stores keypoints and surface points."""

import json

import numpy as np
import pytest

from visiongym.sims.errors import UsageError
from visiongym.sims.soccer import KEYPOINT_NAMES, SKELETON
from visiongym.vision.data import format as fmt
from visiongym.vision.data.render_soccer import RenderConfig, render_dataset, rerender


def test_keypoint_names_match_the_simulator():
    assert fmt.KEYPOINT_NAMES == KEYPOINT_NAMES and fmt.SKELETON == SKELETON


def test_human_dataset_stores_keypoints_and_surface_points(tmp_path):
    out = tmp_path / "humans"
    info = render_dataset(RenderConfig(out=out, frames=3, size=64, workers=1, progress=False, players="human",
                                       appearance="default"))
    assert info["players"] == "human"
    coco = fmt.read_split(out, "train")
    players = [c for c in coco["categories"] if c["supercategory"] == "player"]
    assert all(c["keypoints"] == list(KEYPOINT_NAMES) and len(c["skeleton"]) == len(SKELETON) for c in players)
    image = coco["images"][0]
    humans = fmt.read_humans(out / "train" / image["humans_file"])
    n_players = 2 * image["team_size"]
    assert humans["keypoints"].shape == (n_players, len(KEYPOINT_NAMES), 3)
    assert humans["surface_points"].shape == (n_players, 256, 3)
    annotations = [a for a in coco["annotations"] if a["image_id"] == image["id"] and a["category_id"] in (2, 3)]
    assert annotations and all(len(a["keypoints"]) == 3 * len(KEYPOINT_NAMES) for a in annotations)
    for annotation in annotations:
        stored = humans["keypoints"][annotation["instance_id"] - 2]
        labelled = stored[:, 2] > 0
        np.testing.assert_allclose(np.array(annotation["keypoints"]).reshape(-1, 3)[labelled], stored[labelled],
                                   atol=1e-3)
    # Re-rendering the frame from its seed gives the same humans.
    again = rerender(out, "train", image["id"], appearance="default")
    np.testing.assert_allclose(again["keypoints"], humans["keypoints"], atol=1e-4)
    # Robot datasets are unchanged: no keypoints, no humans files.
    robots = tmp_path / "robots"
    render_dataset(RenderConfig(out=robots, frames=3, size=32, workers=1, progress=False, appearance="default"))
    coco = json.loads((robots / "train" / "annotations.json").read_text())
    assert "humans_file" not in coco["images"][0] and "keypoints" not in coco["annotations"][0]
    assert not (robots / "train" / "humans").exists()


def test_human_players_need_the_soccer_source(tmp_path):
    with pytest.raises(UsageError, match="needs source='soccer'"):
        render_dataset(RenderConfig(out=tmp_path, frames=3, source="shapes", players="human", progress=False))
