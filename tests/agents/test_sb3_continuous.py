"""SB3 on continuous-control state envs through visiongym.agents.train: VecNormalize, MLP size, PPO fields,
task metrics in the evaluations, and the statistics travelling with checkpoints."""

from __future__ import annotations

import csv

import gymnasium as gym
import numpy as np
import pytest
import torch

from visiongym.agents.common.evaluation import evaluate
from visiongym.agents.config import CONFIGS
from visiongym.agents.evaluate import main as evaluate_main
from visiongym.agents.policies import load_policy
from visiongym.agents.sb3.trainer import SB3Trainer
from visiongym.agents.train import main as train_main
from visiongym.vision.runtime import load_checkpoint

WALKER = ["--env", "visiongym/LearnToMove-v0", "--env-kwargs", "character=walker", "task=imitate",
          "action_mode=pd_offset"]
FAST = ["--threads", "1", "--no-progress", "--no-video", "--num-envs", "2", "--n-steps", "64",
        "--batch-size", "64", "--n-epochs", "1"]


@pytest.fixture(scope="module")
def walker_run(tmp_path_factory):
    """A 256-step PPO run on the walker's imitation task with a small MLP (a few seconds)."""
    runs = tmp_path_factory.mktemp("runs")
    return train_main(["ppo", *WALKER, *FAST, "--net-arch", "32", "32", "--activation", "relu",
                       "--total-steps", "256", "--eval-interval", "128", "--eval-episodes", "2",
                       "--eval-info-keys", "reward_pose", "--runs-dir", str(runs), "--seed", "4"])


def test_ppo_on_state_obs_uses_the_mlp_size_and_vecnormalize(walker_run):
    payload = load_checkpoint(walker_run / "checkpoints" / "last.pt")
    meta = payload["meta"]
    assert meta["policy"] == "MlpPolicy"
    assert meta["policy_kwargs"] == {"net_arch": [32, 32], "activation": "relu"}
    layers = [v.shape for k, v in payload["state"]["policy"].items() if k.startswith("mlp_extractor.policy_net")]
    assert layers[0] == (32, 31) and layers[2] == (32, 32)  # 31 = walker state + phase
    stats = payload["state"]["observation_normalizer"]
    assert stats["mean"].shape == (31,) and float(stats["var"].max()) > 0
    assert float(stats["mean"].abs().max()) > 0  # updated while training
    assert (walker_run / "checkpoints" / "vecnormalize.pkl").is_file()


def test_eval_csv_has_the_envs_task_metrics(walker_run):
    rows = list(csv.DictReader((walker_run / "evaluations.csv").open()))
    assert [int(r["step"]) for r in rows] == [128, 256]
    for row in rows:
        assert 0.0 < float(row["mean_reward_pose"]) <= 0.5
        # 256 steps teach the walker nothing to assert on; what is checked is that the column is
        # the env's score: in `imitate` the reward is the imitation reward, and the score is its
        # sum over the 500 steps of a 10 s episode, so it is the mean return / 500.
        assert "forward_speed" in row
        assert float(row["imitation_score"]) == pytest.approx(float(row["mean_return"]) / 500, rel=1e-9)


def test_loaded_policy_normalises_like_vecnormalize(walker_run):
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    env = gym.make("visiongym/LearnToMove-v0", character="walker", task="imitate", action_mode="pd_offset")
    policy = load_policy(walker_run / "checkpoints" / "last.pt", env, device="cpu")
    venv = VecNormalize.load(str(walker_run / "checkpoints" / "vecnormalize.pkl"), DummyVecEnv([lambda: env]))
    venv.training = False
    model = PPO.load(walker_run / "checkpoints" / "sb3_model.zip", device="cpu")
    obs, _ = env.reset(seed=0)
    policy.reset()
    expected, _ = model.predict(venv.normalize_obs(obs[None]), deterministic=True)
    np.testing.assert_allclose(policy(obs), expected[0], atol=1e-5)
    result = evaluate_main([str(walker_run), "--episodes", "2", "--device", "cpu", "--info-keys", "reward_pose"])
    assert set(result.metrics) == {"forward_speed", "imitation_score", "mean_reward_pose"}


def test_resume_restores_the_normalisation_statistics(walker_run):
    before = load_checkpoint(walker_run / "checkpoints" / "last.pt")["state"]["observation_normalizer"]
    train_main(["--resume", str(walker_run), "--total-steps", "384", "--no-progress"])
    after = load_checkpoint(walker_run / "checkpoints" / "last.pt")["state"]["observation_normalizer"]
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    env = gym.make("visiongym/LearnToMove-v0", character="walker", task="imitate", action_mode="pd_offset")
    venv = VecNormalize.load(str(walker_run / "checkpoints" / "vecnormalize.pkl"), DummyVecEnv([lambda: env]))
    # 256 + 128 steps, plus the reset observations of the 2 envs at each learn() start:
    # the statistics continued instead of restarting from zero.
    assert venv.obs_rms.count == pytest.approx(384 + 2 * 2, abs=0.01)
    assert not torch.allclose(before["mean"], after["mean"])


def _trainer(tmp_path, algo: str, *args: str) -> SB3Trainer:
    import tyro

    config = tyro.cli(CONFIGS[algo], args=[*args, "--runs-dir", str(tmp_path), "--threads", "1"])
    trainer = SB3Trainer(config)
    trainer.build()
    return trainer


def test_ppo_fields_reach_sb3_and_linear_schedule_decays(tmp_path):
    trainer = _trainer(tmp_path, "ppo", "--env", "Pendulum-v1", "--gamma", "0.95", "--gae-lambda", "0.9",
                       "--n-epochs", "3", "--clip-range", "0.1", "--ent-coef", "0.01", "--vf-coef", "0.7",
                       "--max-grad-norm", "1.0", "--target-kl", "0.05", "--log-std-init", "-1",
                       "--learning-rate", "1e-3", "--lr-schedule", "linear")
    model = trainer.model
    assert (model.gamma, model.gae_lambda, model.n_epochs) == (0.95, 0.9, 3)
    assert (model.ent_coef, model.vf_coef, model.max_grad_norm, model.target_kl) == (0.01, 0.7, 1.0, 0.05)
    assert model.clip_range(1.0) == 0.1
    assert model.lr_schedule(1.0) == pytest.approx(1e-3) and model.lr_schedule(0.25) == pytest.approx(2.5e-4)
    assert float(model.policy.log_std.detach().mean()) == -1.0
    assert trainer.normalization() == (True, True)  # auto: on-policy, vector observations
    trainer.venv.close()


def test_trainer_tunes_the_allocator_unless_told_not_to(tmp_path, allocator_calls):
    allocator_calls.clear()
    _trainer(tmp_path / "tuned", "sac", "--env", "Pendulum-v1", "--net-arch", "16", "16").venv.close()
    assert len(allocator_calls) == 1
    _trainer(tmp_path / "untuned", "sac", "--env", "Pendulum-v1", "--net-arch", "16", "16",
             "--no-tune-allocator").venv.close()
    assert len(allocator_calls) == 1


def test_auto_normalisation_is_off_for_sac_and_images(tmp_path, catch_args):
    sac = _trainer(tmp_path, "sac", "--env", "Pendulum-v1", "--net-arch", "16", "16")
    assert sac.normalization() == (False, False)
    assert sac.model.policy.actor.latent_pi[0].out_features == 16
    sac.venv.close()
    catch_env, _ = catch_args
    ppo = _trainer(tmp_path, "ppo", *catch_env, "--frame-stack", "1", "--features-dim", "32")
    assert ppo.normalization() == (False, False)
    ppo.venv.close()


def test_bad_normalisation_and_fields_are_named(tmp_path, catch_args):
    catch_env, _ = catch_args
    with pytest.raises(ValueError, match="normalize='observation': image observations"):
        _trainer(tmp_path, "ppo", *catch_env, "--normalize", "observation")
    with pytest.raises(ValueError, match="--n-epochs does not apply to sac; it takes: ent_coef, gamma"):
        _trainer(tmp_path, "sac", "--env", "Pendulum-v1", "--n-epochs", "3")
    with pytest.raises(ValueError, match="--lr-schedule linear needs --learning-rate"):
        _trainer(tmp_path, "ppo", "--env", "Pendulum-v1", "--lr-schedule", "linear")


def test_evaluate_refuses_an_info_key_the_env_lacks():
    class Zero:
        def reset(self):
            pass

        def __call__(self, observation):
            return np.zeros(1, np.float32)

    with pytest.raises(ValueError, match="eval info key 'speed' is not in the env's info"):
        evaluate(Zero(), lambda: gym.make("Pendulum-v1"), 1, info_keys=("speed",))


def test_play_runs_the_normalised_policy(walker_run, tmp_path, check_video, hud_frames):
    from visiongym.envs.play import main as play_main

    video = tmp_path / "walker.gif"
    play_main(["visiongym/LearnToMove-v0", "--env-kwargs", "character=walker", "task=imitate",
               "action_mode=pd_offset", "render_size=(48,64)", "--policy", str(walker_run),
               "--record", str(video), "--episodes", "1"])
    # The gif's 256-colour palette costs at most 1.4 a frame over the pixels that change (measured
    # with a random policy); the frames in reverse order would be off by 18.
    decoded = check_video(video, hud_frames, tolerance=4.0)
    assert decoded.shape[1:] == (48, 64, 3)
