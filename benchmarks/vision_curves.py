"""Export the learning curves of vision runs (TensorBoard scalars) to CSV and print them.

    python benchmarks/vision_curves.py runs/ae_denoising runs/det_grid_small --out benchmarks/results

Writes ``<out>/<run name>_curve.csv`` with one row per logged step and one column per tag
(``val/psnr``, ``val/map_50``...), and prints the validation columns.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass
class Curves:
    """Export TensorBoard scalars of run folders to CSV."""

    runs: tyro.conf.Positional[tuple[Path, ...]]
    """Run folders written by the vision trainers."""
    out: Path = Path("benchmarks/results")
    """Folder for the CSV files."""
    prefix: str = "val/"
    """Tags to export (by prefix); empty exports every scalar."""


def main() -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    config = tyro.cli(Curves)
    config.out.mkdir(parents=True, exist_ok=True)
    for run in config.runs:
        events = EventAccumulator(str(run))
        events.Reload()
        tags = [tag for tag in events.Tags()["scalars"] if tag.startswith(config.prefix)]
        table: dict[int, dict[str, float]] = {}
        for tag in tags:
            for scalar in events.Scalars(tag):
                table.setdefault(scalar.step, {})[tag] = scalar.value
        path = config.out / f"{run.name}_curve.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["step", *tags])
            for step in sorted(table):
                writer.writerow([step, *(f"{table[step][t]:.4f}" if t in table[step] else "" for t in tags)])
        print(f"{run} -> {path}")
        for step in sorted(table):
            print(f"  step {step:6d}  " + "  ".join(f"{t}={table[step][t]:.4f}" for t in tags if t in table[step]))


if __name__ == "__main__":
    main()
