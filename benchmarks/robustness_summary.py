"""Summarise robustness-suite runs against the issue's goals, side by side.

    python benchmarks/robustness_summary.py runs/robustness/<run A> runs/robustness/<run B> ...

For each run folder written by ``visiongym robustness`` it prints the clean score, the mean drop
over the simulator shifts, over the corruptions at severity <= 3 (the goal's average) and over
both together, and the worst shift. Detector goal: mean drop of at most 0.05 mAP@0.5;
autoencoder goal: at most 2 dB PSNR. ``--per-shift`` adds a table of each shift's drop (a
corruption's averaged over its severities <= ``--max-severity``), the runs side by side.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from statistics import mean


def summarise(folder: Path, max_severity: int) -> dict:
    summary = json.loads((folder / "scores.json").read_text())["summary"]
    metric = summary["metric"]
    with (folder / "scores.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    clean = float(rows[0][metric])
    sim = [r for r in rows if r["family"] == "simulator"]
    corr = [r for r in rows if r["family"] == "corruptions" and int(r["severity"]) <= max_severity]
    both = sim + corr
    worst = max(both, key=lambda r: float(r["drop"])) if both else None
    return {
        "run": folder.name,
        "metric": metric,
        "clean": clean,
        "simulator_drop": mean(float(r["drop"]) for r in sim) if sim else float("nan"),
        "corruption_drop": mean(float(r["drop"]) for r in corr) if corr else float("nan"),
        "mean_drop": mean(float(r["drop"]) for r in both) if both else float("nan"),
        "mean_shifted": mean(float(r[metric]) for r in both) if both else float("nan"),
        "worst": f"{worst['shift']}@{worst['severity']} ({float(worst['drop']):+.3f})" if worst else "-",
        "shifts": len(both),
    }


def per_shift(folder: Path, max_severity: int) -> dict[str, float]:
    """``{family/shift: mean drop}`` over the severities counted, in the CSV's order."""
    with (folder / "scores.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle) if r["family"] != "clean"]
    drops: dict[str, list[float]] = {}
    for r in rows:
        if r["family"] != "corruptions" or int(r["severity"]) <= max_severity:
            drops.setdefault(f"{r['family']}/{r['shift']}", []).append(float(r["drop"]))
    return {name: mean(values) for name, values in drops.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="run folders of visiongym robustness")
    parser.add_argument("--max-severity", type=int, default=3, help="corruption severities counted (goal: 3)")
    parser.add_argument("--per-shift", action="store_true", help="also each shift's drop, runs side by side")
    parser.add_argument("--mean-shifted", action="store_true",
                        help="add a column: the metric itself averaged over the same shifts (not the drop)")
    args = parser.parse_args(argv)
    extra = " mean metric, shifted |" if args.mean_shifted else ""
    print("| run | metric | clean | mean drop, simulator shifts | mean drop, corruptions sev <= "
          f"{args.max_severity} | mean drop, both | worst | shifts |{extra}")
    print("|---|---|---:|---:|---:|---:|---|---:|" + ("---:|" if args.mean_shifted else ""))
    for folder in args.runs:
        s = summarise(folder, args.max_severity)
        cell = f" {s['mean_shifted']:.3f} |" if args.mean_shifted else ""
        print(f"| {s['run']} | {s['metric']} | {s['clean']:.3f} | {s['simulator_drop']:+.3f} | "
              f"{s['corruption_drop']:+.3f} | {s['mean_drop']:+.3f} | {s['worst']} | {s['shifts']} |{cell}")
    if args.per_shift:
        tables = [per_shift(folder, args.max_severity) for folder in args.runs]
        print()
        print("| shift | " + " | ".join(folder.name for folder in args.runs) + " |")
        print("|---|" + "---:|" * len(args.runs))
        for name in tables[0]:
            print(f"| {name} | " + " | ".join(
                f"{table[name]:+.3f}" if name in table else "-" for table in tables) + " |")


if __name__ == "__main__":
    main()
