"""SB3 / sb3-contrib algorithms through `visiongym.agents.train`: learning, every algorithm, resume, errors."""

import gymnasium as gym
import numpy as np
import pytest

from visiongym.agents.common.run import open_run
from visiongym.agents.evaluate import main as evaluate_main
from visiongym.agents.policies import load_policy
from visiongym.agents.train import _resume_config
from visiongym.agents.train import main as train_main
from visiongym.vision.runtime import load_checkpoint

SMALL_CNN = ["--encoder", "nature_cnn", "--features-dim", "64", "--frame-stack", "2", "--threads", "1",
             "--no-progress", "--eval-interval", "0"]


def test_sb3_ppo_learns_catchball_through_our_command(tmp_path, catch_args):
    catch_env, _ = catch_args
    run = train_main(["ppo", *catch_env, "--total-steps", "4096", "--num-envs", "8", "--n-steps", "32",
                      "--batch-size", "64", "--learning-rate", "1e-3", "--hyperparameters", "n_epochs=4",
                      "ent_coef=0.01", "--encoder", "nature_cnn", "--features-dim", "128", "--frame-stack", "1",
                      "--threads", "1", "--no-progress", "--eval-interval", "0", "--runs-dir", str(tmp_path)])
    result = evaluate_main([str(run), "--episodes", "30", "--device", "cpu"])
    # a uniformly random policy catches 35% of balls on this grid
    assert result.summary()["success_rate"] >= 0.9
    payload = load_checkpoint(run / "checkpoints" / "last.pt")
    assert payload["kind"] == "ppo" and payload["meta"]["policy"] == "CnnPolicy"


@pytest.mark.parametrize("algo", ["a2c", "sb3-dqn", "qrdqn", "recurrent-ppo"])
def test_every_discrete_sb3_algorithm_trains_saves_and_acts(tmp_path, catch_args, algo):
    catch_env, _ = catch_args
    extra = ["--n-steps", "16"] if algo in ("a2c", "recurrent-ppo") else ["--buffer-size", "500",
                                                                          "--hyperparameters", "learning_starts=32"]
    if algo == "recurrent-ppo":
        extra += ["--batch-size", "32"]
    run = train_main([algo, *catch_env, *SMALL_CNN, *extra, "--total-steps", "64", "--num-envs", "2",
                      "--runs-dir", str(tmp_path)])
    env = gym.make("visiongym/CatchBall-v0", rows=6, columns=3, image_size=36)
    policy = load_policy(run, env, device="cpu")
    obs, _ = env.reset(seed=0)
    policy.reset()
    for _ in range(6):
        action = policy(obs)
        assert env.action_space.contains(np.int64(action))
        obs, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break
    assert type(load_checkpoint(run / "checkpoints" / "last.pt")["meta"]["policy_kwargs"]) is dict


def test_sac_on_continuous_state_env_and_resume(tmp_path):
    common = ["sac", "--env", "Pendulum-v1", "--threads", "1", "--no-progress", "--eval-interval", "0",
              "--hyperparameters", "learning_starts=50", "--batch-size", "32", "--runs-dir", str(tmp_path)]
    run = train_main([*common, "--total-steps", "100"])
    assert load_checkpoint(run / "checkpoints" / "last.pt")["meta"]["step"] == 100
    assert (run / "checkpoints" / "sb3_replay.pkl").is_file()
    resumed = _resume_config(["--resume", str(run), "--total-steps", "160", "--max-minutes", "2.5", "--no-progress"])
    assert (resumed.algo, resumed.total_steps, resumed.max_minutes, resumed.progress) == ("sac", 160, 2.5, False)
    reopened, _, resuming = open_run(resumed)  # what the trainer runs with: the new budget, not the saved one
    assert resuming and (reopened.total_steps, reopened.max_minutes) == (160, 2.5)
    train_main(["--resume", str(run), "--total-steps", "160", "--no-progress"])
    assert load_checkpoint(run / "checkpoints" / "last.pt")["meta"]["step"] == 160
    env = gym.make("Pendulum-v1")
    policy = load_policy(run, env, device="cpu")
    obs, _ = env.reset(seed=0)
    policy.reset()
    assert env.action_space.contains(np.asarray(policy(obs), dtype=np.float32))


def test_sac_refuses_discrete_actions(tmp_path, catch_args):
    catch_env, _ = catch_args
    with pytest.raises(ValueError, match="sac needs a continuous \\(Box\\) action space.*Discrete"):
        train_main(["sac", *catch_env, *SMALL_CNN, "--runs-dir", str(tmp_path)])
