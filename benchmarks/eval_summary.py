"""Summarise the evaluation curves of training runs: when each first reached a goal rate, how
often it was there, the range after a step, and which evaluation the best checkpoint came from.

    python benchmarks/eval_summary.py runs/empty_goal_follow48_shaping5_noshift_seed{1,2,3,4,5} \\
        --threshold 0.9 --until 100000 --range-from 30000
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass
class Args:
    runs: tyro.conf.Positional[tuple[Path, ...]]
    """Run folders (each with an evaluations.csv)."""
    threshold: float = 0.9
    """Goal rate to look for."""
    until: int = 100_000
    """Only evaluations at or before this step."""
    range_from: int = 30_000
    """The goal-rate range is taken over evaluations from this step on."""


def main(args: Args) -> list[dict]:
    rows_out = []
    print(f"| run | first >= {args.threshold:.0%} | evaluations >= {args.threshold:.0%} | "
          f"range from {args.range_from // 1000}k | best mean return at |")
    print("|---|---:|---:|---|---:|")
    for run in args.runs:
        rows = [row for row in csv.DictReader((run / "evaluations.csv").open()) if int(row["step"]) <= args.until]
        rates = [(int(row["step"]), float(row["success_rate"])) for row in rows]
        hits = [step for step, rate in rates if rate >= args.threshold]
        later = [rate for step, rate in rates if step >= args.range_from]
        best = max(rows, key=lambda row: float(row["mean_return"]))
        summary = {"run": run.name, "first": hits[0] if hits else None, "count": len(hits), "evaluations": len(rates),
                   "low": min(later, default=float("nan")), "high": max(later, default=float("nan")),
                   "best_step": int(best["step"])}
        rows_out.append(summary)
        first = f"{summary['first'] // 1000}k" if hits else "never"
        print(f"| {run.name} | {first} | {len(hits)} of {len(rates)} | {summary['low']:.0%}-{summary['high']:.0%} | "
              f"{summary['best_step'] // 1000}k |")
    return rows_out


if __name__ == "__main__":
    main(tyro.cli(Args))
