"""Do frames generated from new layouts stand in for real ones? The 3-arm detector comparison.

    python benchmarks/layout_augmentation.py                       # 3 seeds, 200 / 200 + 2,000 / 2,000
    python benchmarks/layout_augmentation.py --seeds 0 --many 1000 --generated 1000 \\
        --epochs 2 --generator-epochs 25                            # the ~10-minute CPU version

Per seed, with the same detector (``--detector``), schedule and number of optimiser steps in
every arm (``detect train --steps``: ``--epochs`` passes over ``--many`` frames), scored on the
same 200 real test frames:

1. ``few real``: the first ``--few`` (200) real training frames;
2. ``few real + generated``: the same frames, plus ``--generated`` frames that a layout
   generator trained on those ``--few`` frames only (``visiongym layout train``) drew for new
   simulator layouts (``visiongym layout generate``, layout seed ``1000 + seed``): labelled by
   construction, no pseudo-labels;
3. ``many real``: the first ``--many`` (2,000) real training frames.

Printed: mAP@0.5 per arm and seed, the mean with a 95% t-interval over seeds, and the share of
the gap between arms 1 and 3 that arm 2 closes (goal: at least 0.5), per seed and of the means.
Every detector is also scored on the robustness suite's simulator shifts (``--shifts``: the
test frames' own states re-rendered under held-out looks), since the generator learnt from
randomised looks. The real dataset is rendered into ``--data`` when it is not there (data seed
0; every seed uses its first frames). Rows go to ``--results`` (CSV). Each step resumes or is
skipped when its run folder already holds a finished result.
"""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tyro

from visiongym.vision.detect.train import DetectorTrainConfig, train_detector
from visiongym.vision.layout2img.generate import LayoutGenerateConfig, generate_dataset
from visiongym.vision.layout2img.train import LayoutTrainConfig, train_layout2img
from visiongym.vision.metrics import print_table

ARMS = ("few real", "few real + generated", "many real")


@dataclass
class Experiment:
    """Detector on few real frames, few real + generated frames, and many real frames."""

    data: Path = Path("data/layout_benchmark")
    """Real dataset (rendered here when missing: --many train, --val-frames, --test-frames)."""
    out: Path = Path("runs/layout_augmentation")
    """Folder for every run of the experiment."""
    few: int = 200
    """Real frames of the small arm (and of the generator's training set)."""
    many: int = 2000
    """Real frames of the large arm."""
    generated: int = 2000
    """Generated frames added to the small arm."""
    seeds: tuple[int, ...] = (0, 1, 2)
    """Seeds of the detectors, the generator and the layouts (1000 + seed)."""
    epochs: int = 5
    """Detector epochs over --many frames: every arm trains for that many optimiser steps."""
    generator_epochs: int = 40
    """Layout-generator epochs over the --few frames."""
    generator_model: str = "pix2pix_small"
    """Layout generator (visiongym layout train --model)."""
    detector: str = "grid_small"
    """Detector (visiongym detect train --model)."""
    batch_size: int = 16
    """Detector batch size."""
    val_frames: int = 100
    """Real validation frames (rendered with the dataset)."""
    test_frames: int = 200
    """Real test frames every arm is scored on."""
    shifts: tuple[str, ...] = ("held_out", "light_dim", "textures", "kits_out_of_range", "camera_high")
    """Simulator shifts of the robustness suite to score every detector on (none: skip)."""
    threads: int = 1
    """torch CPU threads."""
    results: Path = Path("benchmarks/results/layout_augmentation.csv")
    """Where the per-run rows go."""


def _interval(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95% t-interval (nan for one value)."""
    from scipy import stats

    mean = float(np.mean(values))
    if len(values) < 2:
        return mean, float("nan")
    return mean, float(stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / math.sqrt(len(values)))


def _fmt(mean: float, half: float) -> str:
    return f"{mean:.3f}" if math.isnan(half) else f"{mean:.3f} ± {half:.3f}"


def _real_data(exp: Experiment) -> None:
    if (exp.data / "dataset.json").is_file():
        info = json.loads((exp.data / "dataset.json").read_text())
        if info["splits"]["train"]["frames"] >= exp.many:
            return
    from visiongym.vision.data.render_soccer import RenderConfig, render_dataset

    total = exp.many + exp.val_frames + exp.test_frames
    render_dataset(
        RenderConfig(
            out=exp.data,
            frames=total,
            val_fraction=exp.val_frames / total,
            test_fraction=exp.test_frames / total,
            depth="none",
            workers=1,
        )
    )


def _detector(exp: Experiment, name: str, steps: int, seed: int, **extra) -> dict[str, float]:
    run_dir = exp.out / f"det_{name}__{seed}"
    scores_file = run_dir / "scores.json"
    if scores_file.is_file():
        return json.loads(scores_file.read_text())
    scores = train_detector(
        DetectorTrainConfig(
            data=exp.data,
            model=exp.detector,
            steps=steps,
            batch_size=exp.batch_size,
            threads=exp.threads,
            seed=seed,
            fps_frames=0,
            run_dir=run_dir,
            progress=False,
            **extra,
        )
    )
    scores["steps"] = steps
    scores_file.write_text(json.dumps(scores))
    return scores


def _shifted_frames(exp: Experiment) -> dict[str, object]:
    """The test frames re-rendered under each shift, once for every detector."""
    from visiongym.sims.errors import check_choice
    from visiongym.vision.robustness.shifts import (
        SIMULATOR_SHIFTS,
        SimulatorShifts,
        load_eval_frames,
        register_appearance_shifts,
    )

    register_appearance_shifts()
    for name in exp.shifts:
        check_choice("shift", name, SIMULATOR_SHIFTS)
    family = SimulatorShifts([SIMULATOR_SHIFTS[name] for name in exp.shifts])
    frames = load_eval_frames(exp.data, "test")
    return {name: family.apply(frames, name, 1) for name in exp.shifts}


def main() -> None:
    exp = tyro.cli(Experiment)
    started = time.perf_counter()
    _real_data(exp)
    shifted: dict[str, object] = {}
    steps = exp.epochs * max(1, exp.many // exp.batch_size)
    rows: list[dict[str, object]] = []
    for seed in exp.seeds:
        generator_dir = exp.out / f"layout2img__{seed}"
        generator_scores = train_layout2img(
            LayoutTrainConfig(
                data=exp.data,
                model=exp.generator_model,
                epochs=exp.generator_epochs,
                train_limit=exp.few,
                threads=exp.threads,
                seed=seed,
                run_dir=generator_dir,
                progress=False,
            )
        )
        generated = exp.out / f"generated__{seed}"
        mixed_done = (exp.out / f"det_few_generated__{seed}" / "scores.json").is_file()
        if not (generated / "dataset.json").is_file() and not mixed_done:
            generate_dataset(
                LayoutGenerateConfig(
                    checkpoint=generator_dir / "layout2img.pt",
                    out=generated,
                    frames=exp.generated,
                    seed=1000 + seed,
                    threads=exp.threads,
                    progress=False,
                )
            )
        arms = {
            ARMS[0]: _detector(exp, "few", steps, seed, train_limit=exp.few),
            ARMS[1]: _detector(
                exp, "few_generated", steps, seed, train_limit=exp.few, extra_data=(generated,)
            ),
            ARMS[2]: _detector(exp, "many", steps, seed, train_limit=exp.many),
        }
        from visiongym.vision.robustness.scorers import DetectorScorer

        for arm, scores in arms.items():
            name = {ARMS[0]: "few", ARMS[1]: "few_generated", ARMS[2]: "many"}[arm]
            row: dict[str, object] = {
                "arm": arm, "seed": seed, "steps": scores["steps"], "map_50": scores["map_50"], "map": scores["map"]
            }
            for key in ("ap50/ball", "ap50/team_a", "ap50/team_b", "ap50/goal"):
                row[key] = scores[key]
            cache = exp.out / f"det_{name}__{seed}" / "shifts.json"
            known = json.loads(cache.read_text()) if cache.is_file() else {}
            scorer = None
            for shift in exp.shifts:
                if shift not in known:
                    shifted = shifted or _shifted_frames(exp)  # rendered once, on first need
                    scorer = scorer or DetectorScorer(exp.out / f"det_{name}__{seed}" / "detector.pt")
                    known[shift] = scorer.score(shifted[shift])["map_50"]
                row[f"shift/{shift}"] = known[shift]
            cache.write_text(json.dumps(known))
            row["generator_val_l1"] = generator_scores["l1"]
            rows.append(row)

    def values(arm: str, key: str) -> list[float]:
        return [float(r[key]) for r in rows if r["arm"] == arm]

    table = {}
    for arm in ARMS:
        mine = [r for r in rows if r["arm"] == arm]
        table[arm] = {"steps": float(mine[0]["steps"]), **{f"seed {r['seed']}": float(r["map_50"]) for r in mine}}
    print_table(f"{exp.detector} test mAP@0.5 per seed ({exp.test_frames} real test frames)", table)
    means = {arm: _interval(values(arm, "map_50")) for arm in ARMS}
    few, mixed, many = (values(arm, "map_50") for arm in ARMS)
    gap = _interval([c - a for a, c in zip(few, many, strict=True)])  # paired by seed
    gain = _interval([b - a for a, b in zip(few, mixed, strict=True)])
    shift_keys = [f"shift/{s}" for s in exp.shifts]
    print(f"\nmAP@0.5, mean ± 95% t-interval over {len(exp.seeds)} seed(s):")
    for arm in ARMS:
        shift_text = ", ".join(f"{k[6:]} {_fmt(*_interval(values(arm, k)))}" for k in shift_keys)
        mean_shift = [float(np.mean([r[k] for k in shift_keys])) for r in rows if r["arm"] == arm] if shift_keys else []
        print(
            f"  {arm:<22} clean {_fmt(*means[arm])}"
            + (f" | shifts: {shift_text} | mean over shifts {_fmt(*_interval(mean_shift))}" if shift_keys else "")
        )
    print(
        f"\npaired by seed: gap ({exp.many} - {exp.few} real) {_fmt(*gap)}; gain ({exp.generated} generated "
        f"added to {exp.few} real) {_fmt(*gain)}"
    )
    # The share is a ratio of two noisy differences: only read it when the gap itself is resolved.
    resolved = gap[0] > 0 and (math.isnan(gap[1]) or gap[0] - gap[1] > 0)
    if resolved:
        share = gain[0] / gap[0]
        print(
            f"share of the gap closed: {share:.2f}{' (one seed: no interval)' if math.isnan(gap[1]) else ''}; "
            f"goal >= 0.50: {'met' if share >= 0.5 else 'NOT met'}"
        )
    else:
        print(
            "share of the gap closed: undefined, the gap between the real arms is not resolved (its 95% "
            "interval reaches 0 or below); goal not assessable at this size (more steps or seeds)"
        )
    for key in ("ap50/ball", "ap50/team_a", "ap50/team_b", "ap50/goal"):
        print(f"  {key:<12} " + ", ".join(f"{arm} {_fmt(*_interval(values(arm, key)))}" for arm in ARMS))
    print(f"generator held-out L1 (0-1) per seed: {', '.join(f'{v:.4f}' for v in values(ARMS[0], 'generator_val_l1'))}")
    print(f"wall time {time.perf_counter() - started:.0f} s")
    exp.results.parent.mkdir(parents=True, exist_ok=True)
    with exp.results.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: f"{v:.4f}" if isinstance(v, float) else v for k, v in row.items()})
    print(f"results written to {exp.results}")


if __name__ == "__main__":
    main()
