"""The on-disk dataset format: images, 16-bit depth and COCO-style annotations per split.

Layout written by ``python -m visiongym.vision.data.render_soccer`` (documented in ``docs/vision.md``)::

    <root>/dataset.json                 # format version, classes, size, camera, seeds per split
    <root>/<split>/images/000000.png    # RGB uint8
    <root>/<split>/depth/000000.png     # uint16 millimetres along the camera axis (or .npy float32 m)
    <root>/<split>/annotations.json     # COCO: images, annotations (bbox, RLE segmentation), categories
    <root>/<split>/humans/000000.npz    # render-data --players human: keypoints, surface points (see write_humans)

Category ids are the simulator's class indices (``ball=1, team_a=2, team_b=3, goal=4``; 0 is
background), so a class mask from the simulator and a COCO ``category_id`` mean the same thing.
Every annotation also keeps the simulator's ``instance_id``, ``team``, ``number`` and
``visible_pixels``. With human players (``render-data --players human``) the player annotations
also carry COCO ``keypoints`` and ``num_keypoints``, the player categories name the
:data:`KEYPOINT_NAMES` and :data:`SKELETON`, and each image record names a ``humans_file``
(:func:`write_humans`). This module has no torch dependency: render workers import it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from visiongym.sims.errors import UsageError

__all__ = [
    "FORMAT_VERSION",
    "CLASS_NAMES",
    "KEYPOINT_NAMES",
    "SKELETON",
    "HUMANS_KEYS",
    "DETECTION_CLASSES",
    "SPLITS",
    "DatasetFormatError",
    "annotations_from_ground_truth",
    "coco_annotation",
    "coco_categories",
    "depth_to_png16",
    "keypoint_categories",
    "read_humans",
    "write_humans",
    "png16_to_depth",
    "read_dataset_info",
    "read_split",
    "write_image",
    "read_image",
    "write_split_annotations",
]

FORMAT_VERSION = 1
# Same order as ``visiongym.sims.soccer.CLASS_NAMES`` (checked by tests/vision/test_data.py).
CLASS_NAMES: tuple[str, ...] = ("background", "ball", "team_a", "team_b", "goal")
DETECTION_CLASSES: tuple[str, ...] = CLASS_NAMES[1:]
SPLITS: tuple[str, ...] = ("train", "val", "test")
DEPTH_FORMATS: tuple[str, ...] = ("png16", "npy", "none")
# Same as ``visiongym.sims.soccer.humans.KEYPOINT_NAMES`` and ``SKELETON`` (checked by
# tests/vision/test_data.py), spelled out so this module imports without MuJoCo.
KEYPOINT_NAMES: tuple[str, ...] = (
    "head", "neck", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
    "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_toe", "right_toe",
)
SKELETON: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7), (1, 8), (1, 9), (8, 9), (8, 10), (9, 11),
    (10, 12), (11, 13), (12, 14), (13, 15),
)
#: Arrays of a ``humans/<frame>.npz`` file, per player in player order (instance ``2 + i``).
HUMANS_KEYS: tuple[str, ...] = ("keypoints", "keypoints_3d", "keypoints_depth", "player_depth",
                                "surface_points", "surface_normals")


class DatasetFormatError(UsageError):
    """A dataset folder is missing, incomplete or does not follow the documented format."""


def coco_categories() -> list[dict[str, Any]]:
    """COCO ``categories`` entries: id = simulator class index, background excluded."""
    return [
        {"id": index, "name": name, "supercategory": "player" if name.startswith("team") else name}
        for index, name in enumerate(CLASS_NAMES)
        if index > 0
    ]


def keypoint_categories() -> list[dict[str, Any]]:
    """:func:`coco_categories` with COCO ``keypoints`` and ``skeleton`` (1-based) on the players."""
    categories = coco_categories()
    for category in categories:
        if category["supercategory"] == "player":
            category["keypoints"] = list(KEYPOINT_NAMES)
            category["skeleton"] = [[a + 1, b + 1] for a, b in SKELETON]
    return categories


def write_humans(path: Path, ground_truth: dict[str, np.ndarray]) -> None:
    """Write a frame's human ground truth (:data:`HUMANS_KEYS`, float16 for the surface) as ``.npz``.

    ``keypoints`` (P, K, 3) float32 (u, v, visibility 0/1/2) in pixels, ``keypoints_3d`` (P, K, 3)
    world metres, ``keypoints_depth`` (P, K) and ``player_depth`` (P,) metres along the camera
    axis, ``surface_points`` and ``surface_normals`` (P, N, 3) world frame, and
    ``instance_ids`` (P,) of the players in the instance mask.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {key: np.asarray(ground_truth[key], np.float32) for key in HUMANS_KEYS}
    arrays["surface_normals"] = arrays["surface_normals"].astype(np.float16)
    arrays["instance_ids"] = np.arange(len(arrays["keypoints"]), dtype=np.int64) + 2
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def read_humans(path: Path) -> dict[str, np.ndarray]:
    """Read a file written by :func:`write_humans` (normals back to float32)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except FileNotFoundError as error:
        raise DatasetFormatError(f"humans file {str(path)!r} is missing") from error
    except (OSError, ValueError) as error:
        raise DatasetFormatError(f"humans file {str(path)!r} is corrupt ({error})") from error
    missing = sorted(set(HUMANS_KEYS) - set(arrays))
    if missing:
        raise DatasetFormatError(f"humans file {str(path)!r} lacks {missing}")
    arrays["surface_normals"] = arrays["surface_normals"].astype(np.float32)
    return arrays


def depth_to_png16(depth_m: np.ndarray) -> np.ndarray:
    """Metres (float) to uint16 millimetres; values beyond 65.535 m (e.g. the sky) saturate at 65535."""
    return np.clip(np.round(depth_m * 1000.0), 0, 65535).astype(np.uint16)


def png16_to_depth(depth_mm: np.ndarray) -> np.ndarray:
    """uint16 millimetres back to float32 metres."""
    return depth_mm.astype(np.float32) / 1000.0


def write_image(path: Path, array: np.ndarray) -> None:
    """Write an RGB uint8 (H, W, 3) or uint16 (H, W) array as PNG."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    if array.dtype == np.uint16:
        Image.fromarray(np.ascontiguousarray(array)).save(path)  # uint16 -> mode I;16
    else:
        Image.fromarray(np.ascontiguousarray(array)).save(path)


def read_image(path: Path) -> np.ndarray:
    """Read a PNG written by :func:`write_image`; corrupt files raise :class:`DatasetFormatError`."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.mode in ("I;16", "I;16B", "I"):
                return np.array(image, dtype=np.uint16)
            return np.array(image.convert("RGB"), dtype=np.uint8)
    except FileNotFoundError as error:
        raise DatasetFormatError(f"image file {str(path)!r} is missing") from error
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise DatasetFormatError(f"image file {str(path)!r} is corrupt ({error})") from error


def annotations_from_ground_truth(
    ground_truth: dict[str, np.ndarray], image_id: int, first_annotation_id: int
) -> list[dict[str, Any]]:
    """Turn one ``render_ground_truth`` dict into COCO annotations with RLE masks.

    Args:
        ground_truth: the simulator's dict (``boxes`` xyxy pixels, ``labels``, ``instance_mask``...).
        image_id: COCO image id.
        first_annotation_id: id of the first annotation; the rest follow consecutively.
    """
    instance_mask = ground_truth["instance_mask"]
    keypoints = ground_truth.get("keypoints")
    annotations = []
    for k, (box, label) in enumerate(
        zip(ground_truth["boxes"], ground_truth["labels"], strict=True)
    ):
        instance_id = int(ground_truth["instance_ids"][k])
        annotation = coco_annotation(
            first_annotation_id + k, image_id, int(label), box, instance_mask == instance_id
        )
        annotation.update(
            instance_id=instance_id,
            team=int(ground_truth["teams"][k]),
            number=int(ground_truth["numbers"][k]),
            visible_pixels=int(ground_truth["visible_pixels"][k]),
        )
        if keypoints is not None and 2 <= instance_id < 2 + len(keypoints):
            points = np.asarray(keypoints[instance_id - 2], np.float64).copy()
            points[points[:, 2] == 0, :2] = 0.0  # COCO: an unlabelled keypoint is (0, 0, 0)
            annotation["keypoints"] = [round(float(v), 3) for v in points.ravel()]
            annotation["num_keypoints"] = int((points[:, 2] > 0).sum())
        annotations.append(annotation)
    return annotations


def coco_annotation(
    annotation_id: int, image_id: int, category_id: int, box_xyxy, binary_mask: np.ndarray
) -> dict[str, Any]:
    """One COCO annotation: ``bbox`` as x, y, w, h and the mask as compressed RLE (its area too)."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(binary_mask.astype(np.uint8)))
    x0, y0, x1, y1 = (float(v) for v in box_xyxy)
    return {
        "id": annotation_id,
        "image_id": image_id,
        "category_id": category_id,
        "bbox": [x0, y0, x1 - x0, y1 - y0],
        "area": float(mask_utils.area(rle)),
        "segmentation": {"size": list(rle["size"]), "counts": rle["counts"].decode("ascii")},
        "iscrowd": 0,
    }


def write_split_annotations(
    root: str | Path, split: str, records: list[dict[str, Any]], description: str,
    categories: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Write ``<root>/<split>/annotations.json`` from per-frame records; return the COCO dict.

    Args:
        root: dataset folder.
        split: split name.
        records: one ``{"image": <COCO image record>, "annotations": [...]}`` per frame, in any
            order; frames are sorted by image id and annotation ids renumbered from 1.
        description: the COCO ``info.description``.
        categories: the COCO categories (default :func:`coco_categories`).
    """
    records = sorted(records, key=lambda record: record["image"]["id"])
    annotations = [annotation for record in records for annotation in record["annotations"]]
    for annotation_id, annotation in enumerate(annotations, start=1):
        annotation["id"] = annotation_id
    coco = {
        "info": {"description": description, "version": FORMAT_VERSION},
        "images": [record["image"] for record in records],
        "annotations": annotations,
        "categories": coco_categories() if categories is None else categories,
    }
    folder = Path(root) / split
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "annotations.json").write_text(json.dumps(coco))
    return coco


def _load_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DatasetFormatError(f"{str(path)!r} is missing")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DatasetFormatError(f"{str(path)!r} is not valid JSON ({error})") from error


def read_dataset_info(root: str | Path) -> dict[str, Any]:
    """Read and check ``<root>/dataset.json``; raise :class:`DatasetFormatError` when unusable."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetFormatError(
            f"dataset folder {str(root)!r} does not exist; render one with "
            f"`python -m visiongym.vision.data.render_soccer --out {root}`"
        )
    info = _load_json(root / "dataset.json")
    if info.get("format_version") != FORMAT_VERSION:
        raise DatasetFormatError(
            f"{str(root / 'dataset.json')!r} has format_version={info.get('format_version')!r}; "
            f"this code reads version {FORMAT_VERSION}"
        )
    return info


def read_split(root: str | Path, split: str) -> dict[str, Any]:
    """Read ``<root>/<split>/annotations.json`` and check the keys a loader relies on."""
    root = Path(root)
    info = read_dataset_info(root)
    available = tuple(info.get("splits", {}))
    if split not in available:
        raise DatasetFormatError(
            f"split {split!r} not in dataset {str(root)!r}; choose one of: {', '.join(available)}"
        )
    coco = _load_json(root / split / "annotations.json")
    for key in ("images", "annotations", "categories"):
        if key not in coco:
            raise DatasetFormatError(
                f"{str(root / split / 'annotations.json')!r} lacks the COCO key {key!r}"
            )
    return coco
