"""Plot LearnToMove learning curves (one PNG per CSV): the CSVs written by
``learn_to_move_train.py`` and ``evaluations.csv`` files of ``visiongym.agents.train`` runs copied here.

    python benchmarks/plot_learn_to_move.py --results-dir benchmarks/results
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Config:
    """Plot settings."""

    results_dir: Path = Path("benchmarks/results")
    """Folder holding LearnToMove-*.csv curves; PNGs are written beside them."""


def plot(curve: Path) -> Path:
    """Return, forward speed and (imitation runs) imitation reward against steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    with open(curve) as handle:
        rows = list(csv.DictReader(handle))
    if "step" in rows[0]:  # visiongym.agents.train's evaluations.csv
        for row in rows:
            row.update(steps=row["step"], **{"return": row["mean_return"]})
            row["imitation_per_step"] = row.get("imitation_score", "nan")
    steps = [int(r["steps"]) for r in rows]
    panels = [("return", "evaluation return"), ("forward_speed", "forward speed (m/s)")]
    if any(r["imitation_per_step"] not in ("nan", "") for r in rows):
        panels.append(("imitation_per_step", "imitation score (1 = perfect)"))
    figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2))
    for axis, (key, label) in zip(axes, panels, strict=True):
        axis.plot(steps, [float(r[key]) for r in rows], marker="o", markersize=3)
        axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value / 1000:.0f}k"))
        axis.set_xlabel("environment steps")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
    figure.suptitle(curve.stem)
    figure.tight_layout()
    out = curve.with_suffix(".png")
    figure.savefig(out, dpi=90)
    plt.close(figure)
    return out


def main(config: Config) -> None:
    for curve in sorted(config.results_dir.glob("LearnToMove-*.csv")):
        print(plot(curve))


if __name__ == "__main__":
    import tyro

    main(tyro.cli(Config))
