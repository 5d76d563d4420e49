"""Depth scores: the paper's st-RMSE, mask IoU, and the whole-frame AbsRel / RMSE.

st-RMSE (scale- and translation-invariant RMSE, Rematas et al., *Soccer on Your Tabletop*, 2018)
of a predicted depth map ``p`` against the true depth ``y`` over a set of pixels ``M`` (the
player's *true* mask, at the network's output resolution) is::

    st_rmse(p, y; M) = min over s, t of sqrt( mean_{i in M} (s * p_i + t - y_i)^2 )

in the units of ``y`` (metres). ``s`` and ``t`` are solved jointly by ordinary least squares in
closed form: ``s = cov(p, y) / var(p)``, ``t = mean(y) - s * mean(p)``. Where ``p`` is constant
over ``M`` (a billboard), ``s`` is taken as 0 and the score is the standard deviation of ``y``.
``s`` may be negative (least squares does not constrain it); a mask of fewer than 2 pixels
scores NaN. The benchmark averages the per-player scores.

Mask IoU is ``|P & T| / |P | T|`` of the predicted foreground ``P`` (pixels not classed as
background) against the true player mask ``T`` in the crop; 1.0 when both are empty.
"""

from __future__ import annotations

import numpy as np

__all__ = ["st_align", "st_rmse", "mask_iou", "abs_rel", "rmse", "median_scale"]


def st_align(prediction: np.ndarray, target: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """Least-squares ``(s, t)`` minimising ``|s * prediction + t - target|`` over ``mask``."""
    p = np.asarray(prediction, np.float64)[np.asarray(mask, bool)]
    y = np.asarray(target, np.float64)[np.asarray(mask, bool)]
    if p.size == 0:
        return float("nan"), float("nan")
    p_mean, y_mean = p.mean(), y.mean()
    variance = ((p - p_mean) ** 2).mean()
    # Relative to the spread of y: a prediction flat to rounding error is a billboard.
    if variance <= 1e-12 * max(1.0, float(((y - y_mean) ** 2).mean())) or variance == 0.0:
        return 0.0, float(y_mean)
    scale = float(((p - p_mean) * (y - y_mean)).mean() / variance)
    return scale, float(y_mean - scale * p_mean)


def st_rmse(prediction: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Scale- and translation-invariant RMSE of ``prediction`` against ``target`` over ``mask``."""
    mask = np.asarray(mask, bool)
    if mask.sum() < 2:
        return float("nan")
    scale, shift = st_align(prediction, target, mask)
    residual = scale * np.asarray(prediction, np.float64)[mask] + shift - np.asarray(target, np.float64)[mask]
    return float(np.sqrt((residual**2).mean()))


def mask_iou(predicted: np.ndarray, true: np.ndarray) -> float:
    """Intersection over union of two binary masks (1.0 when both are empty)."""
    predicted, true = np.asarray(predicted, bool), np.asarray(true, bool)
    union = np.logical_or(predicted, true).sum()
    if union == 0:
        return 1.0
    return float(np.logical_and(predicted, true).sum() / union)


def median_scale(prediction: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``prediction`` times ``median(target) / median(prediction)`` over ``mask`` (monocular practice)."""
    mask = np.asarray(mask, bool)
    return prediction * (np.median(target[mask]) / max(np.median(prediction[mask]), 1e-9))


def abs_rel(prediction: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Mean of ``|prediction - target| / target`` over ``mask``."""
    mask = np.asarray(mask, bool)
    return float((np.abs(prediction[mask] - target[mask]) / target[mask]).mean())


def rmse(prediction: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Root mean squared error over ``mask``."""
    mask = np.asarray(mask, bool)
    return float(np.sqrt(((prediction[mask] - target[mask]) ** 2).mean()))
