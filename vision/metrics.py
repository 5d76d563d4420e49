"""Metric helpers shared by the vision trainers: reconstruction quality and detection mAP.

Reconstruction metrics take float images in [0, 1] and average per image (PSNR of each frame,
then the mean), which is what papers report. Detection metrics wrap torchmetrics'
``MeanAveragePrecision`` (COCO definition, pycocotools backend) and add per-class AP at IoU 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

# torchmetrics is imported inside the functions that use it: it takes seconds to import, and
# this module is reached from every encoder import (visiongym.vision.encoders -> autoencoder features),
# so every visiongym.agents.train start would pay for it.

__all__ = ["print_table", "psnr", "ssim", "mean_image_psnr", "detection_map", "box_iou"]


def psnr(prediction: torch.Tensor, target: torch.Tensor) -> float:
    """Mean over images of the PSNR in dB, data range 1."""
    from torchmetrics.functional.image import peak_signal_noise_ratio

    values = peak_signal_noise_ratio(
        prediction.float(), target.float(), data_range=1.0, reduction="none", dim=(1, 2, 3)
    )
    return float(values.mean())


def ssim(prediction: torch.Tensor, target: torch.Tensor) -> float:
    """Mean SSIM (Gaussian window 11, sigma 1.5), data range 1."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    return float(
        structural_similarity_index_measure(prediction.float(), target.float(), data_range=1.0)
    )


def mean_image_psnr(train: torch.Tensor, test: torch.Tensor) -> float:
    """PSNR of the trivial model that always outputs the mean training image (the baseline)."""
    mean = train.float().mean(dim=0, keepdim=True)
    return psnr(mean.expand_as(test), test)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise IoU of xyxy boxes (torchvision's implementation)."""
    from torchvision.ops import box_iou as _box_iou

    return _box_iou(a, b)


def detection_map(
    predictions: Sequence[dict[str, torch.Tensor]],
    targets: Sequence[dict[str, torch.Tensor]],
    class_names: Sequence[str],
    class_ids: Sequence[int] | None = None,
) -> dict[str, float]:
    """COCO mAP of detections against ground truth.

    Args:
        predictions: per image ``{"boxes": (N, 4) xyxy, "scores": (N,), "labels": (N,)}``.
        targets: per image ``{"boxes": (M, 4) xyxy, "labels": (M,)}``.
        class_names: a name per class, for the per-class entries.
        class_ids: the label value of each name (default ``1..len(class_names)``).

    Returns:
        ``map`` (IoU 0.5:0.95), ``map_50``, ``map_75``, and ``ap50/<name>`` and ``ap/<name>`` per
        class (-1 when the class never occurs in ``targets``).
    """
    from torchmetrics.detection import MeanAveragePrecision

    class_ids = list(class_ids) if class_ids is not None else list(range(1, len(class_names) + 1))
    preds = [
        {k: v.detach().cpu() for k, v in p.items() if k in ("boxes", "scores", "labels")}
        for p in predictions
    ]
    gts = [
        {k: torch.as_tensor(v).detach().cpu() for k, v in t.items() if k in ("boxes", "labels")}
        for t in targets
    ]
    coco = MeanAveragePrecision(
        box_format="xyxy", iou_type="bbox", class_metrics=True, backend="pycocotools"
    )
    coco.update(preds, gts)
    at_50 = MeanAveragePrecision(
        box_format="xyxy",
        iou_type="bbox",
        iou_thresholds=[0.5],
        class_metrics=True,
        backend="pycocotools",
    )
    at_50.update(preds, gts)
    full, half = coco.compute(), at_50.compute()
    result = {
        "map": float(full["map"]),
        "map_50": float(full["map_50"]),
        "map_75": float(full["map_75"]),
    }
    for name, class_id in zip(class_names, class_ids, strict=True):
        result[f"ap/{name}"] = _per_class(full, class_id)
        result[f"ap50/{name}"] = _per_class(half, class_id)
    return result


def _per_class(metrics: dict[str, torch.Tensor], class_id: int) -> float:
    classes = metrics["classes"].reshape(-1).tolist()
    values = metrics["map_per_class"].reshape(-1).tolist()
    return float(values[classes.index(class_id)]) if class_id in classes else -1.0


def print_table(title: str, rows: dict[str, dict[str, float]]) -> None:
    """Print score rows (one per model) as a rich table."""
    from rich.console import Console
    from rich.table import Table

    columns = list(dict.fromkeys(key for scores in rows.values() for key in scores))
    table = Table(title=title)
    table.add_column("model")
    for column in columns:
        table.add_column(column, justify="right")
    for name, scores in rows.items():
        table.add_row(name, *(f"{scores[c]:.4g}" if c in scores else "" for c in columns))
    Console(width=200).print(table)
