"""The tabletop pipeline: calibrate -> segment -> depth -> lift -> track -> render, scored
against the simulator's exact 3-D when the clip has it.

Outputs (the folder contract the viewer reads; written atomically, see :func:`atomic_folder`):

- ``frames/000000.ply`` ...: one binary PLY per input frame (players' points, track ids);
- ``reconstruction.json``: ``format``, ``frames``, ``fps``, ``pitch``, ``cameras`` (per frame, or
  null when skipped), ``tracks``, ``stages`` (learned/oracle) and ``skipped_frames``;
- ``ar_view.mp4``: input | the reconstruction on a tabletop from a new viewpoint;
- ``scores.json``: the end-to-end scores (when the clip has exact labels) and stage times.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from visiongym.sims.errors import UsageError
from visiongym.vision.tabletop.clip import Clip
from visiongym.vision.tabletop.lift import chamfer, foot_pixel, ground_position, lift_player
from visiongym.vision.tabletop.plyio import PointCloud, frame_path, write_ply
from visiongym.vision.tabletop.render import orbit_camera, side_by_side
from visiongym.vision.tabletop.stages import (
    STAGES,
    LearnedDepth,
    LearnedSegmenter,
    OracleDepth,
    OracleSegmenter,
    true_identity,
)
from visiongym.vision.tabletop.track import Tracker, count_id_switches
from visiongym.vision.tabletop.viewer import FORMAT, SceneRenderer

__all__ = ["FORMAT", "PitchSkippedWarning", "PipelineResult", "load_stages", "reconstruct", "atomic_folder", "write_outputs"]

VIEW_HEIGHT = 480  # pixels: inputs smaller than this are shown, and re-rendered, enlarged


class PitchSkippedWarning(UserWarning):
    """A frame was skipped: no pitch visible, or no camera explains its lines."""


@dataclass
class FrameResult:
    camera: Any = None  # CameraModel, None when skipped
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.float32))
    colours: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.uint8))
    tracks: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    positions: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    skipped: str | None = None


@dataclass
class PipelineResult:
    frames: list[FrameResult]
    tracks: dict[int, dict[str, Any]]
    stages: dict[str, str]
    times: dict[str, float]
    scores: dict[str, Any]


def load_stages(oracle: tuple[str, ...], segment_checkpoint=None, depth_checkpoint=None, device: str = "cpu",
                has_truth: bool = True) -> dict[str, Any]:
    """The segment and depth stages: oracles, or models loaded from their checkpoints (a missing
    checkpoint, or one of another kind, raises :class:`UsageError`)."""
    if oracle and not has_truth:
        raise UsageError(f"oracle stages {', '.join(oracle)} need the simulator's labels; a video file has none "
                         "(use --demo, or give checkpoints instead)")
    models = {}
    for stage, checkpoint, learned, exact, command in (
        ("segment", segment_checkpoint, LearnedSegmenter, OracleSegmenter, "visiongym segment train"),
        ("depth", depth_checkpoint, LearnedDepth, OracleDepth, "visiongym depth train"),
    ):
        if stage in oracle:
            models[stage] = exact()
        elif checkpoint is not None:
            models[stage] = learned(checkpoint, device)
        else:
            raise UsageError(f"stage {stage!r} has no checkpoint: give --{stage}-checkpoint (written by "
                             f"`{command}`) or --oracle {stage} (demo clips only); nothing is trained at run time")
    return models


def _calibrate(rgb: np.ndarray, clip: Clip, truth: dict | None, oracle: bool, prior):
    """The frame's camera: exact (oracle), or calibrated from the pitch lines. With a ``prior``
    (the previous frame's camera) only the refinement runs, from it: camera tracking, about 8x
    faster than the full grid search; if that fails the full search runs."""
    from visiongym.vision.calibrate import CalibrationFailed, SearchGrid, calibrate_frame
    from visiongym.vision.calibrate.detect import detect_features

    if oracle:
        detect_features(rgb)  # the same "no pitch visible" policy as the calibrated path
        return truth["camera"]
    if prior is not None:
        grid = SearchGrid(yaw=(0.0,), roll=(0.0,), height=(1.0,), distance=(1.0,), fov=(1.0,), starts=1, finalists=1)
        try:
            return calibrate_frame(rgb, clip.pitch, prior=prior, grid=grid).camera
        except CalibrationFailed:
            pass
    return calibrate_frame(rgb, clip.pitch).camera


def reconstruct(clip: Clip, oracle: tuple[str, ...] = (), segment_checkpoint: str | Path | None = None,
                depth_checkpoint: str | Path | None = None, device: str = "cpu", subsample: int = 2,
                progress: bool = True, models: dict[str, Any] | None = None,
                cameras: list[Any] | None = None) -> PipelineResult:
    """Run every stage over ``clip``; score against exact 3-D when the clip has it.

    ``models`` (from :func:`load_stages`) replaces loading the checkpoints here; ``cameras``
    (a ``camera`` per frame of an earlier result, None where it skipped) replaces calibrating
    again, for comparing stage models on one calibration (its time then counts as zero).
    """
    from visiongym.vision.calibrate import CalibrationFailed, PitchNotVisible

    if models is None:
        models = load_stages(oracle, segment_checkpoint, depth_checkpoint, device, clip.has_truth)
    elif oracle and not clip.has_truth:
        raise UsageError(f"oracle stages {', '.join(oracle)} need the simulator's labels; a video file has none")
    stages = {"calibrate": "oracle" if "calibrate" in oracle else "classical"}
    stages.update({s: getattr(models[s], "kind", "learned") for s in ("segment", "depth")})
    stages.update(lift="geometry", track="hungarian")
    times = dict.fromkeys(STAGES[:-1], 0.0)
    tracker, results, prior = Tracker(), [], None
    assignments: list[dict[int, int]] = []
    ground_errors, chamfers, found, visible = [], [], 0, 0
    iterator = enumerate(clip.frames)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, total=len(clip.frames), desc="tabletop", unit="frame")
    for index, frame in iterator:
        truth = frame.truth
        start = time.perf_counter()
        try:
            if cameras is not None:
                camera = cameras[index]
                if camera is None:
                    raise PitchNotVisible("skipped by the calibration given")
            else:
                camera = _calibrate(frame.rgb, clip, truth, "calibrate" in oracle, prior)
        except (PitchNotVisible, CalibrationFailed) as error:
            warnings.warn(f"frame {index} skipped: {error}", PitchSkippedWarning, stacklevel=2)
            results.append(FrameResult(skipped=f"{type(error).__name__}: {error}"))
            prior = None  # the next frame is calibrated from scratch
            times["calibrate"] += time.perf_counter() - start
            assignments.append({})
            continue
        prior = camera
        times["calibrate"] += time.perf_counter() - start
        start = time.perf_counter()
        detections = models["segment"](frame.rgb, truth)
        times["segment"] += time.perf_counter() - start
        start = time.perf_counter()
        models["depth"](frame.rgb, detections, truth)
        times["depth"] += time.perf_counter() - start
        start = time.perf_counter()
        positions = ground_position(camera, np.array([foot_pixel(d.mask) for d in detections]).reshape(-1, 2))
        lifted = [lift_player(frame.rgb, d.mask, d.relative, camera, p, subsample)
                  for d, p in zip(detections, positions, strict=True)]
        times["lift"] += time.perf_counter() - start
        start = time.perf_counter()
        ids = tracker.update(index, positions, np.array([d.team for d in detections], int))
        times["track"] += time.perf_counter() - start
        results.append(FrameResult(
            camera=camera,
            points=np.concatenate([p for p, _, _ in lifted]) if lifted else np.zeros((0, 3), np.float32),
            colours=np.concatenate([c for _, c, _ in lifted]) if lifted else np.zeros((0, 3), np.uint8),
            tracks=np.concatenate([np.full(len(p), i, np.int32) for (p, _, _), i in zip(lifted, ids, strict=True)])
            if lifted else np.zeros(0, np.int32),
            positions=positions,
        ))
        if truth is not None:
            players = len(truth["teams"])
            visible += sum(int((truth["instance_mask"] == 2 + i).sum() >= 8) for i in range(players))
            frame_assignment = {}
            for detection, (points, _, position), track_id in zip(detections, lifted, ids, strict=True):
                identity = true_identity(detection.mask, truth["instance_mask"], players)
                if identity < 0 or identity in frame_assignment:
                    continue
                found += 1
                frame_assignment[identity] = int(track_id)
                player = identity - 2
                ground_errors.append(float(np.linalg.norm(position - truth["positions"][player])))
                chamfers.append(chamfer(points, truth["surface_points"][player]))
            assignments.append(frame_assignment)
    tracks = {int(t.id): {"team": int(t.team), "frames": [int(f) for f in t.frames]}
              for t in tracker.all_tracks().values()}
    calibrated = sum(r.skipped is None for r in results)
    scores: dict[str, Any] = {"frames": len(results), "calibrated_frames": calibrated,
                              "skipped_frames": len(results) - calibrated, "tracks": len(tracks)}
    if clip.has_truth:
        scores.update(_truth_scores(ground_errors, chamfers, assignments, found, visible))
        scores["camera_pos_cm"] = _camera_error(clip, results)
    return PipelineResult(results, tracks, stages, times, scores)


def _truth_scores(ground_errors, chamfers, assignments, found, visible) -> dict[str, Any]:
    errors = np.asarray(ground_errors) * 100
    mean = (lambda key: float(np.mean([c[key] for c in chamfers]) * 100)) if chamfers else (lambda key: float("nan"))
    return {
        "players_found": found, "players_visible": visible,
        "recall": found / visible if visible else float("nan"),
        "ground_cm": float(errors.mean()) if errors.size else float("nan"),
        "ground_cm_p90": float(np.percentile(errors, 90)) if errors.size else float("nan"),
        "chamfer_cm": mean("chamfer"), "accuracy_cm": mean("accuracy"), "completeness_cm": mean("completeness"),
        "id_switches": count_id_switches(assignments),
    }


def _camera_error(clip: Clip, results: list[FrameResult]) -> float:
    errors = [np.linalg.norm(r.camera.position - f.truth["camera"].position) * 100
              for r, f in zip(results, clip.frames, strict=True) if r.camera is not None]
    return float(np.mean(errors)) if errors else float("nan")


def _camera_json(camera) -> dict[str, Any] | None:
    if camera is None:
        return None
    return {"position": [float(x) for x in camera.position], "rotation": np.asarray(camera.rotation, float).tolist(),
            "fovy": float(camera.fovy), "image_size": [int(camera.height), int(camera.width)]}


@contextlib.contextmanager
def atomic_folder(out: str | Path):
    """Yield a temporary folder beside ``out``; on success it replaces ``out`` in one rename,
    on any failure or interruption it is removed, so ``out`` is complete or absent (or, if it
    existed, the earlier complete run)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, old / "previous")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def render_tabletop(renderer: SceneRenderer, camera, frame) -> np.ndarray:
    """``frame``'s reconstruction seen from ``camera``, drawn on the viewer's table
    (:class:`~visiongym.vision.tabletop.viewer.SceneRenderer`: the AR view and the 3-D viewer
    draw the same picture)."""
    cloud = PointCloud(np.asarray(frame.points, np.float32).reshape(-1, 3),
                       np.asarray(frame.colours, np.uint8).reshape(-1, 3), np.asarray(frame.tracks, np.int32).reshape(-1))
    return renderer.render(cloud, camera)


def write_outputs(folder: Path, clip: Clip, result: PipelineResult, progress: bool = False) -> None:
    """Write the folder contract into ``folder`` (a fresh temporary folder)."""
    import imageio.v2 as imageio

    (folder / "frames").mkdir()
    for index, frame in enumerate(result.frames):
        write_ply(frame_path(folder, index), frame.points, frame.colours, frame.tracks)
    pitch = clip.pitch
    reconstruction = {
        "format": FORMAT, "frames": len(result.frames), "fps": float(clip.fps),
        "pitch": {"length": float(pitch.length), "width": float(pitch.width), "goal_width": float(pitch.goal_width)},
        "cameras": [_camera_json(frame.camera) for frame in result.frames],
        "tracks": {str(k): v for k, v in result.tracks.items()},
        "stages": {k: ("oracle" if v == "oracle" else "learned") for k, v in result.stages.items()
                   if k in ("calibrate", "segment", "depth")},
        "skipped_frames": [i for i, frame in enumerate(result.frames) if frame.skipped is not None],
        "source": clip.source,
    }
    (folder / "reconstruction.json").write_text(json.dumps(reconstruction, indent=1))
    start = time.perf_counter()
    height, width = clip.image_size
    scale = max(1, round(VIEW_HEIGHT / height))  # the re-render is drawn larger than small inputs
    writer = imageio.get_writer(folder / "ar_view.mp4", fps=clip.fps, codec="libx264", quality=8,
                                macro_block_size=1, ffmpeg_log_level="error")
    try:
        count = len(result.frames)
        renderer = SceneRenderer(pitch)
        for index, (frame, input_frame) in enumerate(zip(result.frames, clip.frames, strict=True)):
            camera = orbit_camera(pitch, height * scale, width * scale, index / max(count - 1, 1))
            view = render_tabletop(renderer, camera, frame)
            shown = np.repeat(np.repeat(np.asarray(input_frame.rgb), scale, axis=0), scale, axis=1)
            label = "reconstruction, new view" if frame.skipped is None else "frame skipped: no pitch"
            writer.append_data(side_by_side(shown, view, ("input", label)))
    finally:
        writer.close()
    result.times["render"] = time.perf_counter() - start
    frames = len(result.frames)
    scores = dict(result.scores)
    scores["stages"] = result.stages
    scores["seconds"] = {k: round(v, 4) for k, v in result.times.items()}
    scores["fps"] = {k: (frames / v if v > 0 else float("inf")) for k, v in result.times.items()}
    total = sum(result.times.values())
    scores["fps"]["total"] = frames / total if total > 0 else float("inf")
    result.scores = scores
    (folder / "scores.json").write_text(json.dumps(scores, indent=1))
