"""Shared by the vision-for-agents benchmarks: run several ``visiongym.agents.train`` commands on one budget,
then print one table and write one learning-curve CSV and PNG.

Not a command by itself; see ``vision_frozen_encoder.py`` and ``vision_detector_observation.py``.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

from visiongym.agents.train import main as train_main  # noqa: E402

__all__ = ["compare_agents"]


def _evaluations(run: Path) -> list[dict[str, str]]:
    path = run / "evaluations.csv"
    return list(csv.DictReader(path.open())) if path.exists() else []


def compare_agents(
    variants: dict[str, list[str]], runs_dir: Path, out: Path, total_steps: int, title: str
) -> list[dict[str, float | str]]:
    """Train every variant (``visiongym.agents.train`` argv without ``--run-name``/``--runs-dir``), then report.

    A variant whose run folder already holds an evaluation at ``total_steps`` is not trained
    again (so an interrupted benchmark continues where it stopped).

    Returns:
        One summary row per variant: final and best goal rate, final mean return, wall seconds.
    """
    rows: list[dict[str, float | str]] = []
    curves: dict[str, list[dict[str, str]]] = {}
    for name, argv in variants.items():
        run = runs_dir / name
        evaluations = _evaluations(run)
        wall = float("nan")
        if not evaluations or int(evaluations[-1]["step"]) < total_steps:
            if run.exists():
                argv = ["--resume", str(run), "--total-steps", str(total_steps)]
            else:
                argv = [*argv, "--total-steps", str(total_steps), "--runs-dir", str(runs_dir), "--run-name", name]
            print(f"[{name}] python -m visiongym.agents.train {' '.join(argv)}", flush=True)
            started = time.perf_counter()
            train_main(argv)
            wall = time.perf_counter() - started
            evaluations = _evaluations(run)
        curves[name] = evaluations
        final = evaluations[-1]
        rows.append({
            "agent": name,
            "final_goal_rate": float(final["success_rate"]),
            "best_goal_rate": max(float(row["success_rate"]) for row in evaluations),
            "final_mean_return": float(final["mean_return"]),
            "train_wall_s": float(final.get("wall_time_s", wall)),
        })
    _write(curves, rows, out, title)
    return rows


def _write(curves: dict[str, list[dict[str, str]]], rows: list[dict], out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.parent.mkdir(parents=True, exist_ok=True)
    with out.with_suffix(".csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["agent", "step", "success_rate", "mean_return", "wall_time_s"])
        for name, evaluations in curves.items():
            for row in evaluations:
                writer.writerow([name, row["step"], row["success_rate"], row["mean_return"], row["wall_time_s"]])
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, evaluations in curves.items():
        steps = [int(row["step"]) for row in evaluations]
        left.plot(steps, [float(row["success_rate"]) for row in evaluations], marker="o", label=name)
        right.plot(steps, [float(row["mean_return"]) for row in evaluations], marker="o", label=name)
    left.set(xlabel="env steps", ylabel="evaluation goal rate", ylim=(0, 1))
    right.set(xlabel="env steps", ylabel="mean evaluation return")
    left.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out.with_suffix(".png"), dpi=100)
    print("| agent | final goal rate | best goal rate | final mean return | train wall s |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['agent']} | {row['final_goal_rate']:.0%} | {row['best_goal_rate']:.0%} | "
              f"{row['final_mean_return']:.3f} | {row['train_wall_s']:.0f} |")
    print(f"curves: {out.with_suffix('.csv')} and {out.with_suffix('.png')}")
