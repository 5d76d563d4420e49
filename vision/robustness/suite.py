"""Run the robustness suite: one checkpoint, clean held-out frames, every shift of every family.

``run_robustness`` loads the frames of a dataset split once, scores the model (and the baseline,
when given) on them clean, then on each (family, shift, severity), and writes into the output
folder ``scores.csv``, ``scores.json``, ``table.md``, ``grid.png`` (one example frame per shift
and severity) and ``config.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visiongym.sims.errors import UsageError
from visiongym.vision.robustness.corruptions import SEVERITIES, check_severity, get_corruption
from visiongym.vision.robustness.report import (
    CLEAN,
    corruption_errors,
    print_report,
    save_grid,
    write_tables,
)
from visiongym.vision.robustness.scorers import ModelScorer, load_scorer
from visiongym.vision.robustness.shifts import SHIFT_FAMILIES, ShiftFamily, load_eval_frames
from visiongym.vision.runs import RunOptions, config_dict, run_name, set_threads, write_run_config

__all__ = ["RobustnessConfig", "run_robustness"]

@dataclass(kw_only=True)  # --model is required, after RunOptions' defaulted fields
class RobustnessConfig(RunOptions):
    """Score a vision checkpoint on clean and shifted held-out frames (ImageNet-C-style corruptions,
    simulator shifts), with the drop against clean frames and the mean corruption error (mCE)."""

    model: Path
    """Checkpoint to score: a detector (visiongym detect train), an autoencoder (visiongym autoencoder train), a frame classifier (visiongym classify frames) or a segmenter (visiongym segment train)."""
    data: Path = Path("data/soccer")
    """Dataset folder written by visiongym render-data."""
    split: str = "test"
    """Split whose frames are shifted and scored."""
    baseline: Path | None = None
    """A checkpoint of the same kind whose errors normalise the mCE (ImageNet-C); without one the mCE is the unnormalised mean error."""
    families: tuple[str, ...] = ()
    """Shift families to run: corruptions, simulator (default: both for a soccer dataset, which
    can be re-rendered from its seeds; corruptions alone for any other)."""
    corruptions: tuple[str, ...] = ()
    """Corruptions to run (default: all 14)."""
    severities: tuple[int, ...] = SEVERITIES
    """Corruption severities to run, from 1..5."""
    limit: int | None = None
    """Use only the first frames of the split."""
    seed: int = 0
    """Seed of the corruptions' random draws."""
    grid_frame: int = 0
    """Index of the frame shown in grid.png."""
    out: Path | None = None
    """Output folder (default runs/robustness/<data>__<checkpoint folder>__<seed>__<time>)."""


def _check_names(config: RobustnessConfig) -> None:
    """Refuse an unknown corruption, severity or family before any work is done."""
    for name in config.corruptions:
        get_corruption(name)
    for severity in config.severities:
        check_severity(severity)
    for name in config.families:
        SHIFT_FAMILIES.check(name)


def _families(config: RobustnessConfig, source: str) -> list[ShiftFamily]:
    names = config.families or (("corruptions", "simulator") if source == "soccer" else ("corruptions",))
    if "simulator" in names and source != "soccer":
        raise UsageError(
            f"shift family 'simulator' re-renders soccer frames, but {str(config.data)!r} holds frames of "
            f"source {source!r}; choose the family: corruptions"
        )
    return [
        SHIFT_FAMILIES.build(
            name,  # checked by _check_names
            corruptions=config.corruptions or None,
            severities=config.severities,
            seed=config.seed,
        )
        for name in names
    ]


def _row(
    family: str,
    shift: str,
    severity: int,
    scorer: ModelScorer,
    scores: dict[str, float],
    clean: dict[str, float] | None,
) -> dict[str, Any]:
    row: dict[str, Any] = {"family": family, "shift": shift, "severity": severity}
    row.update(scores)
    sign = 1.0 if scorer.higher_is_better else -1.0
    row["drop"] = 0.0 if clean is None else sign * (clean[scorer.metric] - scores[scorer.metric])
    row["error"] = scorer.error(scores)
    return row


def run_robustness(config: RobustnessConfig) -> dict[str, Any]:
    """Score ``config.model`` on every shift; write the tables and the grid; return the summary."""
    set_threads(config.threads)
    _check_names(config)
    scorer = load_scorer(config.model, config.device)
    baseline = load_scorer(config.baseline, config.device) if config.baseline is not None else None
    if baseline is not None and baseline.metric != scorer.metric:
        raise UsageError(
            f"baseline {str(config.baseline)!r} is scored by {baseline.metric!r}, the model by "
            f"{scorer.metric!r}; give a baseline checkpoint of the same kind"
        )
    frames = load_eval_frames(config.data, config.split, config.limit)
    families = _families(config, frames.info.get("source", "soccer"))
    if not 0 <= config.grid_frame < len(frames):
        raise UsageError(f"grid_frame={config.grid_frame} is outside the {len(frames)} frames")
    out = config.out or Path("runs/robustness") / run_name(
        Path(config.data).name, Path(config.model).parent.name or Path(config.model).stem, config.seed
    )
    write_run_config(out, config_dict(config))

    variants = [
        (family, shift, severity)
        for family in families
        for shift in family.shifts
        for severity in family.severities(shift)
    ]
    from tqdm import tqdm

    def score(shifted, family: str, shift: str, severity: int, clean=None) -> dict[str, Any]:
        row = _row(family, shift, severity, scorer, scorer.score(shifted), clean)
        if baseline is not None:
            base_scores = baseline.score(shifted)
            row[f"baseline_{baseline.metric}"] = base_scores[baseline.metric]
            row["baseline_error"] = baseline.error(base_scores)
        return row

    rows = [score(frames, CLEAN, CLEAN, 0)]
    examples: dict[tuple[str, str], dict[int, Any]] = {}
    for family, shift, severity in tqdm(variants, desc="shifts", disable=not config.progress):
        shifted = family.apply(frames, shift, severity)
        rows.append(score(shifted, family.name, shift, severity, rows[0]))
        examples.setdefault((family.name, shift), {})[severity] = shifted.images[config.grid_frame]

    summary = {
        "model": str(config.model),
        "model_name": scorer.name,
        "metric": scorer.metric,
        "higher_is_better": scorer.higher_is_better,
        "error_definition": scorer.error_definition,
        "data": str(config.data),
        "split": config.split,
        "frames": len(frames),
        "baseline": str(config.baseline) if config.baseline is not None else None,
        "mce_normalised": baseline is not None,
        "clean": rows[0][scorer.metric],
        "corruption_errors": corruption_errors(rows, normalised=baseline is not None),
    }
    paths = write_tables(out, rows, summary)
    paths["grid"] = save_grid(out / "grid.png", examples, frames.images[config.grid_frame])
    summary["files"] = {key: str(path) for key, path in paths.items()}
    print_report(
        f"{scorer.name}: {scorer.metric} on {config.data}/{config.split} ({len(frames)} frames)",
        rows,
        summary,
    )
    print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return {"summary": summary, "rows": rows}
