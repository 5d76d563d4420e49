"""``visiongym league --run RUN``: an evaluation league of a self-play run's pool.

Every pair of players (the run's learner ``checkpoints/last.pt``, its newest snapshots, the
scripted levels) plays ``--matches`` matches, sides alternating, in rounds (every pair once per
round, in a seeded order). Each result updates OpenSkill ratings (Plackett-Luce, draws as
ties), so every player gets ``mu ± sigma``. Written to ``<run>/league.md`` and
``<run>/league.json`` and printed:

- ratings, best first (by mu), with each player's wins, draws and losses;
- the cross-play matrix: the row player's W-D-L and mean goal difference against each column;
- against each scripted level: W/D/L, the win rate with its Wilson 95% interval, the mean goal
  difference with its 95% interval.

``python -m visiongym.agents.selfplay.league --help`` lists the options.
"""

from __future__ import annotations

import itertools
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tyro

from visiongym.agents.common.evaluation import wilson_interval
from visiongym.agents.selfplay.matches import ScriptedPlayer, play_match
from visiongym.agents.selfplay.pool import OpponentPool, parse_opponent, scripted_name
from visiongym.sims.errors import MissingFileError, UsageError

__all__ = ["LeagueConfig", "League", "run_league", "league_players", "main"]

LEARNER = "learner"


@dataclass
class LeagueConfig:
    """Rate a self-play run's learner, snapshots and scripted levels against each other."""

    run: Path
    """The run folder (``visiongym train ppo --multi-agent ...``)."""
    matches: int = 4
    """Matches per pair of players (sides alternate)."""
    snapshots: int = 3
    """The newest this many snapshots of the pool take part (0: none)."""
    levels: tuple[float, ...] | None = None
    """Scripted skills that take part (default: the run's --pool-scripted-levels)."""
    players: tuple[str, ...] = ()
    """Exactly these players instead: learner, snapshot:<k>, scripted:<skill>."""
    learner: bool = True
    """Include the learner (checkpoints/last.pt)."""
    seed: int = 0
    """Seeds the match kick-offs and the order of the pairs."""
    threads: int = 1
    """torch threads."""
    progress: bool = True
    """Show a progress bar."""


@dataclass
class League:
    """Results of a league: ratings and the record of every pair."""

    ratings: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: (row, column) -> list of (goals of row, goals of column), one per match.
    scores: dict[tuple[str, str], list[tuple[int, int]]] = field(default_factory=dict)

    def record(self, a: str, b: str) -> dict[str, float]:
        """``a``'s wins, draws, losses and goal differences against ``b``."""
        games = self.scores.get((a, b), [])
        differences = np.asarray([x - y for x, y in games], dtype=float)
        wins, draws = int((differences > 0).sum()), int((differences == 0).sum())
        n = len(games)
        low, high = wilson_interval(wins, n) if n else (math.nan, math.nan)
        half = 1.96 * differences.std(ddof=1) / math.sqrt(n) if n > 1 else math.nan
        return {"matches": n, "wins": wins, "draws": draws, "losses": n - wins - draws,
                "win_rate": wins / n if n else math.nan, "win_ci_low": low, "win_ci_high": high,
                "goal_difference": float(differences.mean()) if n else math.nan, "goal_difference_ci95": half}

    @property
    def players(self) -> list[str]:
        """Players best first (by mu)."""
        return sorted(self.ratings, key=lambda name: -self.ratings[name][0])

    def totals(self, name: str) -> tuple[int, int, int]:
        wins = draws = losses = 0
        for other in self.ratings:
            if other != name:
                record = self.record(name, other)
                wins, draws, losses = wins + record["wins"], draws + record["draws"], losses + record["losses"]
        return wins, draws, losses

    def to_dict(self) -> dict[str, Any]:
        players = self.players
        scripted = [p for p in players if p.startswith("scripted:")]
        return {
            "ratings": [{"player": p, "mu": self.ratings[p][0], "sigma": self.ratings[p][1],
                         **dict(zip(("wins", "draws", "losses"), self.totals(p), strict=True))} for p in players],
            "crossplay": {a: {b: self.record(a, b) for b in players if b != a} for a in players},
            "vs_scripted": {a: {b: self.record(a, b) for b in scripted} for a in players
                            if not a.startswith("scripted:")},
        }

    def markdown(self, title: str = "League") -> str:
        players = self.players
        scripted = sorted((p for p in players if p.startswith("scripted:")), key=lambda p: parse_opponent(p)[1])
        lines = [f"# {title}", "", "## Ratings (OpenSkill Plackett-Luce, mu ± sigma; best first)", "",
                 "| rank | player | mu ± sigma | W | D | L |", "|---:|---|---|---:|---:|---:|"]
        for rank, p in enumerate(players, 1):
            mu, sigma = self.ratings[p]
            wins, draws, losses = self.totals(p)
            lines.append(f"| {rank} | {p} | {mu:.2f} ± {sigma:.2f} | {wins} | {draws} | {losses} |")
        lines += ["", "## Cross-play (row against column: W-D-L, mean goal difference)", "",
                  "| | " + " | ".join(players) + " |", "|---|" + "---|" * len(players)]
        for a in players:
            cells = []
            for b in players:
                r = self.record(a, b) if a != b else None
                cells.append("—" if r is None or not r["matches"] else
                             f"{r['wins']}-{r['draws']}-{r['losses']} ({r['goal_difference']:+.1f})")
            lines.append(f"| {a} | " + " | ".join(cells) + " |")
        lines += ["", "## Against the scripted levels", "",
                  "| player | level | W | D | L | win rate [95% CI] | goal difference ± 95% CI |",
                  "|---|---|---:|---:|---:|---|---|"]
        for a in players:
            if a.startswith("scripted:"):
                continue
            for b in scripted:
                r = self.record(a, b)
                lines.append(f"| {a} | {b} | {r['wins']} | {r['draws']} | {r['losses']} | {r['win_rate']:.2f} "
                             f"[{r['win_ci_low']:.2f}, {r['win_ci_high']:.2f}] | {r['goal_difference']:+.2f} ± "
                             f"{r['goal_difference_ci95']:.2f} |")
        return "\n".join(lines) + "\n"


def run_league(env, players: dict[str, Any], matches: int, seed: int = 0, progress: bool = False) -> League:
    """Play every pair of ``players`` (name -> player) ``matches`` times; rate them with OpenSkill."""
    from openskill.models import PlackettLuce

    if len(players) < 2:
        raise UsageError(f"a league needs at least two players; got {', '.join(players) or 'none'}")
    if matches < 1:
        raise UsageError(f"--matches must be >= 1; got {matches}")
    model = PlackettLuce()
    ratings = {name: model.rating(name=name) for name in players}
    league = League()
    pairs = list(itertools.combinations(players, 2))
    rng = np.random.default_rng(seed)
    schedule = [(r, pairs[i]) for r in range(matches) for i in rng.permutation(len(pairs))]
    if progress:
        from tqdm import tqdm

        schedule = tqdm(schedule, desc="league", unit="match")
    for number, (round_, (a, b)) in enumerate(schedule):
        home, away = (a, b) if round_ % 2 == 0 else (b, a)
        result = play_match(env, players[home], players[away], seed=seed + number)
        goals = {home: result.goals_a, away: result.goals_b}
        league.scores.setdefault((a, b), []).append((goals[a], goals[b]))
        league.scores.setdefault((b, a), []).append((goals[b], goals[a]))
        ranks = [0, 0] if goals[a] == goals[b] else ([0, 1] if goals[a] > goals[b] else [1, 0])
        [[ratings[a]], [ratings[b]]] = model.rate([[ratings[a]], [ratings[b]]], ranks=ranks)
    league.ratings = {name: (float(r.mu), float(r.sigma)) for name, r in ratings.items()}
    return league


def league_players(config: LeagueConfig) -> dict[str, Any]:
    """The players of ``config``'s league: name -> player."""
    from visiongym.agents.selfplay.trainer import load_policy_player

    run_config = _run_config(config.run)
    pool = OpponentPool(config.run / "pool", run_config.pool_scripted_levels)
    pool.load()
    last = config.run / "checkpoints" / "last.pt"
    available = ([LEARNER] if last.is_file() else []) + [f"snapshot:{k}" for k in sorted(pool.snapshots)]
    if config.players:
        names = list(config.players)
        for name in names:
            if name == LEARNER or name.startswith("snapshot:"):
                if name not in available:
                    raise UsageError(f"player {name!r} unknown in run {str(config.run)!r}; choose among: "
                                     f"{', '.join(available) or '(no policies yet)'} or scripted:<skill in [0, 1]>")
            else:
                _parse_player(name, available)
    else:
        levels = run_config.pool_scripted_levels if config.levels is None else config.levels
        snapshots = [f"snapshot:{k}" for k in sorted(pool.snapshots)][-config.snapshots:] if config.snapshots > 0 else []
        names = ([LEARNER] if config.learner and last.is_file() else []) + snapshots + [scripted_name(s) for s in levels]
    players: dict[str, Any] = {}
    for name in dict.fromkeys(names):
        if name == LEARNER:
            players[name] = load_policy_player(last, LEARNER)
        elif name.startswith("snapshot:"):
            players[name] = load_policy_player(pool.snapshot_path(int(parse_opponent(name)[1])), name)
        else:
            players[name] = ScriptedPlayer(float(_parse_player(name, available)[1]))
    return players


def _parse_player(name: str, available: list[str]) -> tuple[str, float | int]:
    try:
        return parse_opponent(name)
    except UsageError:
        raise UsageError(f"player {name!r} unknown; choose among: {', '.join(available)} or "
                         "scripted:<skill in [0, 1]> (e.g. scripted:0.5)") from None


def _run_config(run: Path):
    from visiongym.agents.config import load_config

    if not Path(run).is_dir():
        raise MissingFileError(f"run folder {str(run)!r} not found")
    config = load_config(run)
    if not getattr(config, "multi_agent", False):
        raise UsageError(f"run {str(run)!r} is not a --multi-agent run; train one with "
                         "visiongym train ppo --multi-agent --self-play ...")
    return config


def league(config: LeagueConfig) -> League:
    """Play the league of ``config``, write ``league.md``/``league.json`` in the run, print the markdown."""
    import torch

    from visiongym.agents.common.envs import parse_env_kwargs
    from visiongym.agents.selfplay.trainer import make_match_env

    if config.threads:
        torch.set_num_threads(config.threads)
    run_config = _run_config(config.run)
    players = league_players(config)
    env = make_match_env(run_config.env, parse_env_kwargs(run_config.env_kwargs))
    try:
        result = run_league(env, players, config.matches, seed=config.seed, progress=config.progress)
    finally:
        env.close()
    text = result.markdown(f"League of {Path(config.run).name}: {config.matches} matches per pair, seed {config.seed}")
    (Path(config.run) / "league.md").write_text(text)
    payload = {"run": str(config.run), "matches_per_pair": config.matches, "seed": config.seed, **result.to_dict()}
    (Path(config.run) / "league.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(text)
    return result


def main(argv: list[str] | None = None) -> League:
    return league(tyro.cli(LeagueConfig, args=sys.argv[1:] if argv is None else argv, description=__doc__))


if __name__ == "__main__":
    main()
