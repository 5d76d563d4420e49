"""Robustness suite: corruptions, shift families, scorers, mCE, and the command end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from visiongym.sims.errors import UsageError
from visiongym.vision.data.format import read_image
from visiongym.vision.data.render_soccer import RenderConfig, render_dataset
from visiongym.vision.data.sources import ShapesFrameSource
from visiongym.vision.robustness.corruptions import (
    CORRUPTIONS,
    SEVERITIES,
    corrupt,
    corruption_names,
    get_corruption,
)
from visiongym.vision.robustness.report import corruption_errors
from visiongym.vision.robustness.scorers import load_scorer
from visiongym.vision.robustness.shifts import (
    SHIFT_FAMILIES,
    EvalFrames,
    ImageCorruptions,
    SimulatorShift,
    SimulatorShifts,
    load_eval_frames,
)
from visiongym.vision.robustness.suite import RobustnessConfig, run_robustness
from visiongym.vision.runtime import save_checkpoint

GROUPS = {"noise", "blur", "weather", "digital"}


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-12)))


@pytest.fixture(scope="module")
def soccer_frames(soccer_dataset: Path) -> list[np.ndarray]:
    """Two rendered 64 px soccer frames (textured, unlike the flat shapes)."""
    return [read_image(soccer_dataset / "test" / f"images/{i:06d}.png") for i in range(2)]


def test_the_list_covers_imagenet_c_groups_and_names_are_unique():
    assert len(CORRUPTIONS) == 14 and set(corruption_names()) == set(CORRUPTIONS)
    assert {c.group for c in CORRUPTIONS.values()} == GROUPS
    assert [c.name for c in CORRUPTIONS.values() if c.moves_pixels] == ["elastic_transform"]


@pytest.mark.parametrize("name", corruption_names())
def test_corruption_is_deterministic_and_keeps_dtype_and_shape(name: str):
    image = ShapesFrameSource(size=48).frame(np.random.default_rng(1))["rgb"][:, :40]
    first = corrupt(image, name, 3, seed=7)
    assert first.dtype == np.uint8 and first.shape == image.shape
    assert np.array_equal(first, corrupt(image, name, 3, seed=7))
    assert not np.array_equal(first, image)
    assert np.array_equal(image, ShapesFrameSource(size=48).frame(np.random.default_rng(1))["rgb"][:, :40])


@pytest.mark.parametrize("name", corruption_names())
def test_corruption_gets_stronger_with_severity(name: str, soccer_frames):
    for frame in soccer_frames:
        values = [_psnr(corrupt(frame, name, severity, seed=0), frame) for severity in SEVERITIES]
        assert all(np.diff(values) < 0), (name, [round(v, 2) for v in values])


def test_unknown_corruption_and_severity_name_the_allowed_ones():
    image = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(UsageError, match="corruption 'fogg' unknown; choose one of: gaussian_noise, shot_noise"):
        corrupt(image, "fogg", 1)
    for severity in (0, 6):
        with pytest.raises(UsageError, match=f"severity {severity} unknown; choose one of: 1, 2, 3, 4, 5"):
            corrupt(image, "fog", severity)
    with pytest.raises(UsageError, match="uint8 \\(H, W, 3\\)"):
        corrupt(image.astype(np.float32), "fog", 1)
    with pytest.raises(UsageError, match="corruption 'fogg' unknown"):
        ImageCorruptions(["fog", "fogg"])
    with pytest.raises(UsageError, match="severity 9 unknown"):
        ImageCorruptions(severities=[1, 9])
    with pytest.raises(UsageError, match="shift family 'weather' unknown; choose one of: corruptions, simulator"):
        SHIFT_FAMILIES.check("weather")


def test_elastic_moves_masks_and_boxes_with_the_pixels():
    image = np.zeros((64, 64, 3), np.uint8)
    image[20:40, 24:44] = 255
    mask = (image[..., 0] > 0).astype(np.uint8)[None]
    target = {"boxes": np.array([[24, 20, 44, 40]], np.float32), "labels": np.array([2]), "masks": mask}
    frames = EvalFrames([image], [target], [{"id": 0}])
    shifted = ImageCorruptions(["elastic_transform"], seed=3).apply(frames, "elastic_transform", 5)
    warped, warped_mask = shifted.images[0][..., 0] > 127, shifted.targets[0]["masks"][0] > 0
    assert not np.array_equal(warped_mask, mask[0] > 0)  # it did move
    assert (warped & warped_mask).sum() / (warped | warped_mask).sum() > 0.95
    ys, xs = np.nonzero(warped_mask)
    assert shifted.targets[0]["boxes"].tolist() == [[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]]
    assert np.array_equal(shifted.references[0], image)  # a reconstruction should give the clean frame
    # Every other corruption keeps the labels as they are.
    kept = ImageCorruptions(["zoom_blur"]).apply(frames, "zoom_blur", 5)
    assert kept.targets[0] is target


def _shapes_renderer(info, record, appearance):
    """Re-render a shapes frame from its recorded seed, then tint it: a stand-in appearance."""
    ground_truth = ShapesFrameSource(size=info["size"]).frame(
        np.random.default_rng(np.random.SeedSequence(record["seed"]))
    )
    rgb = ground_truth["rgb"].astype(np.float32) * np.asarray(appearance, np.float32)
    return {**ground_truth, "rgb": np.clip(rgb, 0, 255).astype(np.uint8)}


def test_simulator_family_rerenders_each_frame_from_its_seed(shapes_dataset: Path):
    frames = load_eval_frames(shapes_dataset, "test")
    family = SimulatorShifts(
        [SimulatorShift("tint", {1: (1.0, 1.0, 1.0), 3: (1.2, 0.7, 0.7)}, _shapes_renderer)]
    )
    assert family.shifts == ("tint",) and family.severities("tint") == (1, 3)
    same = family.apply(frames, "tint", 1)
    for image, again in zip(frames.images, same.images, strict=True):
        assert np.array_equal(image, again)  # the recorded seed reproduces the frame
    for target, again in zip(frames.targets, same.targets, strict=True):
        assert np.allclose(target["boxes"], again["boxes"]) and np.array_equal(target["labels"], again["labels"])
    tinted = family.apply(frames, "tint", 3)
    assert not np.array_equal(tinted.images[0], frames.images[0])
    assert np.array_equal(tinted.references[0], tinted.images[0])
    with pytest.raises(UsageError, match="severity 2 unknown for simulator shift 'tint'; choose one of: 1, 3"):
        family.apply(frames, "tint", 2)
    with pytest.raises(UsageError, match="simulator shift 'dusk' unknown; choose one of: tint"):
        family.severities("dusk")


def test_mce_normalised_and_not():
    rows = [
        {"family": "clean", "shift": "clean", "error": 0.1, "baseline_error": 0.2},
        {"family": "corruptions", "shift": "fog", "error": 0.3, "baseline_error": 0.4},
        {"family": "corruptions", "shift": "fog", "error": 0.5, "baseline_error": 0.6},
        {"family": "corruptions", "shift": "snow", "error": 0.2, "baseline_error": 0.8},
    ]
    plain = corruption_errors(rows, normalised=False)["corruptions"]
    assert plain["shifts"]["fog"]["ce"] == pytest.approx(0.4)
    assert plain["mce"] == pytest.approx((0.4 + 0.2) / 2) and "relative_mce" not in plain
    scaled = corruption_errors(rows, normalised=True)["corruptions"]
    assert scaled["shifts"]["fog"]["ce"] == pytest.approx(0.8 / 1.0)
    assert scaled["shifts"]["fog"]["rce"] == pytest.approx((0.2 + 0.4) / (0.2 + 0.4))
    assert scaled["shifts"]["snow"]["rce"] == pytest.approx(0.1 / 0.6)
    assert scaled["mce"] == pytest.approx((0.8 + 0.25) / 2)


@pytest.fixture(scope="module")
def shapes_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 flat 64 px frames (no OpenGL): train 16, val 2, test 2."""
    out = tmp_path_factory.mktemp("shapes") / "shapes"
    render_dataset(
        RenderConfig(out=out, frames=20, size=64, source="shapes", depth="none", workers=1, progress=False)
    )
    return out


def _two_steps(model: torch.nn.Module, loss) -> None:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(2):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()


@pytest.fixture(scope="module")
def tiny_checkpoints(shapes_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A grid_tiny detector and two tiny autoencoders, each trained for two steps on shapes frames."""
    from visiongym.vision.autoencoders.models import build_autoencoder
    from visiongym.vision.data.dataset import load_frames
    from visiongym.vision.detect.engine import Detector

    folder = tmp_path_factory.mktemp("checkpoints")
    frames = load_eval_frames(shapes_dataset, "train")
    images = torch.from_numpy(np.stack(frames.images)).permute(0, 3, 1, 2)
    targets = [{"boxes": torch.from_numpy(t["boxes"]), "labels": torch.from_numpy(t["labels"])} for t in frames.targets]
    torch.manual_seed(0)
    detector = Detector("grid_tiny", image_size=64)
    _two_steps(detector, lambda: detector.loss(images[:8], targets[:8])[0])
    paths = {"detector": detector.save(folder / "det" / "detector.pt", epoch=1)}
    clean = load_frames(shapes_dataset, "train", size=32).float() / 255
    for name, seed in (("ae", 0), ("ae_base", 1)):
        torch.manual_seed(seed)
        model = build_autoencoder("tiny", image_size=(32, 32))
        _two_steps(model, lambda model=model: torch.nn.functional.mse_loss(model(clean)[0], clean))
        paths[name] = save_checkpoint(
            folder / name / "autoencoder.pt", "autoencoder", {"model": model.state_dict()},
            variant="conv", arch="tiny", image_size=[32, 32], epoch=1,
        )
    return paths


def test_a_checkpoint_the_suite_cannot_score_is_a_clear_error(tmp_path: Path, tiny_checkpoints):
    path = save_checkpoint(tmp_path / "gan.pt", "dcgan", {"generator": {}})
    with pytest.raises(UsageError, match="holds a 'dcgan' model, which the robustness suite cannot score; "
                                         "it scores checkpoints of kind: detector, autoencoder, frame_classifier"):
        load_scorer(path)
    assert load_scorer(tiny_checkpoints["detector"]).metric == "map_50"


def test_baseline_of_another_kind_is_refused(shapes_dataset: Path, tiny_checkpoints, tmp_path: Path):
    config = RobustnessConfig(
        model=tiny_checkpoints["detector"], baseline=tiny_checkpoints["ae"], data=shapes_dataset,
        out=tmp_path, progress=False,
    )
    with pytest.raises(UsageError, match="baseline .* is scored by 'psnr', the model by 'map_50'"):
        run_robustness(config)


def test_command_scores_a_detector_and_writes_table_and_grid(shapes_dataset: Path, tiny_checkpoints, tmp_path: Path):
    from PIL import Image

    from visiongym.vision.robustness.__main__ import main

    out = tmp_path / "det"
    main(["--model", str(tiny_checkpoints["detector"]), "--data", str(shapes_dataset), "--split", "train",
          "--limit", "4", "--corruptions", "gaussian_noise", "elastic_transform", "fog",
          "--severities", "1", "5", "--out", str(out), "--no-progress"])
    with (out / "scores.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["shift"], r["severity"]) for r in rows] == [
        ("clean", "0"), ("gaussian_noise", "1"), ("gaussian_noise", "5"), ("elastic_transform", "1"),
        ("elastic_transform", "5"), ("fog", "1"), ("fog", "5"),
    ]
    assert {"map_50", "map", "drop", "error"} <= set(rows[0])
    summary = json.loads((out / "scores.json").read_text())["summary"]
    assert summary["metric"] == "map_50" and summary["mce_normalised"] is False
    assert summary["error_definition"] == "1 - mAP@0.5"
    assert 0.0 <= summary["corruption_errors"]["corruptions"]["mce"] <= 1.0
    assert "unnormalised mean error" in (out / "table.md").read_text()
    with Image.open(out / "grid.png") as grid:
        pixels = np.asarray(grid.convert("RGB"))
    assert pixels.shape[0] > 1.3 * pixels.shape[1]  # 4 rows (clean + 3 corruptions), 2 columns
    assert (pixels[..., 1] > pixels[..., 0] + 40).mean() > 0.05  # the green pitch, many times


def test_command_scores_an_autoencoder_against_a_baseline(shapes_dataset: Path, tiny_checkpoints, tmp_path: Path):
    result = run_robustness(
        RobustnessConfig(
            model=tiny_checkpoints["ae"], baseline=tiny_checkpoints["ae_base"], data=shapes_dataset,
            split="train", limit=3, corruptions=("impulse_noise", "contrast"), severities=(2,),
            out=tmp_path / "ae", progress=False,
        )
    )
    summary, rows = result["summary"], result["rows"]
    assert summary["metric"] == "psnr" and summary["mce_normalised"] is True
    clean = rows[0]
    for row in rows[1:]:
        assert row["drop"] == pytest.approx(clean["psnr"] - row["psnr"])
        assert row["error"] == pytest.approx(row["mse"]) and "baseline_error" in row
    assert set(summary["corruption_errors"]["corruptions"]) == {"shifts", "mce", "relative_mce"}
    assert (tmp_path / "ae" / "grid.png").is_file() and (tmp_path / "ae" / "config.yaml").is_file()


def test_bad_names_end_in_one_error_line(run_module, tmp_path: Path):
    result = run_module("visiongym.vision.robustness", "--model", tmp_path / "none.pt", "--corruptions", "fogg")
    assert result.returncode == 2
    assert "error: corruption 'fogg' unknown; choose one of: gaussian_noise" in result.stderr
    assert "Traceback" not in result.stderr
    assert get_corruption("fog").group == "weather"


def test_simulator_family_restyles_soccer_frames_from_their_seeds(soccer_dataset: Path):
    family = SHIFT_FAMILIES.build("simulator")
    assert {"held_out", "light_dim", "camera_high", "kits_out_of_range"} <= set(family.shifts)
    assert family.severities("light_dim") == (1,)
    from visiongym.vision.data.render_soccer import Rerenderer

    frames = load_eval_frames(soccer_dataset, "test", limit=2)
    # A shift is the default look with one factor changed: the test frames' own states, drawn
    # without their training-range camera jitter.
    default = [Rerenderer()(frames.info, record, "default") for record in frames.records]
    dim = family.apply(frames, "light_dim", 1)
    for plain, shifted, shifted_target in zip(default, dim.images, dim.targets, strict=True):
        assert shifted.mean() < plain["rgb"].mean() - 5  # a dimmer light, the same state and view
        assert np.array_equal(shifted_target["boxes"], plain["boxes"].astype(np.float32))
        assert np.array_equal(shifted_target["labels"], plain["labels"])
    high = family.apply(frames, "camera_high", 1)
    moved = [not np.allclose(a["boxes"], b["boxes"], atol=1.0) for a, b in zip(default, high.targets, strict=True)
             if len(a["boxes"]) == len(b["boxes"])]
    assert any(moved)  # a camera shift moves the boxes with the view


def test_simulator_family_needs_a_soccer_dataset(shapes_dataset: Path, tiny_checkpoints, tmp_path: Path):
    with pytest.raises(UsageError, match="'simulator' re-renders soccer frames.*choose the family: corruptions"):
        run_robustness(RobustnessConfig(model=tiny_checkpoints["detector"], data=shapes_dataset, split="train",
                                        limit=2, families=("simulator",), out=tmp_path / "x", progress=False))
