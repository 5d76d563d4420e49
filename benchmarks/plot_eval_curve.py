"""Plot a run's evaluation curve (success rate and mean return vs env steps) to a PNG.

    python benchmarks/plot_eval_curve.py runs/empty_goal_dqn_seed1 \\
        --out benchmarks/results/empty_goal_dqn_seed1.png
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass
class Args:
    """Plot settings."""

    run: tyro.conf.Positional[Path]
    """Run folder (reads its evaluations.csv)."""
    out: Path = Path("benchmarks/results/eval_curve.png")
    """PNG to write; the CSV is copied beside it with the same stem."""
    title: str = ""
    """Figure title (default: the run folder name)."""
    success_label: str = "goal rate (95% Wilson CI)"
    """Y label of the success-rate panel (self-play runs: the win rate)."""
    return_label: str = "mean evaluation return"
    """Y label of the mean-return panel (self-play runs: the mean goal difference)."""


def main(args: Args) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(csv.DictReader((args.run / "evaluations.csv").open()))
    if not rows:
        raise ValueError(f"{args.run / 'evaluations.csv'} has no evaluations yet")
    steps = [int(row["step"]) for row in rows]
    success = [float(row["success_rate"]) for row in rows]
    low = [float(row["success_ci_low"]) for row in rows]
    high = [float(row["success_ci_high"]) for row in rows]
    returns = [float(row["mean_return"]) for row in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.plot(steps, success, marker="o")
    left.fill_between(steps, low, high, alpha=0.25)
    left.set(xlabel="env steps", ylabel=args.success_label, ylim=(0, 1))
    right.plot(steps, returns, marker="o", color="tab:orange")
    right.set(xlabel="env steps", ylabel=args.return_label)
    fig.suptitle(args.title or args.run.name)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    shutil.copyfile(args.run / "evaluations.csv", args.out.with_suffix(".csv"))
    print(f"wrote {args.out} and {args.out.with_suffix('.csv')}")
    return args.out


if __name__ == "__main__":
    main(tyro.cli(Args))
