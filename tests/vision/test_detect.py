"""Grid detector: target assignment, decoding, tiny real learning, the training entry, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from visiongym.vision.detect.engine import Detector, evaluate, load_detector
from visiongym.vision.detect.loss import assign_targets
from visiongym.vision.detect.model import GridDetector, build_detector, decode_predictions
from visiongym.vision.runtime import CheckpointError, save_checkpoint


def test_assignment_puts_each_object_in_its_centre_cell_and_small_wins():
    targets = [
        {
            "boxes": torch.tensor(
                [[0.0, 0.0, 14.0, 14.0], [6.0, 6.0, 9.0, 9.0], [20.0, 4.0, 28.0, 12.0]]
            ),
            "labels": torch.tensor([2, 1, 4]),
        }
    ]
    objectness, classes, boxes = assign_targets(targets, (8, 8), 4, torch.device("cpu"))
    assert objectness.sum() == 2  # the player and the ball share cell (1, 1): the ball wins
    assert classes[0, 1, 1] == 0 and boxes[0, 1, 1].tolist() == [6.0, 6.0, 9.0, 9.0]
    assert classes[0, 2, 6] == 3 and objectness[0, 2, 6] == 1


def test_decoding_keeps_confident_cells_and_suppresses_duplicates():
    raw = torch.full((1, 9, 4, 4), -10.0)
    boxes = torch.zeros(1, 4, 4, 4)
    for (y, x), box in {
        (0, 0): [0, 0, 8, 8],
        (0, 1): [0.5, 0, 8.5, 8],
        (3, 3): [10, 10, 16, 16],
    }.items():
        raw[0, 0, y, x] = 5.0  # objectness
        raw[0, 5 + 2, y, x] = 5.0  # class index 2 -> label 3
        boxes[0, y, x] = torch.tensor(box, dtype=torch.float32)
    raw[0, 0, 0, 1] = 4.0  # the overlapping duplicate is less confident
    (detections,) = decode_predictions(raw, boxes, score_threshold=0.5, iou_threshold=0.5)
    assert detections["labels"].tolist() == [3, 3]
    assert detections["boxes"].tolist() == [[0, 0, 8, 8], [10, 10, 16, 16]]


def _one_square(generator: torch.Generator, count: int, size: int = 64):
    images = torch.zeros(count, 3, size, size, dtype=torch.uint8)
    images[:, 1] = 90  # green pitch
    targets = []
    for index in range(count):
        side = int(torch.randint(14, 24, (1,), generator=generator))
        x0, y0 = (int(v) for v in torch.randint(0, size - side, (2,), generator=generator))
        images[index, :, y0 : y0 + side, x0 : x0 + side] = torch.tensor(
            [220, 40, 40], dtype=torch.uint8
        )[:, None, None]
        targets.append(
            {
                "boxes": torch.tensor([[x0, y0, x0 + side, y0 + side]], dtype=torch.float32),
                "labels": torch.tensor([2]),
            }
        )
    return images, targets


@pytest.fixture(scope="module")
def square_detector() -> Detector:
    """grid_tiny trained briefly to find one large red square (label 2, team_a) on green."""
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    detector = Detector("grid_tiny", image_size=64)
    optimizer = torch.optim.AdamW(detector.parameters(), lr=1e-2)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    for _ in range(80):
        images, targets = _one_square(generator, 8)
        loss, _ = detector.loss(images, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.set_num_threads(previous)
    return detector.eval()


def test_grid_detector_learns_to_find_a_single_large_object(square_detector: Detector):
    scores = evaluate(square_detector, [_one_square(torch.Generator().manual_seed(99), 16)])
    assert scores["map_50"] > 0.8, scores


def test_fine_grid_has_stride_two_and_learns_a_three_pixel_ball():
    assert build_detector("grid_fine").grid_size == (64, 64)
    with pytest.raises(ValueError, match="grid_stride 8 unsupported; choose one of: 2, 4"):
        GridDetector(grid_stride=8)
    torch.manual_seed(0)
    net = GridDetector(num_classes=4, widths=(8, 16, 32), image_size=(32, 32), grid_stride=2)
    assert net.grid_size == (16, 16) and net.stride == 2
    detector = Detector("grid_tiny", image_size=32)
    detector.net = net
    scores = _learn_balls(detector)
    assert scores["map_50"] > 0.7, scores


def _learn_balls(detector: Detector, steps: int = 100) -> dict[str, float]:
    """Train ``detector`` (32 px) on white 3-pixel balls on green; its mAP on fresh balls."""
    generator = torch.Generator().manual_seed(0)

    def balls(count: int) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
        images = torch.zeros(count, 3, 32, 32, dtype=torch.uint8)
        images[:, 1] = 120
        targets = []
        for index in range(count):
            x0, y0 = (int(v) for v in torch.randint(2, 27, (2,), generator=generator))
            images[index, :, y0 : y0 + 3, x0 : x0 + 3] = 255
            boxes = torch.tensor([[x0, y0, x0 + 3, y0 + 3]], dtype=torch.float32)
            targets.append({"boxes": boxes, "labels": torch.tensor([1])})
        return images, targets

    optimizer = torch.optim.AdamW(detector.parameters(), lr=1e-2)
    for _ in range(steps):
        loss, _ = detector.loss(*balls(8))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return evaluate(detector.eval(), [balls(32)])


def test_detector_as_observation_wrapper(square_detector: Detector):
    import gymnasium as gym
    import numpy as np

    from visiongym.vision.detect.wrapper import DetectedObjects

    images, targets = _one_square(torch.Generator().manual_seed(5), 1, size=64)
    frame = images[0].permute(1, 2, 0).numpy()

    class Pixels(gym.Env):
        observation_space = gym.spaces.Box(0, 255, (64, 64, 3), np.uint8)
        action_space = gym.spaces.Discrete(2)

        def reset(self, *, seed=None, options=None):
            return frame, {}

        def step(self, action):
            return frame, 0.0, False, False, {}

    env = DetectedObjects(Pixels(), square_detector, players_per_team=2, score_threshold=0.3)
    observation, _ = env.reset()
    assert env.observation_space.contains(observation) and observation.shape == (
        7 * 6,
    )  # ball, 2 + 2 players, 2 goals
    slots = dict(zip(env.slot_names(), observation.tolist(), strict=True))
    x0, y0, x1, y1 = targets[0]["boxes"][0].tolist()
    assert slots["team_a0.present"] == 1.0 and slots["ball0.present"] == 0.0
    assert slots["team_a0.x"] == pytest.approx((x0 + x1) / 128, abs=0.05)
    assert slots["team_a0.y"] == pytest.approx((y0 + y1) / 128, abs=0.05)
    with pytest.raises(ValueError, match="needs RGB pixel observations"):
        DetectedObjects(gym.make("CartPole-v1"), square_detector)


def test_one_batched_pass_over_a_vector_env_equals_the_per_env_wrapper(square_detector: Detector):
    """DetectedObjectsVector runs the detector once per vector step, on every env's frame; each
    env's vector is what DetectedObjects gives that env alone, through resets and autoresets."""
    import gymnasium as gym
    import numpy as np

    from visiongym.vision.detect.wrapper import DetectedObjects, DetectedObjectsVector

    images, _ = _one_square(torch.Generator().manual_seed(7), 12, size=64)
    frames = images.permute(0, 2, 3, 1).numpy()

    class Squares(gym.Env):
        """A new square frame each step (which one: from the seed); episodes of three steps."""

        observation_space = gym.spaces.Box(0, 255, (64, 64, 3), np.uint8)
        action_space = gym.spaces.Discrete(2)

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            self.t = 0
            return frames[self.np_random.integers(len(frames))], {}

        def step(self, action):
            self.t += 1
            return frames[(self.np_random.integers(len(frames)) + action) % len(frames)], 0.0, self.t == 3, False, {}

    def envs(wrap_each: bool) -> gym.vector.VectorEnv:
        make = (lambda: DetectedObjects(Squares(), square_detector, players_per_team=1)) if wrap_each else Squares
        return gym.vector.SyncVectorEnv([make] * 3, autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP)

    batched = DetectedObjectsVector(envs(False), square_detector, players_per_team=1)
    calls = []
    hook = batched.objects._grid.register_forward_pre_hook(lambda _, inputs: calls.append(len(inputs[0])))
    try:
        batched_obs, _ = batched.reset(seed=3)
        steps = [batched.step(np.array([0, 1, 1]))[0] for _ in range(5)]
    finally:
        hook.remove()
    assert calls == [3] * 6, "one pass of all three envs per reset and per step"
    assert batched.single_observation_space == gym.spaces.Box(0.0, 1.0, (5 * 6,), np.float32)
    assert batched.observation_space.shape == (3, 30) and batched.slot_names()[0] == "ball0.present"
    per_env = envs(True)
    per_env_obs, _ = per_env.reset(seed=3)
    np.testing.assert_allclose(batched_obs, per_env_obs, atol=1e-5)
    found = 0
    for observation in steps:
        expected = per_env.step(np.array([0, 1, 1]))[0]
        np.testing.assert_allclose(observation, expected, atol=1e-5)
        found += int((observation[:, 6] == 1.0).sum())  # team_a0.present: the square was seen
    assert found >= 12, "the comparison is not of empty vectors"
    with pytest.raises(ValueError, match="DetectedObjectsVector needs RGB pixel observations"):
        DetectedObjectsVector(gym.make_vec("CartPole-v1", num_envs=2), square_detector)


@pytest.mark.parametrize("threshold", [0.3, 0.02])
def test_batched_slots_of_a_grid_detector_equal_predict_then_fill(square_detector: Detector, threshold: float):
    """The grid path (folded batch norms, NMS picks batched over frames and classes) gives the
    vectors of predict() + per-frame slot filling, also at a low threshold where many
    overlapping cells fire and the class-wise NMS decides which fill the slots."""
    import numpy as np

    from visiongym.vision.detect.wrapper import ObjectSlots, fold_batch_norms

    squares, _ = _one_square(torch.Generator().manual_seed(2), 8, size=64)
    noise = torch.randint(0, 256, (4, 3, 64, 64), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    images = torch.cat([squares, noise])
    found = square_detector.predict(images, score_threshold=threshold)
    assert max(len(f["scores"]) for f in found) < 100, "below predict's cap of 100 detections a frame"
    slots = ObjectSlots(square_detector, players_per_team=3, score_threshold=threshold)
    expected = np.stack([slots._vector(f, 64) for f in found])
    np.testing.assert_allclose(slots(images.permute(0, 2, 3, 1).numpy()), expected, atol=1e-5)
    assert expected[:8, 6].min() == 1.0, "the square fills team_a's first slot in every square frame"
    if threshold < 0.1:
        assert (expected[:, 6::6][:, :3] == 1.0).sum() > 8, "more than one team_a slot: NMS chose them"
    folded = fold_batch_norms(square_detector.net)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in square_detector.net.modules()), "original kept"
    with torch.no_grad():
        torch.testing.assert_close(folded(images), square_detector.net(images), atol=1e-4, rtol=1e-4)


def test_predict_draws_boxes_on_an_image(square_detector: Detector, tmp_path: Path):
    import imageio.v3 as iio

    from visiongym.vision.detect.predict import PredictConfig, predict_file

    images, _ = _one_square(torch.Generator().manual_seed(7), 1)
    iio.imwrite(tmp_path / "frame.png", images[0].permute(1, 2, 0).numpy())
    square_detector.save(tmp_path / "detector.pt")
    out = predict_file(
        PredictConfig(
            tmp_path / "frame.png", checkpoint=tmp_path / "detector.pt", score_threshold=0.3
        )
    )
    drawn = iio.imread(out)
    assert drawn.shape == (64, 64, 3) and not np_equal(drawn, images[0].permute(1, 2, 0).numpy())
    with pytest.raises(ValueError, match="unsupported"):
        (tmp_path / "notes.txt").write_text("x")
        predict_file(PredictConfig(tmp_path / "notes.txt", checkpoint=tmp_path / "detector.pt"))


def np_equal(a, b) -> bool:
    import numpy as np

    return bool(np.array_equal(a, b))


def test_training_entry_writes_a_checkpoint_and_scores(soccer_dataset: Path, tmp_path: Path):
    from visiongym.vision.detect.train import DetectorTrainConfig, train_detector

    config = DetectorTrainConfig(
        data=soccer_dataset,
        model="grid_tiny",
        image_size=64,
        epochs=1,
        batch_size=12,
        run_dir=tmp_path,
        fps_frames=3,
        progress=False,
    )
    scores = train_detector(config)
    assert {"map", "map_50", "ap50/ball", "ap50/team_a", "fps_cpu"} <= set(scores)
    detector, payload = load_detector(tmp_path / "detector.pt")
    assert payload["meta"]["model"] == "grid_tiny" and payload["meta"]["epoch"] == 1
    with pytest.raises(ValueError, match=r"image size \(128, 128\) does not match"):
        detector.predict(torch.zeros(1, 3, 128, 128, dtype=torch.uint8))


def test_checkpoint_of_another_model_is_refused(tmp_path: Path):
    path = save_checkpoint(tmp_path / "ae.pt", "autoencoder", {"model": {}}, variant="conv")
    with pytest.raises(CheckpointError, match="holds a 'autoencoder' model; expected 'detector'"):
        load_detector(path)


def test_unknown_model_names_the_choices():
    with pytest.raises(ValueError, match="choose one of: grid_small, grid_fine, grid_tiny, grid_nano, grid_pico, faster_rcnn"):
        Detector("yolo9000")
    with pytest.raises(ValueError, match="choose one of"):
        build_detector("nope")


def test_faster_rcnn_builds_without_weights_and_predicts():
    detector = Detector("faster_rcnn", image_size=64)
    (detections,) = detector.predict(torch.zeros(1, 3, 64, 64, dtype=torch.uint8))
    assert set(detections) == {"boxes", "scores", "labels"}


def test_vision_command_ends_bad_input_with_one_error_line(tmp_path, run_module):
    missing = tmp_path / "nowhere"
    result = run_module("visiongym.vision.detect.train", "--data", missing)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: dataset folder {str(missing)!r} does not exist")
    assert "Traceback" not in result.stderr


def test_pico_grid_is_the_cheap_cut_and_still_learns_a_three_pixel_ball():
    pico, nano = build_detector("grid_pico", image_size=(48, 48)), build_detector("grid_nano", image_size=(48, 48))
    assert pico.grid_size == nano.grid_size == (24, 24)
    assert not any(isinstance(m, torch.nn.SiLU) for m in pico.modules())
    assert len(pico.neck) == 1 and pico.head.in_channels == nano.head.in_channels == 16
    assert len(GridDetector(widths=(8, 16, 32), first_residual=False).stages[0]) == 1
    with pytest.raises(ValueError, match="neck 'deep' unknown; choose one of: residual, conv"):
        GridDetector(neck="deep")
    with pytest.raises(ValueError, match="activation 'gelu' unknown; choose one of: silu, relu"):
        GridDetector(activation="gelu")
    torch.manual_seed(0)
    scores = _learn_balls(Detector("grid_pico", image_size=32))
    assert scores["map_50"] > 0.7, scores


def test_int8_slots_match_float_after_calibration(square_detector: Detector):
    """--detector-int8 (visiongym.vision.detect.quantize): float while it calibrates, then int8
    convolutions that find the same objects."""
    import numpy as np

    from visiongym.vision.detect.wrapper import ObjectSlots

    def frames(seed: int, count: int):
        images, targets = _one_square(torch.Generator().manual_seed(seed), count, size=64)
        boxes = torch.cat([target["boxes"] for target in targets])
        return images.permute(0, 2, 3, 1).numpy(), ((boxes[:, :2] + boxes[:, 2:]) / 2 / 64).numpy()

    exact = ObjectSlots(square_detector, players_per_team=1)
    int8 = ObjectSlots(square_detector, players_per_team=1, int8=True, calibration_frames=32)
    calibration, _ = frames(1000, 32)
    np.testing.assert_allclose(int8(calibration), exact(calibration), atol=1e-5)  # float while it calibrates
    assert int8._grid.calibrated
    test, centres = frames(2000, 64)
    ours, reference = int8(test).reshape(64, -1, 6), exact(test).reshape(64, -1, 6)
    team_a = 1  # slot order: ball, team_a0, team_b0, goal0, goal1
    assert reference[:, team_a, 0].mean() > 0.8, "the float detector finds most squares"
    assert (ours[:, team_a, 0] == reference[:, team_a, 0]).mean() >= 0.95
    both = (ours[:, team_a, 0] > 0) & (reference[:, team_a, 0] > 0)
    shift = np.abs(ours[both, team_a, 1:3] - reference[both, team_a, 1:3]).max(-1) * 64
    # the same cell and box in most frames; in the others a neighbouring cell (4 px away) wins a near-tie
    assert (shift < 1.0).mean() >= 0.9 and shift.max() < 6.0, shift
    assert np.abs(ours[both, team_a, 1:3] - centres[both]).mean() * 64 < 2.0


def test_int8_is_refused_where_it_cannot_run(square_detector: Detector):
    from visiongym.vision.detect.quantize import Int8GridNetwork

    with pytest.raises(ValueError, match="calibration_frames=0 must be at least 1"):
        Int8GridNetwork(square_detector.net, calibration_frames=0)
    with pytest.raises(ValueError, match="int8 runs grid detectors only; got Linear"):
        Int8GridNetwork(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"image size \(32, 32\) does not match this detector's \(64, 64\)"):
        Int8GridNetwork(square_detector.net)(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))
