"""Does the vision stack feed the agents? Six observation/encoder arms of our DQN on ``empty_goal``.

    python benchmarks/vision_feeds_agents.py --prepare          # render frames, pretrain the AE and detector
    python benchmarks/vision_feeds_agents.py --jobs 2           # train 6 arms x 5 seeds, evaluate, report
    python benchmarks/vision_feeds_agents.py --report-only      # evaluate and report what has finished

Every arm is the learning-goal recipe of BENCHMARKS.md ("Learning goal: our DQN on ``empty_goal``
from pixels", randomised-look variant: follow camera at 48 px, aimed kicks, shaping 5, 4 envs,
2 stacked frames, one update of 64 per 4 steps, lr 5e-4, no DrQ shifts), trained on
``--appearance`` (default ``random``: a new look each episode); only what the Q-network reads
differs:

| arm | observation | encoder |
|---|---|---|
| ``nature_cnn`` | pixels | Nature CNN, end to end |
| ``frozen_ae`` | pixels | a pretrained autoencoder's encoder, frozen |
| ``frozen_detector`` | pixels | a pretrained grid detector's backbone, frozen |
| ``finetuned_detector`` | pixels | the same backbone, fine-tuned |
| ``detector_objects`` | the detector's object list (batched, one pass per vector step) | MLP |
| ``detector_objects_drqn`` | the same object list, one a step (no stack) | MLP, then an LSTM (DRQN) |
| ``state`` | the env's state vector | MLP |

``--prepare`` renders ``--frames`` follow-camera frames at 48 px with randomised looks
(``render-data --camera follow --size 48``: the pixel arms' own view), trains the autoencoder
(``small``, plain MSE) and the detector (``grid_fine``) on them at 48 px, and stops. The 48 px follow
view is small for a detector (the ball is about 2 px), but so is the 128 px broadcast view the
detectors were first trained on (ball 2-4 px); training on the agents' own frames keeps the
backbone arms and the object arm on exactly what the other arms see.

The frozen arms keep each frame's code in replay (``--feature-cache auto``: exact here, as the
recipe has no DrQ shifts), 5-8x faster than re-encoding every sampled frame
(``benchmarks/feature_cache_speed.py``); the fine-tuned arm trains through its trunk.

Runs live in ``<runs-dir>/<arm>_seed<N>``: a finished one is reused, an unfinished one resumed
(``visiongym train --resume``); ``--jobs`` trains that many at once, each with ``--threads`` torch
threads. Then each run's final checkpoint (``last.pt``; ``--checkpoint best``: its ``best.pt``, the best
periodic evaluation on the training look, which ``visiongym evaluate <run>`` picks; the held-out looks
play no part in that choice) plays ``--eval-episodes`` fresh episodes on the training look and on
``held_out`` (cached in the run folder), and the script prints per arm:
the mean final goal rate over seeds with a 95% Student-t interval (mean ± t(0.975, n-1) · s / √n,
clipped to [0, 1]) on each look, the steps to the first periodic evaluation (20 episodes, training
look) at ≥ 80% goals (median over the seeds that got there, and how many did), and the training
speed (median of the logged SPS windows). Last, whether each pretrained encoder pays off on the
held-out looks against ``nature_cnn`` (Welch 95% interval of the difference of means). Figures go
to ``<out>.csv`` (one row per run and look), ``<out>_curves.csv`` and ``<out>.png`` (mean ± t
interval of the periodic evaluations per arm).
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import tyro

ARMS = ("nature_cnn", "frozen_ae", "frozen_detector", "finetuned_detector", "detector_objects", "state",
        "detector_objects_drqn")
ArmName = Literal["nature_cnn", "frozen_ae", "frozen_detector", "finetuned_detector", "detector_objects", "state",
                  "detector_objects_drqn"]
DETECTOR_ARMS = ("frozen_detector", "finetuned_detector", "detector_objects", "detector_objects_drqn")
PRETRAINED_ARMS = ("frozen_ae", "frozen_detector", "finetuned_detector")
IMAGE_SIZE = 48
HELD_OUT = "held_out"


@dataclass
class Args:
    """Benchmark settings."""

    arms: tuple[ArmName, ...] = ARMS[:6]
    """Arms to train and report (the six of the comparison by default; ``detector_objects_drqn`` is the
    object-list arm with memory instead of stacked frames)."""
    seeds: tuple[int, ...] = (1, 2, 3, 4, 5)
    """Seeds per arm."""
    steps: int = 100_000
    """Env steps per run (the pixel recipe reaches 80-90% goals at 50-100k on the default look)."""
    appearance: str = "random"
    """Training look (env appearance=...): random (the training distribution), default, ..."""
    frame_stack: int = 2
    """Observations stacked per step (the recipe's 2). Finished runs are reused as they are, so runs of
    another stack want a ``--runs-dir`` of their own."""
    eval_episodes: int = 100
    """Episodes of the final evaluation per run and look."""
    checkpoint: Literal["last", "best"] = "last"
    """Checkpoint of each run that the final evaluation scores: last (the end of training) or best (the
    best periodic evaluation on the training look: what ``visiongym evaluate <run>`` picks)."""
    eval_interval: int = 5_000
    """Env steps between the runs' periodic evaluations (20 episodes, training look)."""
    jobs: int = 1
    """Runs (and final evaluations) at once."""
    threads: int = 1
    """Torch threads per run."""
    device: str = "auto"
    """Training device (cuda > mps > cpu); the final evaluations run on the CPU."""
    prepare: bool = False
    """Render the frames and pretrain the autoencoder and the detector, then stop."""
    report_only: bool = False
    """Train nothing: evaluate and report the runs that have finished."""
    data: Path = Path("data/feeds_follow48")
    """Pretraining frames (render-data --camera follow --size 48)."""
    frames: int = 4_000
    """Frames to render for pretraining (80% train, 10% val, 10% test)."""
    pretrain_appearance: str = "random"
    """Looks of the pretraining frames."""
    ae_epochs: int = 10
    """Autoencoder epochs (small, plain MSE, at 48 px)."""
    detector_epochs: int = 6
    """Detector epochs (grid_fine at 48 px)."""
    autoencoder: Path | None = None
    """Pretrained autoencoder (default: <runs-dir>/pretrained/autoencoder/autoencoder.pt)."""
    detector: Path | None = None
    """Pretrained grid detector (default: <runs-dir>/pretrained/detector/detector.pt)."""
    detector_int8: bool = False
    """The object-list arms read the detector in int8 (``--detector-int8``), in training and evaluation.
    Finished runs are reused as they are, so such runs want a ``--runs-dir`` of their own."""
    runs_dir: Path = Path("runs/feeds")
    """Folder of the run folders and the pretrained models."""
    out: Path = Path("benchmarks/results/vision_feeds_agents")
    """Stem of the CSVs and the PNG."""


def checkpoints(args: Args) -> tuple[Path, Path]:
    """(autoencoder, detector) checkpoint paths."""
    pretrained = args.runs_dir / "pretrained"
    return (args.autoencoder or pretrained / "autoencoder" / "autoencoder.pt",
            args.detector or pretrained / "detector" / "detector.pt")


def prepare(args: Args) -> None:
    """Render the follow-camera frames and train the autoencoder and the detector on them."""
    from visiongym.vision.autoencoders.train import AutoencoderTrainConfig, train_autoencoder
    from visiongym.vision.data.render_soccer import RenderConfig, render_dataset
    from visiongym.vision.detect.train import DetectorTrainConfig, train_detector

    if not (args.data / "dataset.json").is_file():
        render_dataset(RenderConfig(out=args.data, frames=args.frames, camera="follow", size=IMAGE_SIZE,
                                    appearance=args.pretrain_appearance, depth="none", workers=args.jobs))
    autoencoder, detector = checkpoints(args)
    train_autoencoder(AutoencoderTrainConfig(data=args.data, variant="conv", arch="small", image_size=IMAGE_SIZE,
                                             epochs=args.ae_epochs, run_dir=autoencoder.parent,
                                             threads=args.threads, device=args.device))
    train_detector(DetectorTrainConfig(data=args.data, model="grid_fine", image_size=IMAGE_SIZE,
                                       epochs=args.detector_epochs, run_dir=detector.parent, threads=args.threads,
                                       device=args.device))


def env_kwargs(arm: str, appearance: str) -> list[str]:
    """The ``--env-kwargs`` of ``arm``: the recipe's env, pixels or the state vector."""
    observation = ["obs_mode=state"] if arm == "state" else ["obs_mode=pixels", "camera=follow",
                                                             f"image_size={IMAGE_SIZE}"]
    return ["scenario=empty_goal", *observation, "shaping=5", "kick_aim=goal", "max_episode_steps=200",
            f"appearance={appearance}"]


def train_argv(arm: str, seed: int, args: Args) -> list[str]:
    """The ``visiongym train`` command line of one run (without the budget and run folder)."""
    autoencoder, detector = checkpoints(args)
    encoder = {
        "nature_cnn": ["--encoder", "nature_cnn"],
        "frozen_ae": ["--encoder", "autoencoder", "--encoder-checkpoint", str(autoencoder)],
        "frozen_detector": ["--encoder", "detector", "--encoder-checkpoint", str(detector)],
        "finetuned_detector": ["--encoder", "detector", "--encoder-checkpoint", str(detector),
                               "--no-freeze-encoder"],
        "detector_objects": ["--encoder", "mlp", "--detector", str(detector), "--detector-players", "1"],
        "detector_objects_drqn": ["--encoder", "mlp", "--detector", str(detector), "--detector-players", "1"],
        "state": ["--encoder", "mlp"],
    }[arm]
    if arm.startswith("detector_objects") and args.detector_int8:
        encoder = [*encoder, "--detector-int8"]
    if arm == "detector_objects_drqn":
        # the DRQN settings of BENCHMARKS.md's flicker benchmark: 16 sequences of 8 after a burn-in of 4,
        # 128 trained transitions an update (the recipe's DQN: 64)
        algo = ["drqn", "--frame-stack", "1", "--lstm-hidden", "256", "--sequence-length", "8", "--burn-in", "4",
                "--batch-size", "16"]
    else:
        algo = ["dqn", "--frame-stack", str(args.frame_stack), "--batch-size", "64"]
    return [
        algo[0], "--env", "visiongym/TabletopSoccer-v0", "--env-kwargs", *env_kwargs(arm, args.appearance), *encoder,
        *algo[1:], "--num-envs", "4", "--features-dim", "256", "--buffer-size", "100000",
        "--learning-starts", "1000", "--train-frequency", "4", "--n-step", "3",
        "--target-update-interval", "1000", "--exploration-steps", "10000", "--augment-pad", "0",
        "--learning-rate", "5e-4", "--max-grad-norm", "10", "--eval-interval", str(args.eval_interval),
        "--eval-episodes", "20", "--checkpoint-interval", "20000", "--no-video", "--seed", str(seed),
        "--threads", str(args.threads), "--device", args.device, "--no-progress",
    ]


def trained_steps(run: Path) -> int:
    """Env steps of the run's ``last.pt`` (0 without one)."""
    return checkpoint_step(run / "checkpoints" / "last.pt")


def checkpoint_step(path: Path) -> int:
    """Env steps at which the checkpoint ``path`` was saved (0 without one)."""
    from visiongym.vision.runtime import load_checkpoint

    return int(load_checkpoint(path, map_location="cpu")["meta"]["step"]) if path.is_file() else 0


def train_run(arm: str, seed: int, args: Args) -> None:
    """Train (or resume, or leave as it is) ``<runs-dir>/<arm>_seed<seed>``; output to ``<run>.log``."""
    name = f"{arm}_seed{seed}"
    run = args.runs_dir / name
    done = trained_steps(run)
    if done >= args.steps:
        return
    if run.exists() and done == 0:  # stopped before its first checkpoint: nothing to resume
        shutil.rmtree(run)
    if done:
        argv = ["--resume", str(run), "--total-steps", str(args.steps), "--no-progress"]
    else:
        argv = [*train_argv(arm, seed, args), "--total-steps", str(args.steps), "--runs-dir", str(args.runs_dir),
                "--run-name", name]
    command = [sys.executable, "-m", "visiongym.agents.train", *argv]
    print(f"[{name}] {' '.join(command[1:])}", flush=True)
    with (args.runs_dir / f"{name}.log").open("a") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
    if result.returncode:
        print(f"[{name}] failed (exit {result.returncode}); see {args.runs_dir / f'{name}.log'}", flush=True)


def evaluate_run(run: Path, look: str, episodes: int, threads: int, checkpoint: str = "last") -> dict[str, float]:
    """Goal rate of ``run``'s ``<checkpoint>.pt`` over ``episodes`` fresh episodes on ``look`` (cached)."""
    cache = run / "feeds_eval.json"
    results = json.loads(cache.read_text()) if cache.is_file() else {}
    key = f"{look}:{episodes}:{trained_steps(run)}" + ("" if checkpoint == "last" else f":{checkpoint}")
    if key not in results:
        import torch

        from visiongym.agents.evaluate import EvaluateConfig, run_evaluation

        torch.set_num_threads(threads)
        path = run / "checkpoints" / f"{checkpoint}.pt"
        summary = run_evaluation(EvaluateConfig(path=path, episodes=episodes, appearance=look, device="cpu")).summary()
        summary["checkpoint_step"] = float(checkpoint_step(path))
        results = json.loads(cache.read_text()) if cache.is_file() else {}
        results[key] = summary
        cache.write_text(json.dumps(results, indent=1))
    return results[key]


def evaluations(run: Path) -> list[tuple[int, float]]:
    """The run's periodic evaluations as (step, goal rate); a resumed run's repeats keep the last."""
    path = run / "evaluations.csv"
    rows = {int(row["step"]): float(row["success_rate"]) for row in csv.DictReader(path.open())} if path.is_file() else {}
    return sorted(rows.items())


def training_sps(run: Path) -> float:
    """Median of the run's logged ``charts/SPS`` windows after learning starts (nan without them)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run), size_guidance={"scalars": 0}).Reload()
    if "charts/SPS" not in events.Tags()["scalars"]:
        return math.nan
    values = [event.value for event in events.Scalars("charts/SPS") if event.step > 2_000]
    return float(np.median(values)) if values else math.nan


def t_interval(values: list[float]) -> tuple[float, float, float]:
    """(mean, low, high): 95% Student-t interval of the mean, clipped to [0, 1]."""
    from scipy import stats

    data = np.asarray(values, float)
    mean = float(data.mean()) if len(data) else math.nan
    if len(data) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.975, len(data) - 1) * data.std(ddof=1) / math.sqrt(len(data)))
    return mean, max(0.0, mean - half), min(1.0, mean + half)


def welch_difference(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """(mean(a) - mean(b), low, high): Welch 95% interval of the difference of means."""
    from scipy import stats

    a_, b_ = np.asarray(a, float), np.asarray(b, float)
    difference = float(a_.mean() - b_.mean())
    va, vb = a_.var(ddof=1) / len(a_), b_.var(ddof=1) / len(b_)
    se = math.sqrt(va + vb)
    if se == 0:
        return difference, difference, difference
    dof = (va + vb) ** 2 / (va**2 / (len(a_) - 1) + vb**2 / (len(b_) - 1))
    half = float(stats.t.ppf(0.975, dof) * se)
    return difference, difference - half, difference + half


def _percent(mean: float, low: float, high: float) -> str:
    if math.isnan(low):
        return f"{mean:.0%}"
    return f"{mean:.0%} ({low:.0%}-{high:.0%})"


def report(args: Args, finished: dict[str, list[Path]]) -> None:
    """Evaluate every finished run on both looks, print the tables, write the CSVs and the PNG."""
    looks = (args.appearance, HELD_OUT)
    jobs = [(arm, run, look) for arm, runs in finished.items() for run in runs for look in looks]
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:  # each evaluation in its own process
        summaries = list(pool.map(lambda job: _evaluate_in_subprocess(job[1], job[2], args), jobs))
    rates: dict[tuple[str, str], list[float]] = {}
    rows = []
    for (arm, run, look), summary in zip(jobs, summaries, strict=True):
        curve = evaluations(run)
        first = next((step for step, rate in curve if rate >= 0.8), None)
        rates.setdefault((arm, look), []).append(summary["success_rate"])
        step = trained_steps(run)
        rows.append({"arm": arm, "run": run.name, "look": look, "step": step, "checkpoint": args.checkpoint,
                     "checkpoint_step": int(summary.get("checkpoint_step", step)),  # caches before it: last.pt
                     "goal_rate": summary["success_rate"], "wilson_low": summary["success_ci_low"],
                     "wilson_high": summary["success_ci_high"], "episodes": int(summary["episodes"]),
                     "mean_return": summary["mean_return"], "first_eval_80": first, "sps": training_sps(run)})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.with_suffix(".csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["arm"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"\nfinal goal rate of {args.checkpoint}.pt over {args.eval_episodes} episodes per look: mean over seeds "
          "(95% Student-t interval)")
    print(f"| arm | seeds | {args.appearance} look (training) | held-out looks | first eval >= 80% "
          "(median; seeds) | SPS | s per 1k steps |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for arm, runs in finished.items():
        arm_rows = [row for row in rows if row["arm"] == arm and row["look"] == args.appearance]
        firsts = [row["first_eval_80"] for row in arm_rows if row["first_eval_80"] is not None]
        reached = f"{np.median(firsts) / 1000:.0f}k ({len(firsts)}/{len(runs)})" if firsts else f"never (0/{len(runs)})"
        sps = float(np.median([row["sps"] for row in arm_rows]))
        print(f"| {arm} | {len(runs)} | {_percent(*t_interval(rates[(arm, args.appearance)]))} | "
              f"{_percent(*t_interval(rates[(arm, HELD_OUT)]))} | {reached} | {sps:.0f} | {1000 / sps:.1f} |")
    baseline = rates.get(("nature_cnn", HELD_OUT))
    for arm in PRETRAINED_ARMS:
        if baseline is None or (arm, HELD_OUT) not in rates or min(len(baseline), len(rates[(arm, HELD_OUT)])) < 2:
            continue
        difference, low, high = welch_difference(rates[(arm, HELD_OUT)], baseline)
        verdict = ("yes: it pays off on the held-out looks" if low > 0 else
                   "no: it does worse on the held-out looks" if high < 0 else
                   "not shown: the interval contains 0")
        print(f"{arm} vs nature_cnn on held-out looks: {difference:+.0%} (Welch 95% {low:+.0%} to {high:+.0%}); "
              f"{verdict}")
    _write_curves(args, finished)


def _evaluate_in_subprocess(run: Path, look: str, args: Args) -> dict[str, float]:
    """:func:`evaluate_run` in a fresh interpreter (renderers and torch threads of its own)."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); from vision_feeds_agents import evaluate_run; "
            "print(json.dumps(evaluate_run(__import__('pathlib').Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), "
            "int(sys.argv[5]), sys.argv[6])))")
    result = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent), str(run), look,
                             str(args.eval_episodes), str(args.threads), args.checkpoint],
                            capture_output=True, text=True, check=False)
    if result.returncode:
        raise RuntimeError(f"evaluating {run} on {look} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _write_curves(args: Args, finished: dict[str, list[Path]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(7.5, 4.2))
    with args.out.with_name(f"{args.out.name}_curves.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["arm", "step", "mean_goal_rate", "t95_low", "t95_high", "seeds"])
        for arm, runs in finished.items():
            curves = [dict(evaluations(run)) for run in runs]
            steps = sorted(set.intersection(*(set(curve) for curve in curves))) if curves else []
            stats = [t_interval([curve[step] for curve in curves]) for step in steps]
            for step, (mean, low, high) in zip(steps, stats, strict=True):
                writer.writerow([arm, step, f"{mean:.4f}", f"{low:.4f}", f"{high:.4f}", len(curves)])
            if not steps:
                continue
            means = [mean for mean, _, _ in stats]
            line, = axis.plot(steps, means, label=f"{arm} ({len(curves)} seeds)")
            if len(curves) > 1:
                axis.fill_between(steps, [low for _, low, _ in stats], [high for _, _, high in stats],
                                  color=line.get_color(), alpha=0.15)
    axis.axhline(0.8, color="grey", lw=0.8, ls="--")
    axis.set(xlabel="env steps", ylabel=f"goal rate, 20 episodes ({args.appearance} look)", ylim=(0, 1),
             title="DQN on empty_goal (follow 48 px): mean and 95% t interval over seeds")
    if axis.lines[1:]:  # the 80% line is always there
        axis.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out.with_suffix(".png"), dpi=110)
    print(f"wrote {args.out.with_suffix('.csv')}, {args.out.with_name(args.out.name + '_curves.csv')} and "
          f"{args.out.with_suffix('.png')}")


def main(args: Args) -> None:
    from visiongym.sims.errors import UsageError

    if args.prepare:
        prepare(args)
        return
    missing = [str(path) for path, arms in zip(checkpoints(args), (("frozen_ae",), DETECTOR_ARMS), strict=True)
               if set(arms) & set(args.arms) and not path.is_file()]
    if missing and not args.report_only:
        raise UsageError(f"pretrained checkpoint(s) {', '.join(missing)} not found; run "
                         "python benchmarks/vision_feeds_agents.py --prepare first (or pass --autoencoder/--detector)")
    args.runs_dir.mkdir(parents=True, exist_ok=True)
    runs = [(arm, seed) for seed in args.seeds for arm in args.arms]
    if not args.report_only:
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            list(pool.map(lambda job: train_run(*job, args), runs))
    finished: dict[str, list[Path]] = {}
    for arm, seed in runs:
        run = args.runs_dir / f"{arm}_seed{seed}"
        if trained_steps(run) >= args.steps:
            finished.setdefault(arm, []).append(run)
        else:
            print(f"[{run.name}] not finished ({trained_steps(run)} of {args.steps} steps); left out")
    if finished:
        report(args, {arm: finished[arm] for arm in args.arms if arm in finished})


if __name__ == "__main__":
    from visiongym.envs.cli import run_command

    run_command(lambda: main(tyro.cli(Args, description=__doc__)))
