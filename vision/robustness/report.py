"""The robustness report: per-shift rows, corruption errors (mCE), the table files and the grid.

A row is one (family, shift, severity) with the model's scores there, its ``drop`` against the
clean frames (clean minus shifted for a higher-is-better metric, so a positive drop is a loss)
and its ``error``. Per family, the corruption error of a shift follows ImageNet-C:

- with a baseline model: ``CE = sum_s E_s / sum_s E_s(baseline)`` and the relative
  ``rCE = sum_s (E_s - E_clean) / sum_s (E_s(baseline) - E_clean(baseline))``; ``mCE`` and
  ``relative mCE`` are their means over the family's shifts (1.0 = as robust as the baseline);
- without one: ``CE = mean_s E_s``, the unnormalised mean error, and ``mCE`` its mean over shifts.

The table says which of the two it holds (``mce_normalised``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["corruption_errors", "write_tables", "markdown_table", "print_report", "save_grid"]

CLEAN = "clean"


def corruption_errors(rows: Sequence[dict[str, Any]], normalised: bool) -> dict[str, Any]:
    """Per family: each shift's CE (and rCE when ``normalised``) and their means.

    Args:
        rows: report rows with ``family``, ``shift``, ``error`` and, when ``normalised``,
            ``baseline_error``; the clean row has family ``clean``.
        normalised: divide by the baseline's errors (ImageNet-C's mCE).
    """
    clean = next(row for row in rows if row["family"] == CLEAN)
    out: dict[str, Any] = {}
    families = dict.fromkeys(row["family"] for row in rows if row["family"] != CLEAN)
    for family in families:
        shifts: dict[str, dict[str, float]] = {}
        for shift in dict.fromkeys(r["shift"] for r in rows if r["family"] == family):
            chosen = [r for r in rows if r["family"] == family and r["shift"] == shift]
            errors = np.array([r["error"] for r in chosen])
            if not normalised:
                shifts[shift] = {"ce": float(errors.mean())}
                continue
            base = np.array([r["baseline_error"] for r in chosen])
            entry = {"ce": float(errors.sum() / max(base.sum(), 1e-12))}
            base_gap = float((base - clean["baseline_error"]).sum())
            # A baseline that loses nothing under a shift gives no scale for the relative error.
            entry["rce"] = (
                float((errors - clean["error"]).sum() / base_gap) if abs(base_gap) > 1e-12 else float("nan")
            )
            shifts[shift] = entry
        summary: dict[str, Any] = {
            "shifts": shifts,
            "mce": float(np.mean([s["ce"] for s in shifts.values()])),
        }
        if normalised:
            summary["relative_mce"] = float(np.nanmean([s["rce"] for s in shifts.values()]))
        out[family] = summary
    return out


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(key for row in rows for key in row))


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def markdown_table(rows: Sequence[dict[str, Any]], summary: dict[str, Any]) -> str:
    """The rows and the mCE lines as GitHub markdown."""
    columns = _columns(rows)
    lines = [
        "| " + " | ".join(columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
    ]
    lines += ["| " + " | ".join(_format(row.get(c, "")) for c in columns) + " |" for row in rows]
    lines += ["", _mce_sentence(summary)]
    return "\n".join(lines) + "\n"


def _mce_sentence(summary: dict[str, Any]) -> str:
    kind = (
        f"normalised by the baseline {summary['baseline']}"
        if summary["mce_normalised"]
        else "unnormalised mean error (no --baseline given)"
    )
    parts = []
    for family, entry in summary["corruption_errors"].items():
        text = f"{family}: mCE {entry['mce']:.4g}"
        if "relative_mce" in entry:
            text += f", relative mCE {entry['relative_mce']:.4g}"
        parts.append(text)
    error = summary["error_definition"]
    return f"mCE ({kind}; error = {error}): " + ("; ".join(parts) or "no shifts")


def write_tables(
    out: Path, rows: Sequence[dict[str, Any]], summary: dict[str, Any]
) -> dict[str, Path]:
    """Write ``scores.csv``, ``scores.json`` (rows and summary) and ``table.md`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "scores.csv", "json": out / "scores.json", "markdown": out / "table.md"}
    with paths["csv"].open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=_columns(rows))
        writer.writeheader()
        writer.writerows(rows)
    paths["json"].write_text(json.dumps({"summary": summary, "rows": list(rows)}, indent=2))
    paths["markdown"].write_text(markdown_table(rows, summary))
    return paths


def print_report(title: str, rows: Sequence[dict[str, Any]], summary: dict[str, Any]) -> None:
    """Print the rows as a rich table and the mCE line under it."""
    from rich.console import Console
    from rich.table import Table

    columns = _columns(rows)
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="left" if column in ("family", "shift") else "right")
    for row in rows:
        table.add_row(*(_format(row.get(c, "")) for c in columns))
    console = Console(width=200)
    console.print(table)
    console.print(_mce_sentence(summary))


def save_grid(
    path: Path, examples: dict[tuple[str, str], dict[int, np.ndarray]], clean: np.ndarray
) -> Path:
    """One row per shift (the clean frame first), one column per severity, titled.

    Args:
        path: the PNG to write.
        examples: ``(family, shift) -> {severity: uint8 frame}``.
        clean: the same frame unshifted.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    severities = sorted({s for frames in examples.values() for s in frames}) or [1]
    rows = [((CLEAN, CLEAN), {0: clean})] + list(examples.items())
    columns = max(len(severities), 1)
    figure, axes = plt.subplots(
        len(rows), columns, figsize=(1.6 * columns + 1.2, 1.6 * len(rows)), squeeze=False
    )
    for r, ((family, shift), frames) in enumerate(rows):
        for c in range(columns):
            axis = axes[r][c]
            axis.set_xticks([])
            axis.set_yticks([])
            severity = 0 if family == CLEAN else severities[c]
            if (family == CLEAN and c > 0) or severity not in frames:
                axis.axis("off")
                continue
            axis.imshow(frames[severity], interpolation="nearest")
            if r == 0 or (r == 1 and family != CLEAN):
                axis.set_title("clean" if family == CLEAN else f"severity {severity}", fontsize=8)
            if c == 0:
                label = shift if family in (CLEAN, "corruptions") else f"{family}:\n{shift}"
                axis.set_ylabel(label, fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
