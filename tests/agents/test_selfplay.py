"""Self-play (visiongym.agents.selfplay): the pool, the None-action hook, a real training run that
resumes with its pool, the league, bad inputs."""

import json

import numpy as np
import pytest

from visiongym.agents.selfplay.league import LeagueConfig, league, run_league
from visiongym.agents.selfplay.matches import ScriptedPlayer, play_match
from visiongym.agents.selfplay.pool import OpponentPool, parse_opponent
from visiongym.agents.train import _resume_config
from visiongym.agents.train import main as train_main
from visiongym.envs import soccer_multi
from visiongym.sims.errors import UsageError
from visiongym.vision.runtime import load_checkpoint

SHORT = ["--env", "visiongym/TabletopSoccer-1v1-v0", "--env-kwargs", "max_cycles=200", "shaping=1.0",
         "--num-envs", "2", "--n-steps", "128", "--batch-size", "128", "--n-epochs", "2", "--threads", "1",
         "--no-progress", "--eval-interval", "512", "--eval-episodes", "2", "--checkpoint-interval", "512",
         "--pool-check-interval", "256", "--pool-min-matches", "1", "--pool-threshold", "0.0",
         "--pool-scripted-fraction", "0.0", "--pool-latest-fraction", "1.0"]


def test_pool_samples_scripted_until_a_snapshot_then_promotes_on_win_rate(tmp_path):
    pool = OpponentPool(tmp_path / "pool", (0.25, 1.0), scripted_fraction=0.5, latest_fraction=1.0,
                        threshold=0.6, window=10, min_matches=4)
    rng = np.random.default_rng(0)
    assert {pool.sample(rng) for _ in range(50)} == {"scripted:0.25", "scripted:1"}
    assert pool.latest is None and not pool.should_promote()
    meta = {"algo": "ppo"}
    assert pool.add_snapshot({"w": 1}, meta, step=0) == "snapshot:0"
    draws = [pool.sample(rng) for _ in range(2000)]
    assert abs(draws.count("snapshot:0") / 2000 - 0.5) < 0.05
    for result in ("win", "win", "draw"):  # 2.5 points of 3 but fewer than min_matches
        pool.record("snapshot:0", result)
    assert not pool.should_promote()
    pool.record("snapshot:0", "loss")  # 2.5 / 4 = 0.625 > 0.6
    assert pool.win_rate("snapshot:0") == (0.625, 4) and pool.should_promote()
    assert pool.add_snapshot({"w": 2}, meta, step=100) == "snapshot:1" and not pool.should_promote()
    with pytest.raises(UsageError, match="result 'won' unknown; choose one of: win, draw, loss"):
        pool.record("snapshot:1", "won")
    again = OpponentPool(tmp_path / "pool", (0.25, 1.0), window=10)
    assert again.load() and again.members == pool.members and again.snapshots[1]["step"] == 100
    assert again.win_rate("snapshot:0") == (0.625, 4)
    assert load_checkpoint(again.snapshot_path(1))["state"] == {"w": 2}


@pytest.mark.parametrize("name", ["random", "scripted:2", "scripted:", "snapshot:x", "snapshot:-1"])
def test_unknown_opponent_names_are_refused_naming_the_allowed_forms(name):
    with pytest.raises(UsageError, match=f"opponent '{name}'"):
        parse_opponent(name)
    assert parse_opponent("scripted:0.5") == ("scripted", 0.5) and parse_opponent("snapshot:3") == ("snapshot", 3)


def test_a_none_action_hands_the_agent_to_its_scripted_role():
    """Team B on None actions plays exactly as the env's own scripted team B."""
    both = soccer_multi.parallel_env(scenario="1v1", controlled="both", max_cycles=60)
    only_a = soccer_multi.parallel_env(scenario="1v1", controlled="team_a", max_cycles=60)
    obs_both, _ = both.reset(seed=5)
    obs_a, _ = only_a.reset(seed=5)
    rng = np.random.default_rng(0)
    for _ in range(60):
        action = int(rng.integers(10))
        obs_both, *_ = both.step({"team_a_0": action, "team_b_0": None})
        obs_a, *_ = only_a.step({"team_a_0": action})
        np.testing.assert_array_equal(obs_both["team_a_0"], obs_a["team_a_0"])


def test_scripted_levels_get_ratings_in_skill_order():
    env = soccer_multi.parallel_env_from_id("visiongym/TabletopSoccer-2v2-v0", controlled="both", max_cycles=600)
    players = {f"scripted:{s:g}": ScriptedPlayer(s) for s in (1.0, 0.0, 0.5)}
    result = run_league(env, players, matches=4, seed=0)
    mu = {name: rating[0] for name, rating in result.ratings.items()}
    assert mu["scripted:0"] < mu["scripted:0.5"] < mu["scripted:1"]
    assert result.players == ["scripted:1", "scripted:0.5", "scripted:0"]
    record = result.record("scripted:1", "scripted:0")
    assert record["matches"] == 4 and record["wins"] + record["draws"] + record["losses"] == 4
    # a match is seeded: the same seed, the same score
    assert play_match(env, players["scripted:1"], players["scripted:0"], seed=3) == \
        play_match(env, players["scripted:1"], players["scripted:0"], seed=3)


@pytest.fixture(scope="module")
def selfplay_run(tmp_path_factory):
    """A 1v1 self-play run of 1,024 steps (promotions every check), then resumed to 2,048."""
    runs = tmp_path_factory.mktemp("runs")
    run = train_main(["ppo", "--multi-agent", "--self-play", *SHORT, "--total-steps", "1024", "--runs-dir",
                      str(runs), "--run-name", "sp"])
    first = load_checkpoint(run / "pool" / "pool.pt")["meta"]["members"]
    train_main(["--resume", str(run), "--total-steps", "2048"])
    return run, first


def test_selfplay_trains_saves_and_resumes_with_its_pool(selfplay_run):
    run, first = selfplay_run
    pool = load_checkpoint(run / "pool" / "pool.pt")
    members = pool["meta"]["members"]
    snapshots = [m for m in first if m.startswith("snapshot:")]
    assert snapshots[0] == "snapshot:0" and len(snapshots) >= 2  # the initial weights, then promotions
    assert members[:len(first)] == first and len(members) > len(first)  # the resumed run kept and grew it
    steps = [load_checkpoint(run / "pool" / f"snapshot_{m.split(':')[1]}.pt")["meta"]["step"]
             for m in members if m.startswith("snapshot:")]
    assert steps == sorted(steps) and steps[-1] > 1024
    assert pool["state"]["matches_played"] > 0
    assert load_checkpoint(run / "checkpoints" / "last.pt")["meta"]["step"] == 2048
    rows = (run / "evaluations.csv").read_text().splitlines()
    assert rows[0].startswith("step,mean_return") and "draw_rate" in rows[0] and len(rows) == 5


def test_league_of_a_run_writes_ratings_crossplay_and_scripted_records(selfplay_run, capsys):
    run, _ = selfplay_run
    league(LeagueConfig(run=run, matches=1, snapshots=1, levels=(0.0, 1.0), progress=False))
    text = capsys.readouterr().out
    assert "## Ratings" in text and "## Cross-play" in text and "| learner | scripted:1 |" in text
    data = json.loads((run / "league.json").read_text())
    names = {row["player"] for row in data["ratings"]}
    assert len(names) == 4 and {"learner", "scripted:0", "scripted:1"} <= names
    assert all(row["sigma"] > 0 for row in data["ratings"])
    assert set(data["vs_scripted"]["learner"]) == {"scripted:0", "scripted:1"}
    assert (run / "league.md").read_text() == text.rstrip("\n") + "\n"


def test_bad_selfplay_inputs_are_refused(selfplay_run, tmp_path):
    run, _ = selfplay_run
    with pytest.raises(UsageError, match="player 'snapshot:99' unknown .* choose among: learner, snapshot:0"):
        league(LeagueConfig(run=run, players=("learner", "snapshot:99"), progress=False))
    with pytest.raises(UsageError, match="player 'champion' unknown; choose among: learner, snapshot:0"):
        league(LeagueConfig(run=run, players=("learner", "champion"), progress=False))
    with pytest.raises(UsageError, match="--self-play needs --multi-agent"):
        train_main(["ppo", "--self-play", "--env", "visiongym/TabletopSoccer-1v1-v0", "--runs-dir", str(tmp_path)])
    with pytest.raises(UsageError, match="--multi-agent env 'visiongym/CatchBall-v0' unknown; choose one of: "
                                         "visiongym/TabletopSoccer-1v1-v0, visiongym/TabletopSoccer-2v2-v0"):
        train_main(["ppo", "--multi-agent", "--env", "visiongym/CatchBall-v0", "--runs-dir", str(tmp_path)])
    with pytest.raises(UsageError, match="opponent 'best' unknown"):
        train_main(["ppo", "--multi-agent", *SHORT, "--eval-opponent", "best", "--runs-dir", str(tmp_path)])
    with pytest.raises(UsageError, match="--self-play does not apply to a2c; it is an option of: ppo"):
        train_main(["a2c", "--self-play", "--env", "visiongym/TabletopSoccer-1v1-v0", "--runs-dir", str(tmp_path)])
    assert not any(tmp_path.iterdir())  # no run folder for refused commands
    assert _resume_config(["--resume", str(run)]).self_play
