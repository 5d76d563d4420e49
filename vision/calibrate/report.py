"""Calibrate many frames, score them against their exact cameras and write what was found.

:func:`calibrate_frames` is what ``visiongym calibrate`` and ``benchmarks/calibration.py`` run:
per frame, :func:`~visiongym.vision.calibrate.fit.calibrate_frame`, the error figures when the
exact camera is known, a JSON file of the estimated camera and an overlay picture; a frame that
cannot be calibrated is skipped with a warning and counted. :func:`summary_rows` turns the
records into one row of figures per look.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from visiongym.sims.errors import UsageError
from visiongym.sims.soccer.builders import PitchSpec
from visiongym.vision.calibrate.detect import PitchNotVisible
from visiongym.vision.calibrate.evaluate import camera_errors, overlay
from visiongym.vision.calibrate.fit import CalibrationFailed, calibrate_frame
from visiongym.vision.calibrate.frames import Frame

__all__ = ["calibrate_frames", "summary_rows", "SUMMARY_COLUMNS", "NotCalibratedWarning"]

#: Columns of the printed summary, one row per look.
SUMMARY_COLUMNS = ("frames", "calibrated", "reproj_px", "reproj_p90", "reproj_max", "pos_cm", "pos_cm_p90",
                   "pos_rel_%", "rot_deg", "fov_deg", "focal_%", "s/frame")


class NotCalibratedWarning(UserWarning):
    """A frame was skipped: its pitch was not visible enough, or no camera fitted it."""


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)


def calibrate_frames(frames: Iterable[Frame], spec: PitchSpec, out: Path | None = None, pictures: int = 4,
                     progress: bool = True, total: int | None = None, writer=None) -> list[dict[str, Any]]:
    """Calibrate every frame; return one record per frame (``calibrated``, the errors, seconds).

    Args:
        frames: the frames (with exact cameras where known).
        spec: the pitch.
        out: folder for ``cameras/<name>.json`` and ``overlays/<name>.png`` (None: write nothing).
        pictures: overlay pictures written per look (the first frames of each).
        progress: show a progress bar.
        total: frames expected, for the bar.
        writer: a TensorBoard ``SummaryWriter`` for per-frame figures (``calibrate/<look>/...``).
    """
    from tqdm import tqdm

    from visiongym.vision.data.format import write_image

    records: list[dict[str, Any]] = []
    pictured: dict[str, int] = {}
    for frame in tqdm(frames, total=total, desc="calibrate", unit="frame", disable=not progress):
        started = time.perf_counter()
        record: dict[str, Any] = {"name": frame.name, "look": frame.look}
        result = None
        try:
            result = calibrate_frame(frame.rgb, spec, keep_features=True)
        except (PitchNotVisible, CalibrationFailed) as error:
            warnings.warn(f"frame {frame.name} not calibrated: {error}", NotCalibratedWarning, stacklevel=2)
            record.update(calibrated=False, reason=str(error))
        record["seconds"] = time.perf_counter() - started
        if result is not None:
            record.update(calibrated=True, camera=result.to_dict())
            if frame.camera is not None:
                record["errors"] = camera_errors(result.camera, frame.camera, spec)
                if writer is not None:
                    step = sum(1 for r in records if r["look"] == frame.look)
                    for key, value in record["errors"].items():
                        writer.add_scalar(f"calibrate/{frame.look}/{key}", value, step)
        if frame.camera is not None:
            record["exact"] = {"position": frame.camera.position.tolist(), "rotation": frame.camera.rotation.tolist(),
                               "fovy": float(frame.camera.fovy)}
        if out is not None:
            _write_json(Path(out) / "cameras" / f"{frame.name}.json", record)
            if pictured.get(frame.look, 0) < pictures:
                pictured[frame.look] = pictured.get(frame.look, 0) + 1
                picture = overlay(frame.rgb, None if result is None else result.camera, spec, frame.camera,
                                  None if result is None else result.features)
                write_image(Path(out) / "overlays" / f"{frame.name}.png", picture)
        records.append(record)
    return records


def summary_rows(records: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """One row of :data:`SUMMARY_COLUMNS` per look, and an ``all`` row when there are several.

    ``calibrated`` is the share of frames calibrated; the error columns are means over the
    calibrated frames with an exact camera (``_p90``: 90th percentile, ``reproj_max``: the largest
    point error of any frame; signed errors as magnitudes): ``reproj_px`` reprojection error,
    ``pos_cm`` / ``pos_rel_%`` camera position error in cm and in % of the camera's distance to
    the centre spot, ``rot_deg`` orientation error, ``fov_deg`` field-of-view error, ``focal_%``
    focal length error; ``s/frame`` seconds per frame."""
    if not records:
        raise UsageError("no frames to summarise; give at least one frame")
    looks = list(dict.fromkeys(r["look"] for r in records))
    groups = {look: [r for r in records if r["look"] == look] for look in looks}
    if len(looks) > 1:
        groups["all"] = records
    rows = {}
    for look, group in groups.items():
        done = [r for r in group if r["calibrated"]]
        scored = [r["errors"] for r in done if "errors" in r]
        row: dict[str, float] = {"frames": len(group), "calibrated": len(done) / len(group),
                                 "s/frame": float(np.mean([r["seconds"] for r in group]))}
        if scored:
            def values(key: str) -> np.ndarray:
                return np.abs([e[key] for e in scored])  # noqa: B023

            row.update({
                "reproj_px": float(values("reprojection_px").mean()),
                "reproj_p90": float(np.percentile(values("reprojection_px"), 90)),
                "reproj_max": float(values("reprojection_max_px").max()),
                "pos_cm": float(values("position_cm").mean()),
                "pos_cm_p90": float(np.percentile(values("position_cm"), 90)),
                "pos_rel_%": float(100 * values("position_rel").mean()),
                "rot_deg": float(values("rotation_deg").mean()),
                "fov_deg": float(values("fovy_deg").mean()),
                "focal_%": float(100 * values("focal_rel").mean()),
            })
        rows[look] = {key: row[key] for key in SUMMARY_COLUMNS if key in row}
    return rows
