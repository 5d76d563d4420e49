"""Per-player and whole-frame depth: st-RMSE, billboard targets, learning, checkpoints, resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from visiongym.sims.errors import UsageError
from visiongym.vision.depth.crops import (
    CropSpec,
    DepthBins,
    build_crops,
    crops_from_ground_truth,
    ground_truth_from_simulator,
)
from visiongym.vision.depth.engine import (
    CHECKPOINT_KIND,
    baseline_predictions,
    build_model,
    crop_batch,
    crop_loss,
    load_depth_model,
    predict_crops,
    score_crops,
)
from visiongym.vision.depth.frames import scale_invariant_loss
from visiongym.vision.depth.metrics import mask_iou, st_align, st_rmse
from visiongym.vision.depth.models import StackedHourglass
from visiongym.vision.runtime import init_from_checkpoint, save_checkpoint


def test_st_rmse_known_values():
    mask = np.ones(3, bool)
    # y = [1, 2, 3], p = [0, 1, 3]: s = cov / var = 1 / (14 / 9) = 9 / 14, residuals (2, -3, 1) / 14.
    assert st_align(np.array([0.0, 1, 3]), np.array([1.0, 2, 3]), mask)[0] == pytest.approx(9 / 14)
    assert st_rmse(np.array([0.0, 1, 3]), np.array([1.0, 2, 3]), mask) == pytest.approx(np.sqrt(1 / 42))
    # A billboard (constant prediction) scores the spread of the truth.
    assert st_rmse(np.zeros(4), np.array([0.0, 0, 1, 1]), np.ones(4, bool)) == pytest.approx(0.5)
    # Only mask pixels count.
    y = np.array([0.0, 1.0, 2.0, 100.0])
    assert st_rmse(y * 3, y, np.array([1, 1, 1, 0], bool)) == pytest.approx(0.0, abs=1e-9)
    assert np.isnan(st_rmse(np.zeros(2), np.zeros(2), np.array([1, 0], bool)))


def test_st_rmse_invariant_to_scale_and_translation():
    rng = np.random.default_rng(0)
    truth, prediction = rng.normal(size=(16, 16)), rng.normal(size=(16, 16))
    mask = rng.random((16, 16)) < 0.6
    base = st_rmse(prediction, truth, mask)
    assert 0 < base < truth[mask].std() + 1e-9  # never worse than the billboard
    for scale, shift in ((2.0, 5.0), (0.01, -3.0), (-4.0, 0.5)):
        assert st_rmse(scale * prediction + shift, truth, mask) == pytest.approx(base)
    assert st_rmse(3 * truth - 1, truth, mask) == pytest.approx(0.0, abs=1e-9)


def test_mask_iou():
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    a[:2], b[1:3] = True, True
    assert mask_iou(a, b) == pytest.approx(4 / 12)
    assert mask_iou(a, a) == 1.0 and mask_iou(b & False, a & False) == 1.0


def _plane_frame(ramp: float = 0.0) -> dict:
    """A 64 px frame: a far ground (depth 3 m) and one player, a camera-facing board at 2 m plus
    ``ramp`` metres per pixel to the right, covering columns 24..39 and rows 16..47."""
    depth = np.full((64, 64), 3.0, np.float32)
    instance = np.zeros((64, 64), np.int32)
    columns = np.arange(64, dtype=np.float32)
    instance[16:48, 24:40] = 2
    depth[16:48, 24:40] = 2.0 + ramp * (columns[24:40] - 31.5)
    return {"rgb": np.zeros((64, 64, 3), np.uint8), "depth": depth, "instance_mask": instance,
            "instance_ids": np.array([2]), "labels": np.array([2]), "boxes": np.array([[24, 16, 40, 48]], np.float32)}


def test_billboard_target_on_synthetic_planes():
    spec = CropSpec(crop_size=32, stride=1, context=1.0, min_pixels=4)
    bins = DepthBins(bins=49, bin_width=0.002)
    (flat,) = crops_from_ground_truth(_plane_frame(), spec)
    # context 1: the crop is the box's 32 x 32 square around it; the 16 px wide board fills the middle.
    assert flat["mask"].sum() == 32 * 16 and flat["mask"][:, 8:24].all()
    assert flat["billboard"] == pytest.approx(2.0)
    assert np.abs(flat["relative"]).max() == pytest.approx(0.0, abs=1e-6)  # a billboard is the billboard plane
    assert (bins.to_classes(flat["relative"], flat["mask"])[flat["mask"]] == 25).all()  # the centre bin
    assert (bins.to_classes(flat["relative"], flat["mask"])[~flat["mask"]] == 0).all()
    (tilted,) = crops_from_ground_truth(_plane_frame(ramp=0.003), spec)
    row = tilted["relative"][10, 8:24]
    assert np.allclose(row, 0.003 * (np.arange(16) - 7.5), atol=1e-5)  # depth minus its median
    classes = bins.to_classes(tilted["relative"], tilted["mask"])[10, 8:24]
    assert np.array_equal(classes, 25 + np.round(1.5 * (np.arange(16) - 7.5)))
    assert np.allclose(bins.to_depth(classes), 0.002 * np.round(1.5 * (np.arange(16) - 7.5)))
    assert tilted["box"] == pytest.approx([8, 0, 24, 32])


def test_parametric_baselines_fit_their_own_shapes():
    from visiongym.vision.depth.crops import CropSet

    size, n = 16, 1
    box = np.array([[4.0, 2.0, 12.0, 14.0]], np.float32)  # 8 px wide, 12 tall
    rows, cols = np.mgrid[0:size, 0:size] + 0.5
    inside = (cols >= 4) & (cols < 12) & (rows >= 2) & (rows < 14)
    x = (cols - 8) / 4
    cylinder = np.where(inside, 0.001 * (rows - 8) - 0.004 * np.cos(np.pi / 4) * np.sqrt(np.clip(1 - x**2, 0, 1)), 0)
    crops = CropSet(rgb=np.zeros((n, 3, size, size), np.uint8), mask_input=np.zeros((n, size, size), np.uint8),
                    mask=inside[None], relative=cylinder[None].astype(np.float32), box=box,
                    occlusion=np.zeros(n, np.float32), billboard=np.ones(n, np.float32), frame=np.zeros(n, np.int64))
    scores = {name: score_crops(*baseline_predictions(name, crops), crops) for name in ("billboard", "plane", "cylinder")}
    # A 45-degree upright cylinder (ramp tan 45 per px, profile w/2 cos 45): the cylinder is exact up to scale.
    assert scores["cylinder"]["st_rmse_mm"] == pytest.approx(0.0, abs=1e-4)
    assert scores["billboard"]["st_rmse_mm"] > scores["plane"]["st_rmse_mm"] > 0.1
    assert scores["cylinder"]["mask_iou"] == 1.0  # the mask is the box, here the whole silhouette


def test_bins_and_spec_refuse_bad_values():
    with pytest.raises(UsageError, match="odd"):
        DepthBins(bins=48)
    with pytest.raises(UsageError, match="mask_input 'pose'"):
        CropSpec(mask_input="pose")
    with pytest.raises(UsageError, match="baseline 'sphere'"):
        baseline_predictions("sphere", None)


def test_scale_invariant_loss_ignores_scale():
    depth = torch.rand(2, 8, 8) + 0.5
    valid = torch.ones_like(depth)
    assert scale_invariant_loss(torch.log(depth * 3.7), depth, valid, lam=1.0).item() == pytest.approx(0.0, abs=1e-6)
    assert scale_invariant_loss(torch.log(depth * 3.7), depth, valid).item() == pytest.approx(0.5 * np.log(3.7) ** 2)
    assert scale_invariant_loss(torch.log(depth ** 2), depth, valid).item() > 0.01


@pytest.fixture(scope="module")
def robot_crops():
    """Player crops of 6 real simulator frames (no files)."""
    return build_crops(ground_truth_from_simulator(6, "train", frame_size=384), CropSpec(crop_size=32, stride=2))


def test_hourglass_learns_crops_well_above_the_billboard(robot_crops):
    torch.manual_seed(0)
    bins = DepthBins()
    model = StackedHourglass(bins.classes, stacks=1, features=32, depth=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    index = np.arange(len(robot_crops))
    for _ in range(70):
        model.train()
        rgb, mask_in, classes, relative, mask = crop_batch(robot_crops, index, torch.device("cpu"), bins)
        loss, _ = crop_loss(model(rgb, mask_in), "classification", classes, relative, mask)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    learned = score_crops(*predict_crops(model, "classification", robot_crops, bins), robot_crops)
    billboard = score_crops(*baseline_predictions("billboard", robot_crops), robot_crops)
    assert learned["st_rmse_paper_m"] < 0.6 * billboard["st_rmse_paper_m"], (learned, billboard)
    assert learned["mask_iou"] > billboard["mask_iou"] + 0.05, (learned, billboard)


def test_checkpoint_of_another_kind_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "ae.pt", "autoencoder", {"model": {}}, variant="conv")
    with pytest.raises(UsageError, match="holds a 'autoencoder' model; expected 'depth_hourglass'"):
        load_depth_model(path)


@pytest.fixture(scope="module")
def depth_dataset(tmp_path_factory):
    """8 broadcast frames at 256 px with float depth (train 6, val 1, test 1), rendered here."""
    from visiongym.vision.data.render_soccer import RenderConfig, render_dataset

    out = tmp_path_factory.mktemp("depth") / "soccer256"
    render_dataset(RenderConfig(out=out, frames=8, val_fraction=0.125, test_fraction=0.125, size=256, depth="npy",
                                workers=1, progress=False))
    return out


def test_rendered_dataset_gives_the_simulators_crops(depth_dataset):
    from visiongym.vision.depth.crops import ground_truth_from_dataset

    spec = CropSpec(crop_size=32)
    from_disk = build_crops(ground_truth_from_dataset(depth_dataset, "train"), spec)
    from_simulator = build_crops(ground_truth_from_simulator(6, "train", frame_size=256), spec)
    assert len(from_disk) == len(from_simulator) > 6
    assert np.array_equal(from_disk.mask, from_simulator.mask)
    assert np.allclose(from_disk.relative, from_simulator.relative, atol=1e-6)
    assert np.array_equal(from_disk.rgb, from_simulator.rgb)


def test_scenes_without_players_hide_every_player():
    from visiongym.vision.depth.frames import load_depth_frames

    shown = load_depth_frames({"frames": 2, "frame_size": 64, "seed": 0}, "train")
    hidden = load_depth_frames({"frames": 2, "frame_size": 64, "seed": 0, "players": False}, "train")
    assert shown["players"].max() >= 2 and hidden["players"].max() == 0
    assert (hidden["depth"] != shown["depth"]).any() and hidden["rgb"].shape == shown["rgb"].shape


def test_train_resumes_evaluates_and_scores_under_shifts(depth_dataset, tmp_path, capsys):
    from visiongym.vision.depth.evaluate import DepthEvaluateConfig, evaluate_depth
    from visiongym.vision.depth.train import DepthTrainConfig, train_depth
    from visiongym.vision.robustness.scorers import load_scorer
    from visiongym.vision.robustness.shifts import SHIFT_FAMILIES, load_eval_frames

    common = dict(data=depth_dataset, crop_size=32, cache_dir=tmp_path / "cache")
    config = DepthTrainConfig(**common, head="regression", stacks=1, features=16, depth=2, epochs=1, batch_size=4,
                              run_dir=tmp_path / "run", progress=False, threads=1)
    first = train_depth(config)
    assert set(first) == {"hourglass-regression", "billboard", "plane", "cylinder"}
    assert (tmp_path / "run" / "grid.png").is_file() and (tmp_path / "run" / "config.yaml").is_file()
    config.epochs = 2
    train_depth(config)
    assert "resuming" in capsys.readouterr().out
    checkpoint = tmp_path / "run" / "depth.pt"
    model, meta = load_depth_model(checkpoint)
    assert meta["head"] == "regression" and meta["epoch"] == 2
    rows = evaluate_depth(DepthEvaluateConfig(checkpoints=(checkpoint,), **common, progress=False))
    assert rows["hourglass-regression (run)"]["crops"] == first["hourglass-regression"]["crops"]
    # The robustness suite's scorer: the same test crops, then the same states in the held-out look.
    scorer = load_scorer(checkpoint)
    frames = load_eval_frames(depth_dataset, "test")
    clean = scorer.score(frames)
    assert clean["st_rmse_paper_m"] == pytest.approx(rows["hourglass-regression (run)"]["st_rmse_paper_m"])
    shifted = scorer.score(SHIFT_FAMILIES.build("simulator").apply(frames, "held_out", 1))
    assert np.isfinite(scorer.error(shifted)) and shifted["crops"] > 0


def test_init_from_copies_a_depth_checkpoint_and_refuses_another_kind(robot_crops, depth_dataset, tmp_path, capsys):
    from visiongym.vision.depth.train import DepthTrainConfig, checkpoint_meta, train_depth

    common = dict(data=depth_dataset, crop_size=32, cache_dir=tmp_path / "cache", stacks=1, features=16, depth=2,
                  epochs=1, batch_size=4, progress=False, threads=1)
    meta = checkpoint_meta(DepthTrainConfig(**common))
    torch.manual_seed(1)
    source = build_model(meta)
    path = save_checkpoint(tmp_path / "source.pt", CHECKPOINT_KIND, {"model": source.state_dict()}, epoch=1, **meta)
    torch.manual_seed(2)
    fresh = build_model(meta)
    bins = DepthBins()
    before = predict_crops(fresh, "classification", robot_crops, bins)[0]
    assert not np.array_equal(before, predict_crops(source, "classification", robot_crops, bins)[0])
    # Initialised from the checkpoint, the model predicts exactly what the checkpoint does.
    copied = init_from_checkpoint(fresh, path, CHECKPOINT_KIND)
    assert copied == len(source.state_dict())
    for ours, theirs in zip(predict_crops(fresh, "classification", robot_crops, bins),
                            predict_crops(source, "classification", robot_crops, bins), strict=True):
        assert np.array_equal(ours, theirs)
    # The trainer's --init-from says how many tensors it took, then fine-tunes.
    train_depth(DepthTrainConfig(**common, init_from=path, run_dir=tmp_path / "tuned"))
    assert f"initialised {copied} of {copied} tensors from {path}" in capsys.readouterr().out
    other = save_checkpoint(tmp_path / "ae.pt", "autoencoder", {"model": source.state_dict()}, variant="conv")
    with pytest.raises(UsageError, match="holds a 'autoencoder' model; expected 'depth_hourglass'"):
        train_depth(DepthTrainConfig(**common, init_from=other, run_dir=tmp_path / "refused"))
