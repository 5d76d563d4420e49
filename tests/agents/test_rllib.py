"""``ppo --engine rllib``: RLlib trains single- and multi-agent soccer into our run folder.

One local Ray with 2 CPUs serves the whole file (``ray.init(num_cpus=2)``); the trainer uses the
Ray it finds running and leaves it running.
"""

from __future__ import annotations

import sys

import pytest
import torch

pytest.importorskip("ray.rllib")

from visiongym.agents.config import CONFIGS, load_config  # noqa: E402
from visiongym.agents.evaluate import EvaluateConfig, run_evaluation  # noqa: E402
from visiongym.agents.rllib.envs import import_ray  # noqa: E402
from visiongym.agents.train import main, train  # noqa: E402
from visiongym.sims.errors import UsageError  # noqa: E402
from visiongym.vision.runtime import load_checkpoint  # noqa: E402

PPOConfig = CONFIGS["ppo"]
SMALL = {"engine": "rllib", "n_steps": 256, "batch_size": 128, "n_epochs": 2, "eval_episodes": 1, "video": False,
         "progress": False, "threads": 1}


def small(**fields):
    """A PPO config of a few hundred RLlib steps."""
    return PPOConfig(**{**SMALL, **fields})


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray = import_ray()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_cartpole_learns_checkpoints_resumes_and_evaluates(tmp_path):
    """Real learning: greedy CartPole returns climb well above a random policy's ~20 within 6,000
    steps; the run folder has the SB3 trainer's layout, --resume continues the step count, and
    visiongym.agents.evaluate loads the RLModule without the trainer."""
    config = small(n_steps=1000, batch_size=250, n_epochs=6, env="CartPole-v1", learning_rate=1e-3,
                   total_steps=4000, eval_interval=4000, eval_episodes=3, seed=0, runs_dir=tmp_path,
                   run_name="cartpole")
    run = train(config)
    for name in ("config.yaml", "evaluations.csv", "checkpoints/last.pt", "checkpoints/best.pt",
                 "checkpoints/rllib/rllib_checkpoint.json"):
        assert (run / name).exists(), name
    assert list(run.glob("events.out.tfevents.*"))
    assert load_config(run).engine == "rllib"
    assert load_checkpoint(run / "checkpoints/last.pt")["meta"]["step"] == 4000

    path = main(["--resume", str(run), "--total-steps", "6000"])
    last = load_checkpoint(path / "checkpoints/last.pt")
    assert last["meta"]["step"] == 6000 and last["meta"]["engine"] == "rllib"
    result = run_evaluation(EvaluateConfig(run, episodes=5, device="cpu"))
    assert result.summary()["mean_return"] > 100  # a random policy balances ~20 steps


def test_multi_agent_per_team_in_an_env_runner_and_evaluate(tmp_path):
    """2v2 soccer, one policy per team, collected by an env runner actor that builds the env from
    its config; evaluation plays team A's policy against scripted opponents."""
    config = small(env="visiongym/TabletopSoccer-2v2-v0", env_kwargs=("max_cycles=128",),
                       multi_agent=True, policy_mapping="per_team", num_env_runners=1, total_steps=256,
                       eval_interval=256, seed=0, runs_dir=tmp_path, run_name="team")
    run = train(config)
    last = load_checkpoint(run / "checkpoints/last.pt")
    meta = last["meta"]
    assert sorted(meta["modules"]) == ["team_a", "team_b"] and meta["step"] >= 256
    assert meta["agent_modules"] == {"team_a_0": "team_a", "team_a_1": "team_a", "team_b_0": "team_b",
                                     "team_b_1": "team_b"}
    assert not torch.equal(*(last["state"]["modules"][team]["pi.net.mlp.0.weight"] for team in ("team_a", "team_b")))
    result = run_evaluation(EvaluateConfig(run, episodes=2, device="cpu"))
    summary = result.summary()
    assert summary["episodes"] == 2 and summary["mean_length"] == 128
    assert summary["success_rate"] + summary["draw_rate"] + summary["loss_rate"] == pytest.approx(1.0)
    assert summary["goal_difference"] == pytest.approx(summary["goals_for"] - summary["goals_against"])
    assert "win/draw/loss" in result.report()
    assert "draw_rate" in (run / "evaluations.csv").read_text().splitlines()[0]


def test_shared_policy_multi_agent_resumes(tmp_path):
    config = small(env="visiongym/TabletopSoccer-1v1-v0", env_kwargs=("max_cycles=64",),
                       multi_agent=True, total_steps=256, eval_interval=0, seed=0, runs_dir=tmp_path, run_name="s")
    run = train(config)
    assert list(load_checkpoint(run / "checkpoints/last.pt")["meta"]["modules"]) == ["shared"]
    main(["--resume", str(run), "--total-steps", "512"])
    assert load_checkpoint(run / "checkpoints/last.pt")["meta"]["step"] == 512


def test_errors_name_the_bad_value(tmp_path):
    with pytest.raises(UsageError, match="NoSuchEnv-v0"):
        train(small(env="visiongym/NoSuchEnv-v0", runs_dir=tmp_path))
    with pytest.raises(UsageError, match="not one; choose one of: .*TabletopSoccer-2v2-v0"):
        train(small(env="CartPole-v1", multi_agent=True, runs_dir=tmp_path))
    with pytest.raises(UsageError, match="policy mapping 'per_player' unknown; choose one of: shared, per_team"):
        train(small(env="visiongym/TabletopSoccer-2v2-v0", multi_agent=True, policy_mapping="per_player",
                    runs_dir=tmp_path))
    with pytest.raises(UsageError, match="--encoder applies to --engine sb3"):
        train(small(encoder="impala", runs_dir=tmp_path))
    with pytest.raises(UsageError, match="--num-env-runners applies to --engine rllib"):
        train(PPOConfig(num_env_runners=2, runs_dir=tmp_path))
    with pytest.raises(UsageError, match="--hyperparameters no_such_knob=1"):
        train(small(env="CartPole-v1", hyperparameters=("no_such_knob=1",), runs_dir=tmp_path))
    with pytest.raises(SystemExit):  # tyro refuses a mapping outside the Literal
        main(["ppo", "--engine", "rllib", "--policy-mapping", "per_player"])
    assert not list(tmp_path.iterdir())  # nothing was created


def test_missing_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray.rllib", None)
    with pytest.raises(UsageError, match=r"pip install 'visiongym\[rllib\]'"):
        import_ray("ray.rllib")
