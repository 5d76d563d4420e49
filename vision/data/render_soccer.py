"""Render a labelled dataset from the simulator: ``python -m visiongym.vision.data.render_soccer``.

Example::

    python -m visiongym.vision.data.render_soccer --frames 20000 --camera broadcast --size 128 --out data/soccer

Frames are split into train/val/test by fraction. Frame ``i`` of split ``s`` draws every random
choice from ``SeedSequence([seed, s, i])``, so splits never share a random stream and any frame
can be re-rendered alone, also with another look (:func:`rerender`: the same state, so the same
boxes and masks unless the camera moves). Each frame's look is drawn from ``--appearance``
(default ``random``: the training distribution of :mod:`visiongym.sims.appearance`; ``default``
is the built-in look) and recorded in its image record (``look``). Work is spread over ``--workers`` processes (default: all CPUs), each
building its own scene; a progress bar counts frames. The format is described in
:mod:`visiongym.vision.data.format` and ``docs/vision.md``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError
from visiongym.vision.data.format import (
    CLASS_NAMES,
    DEPTH_FORMATS,
    FORMAT_VERSION,
    SPLITS,
    annotations_from_ground_truth,
    depth_to_png16,
    keypoint_categories,
    write_humans,
    write_image,
    write_split_annotations,
)
from visiongym.vision.data.sources import SOURCES, make_source

__all__ = ["RenderConfig", "render_dataset", "split_sizes", "frame_rng", "rerender", "Rerenderer"]


@dataclass
class RenderConfig:
    """Render a COCO-style dataset of simulator frames."""

    out: Path = Path("data/soccer")
    """Output folder (created; files of an earlier render there are overwritten, and the annotations list only this render's frames)."""
    frames: int = 2000
    """Total number of frames over all splits."""
    val_fraction: float = 0.1
    """Share of frames in the validation split."""
    test_fraction: float = 0.1
    """Share of frames in the test split."""
    camera: Literal["broadcast", "top", "ego", "follow", "heading"] = "broadcast"
    """Camera: broadcast (side view), top (orthographic), or a random player's own view: ego (its
    head), follow (straight down on a square half the pitch long, centred on it, north up: the
    soccer env's camera=follow) or heading (the same square turning with it)."""
    size: int = 128
    """Square image side in pixels."""
    seed: int = 0
    """Base seed; split s, frame i uses SeedSequence([seed, s, i])."""
    workers: int = 0
    """Worker processes; 0 means os.cpu_count(). 1 renders in this process."""
    depth: Literal["png16", "npy", "none"] = "png16"
    """Depth storage: 16-bit PNG in millimetres, float32 .npy in metres, or none."""
    source: Literal["soccer", "shapes"] = "soccer"
    """Frame source: the MuJoCo soccer scene, or flat 2-D shapes (pipeline smoke tests only)."""
    team_colours: Literal["kits", "random"] = "kits"
    """kits: each team a random shade of its own hue band (team A reds, team B blues), so team
    identity is visible; random: the simulator's fully random team colours."""
    appearance: str = "random"
    """Looks: random (the training distribution), default (the built-in look), held_out, a shift
    name (light_dim, camera_high, ...) or key=value,... (keys: docs/vision.md)."""
    players: Literal["robot", "human"] = "robot"
    """What the players look like: round robots, or humans in team kits posed from gait clips
    (adds skeleton keypoints to the player annotations and humans/<frame>.npz with keypoints,
    surface points and per-player depth)."""
    chunk: int = 16
    """Frames per worker task."""
    progress: bool = True
    """Show a progress bar."""


def split_sizes(frames: int, val_fraction: float, test_fraction: float) -> dict[str, int]:
    """Frames per split; every split gets at least one frame when ``frames >= 3``."""
    if frames < 1:
        raise UsageError(f"frames={frames} must be at least 1")
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= value < 1.0:
            raise UsageError(f"{name}={value} must be in [0, 1)")
    if val_fraction + test_fraction >= 1.0:
        raise UsageError(
            f"val_fraction + test_fraction = {val_fraction + test_fraction} leaves no training frames"
        )
    val = max(1 if val_fraction > 0 and frames >= 3 else 0, round(frames * val_fraction))
    test = max(1 if test_fraction > 0 and frames >= 3 else 0, round(frames * test_fraction))
    return {"train": frames - val - test, "val": val, "test": test}


def frame_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator of frame ``index`` in ``split``; streams of different splits never overlap."""
    return np.random.default_rng(np.random.SeedSequence([seed, SPLITS.index(split), index]))


_WORKER_SOURCE = None


def _render_chunk(job: tuple[dict[str, Any], str, list[int]]) -> list[dict[str, Any]]:
    """Render frames ``indices`` of ``split`` and write their files; return their COCO records."""
    global _WORKER_SOURCE
    config, split, indices = job
    if _WORKER_SOURCE is None:
        _WORKER_SOURCE = make_source(
            config["source"], config["camera"], config["size"], config["team_colours"], config["appearance"],
            config["players"],
        )
    out = Path(config["out"]) / split
    records = []
    for index in indices:
        rng = frame_rng(config["seed"], split, index)
        ground_truth = _WORKER_SOURCE.frame(rng)
        stem = f"{index:06d}"
        image = {
            "id": index,
            "file_name": f"images/{stem}.png",
            "width": int(ground_truth["rgb"].shape[1]),
            "height": int(ground_truth["rgb"].shape[0]),
            "seed": [config["seed"], SPLITS.index(split), index],
            **ground_truth.get("meta", {}),
        }
        write_image(out / image["file_name"], ground_truth["rgb"])
        if config["depth"] == "png16":
            image["depth_file"] = f"depth/{stem}.png"
            write_image(out / image["depth_file"], depth_to_png16(ground_truth["depth"]))
        elif config["depth"] == "npy":
            image["depth_file"] = f"depth/{stem}.npy"
            (out / "depth").mkdir(parents=True, exist_ok=True)
            np.save(out / image["depth_file"], ground_truth["depth"].astype(np.float32))
        if "keypoints" in ground_truth:
            image["humans_file"] = f"humans/{stem}.npz"
            write_humans(out / image["humans_file"], ground_truth)
        # Annotation ids are made unique later, once all chunks are back.
        records.append(
            {"image": image, "annotations": annotations_from_ground_truth(ground_truth, index, 0)}
        )
    return records


def render_dataset(config: RenderConfig) -> dict[str, Any]:
    """Render every split of ``config``; return the ``dataset.json`` contents."""
    if config.source not in SOURCES:
        raise UsageError(f"source {config.source!r} unknown; choose one of: {', '.join(SOURCES)}")
    if config.depth not in DEPTH_FORMATS:
        raise UsageError(
            f"depth {config.depth!r} unknown; choose one of: {', '.join(DEPTH_FORMATS)}"
        )
    if config.players != "robot" and config.source != "soccer":
        raise UsageError(f"players={config.players!r} needs source='soccer'; {config.source!r} draws no humans")
    if config.size < 16:
        raise UsageError(f"size={config.size} is too small; use at least 16 pixels")
    from visiongym.sims.appearance import make_appearance

    make_appearance(config.appearance)  # a bad name fails here, not in every worker
    sizes = split_sizes(config.frames, config.val_fraction, config.test_fraction)
    workers = config.workers or os.cpu_count() or 1
    job_config = {**asdict(config), "out": str(config.out)}
    jobs = [
        (job_config, split, list(range(start, min(start + config.chunk, count))))
        for split, count in sizes.items()
        for start in range(0, count, config.chunk)
    ]
    results: dict[str, list[dict[str, Any]]] = {split: [] for split in sizes}
    started = time.perf_counter()
    from tqdm import tqdm

    with tqdm(total=config.frames, desc="render", unit="frame", disable=not config.progress) as bar:
        if workers == 1:
            outputs = map(_render_chunk, jobs)
            for job, records in zip(jobs, outputs, strict=True):
                results[job[1]].extend(records)
                bar.update(len(records))
        else:
            # spawn, not fork: every worker opens its own OpenGL context from a clean process.
            context = multiprocessing.get_context("spawn")
            with context.Pool(min(workers, len(jobs))) as pool:
                for job, records in zip(jobs, pool.imap(_render_chunk, jobs), strict=True):
                    results[job[1]].extend(records)
                    bar.update(len(records))
    global _WORKER_SOURCE
    if _WORKER_SOURCE is not None:
        _WORKER_SOURCE.close()
        _WORKER_SOURCE = None
    categories = keypoint_categories() if config.players == "human" else None
    for split, records in results.items():
        write_split_annotations(config.out, split, records, f"visiongym {config.source} {split} split",
                                categories)
    info = {
        "format_version": FORMAT_VERSION,
        "source": config.source,
        "camera": config.camera,
        "size": config.size,
        "depth": config.depth,
        "team_colours": config.team_colours,
        "appearance": config.appearance,
        "players": config.players,
        "depth_units": {"png16": "millimetres", "npy": "metres", "none": None}[config.depth],
        "class_names": list(CLASS_NAMES),
        "seed": config.seed,
        "splits": {
            split: {"frames": count, "seed_prefix": [config.seed, SPLITS.index(split)]}
            for split, count in sizes.items()
        },
        "render_seconds": round(time.perf_counter() - started, 2),
        "workers": workers,
    }
    (config.out / "dataset.json").write_text(json.dumps(info, indent=2))
    return info


class Rerenderer:
    """Re-renders dataset frames from their recorded seeds, under any look.

    ``rerenderer(info, image, appearance)`` takes the dataset's ``dataset.json`` contents and one
    image record of its annotations, rebuilds the frame's generator from ``image["seed"]`` and
    renders it with ``appearance``; the look is drawn from a child of that generator, so the
    state (players, ball, camera choice) is the frame's own and only the look changes. One frame
    source is kept per dataset setting, so a whole split re-renders without rebuilding scenes.
    """

    def __init__(self) -> None:
        self._sources: dict[tuple, Any] = {}

    def __call__(self, info: dict[str, Any], image: dict[str, Any], appearance: Any = "default") -> dict[str, Any]:
        key = (info["source"], info["camera"], info["size"], info.get("team_colours", "kits"), "random",
               info.get("players", "robot"))
        if key not in self._sources:
            self._sources[key] = make_source(*key)
        rng = np.random.default_rng(np.random.SeedSequence(image["seed"]))
        return self._sources[key].frame(rng, appearance=appearance)

    def close(self) -> None:
        for source in self._sources.values():
            source.close()
        self._sources.clear()


def rerender(dataset_folder: str | Path, split: str, index: int, appearance: Any = "default") -> dict[str, Any]:
    """Frame ``index`` of ``split`` rendered again from its recorded seed, with another look.

    A colour-only ``appearance`` (lights, tints, kits, textures) leaves the boxes and masks
    unchanged (see :class:`Rerenderer`, which re-renders many frames).

    Returns the ground-truth dict of :meth:`SoccerScene.render_ground_truth` (plus ``meta``).
    """
    folder = Path(dataset_folder)
    info_path, annotations_path = folder / "dataset.json", folder / split / "annotations.json"
    for path in (info_path, annotations_path):
        if not path.is_file():
            raise UsageError(f"{path} not found; is {folder} a dataset written by render-data?")
    info = json.loads(info_path.read_text())
    images = {image["id"]: image for image in json.loads(annotations_path.read_text())["images"]}
    if index not in images:
        raise UsageError(f"frame {index} not in split {split!r}; it has frames 0 to {len(images) - 1}")
    rerenderer = Rerenderer()
    try:
        return rerenderer(info, images[index], appearance)
    finally:
        rerenderer.close()


def main(argv: list[str] | None = None) -> None:
    import tyro

    config = tyro.cli(RenderConfig, args=argv)
    info = render_dataset(config)
    splits = ", ".join(f"{name} {entry['frames']}" for name, entry in info["splits"].items())
    print(
        f"wrote {config.frames} frames ({splits}) to {config.out} in {info['render_seconds']} s "
        f"with {info['workers']} workers ({config.frames / max(info['render_seconds'], 1e-9):.1f} frames/s)"
    )


if __name__ == "__main__":
    run_command(main)
