"""Training speed of our DQN with a frozen pretrained encoder, codes in replay (``--feature-cache``) or frames.

    python benchmarks/feature_cache_speed.py                       # frozen_ae and frozen_detector, 3 rounds
    python benchmarks/feature_cache_speed.py --arms frozen_ae --steps 6000 --rounds 2

Each run is the recipe of ``benchmarks/vision_feeds_agents.py`` for that arm (its ``train_argv``:
follow camera 48 px, 4 envs, 2 stacked frames, one update of 64 per 4 steps, no DrQ shifts) with
``--feature-cache on`` or ``off``, the modes taking turns within each round, for ``--steps`` env
steps without periodic evaluation. The speed is the median of the run's logged ``charts/SPS``
windows after learning starts (``training_sps``). It needs the pretrained models of
``python benchmarks/vision_feeds_agents.py --prepare``. Prints one row per arm and mode and the ratio.
"""

from __future__ import annotations

import csv
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import tyro

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vision_feeds_agents as feeds  # noqa: E402  (the comparison's recipe, shared)

from visiongym.agents.train import main as train_main  # noqa: E402


@dataclass
class Args:
    """Benchmark settings."""

    arms: tuple[Literal["frozen_ae", "frozen_detector"], ...] = ("frozen_ae", "frozen_detector")
    """Arms with a frozen pretrained encoder."""
    steps: int = 5_000
    """Env steps per run (learning starts at 1,000; SPS windows after 2,000 count)."""
    rounds: int = 3
    """Runs per arm and mode (the modes alternate)."""
    threads: int = 1
    """Torch threads per run."""
    runs_dir: Path = Path("runs/feeds")
    """Where the pretrained models are (``vision_feeds_agents.py --prepare``)."""
    out: Path = Path("benchmarks/results/feature_cache_speed.csv")
    """One row per run."""


def run_once(arm: str, mode: str, seed: int, args: Args, folder: Path) -> float:
    """SPS of one short run of ``arm`` with ``--feature-cache mode``."""
    recipe = feeds.Args(runs_dir=args.runs_dir, threads=args.threads, eval_interval=0, device="cpu")
    name = f"{arm}_{mode}_{seed}"
    train_main([*feeds.train_argv(arm, seed, recipe), "--feature-cache", mode, "--total-steps", str(args.steps),
                "--checkpoint-interval", str(10 * args.steps), "--no-save-replay", "--runs-dir", str(folder),
                "--run-name", name])
    return feeds.training_sps(folder / name)


def main(args: Args) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(args.rounds):
            for arm in args.arms:
                for mode in ("off", "on") if round_ % 2 == 0 else ("on", "off"):
                    sps = run_once(arm, mode, round_ + 1, args, Path(scratch))
                    rows.append({"arm": arm, "feature_cache": mode, "round": round_ + 1, "sps": round(sps, 1)})
                    print(f"{arm:16s} --feature-cache {mode:3s} round {round_ + 1}: {sps:7.1f} steps/s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print("\n| arm | frames in replay: steps/s | codes in replay: steps/s | ratio |\n|---|---:|---:|---:|")
    for arm in args.arms:
        median = {mode: float(np.median([row["sps"] for row in rows if row["arm"] == arm
                                         and row["feature_cache"] == mode])) for mode in ("off", "on")}
        print(f"| {arm} | {median['off']:.0f} | {median['on']:.0f} | {median['on'] / median['off']:.2f}x |")
    print(f"(medians of {args.rounds} runs each; per run: {args.out})")


if __name__ == "__main__":
    main(tyro.cli(Args))
