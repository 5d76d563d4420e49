"""Our DQN through `visiongym.agents.train` / `visiongym.agents.evaluate`: learning, run folder, save/load, resume."""

import csv

import gymnasium as gym
import numpy as np
import pytest
import torch

from visiongym.agents.evaluate import main as evaluate_main
from visiongym.agents.policies import load_policy
from visiongym.agents.train import main as train_main
from visiongym.vision.runtime import load_checkpoint


def test_dqn_learns_catchball_from_pixels(catch_dqn_run):
    result = evaluate_main([str(catch_dqn_run), "--episodes", "30", "--device", "cpu"])
    # a uniformly random policy catches 35% of balls on this grid
    assert result.summary()["success_rate"] >= 0.9


def test_run_folder_layout(catch_dqn_run):
    names = {p.relative_to(catch_dqn_run).as_posix() for p in catch_dqn_run.rglob("*")}
    assert {"config.yaml", "evaluations.csv", "checkpoints/last.pt", "checkpoints/best.pt",
            "checkpoints/replay.pt"} <= names
    assert any(name.startswith("videos/eval_") for name in names)
    assert catch_dqn_run.name.startswith("CatchBall-v0__dqn__3__")
    rows = list(csv.DictReader((catch_dqn_run / "evaluations.csv").open()))
    assert [int(row["step"]) for row in rows] == [1000, 2000]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = EventAccumulator(str(catch_dqn_run)).Reload().Tags()["scalars"]
    assert {"charts/SPS", "charts/episodic_return", "charts/epsilon", "losses/td_loss",
            "losses/q_values", "eval/success_rate"} <= set(tags)


def test_save_load_round_trip_gives_identical_actions(catch_dqn_run):
    env = gym.make("visiongym/CatchBall-v0", rows=6, columns=3, image_size=36)
    policy = load_policy(catch_dqn_run / "checkpoints" / "last.pt", env, device="cpu")
    from visiongym.agents.dqn.networks import build_network

    payload = load_checkpoint(catch_dqn_run / "checkpoints" / "last.pt")
    network = build_network(payload["meta"]["network"])  # the checkpoint describes its network
    network.load_state_dict(payload["state"]["learner"]["online"])
    obs, _ = env.reset(seed=0)
    policy.reset()
    for _ in range(20):
        with torch.no_grad():
            expected = int(network(torch.as_tensor(obs).permute(2, 0, 1)[None]).argmax())
        assert policy(obs) == expected
        obs, _, terminated, truncated, _ = env.step(expected)
        if terminated or truncated:
            obs, _ = env.reset()
            policy.reset()


def _final_weights(run):
    return load_checkpoint(run / "checkpoints" / "last.pt")["state"]["policy"]


def test_resume_continues_exactly_like_an_uninterrupted_run(tmp_path, catch_args):
    CATCH_ENV, FAST_DQN = catch_args
    common = ["dqn", *CATCH_ENV, *FAST_DQN, "--learning-starts", "100", "--buffer-size", "2000",
              "--checkpoint-interval", "300", "--eval-interval", "0", "--runs-dir", str(tmp_path)]
    whole = train_main([*common, "--total-steps", "600", "--run-name", "whole"])
    part = train_main([*common, "--total-steps", "300", "--run-name", "part"])
    assert load_checkpoint(part / "checkpoints" / "last.pt")["meta"]["step"] == 300
    resumed = train_main(["--resume", str(part), "--total-steps", "600", "--no-progress"])
    assert resumed == part
    a, b = _final_weights(whole), _final_weights(resumed)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_policy_loader_accepts_a_run_folder_and_plays(catch_dqn_run):
    env = gym.make("visiongym/CatchBall-v0", rows=6, columns=3, image_size=36)
    policy = load_policy(catch_dqn_run, env, device="cpu")
    obs, _ = env.reset(seed=1)
    policy.reset()
    action = policy(obs)
    assert env.action_space.contains(np.int64(action))


@pytest.mark.slow  # spawns two interpreters that import torch: ~15 s on the loaded dev machine
def test_async_vector_collection_runs_and_counts_steps(tmp_path, catch_args):
    catch_env, _ = catch_args
    run = train_main(["dqn", *catch_env, "--vectorization", "async", "--num-envs", "2", "--total-steps", "40",
                      "--frame-stack", "2", "--buffer-size", "200", "--features-dim", "16", "--eval-interval", "0",
                      "--threads", "1", "--no-progress", "--runs-dir", str(tmp_path)])
    assert load_checkpoint(run / "checkpoints" / "last.pt")["meta"]["step"] == 40


def test_ctrl_c_saves_a_checkpoint_that_resumes(tmp_path, catch_args, monkeypatch):
    from visiongym.agents.dqn.trainer import DQNTrainer

    catch_env, fast = catch_args
    collect = DQNTrainer.collect

    def interrupted_collect(self):
        if self.step >= 48:
            raise KeyboardInterrupt
        return collect(self)

    monkeypatch.setattr(DQNTrainer, "collect", interrupted_collect)
    args = ["dqn", *catch_env, *fast, "--total-steps", "400", "--buffer-size", "400", "--eval-interval", "0",
            "--runs-dir", str(tmp_path), "--run-name", "stopped"]
    run = train_main(args)
    assert load_checkpoint(run / "checkpoints" / "last.pt")["meta"]["step"] == 48
    monkeypatch.setattr(DQNTrainer, "collect", collect)
    train_main(["--resume", str(run), "--total-steps", "96", "--no-progress"])
    assert load_checkpoint(run / "checkpoints" / "last.pt")["meta"]["step"] == 96


def test_prioritized_dqn_learns_catchball_and_saves_its_priorities(tmp_path, catch_args):
    CATCH_ENV, FAST_DQN = catch_args
    run = train_main(["dqn", *CATCH_ENV, *FAST_DQN, "--prioritized", "--total-steps", "2000", "--eval-interval", "0",
                      "--checkpoint-interval", "2000", "--runs-dir", str(tmp_path), "--seed", "3", "--no-video"])
    replay = load_checkpoint(run / "checkpoints" / "replay.pt")["state"]
    priorities = replay["priorities"]
    assert priorities.std() > 0  # updated from TD errors, not left at the initial maximum
    result = evaluate_main([str(run), "--episodes", "30", "--device", "cpu"])
    assert result.summary()["success_rate"] >= 0.9
