"""Read and write the point clouds of a tabletop reconstruction: one binary PLY file per frame.

The one layout the pipeline writes and the viewer reads (``DIR/frames/000000.ply`` ...)::

    ply
    format binary_little_endian 1.0
    element vertex N
    property float x            world metres, pitch centre origin, z up
    property float y
    property float z
    property uchar red
    property uchar green
    property uchar blue
    property int track          player track id; -1 for anything else (ball, pitch, ...)
    end_header
    N records of 19 bytes

Other PLY files (ASCII, other properties) are refused with a message naming this layout, so a
file from elsewhere fails loudly instead of being misread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visiongym.sims.errors import MissingFileError, UsageError

__all__ = ["PLY_DTYPE", "PointCloud", "frame_path", "read_ply", "write_ply"]

#: One vertex record, as stored (little-endian, packed).
PLY_DTYPE = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"), ("green", "u1"),
                      ("blue", "u1"), ("track", "<i4")])
_PROPERTIES = [("float", "x"), ("float", "y"), ("float", "z"), ("uchar", "red"), ("uchar", "green"),
               ("uchar", "blue"), ("int", "track")]
_EXPECTED = ("binary_little_endian 1.0 PLY with one 'vertex' element of properties "
             + ", ".join(f"{kind} {name}" for kind, name in _PROPERTIES))


@dataclass(frozen=True)
class PointCloud:
    """One frame's points: ``points`` (N, 3) float32, ``colours`` (N, 3) uint8, ``tracks`` (N,) int32."""

    points: np.ndarray
    colours: np.ndarray
    tracks: np.ndarray

    def __len__(self) -> int:
        return len(self.points)


def frame_path(folder: str | os.PathLike, index: int) -> Path:
    """Where frame ``index`` of a reconstruction folder lives: ``folder/frames/000123.ply``."""
    return Path(folder) / "frames" / f"{int(index):06d}.ply"


def write_ply(path: str | os.PathLike, points, colours, tracks=None) -> Path:
    """Write one frame's points (atomically: a temporary file renamed into place).

    Args:
        path: the ``.ply`` file to write; its folder is created.
        points: (N, 3) world positions in metres.
        colours: (N, 3) RGB, 0-255.
        tracks: (N,) player track ids, -1 for points of no player (default: all -1).
    """
    points = np.asarray(points, np.float32).reshape(-1, 3)
    colours = np.asarray(colours).reshape(-1, 3)
    tracks = np.full(len(points), -1, np.int32) if tracks is None else np.asarray(tracks).reshape(-1)
    if len(colours) != len(points) or len(tracks) != len(points):
        raise UsageError(f"write_ply needs as many colours ({len(colours)}) and tracks ({len(tracks)}) "
                         f"as points ({len(points)})")
    records = np.empty(len(points), PLY_DTYPE)
    for axis, name in enumerate("xyz"):
        records[name] = points[:, axis]
    for channel, name in enumerate(("red", "green", "blue")):
        records[name] = np.clip(colours[:, channel], 0, 255)
    records["track"] = tracks
    header = ["ply", "format binary_little_endian 1.0", f"element vertex {len(points)}"]
    header += [f"property {kind} {name}" for kind, name in _PROPERTIES] + ["end_header"]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as file:
        file.write(("\n".join(header) + "\n").encode("ascii"))
        file.write(records.tobytes())
    os.replace(partial, path)
    return path


def read_ply(path: str | os.PathLike) -> PointCloud:
    """Read a frame written by :func:`write_ply`; anything else raises UsageError naming the layout."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"point cloud {str(path)!r} not found; expected a {_EXPECTED}")
    raw = path.read_bytes()
    end = raw.find(b"end_header\n")
    if not raw.startswith(b"ply\n") or end < 0:
        raise UsageError(f"{str(path)!r} is not a PLY file (no 'ply' ... 'end_header'); expected a {_EXPECTED}")
    lines = [line.strip() for line in raw[:end].decode("ascii", "replace").splitlines()[1:]]
    lines = [line for line in lines if line and not line.startswith(("comment", "obj_info"))]
    count = None
    if lines and lines[0] == "format binary_little_endian 1.0" and len(lines) >= 2:
        parts = lines[1].split()
        if len(parts) == 3 and parts[:2] == ["element", "vertex"] and parts[2].isdigit():
            count = int(parts[2])
    properties = [tuple(line.split()[1:]) for line in lines[2:]]
    if count is None or properties != _PROPERTIES:
        raise UsageError(f"{str(path)!r} has header {lines!r}; expected a {_EXPECTED}")
    body = raw[end + len(b"end_header\n"):]
    if len(body) != count * PLY_DTYPE.itemsize:
        raise UsageError(f"{str(path)!r} holds {len(body)} bytes of vertices, not the "
                         f"{count} x {PLY_DTYPE.itemsize} its header promises (truncated?)")
    records = np.frombuffer(body, PLY_DTYPE)
    points = np.stack([records[name] for name in "xyz"], axis=1).astype(np.float32)
    colours = np.stack([records[name] for name in ("red", "green", "blue")], axis=1)
    return PointCloud(points=points, colours=colours, tracks=records["track"].astype(np.int32))
