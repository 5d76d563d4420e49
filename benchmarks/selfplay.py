"""Self-play learning run: 1v1 or 2v2 PPO against the pool, then matches against the scripted team.

    python benchmarks/selfplay.py --scenario 1v1 --minutes 75 --seeds 1
    python benchmarks/selfplay.py --scenario 1v1 --run data/runs/sp1v1_seed1   # evaluate a finished run
    python benchmarks/selfplay.py --scripted-only --scenario 2v2                 # the scripted levels only

Prints, per seed: the scripted team at the default skill (1) against each level (W/D/L, goal
difference: is the 60 % target meaningful?), the training run's steps, minutes and steps per
second (TensorBoard's ``charts/SPS``, median), the steps a 2-hour run would reach at that rate,
and the learner (``checkpoints/best.pt`` and ``last.pt``) against ``scripted:1`` over
``--matches`` matches, sides alternating, with the Wilson 95 % interval. The evaluation curve
(win rate and mean goal difference vs steps) goes to ``benchmarks/results/selfplay_<scenario>_seed<k>.png``.

Training command (what ``visiongym train`` runs): PPO, shared policy, 8 matches, rollouts of
256 steps, batch 256, 5 epochs, entropy 0.01, shaping weight 5, kicks aimed at the goal
(``kick_aim=goal``, as the scripted players aim theirs), scripted levels 0-1, one thread.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import tyro

sys.path.insert(0, str(Path(__file__).resolve().parent))


@dataclass
class Args:
    """Benchmark settings."""

    scenario: Literal["1v1", "2v2"] = "1v1"
    minutes: float = 10.0
    """Training budget per seed (wall clock)."""
    seeds: tuple[int, ...] = (1,)
    matches: int = 100
    """Matches of the final evaluation against the scripted team at skill 1."""
    scripted_matches: int = 40
    """Matches per level of the scripted sanity table (0: skip it)."""
    run: Path | None = None
    """Evaluate this finished run instead of training (one seed)."""
    scripted_only: bool = False
    """Only the scripted sanity table."""
    runs_dir: Path = Path("data/runs")
    results: Path = Path("benchmarks/results")


def env_id(scenario: str) -> str:
    return f"visiongym/TabletopSoccer-{scenario}-v0"


#: Env arguments of the training run; the scripted table and the evaluations use the same env.
ENV_KWARGS = ("shaping=5.0", "kick_aim=goal")


def train_command(args: Args, seed: int) -> list[str]:
    return ["ppo", "--multi-agent", "--self-play", "--env", env_id(args.scenario),
            "--env-kwargs", *ENV_KWARGS, "--pool-scripted-levels", "0", "0.25", "0.5", "0.75", "1",
            "--num-envs", "8", "--n-steps", "256", "--batch-size", "256", "--n-epochs", "5", "--ent-coef", "0.01",
            "--total-steps", "50000000", "--max-minutes", str(args.minutes), "--eval-interval", "50000",
            "--eval-episodes", "20", "--checkpoint-interval", "50000", "--pool-min-matches", "12", "--threads", "1",
            "--seed", str(seed), "--runs-dir", str(args.runs_dir),
            "--run-name", f"selfplay_{args.scenario}_seed{seed}_{time.strftime('%Y%m%d-%H%M%S')}", "--no-progress"]


def scripted_table(scenario: str, matches: int) -> None:
    from visiongym.agents.common.envs import parse_env_kwargs
    from visiongym.agents.selfplay.matches import ScriptedPlayer
    from visiongym.agents.selfplay.trainer import evaluate_matches, make_match_env

    env = make_match_env(env_id(scenario), parse_env_kwargs(ENV_KWARGS))
    print(f"\n## {scenario}: scripted skill 1 against each level, {matches} matches each, sides alternating, "
          f"env {' '.join(ENV_KWARGS)}\n")
    print("| opponent | W | D | L | win rate [95% CI] | goal difference ± CI |\n|---|---:|---:|---:|---|---|")
    for level in (1.0, 0.75, 0.5, 0.25, 0.0):
        s = evaluate_matches(env, ScriptedPlayer(1.0), ScriptedPlayer(level), matches, seed=10_000)
        _row(f"scripted:{level:g}", s)
    env.close()


def _row(name: str, s: dict) -> None:
    n = s["episodes"]
    wins, draws = round(s["success_rate"] * n), round(s["draw_rate"] * n)
    print(f"| {name} | {wins} | {draws} | {n - wins - draws} | {s['success_rate']:.2f} "
          f"[{s['success_ci_low']:.2f}, {s['success_ci_high']:.2f}] | {s['mean_return']:+.2f} ± {s['return_ci95']:.2f} |")


def median_sps(run: Path) -> float:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    values = []
    for events in run.glob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        if "charts/SPS" in accumulator.Tags()["scalars"]:
            values += [s.value for s in accumulator.Scalars("charts/SPS")]
    return statistics.median(values) if values else float("nan")


def evaluate_run(run: Path, args: Args, seed: int) -> None:
    import csv

    import torch
    from plot_eval_curve import Args as PlotArgs
    from plot_eval_curve import main as plot_curve

    from visiongym.agents.common.envs import parse_env_kwargs
    from visiongym.agents.config import load_config
    from visiongym.agents.selfplay.matches import ScriptedPlayer
    from visiongym.agents.selfplay.trainer import (
        evaluate_matches,
        load_policy_player,
        make_match_env,
    )
    from visiongym.vision.runtime import load_checkpoint

    config = load_config(run)
    rows = list(csv.DictReader((run / "evaluations.csv").open()))
    steps = load_checkpoint(run / "checkpoints" / "last.pt")["meta"]["step"]
    minutes = float(rows[-1]["wall_time_s"]) / 60 if rows else float("nan")
    sps = median_sps(run)
    pool = load_checkpoint(run / "pool" / "pool.pt")["meta"]["members"] if (run / "pool" / "pool.pt").is_file() else []
    print(f"\n## {run.name}\n")
    overall = float(rows[-1]["step"]) / float(rows[-1]["wall_time_s"]) if rows else float("nan")
    print(f"- steps {steps:,}, about {minutes:.0f} min of training (last evaluation); median SPS of the 1k-step "
          f"windows {sps:.0f}, overall {overall:.0f} steps/s with the evaluations -> a 2-hour run reaches about "
          f"{overall * 7200:,.0f} to {sps * 7200:,.0f} steps")
    print(f"- pool: {', '.join(pool)}")
    best = max(rows, key=lambda r: float(r["success_rate"])) if rows else None
    if best:
        print(f"- best periodic evaluation ({best['episodes']} matches): win rate {float(best['success_rate']):.2f} "
              f"at step {int(best['step']):,}")
    env = make_match_env(config.env, parse_env_kwargs(config.env_kwargs))
    print(f"\n{args.matches} matches against scripted:1 (skill 1, the default), sides alternating, sampled actions:\n")
    print("| checkpoint | W | D | L | win rate [95% CI] | goal difference ± CI |\n|---|---:|---:|---:|---|---|")
    for name in ("best.pt", "last.pt"):
        path = run / "checkpoints" / name
        if path.is_file():
            player = load_policy_player(path, name)
            torch.manual_seed(seed)  # the policies sample their actions: same seed, same figures
            step = load_checkpoint(path)["meta"]["step"]
            _row(f"{name} (step {step:,})", evaluate_matches(env, player, ScriptedPlayer(1.0), args.matches,
                                                             seed=500_000 + seed))
    env.close()
    out = args.results / f"selfplay_{args.scenario}_seed{seed}.png"
    if rows:
        plot_curve(PlotArgs(run=run, out=out, title=f"self-play {args.scenario} PPO, seed {seed}: vs scripted:1",
                            success_label="win rate vs scripted:1 (95% Wilson CI)",
                            return_label="mean goal difference vs scripted:1"))


def main(args: Args) -> None:
    import torch

    torch.set_num_threads(1)
    print(f"# self-play benchmark, {args.scenario}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    if args.scripted_matches:
        scripted_table(args.scenario, args.scripted_matches)
    if args.scripted_only:
        return
    if args.run is not None:
        evaluate_run(args.run, args, args.seeds[0])
        return
    from visiongym.agents.train import main as train_main

    for seed in args.seeds:
        run = train_main(train_command(args, seed))
        evaluate_run(run, args, seed)


if __name__ == "__main__":
    main(tyro.cli(Args))
