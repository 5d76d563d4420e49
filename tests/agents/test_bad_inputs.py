"""Every bad input of the training and evaluation commands gets a clear error."""

import gymnasium as gym
import pytest

from visiongym.agents.common.replay import ReplayMemoryError
from visiongym.agents.evaluate import main as evaluate_main
from visiongym.agents.policies import load_policy
from visiongym.agents.train import main as train_main
from visiongym.vision.runtime import CheckpointError, save_checkpoint


def test_unknown_algorithm():
    with pytest.raises(ValueError, match="algorithm 'dqnn' unknown; choose one of: dqn, drqn"):
        train_main(["dqnn", "--env", "visiongym/CatchBall-v0"])


def test_unknown_env(tmp_path):
    with pytest.raises(ValueError, match="env 'visiongym/Nope-v0' unknown; choose one of: .*CatchBall"):
        train_main(["dqn", "--env", "visiongym/Nope-v0", "--runs-dir", str(tmp_path), "--no-progress"])


def test_dqn_refuses_continuous_actions(tmp_path):
    with pytest.raises(ValueError, match="dqn needs a discrete action space.*Box"):
        train_main(["dqn", "--env", "Pendulum-v1", "--runs-dir", str(tmp_path), "--no-progress"])


def test_dqn_on_state_observations_asks_for_the_mlp_encoder(tmp_path):
    with pytest.raises(ValueError, match="CartPole-v1 observes vectors of 4 numbers .*use --encoder mlp"):
        train_main(["dqn", "--env", "CartPole-v1", "--runs-dir", str(tmp_path), "--no-progress"])
    with pytest.raises(ValueError, match="needs a uint8 \\(H, W, C\\) image observation space or a flat float vector"):
        train_main(["dqn", "--env", "Blackjack-v1", "--runs-dir", str(tmp_path), "--no-progress"])


def test_replay_buffer_too_large(tmp_path):
    with pytest.raises(ReplayMemoryError, match="needs .* GiB .* choose buffer_size <="):
        train_main(["dqn", "--env", "visiongym/CatchBall-v0", "--buffer-size", "100000000000",
                    "--runs-dir", str(tmp_path), "--no-progress"])


def test_bad_env_kwargs(tmp_path):
    with pytest.raises(ValueError, match="is not key=value"):
        train_main(["dqn", "--env", "visiongym/CatchBall-v0", "--env-kwargs", "rows6",
                    "--runs-dir", str(tmp_path), "--no-progress"])


def test_corrupt_checkpoint(tmp_path):
    bad = tmp_path / "last.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_policy(bad, device="cpu")


def test_checkpoint_from_another_env_or_algorithm(tmp_path):
    other_env = save_checkpoint(tmp_path / "soccer.pt", "dqn", {}, env_id="visiongym/TabletopSoccer-v0")
    with pytest.raises(CheckpointError, match="env_id='visiongym/TabletopSoccer-v0', not env_id='visiongym/CatchBall-v0'"):
        load_policy(other_env, gym.make("visiongym/CatchBall-v0"), device="cpu")
    other_kind = save_checkpoint(tmp_path / "ae.pt", "autoencoder", {}, env_id="visiongym/CatchBall-v0")
    with pytest.raises(CheckpointError, match="holds a 'autoencoder' model"):
        load_policy(other_kind, device="cpu")


def test_resume_with_another_algorithm(catch_dqn_run):
    with pytest.raises(ValueError, match="trained with 'dqn', not 'ppo'"):
        train_main(["ppo", "--resume", str(catch_dqn_run), "--no-progress"])


@pytest.mark.parametrize(("extra", "message"), [
    ([], "expected one argument"),
    (["RUN", "--device", "cuda"], "unrecognized arguments: --device cuda"),
    (["RUN", "--max-minutes", "5"], "--max-minutes is not an option of dqn"),
])
def test_resume_refuses_what_it_cannot_change(catch_dqn_run, capsys, extra, message):
    argv = ["--resume", *[str(catch_dqn_run) if arg == "RUN" else arg for arg in extra]]
    with pytest.raises(SystemExit) as exit_info:
        train_main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_evaluate_refuses_a_video_format(catch_dqn_run, tmp_path):
    with pytest.raises(ValueError, match=r"video '.*out\.avi': suffix '\.avi' unsupported; choose one of: \.mp4, \.gif"):
        evaluate_main([str(catch_dqn_run), "--episodes", "1", "--device", "cpu", "--video", str(tmp_path / "out.avi")])
    assert not (tmp_path / "out.avi").exists()


def test_hide_ball_on_an_env_without_a_ball(tmp_path):
    with pytest.raises(ValueError, match="OccludeBall needs the soccer env"):
        train_main(["dqn", "--env", "visiongym/CatchBall-v0", "--hide-ball", "0.5", "--runs-dir", str(tmp_path),
                    "--no-progress"])


def test_drqn_refuses_prioritized_replay(tmp_path):
    with pytest.raises(ValueError, match="--prioritized does not apply to drqn; it is an option of: dqn"):
        train_main(["drqn", "--env", "visiongym/CatchBall-v0", "--prioritized", "--runs-dir", str(tmp_path),
                    "--no-progress"])



def test_evaluate_command_on_a_missing_checkpoint(tmp_path, run_module):
    missing = tmp_path / "nowhere.pt"
    result = run_module("visiongym.agents.evaluate", missing)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: checkpoint {str(missing)!r} does not exist")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sac", "--env", "Pendulum-v1", "--n-steps", "64"],
         "--n-steps does not apply to sac; it is an option of: ppo, a2c, recurrent-ppo"),
        (["a2c", "--env", "CartPole-v1", "--batch-size", "64"], "--batch-size does not apply to a2c"),
        (["ppo", "--env", "CartPole-v1", "--no-save-replay"],
         "--no-save-replay does not apply to ppo; it is an option of: dqn, drqn, sac, sb3-dqn, qrdqn"),
        (["drqn", "--env", "visiongym/CatchBall-v0", "--priority-alpha", "0.7"],
         "--priority-alpha does not apply to drqn; it is an option of: dqn"),
        (["dqn", "--env", "visiongym/CatchBall-v0", "--priority-beta", "0.7"], "--priority-beta needs --prioritized"),
        (["dqn", "--env", "visiongym/CatchBall-v0", "--detector-players", "2"], "--detector-players 2 needs --detector"),
    ],
)
def test_an_option_the_algorithm_cannot_use_is_refused(tmp_path, args, message):
    with pytest.raises(ValueError, match=message.replace("(", "\\(")):
        train_main([*args, "--runs-dir", str(tmp_path), "--no-progress"])
    assert not list(tmp_path.iterdir())  # refused before a run folder exists


def test_evaluate_refuses_epsilon_for_an_sb3_policy():
    from pathlib import Path

    with pytest.raises(ValueError, match="epsilon=0.5 applies to dqn and drqn policies; ppo acts deterministically"):
        evaluate_main([str(Path(__file__).parent / "fixtures" / "release1" / "ppo"), "--episodes", "1",
                       "--epsilon", "0.5", "--device", "cpu"])
