"""The pipelined DQN update (a helper thread): same numbers as the one-thread update, exact resume."""

import copy

import pytest
import torch

from visiongym.agents.common.replay import FrameStackReplay
from visiongym.agents.dqn.learner import DQNLearner
from visiongym.agents.dqn.networks import QNetwork, stacked_space
from visiongym.agents.train import main as train_main
from visiongym.vision.runtime import load_checkpoint

FRAME = (3, 36, 36)


def random_replay(generator, rows=64, envs=2, seed=0):
    """A replay of random frames, rewards and episode ends, sampling with ``generator``."""
    data = torch.Generator().manual_seed(seed)
    replay = FrameStackReplay(rows * envs, envs, FRAME, stack=2, n_step=3, gamma=0.9, generator=generator)
    for row in range(rows):
        frames = torch.randint(0, 256, (envs, *FRAME), dtype=torch.uint8, generator=data)
        ends = torch.rand(envs, generator=data) < 0.1
        replay.add(frames, torch.randint(0, 4, (envs,), generator=data), torch.rand(envs, generator=data),
                   ends, torch.zeros(envs, dtype=torch.bool), torch.full((envs,), row == 0), torch.zeros(envs, dtype=torch.bool))
    return replay


def twin_learners(double=True, augment_pad=2):
    """Two learners (and their replays) with equal weights, data and generator seeds."""
    torch.manual_seed(0)
    network = QNetwork(stacked_space(FRAME, 2), 4, "nature_cnn", 64, dueling=True)
    network.use_channels_last()
    pairs = []
    for _ in range(2):
        generator = torch.Generator().manual_seed(7)
        learner = DQNLearner(copy.deepcopy(network), learning_rate=1e-3, double=double,
                             augment_pad=augment_pad, generator=generator)
        pairs.append((learner, random_replay(generator)))
    return pairs


@pytest.mark.parametrize("double", [True, False])
def test_pipelined_updates_give_the_same_weights_as_plain_updates(double):
    (plain, plain_replay), (piped, piped_replay) = twin_learners(double=double)
    for step in range(5):
        if step == 3:  # a target update while a prefetched target pass is waiting: it is redone
            plain.update_target()
            piped.update_target()
        expected = plain.update(plain_replay.sample(16))
        metrics = piped.pipelined_update(lambda: piped_replay.sample(16))
        assert torch.equal(metrics["losses/td_loss"], expected["losses/td_loss"]), step
    for (name, a), b in zip(plain.online.named_parameters(), piped.online.parameters(), strict=True):
        assert torch.equal(a, b), name
    # the helper drew a sixth batch ahead; dropping it rewinds the generator to the plain learner's
    assert not torch.equal(piped.generator.get_state(), plain.generator.get_state())
    piped.discard_prefetch()
    assert torch.equal(piped.generator.get_state(), plain.generator.get_state())
    piped.close()


def assert_resume_is_exact(common, half):
    """A run stopped at ``half`` steps and resumed ends with the weights of one run of ``2 * half``."""
    whole = train_main([*common, "--total-steps", str(2 * half), "--run-name", "whole"])
    part = train_main([*common, "--total-steps", str(half), "--run-name", "part"])
    train_main(["--resume", str(part), "--total-steps", str(2 * half), "--no-progress"])
    a = load_checkpoint(whole / "checkpoints" / "last.pt")["state"]["policy"]
    b = load_checkpoint(part / "checkpoints" / "last.pt")["state"]["policy"]
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.mark.parametrize("pipeline", ["on", "off"])
def test_resume_continues_exactly_with_and_without_the_pipeline(tmp_path, catch_args, pipeline):
    catch_env, fast = catch_args
    common = ["dqn", *catch_env, *fast, "--pipeline", pipeline, "--learning-starts", "100", "--buffer-size", "2000",
              "--checkpoint-interval", "300", "--eval-interval", "0", "--runs-dir", str(tmp_path)]
    assert_resume_is_exact(common, 300)


def test_pipelined_dqn_learns_catchball(tmp_path, catch_args):
    from visiongym.agents.evaluate import main as evaluate_main

    catch_env, fast = catch_args
    run = train_main(["dqn", *catch_env, *fast, "--pipeline", "on", "--total-steps", "2000", "--eval-interval", "0",
                      "--checkpoint-interval", "2000", "--runs-dir", str(tmp_path), "--seed", "3", "--no-video"])
    result = evaluate_main([str(run), "--episodes", "30", "--device", "cpu"])
    assert result.summary()["success_rate"] >= 0.9  # a uniformly random policy catches 35%


@pytest.mark.parametrize("algo, extra, message", [
    ("dqn", ["--prioritized"], "auto or off with --prioritized"),
    ("drqn", [], "dqn only"),
])
def test_pipeline_refuses_what_it_cannot_do(tmp_path, catch_args, algo, extra, message):
    catch_env, _ = catch_args
    with pytest.raises(ValueError, match=message):
        train_main([algo, *catch_env, "--pipeline", "on", *extra, "--total-steps", "8", "--no-progress",
                    "--runs-dir", str(tmp_path)])


@pytest.mark.parametrize("pipeline, prioritized, device, expected", [
    ("auto", False, "cpu", True),
    ("auto", True, "cpu", False),  # priorities must be written before the next batch is drawn
    ("auto", False, "meta", False),  # CPU only
    ("off", False, "cpu", False),
    ("on", False, "cpu", True),
])
def test_auto_pipeline_is_on_for_plain_cpu_training(pipeline, prioritized, device, expected):
    from visiongym.agents.config import DQNConfig
    from visiongym.agents.dqn.trainer import DQNTrainer

    trainer = DQNTrainer(DQNConfig(pipeline=pipeline, prioritized=prioritized))
    trainer.device = torch.device(device)
    assert trainer.use_pipeline() is expected


def test_runs_saved_before_the_pipeline_option_resume_without_it():
    from visiongym.agents.config import DQNConfig, config_from_dict, config_to_dict

    saved = config_to_dict(DQNConfig())
    del saved["pipeline"]  # a config.yaml written before the option existed
    assert config_from_dict(saved).pipeline == "off"
    assert DQNConfig().pipeline == "auto"


def test_async_envs_step_during_the_update_and_resume_exactly(tmp_path, catch_args):
    catch_env, fast = catch_args
    common = ["dqn", *catch_env, *fast, "--vectorization", "async", "--num-envs", "2", "--learning-starts", "50",
              "--buffer-size", "600", "--checkpoint-interval", "100", "--eval-interval", "0", "--runs-dir", str(tmp_path)]
    assert_resume_is_exact(common, 100)
