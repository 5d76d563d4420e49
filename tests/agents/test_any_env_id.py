"""Any Gymnasium id through the trainers: ALE/ ids with the Atari wrappers (our DQN and SB3 PPO),
``module:Env-v0`` ids, other image envs, the missing-package errors and the option checks."""

import sys
import textwrap

import gymnasium as gym
import pytest

from visiongym.agents.common.envs import make_env, pixel_options, wrapper_options
from visiongym.agents.config import CONFIGS
from visiongym.agents.evaluate import main as evaluate_main
from visiongym.agents.train import main as train_main
from visiongym.envs import registration
from visiongym.envs.play import PlayConfig, play
from visiongym.envs.registration import check_env_id
from visiongym.sims.errors import UsageError
from visiongym.vision.runtime import load_checkpoint

# a short game: evaluation episodes end after 2,000 emulator frames
PONG = ["--env", "ALE/Pong-v5", "--env-kwargs", "max_num_frames_per_episode=2000"]
COMMON = ["--features-dim", "64", "--threads", "1", "--no-progress", "--no-video", "--eval-interval", "0",
          "--checkpoint-interval", "0"]


def _layers(env: gym.Env) -> list[str]:
    names = []
    while isinstance(env, gym.Wrapper):
        names.append(type(env).__name__)
        env = env.env
    return names


def test_our_dqn_trains_on_pong_and_evaluates_whole_games_with_raw_scores(tmp_path):
    run = train_main(["dqn", *PONG, *COMMON, "--total-steps", "300", "--learning-starts", "100",
                      "--buffer-size", "1000", "--runs-dir", str(tmp_path)])
    meta = load_checkpoint(run / "checkpoints" / "last.pt")["meta"]
    assert meta["frame_shape"] == [1, 84, 84] and meta["frame_stack"] == 4
    result = evaluate_main([str(run), "--episodes", "1", "--device", "cpu"])
    score = result.returns[0]
    assert score == int(score) and -21 <= score <= 0 and result.lengths[0] > 100
    # play rebuilds the run's preprocessing around the raw ALE env it was asked for
    returns = play(PlayConfig(env_id="ALE/Pong-v5", policy=str(run), record=tmp_path / "pong.gif", max_steps=20))
    assert len(returns) == 1


def test_sb3_ppo_trains_on_pong_through_the_same_preprocessing(tmp_path):
    run = train_main(["ppo", *PONG, *COMMON, "--total-steps", "256", "--n-steps", "128", "--batch-size", "64",
                      "--runs-dir", str(tmp_path)])
    meta = load_checkpoint(run / "checkpoints" / "last.pt")["meta"]
    assert meta["image"] and meta["frame_stack"] == 4
    result = evaluate_main([str(run), "--episodes", "1", "--device", "cpu"])
    assert -21 <= result.returns[0] <= 0


def test_life_loss_and_clipping_are_training_only():
    config = CONFIGS["dqn"](env="ALE/Breakout-v5")
    train_env = make_env(config.env, **wrapper_options(config))()
    eval_env = make_env(config.env, **wrapper_options(config, training=False))()
    assert {"EpisodicLife", "SignReward", "FireReset"} <= set(_layers(train_env))
    assert not {"EpisodicLife", "SignReward"} & set(_layers(eval_env)) and "FireReset" in _layers(eval_env)
    assert eval_env.observation_space.shape == train_env.observation_space.shape == (84, 84, 1)
    train_env.close()
    eval_env.close()


def test_every_step_is_an_option():
    config = CONFIGS["ppo"](env="ALE/Pong-v5", noop_max=0, frame_skip=2, max_pool=False, screen_size=64,
                            grayscale_obs=False, terminal_on_life_loss=False, clip_reward=False, fire_reset=False)
    env = make_env(config.env, **wrapper_options(config))()
    assert _layers(env)[:2] == ["ResizeFrame", "MaxAndSkip"] and "NoopReset" not in _layers(env)
    assert env.reset(seed=0)[0].shape == (64, 64, 3)
    env.close()
    raw = CONFIGS["ppo"](env="ALE/Pong-v5", atari_wrappers=False)
    assert pixel_options(raw) is None
    assert make_env(raw.env, **wrapper_options(raw))().observation_space.shape == (210, 160, 3)


def test_options_that_do_not_apply_are_refused():
    with pytest.raises(UsageError, match="--noop-max applies to image envs that visiongym does not register"):
        pixel_options(CONFIGS["dqn"](env="visiongym/CatchBall-v0", noop_max=5))
    with pytest.raises(UsageError, match="--no-clip-reward applies to Atari"):
        pixel_options(CONFIGS["ppo"](env="CartPole-v1", clip_reward=False))
    with pytest.raises(UsageError, match="--frame-skip needs --atari-wrappers"):
        pixel_options(CONFIGS["ppo"](env="ALE/Pong-v5", atari_wrappers=False, frame_skip=2))
    with pytest.raises(UsageError, match="--screen-size applies to image envs"):
        make_env("CartPole-v1", **wrapper_options(CONFIGS["ppo"](env="CartPole-v1", screen_size=64)))()
    # our envs keep their path: nothing is added
    assert pixel_options(CONFIGS["dqn"](env="visiongym/CatchBall-v0")) is None
    assert pixel_options({"env": "ALE/Pong-v5"}) is None  # a run saved before the wrappers existed


@pytest.fixture
def pixel_module(tmp_path, monkeypatch):
    """A module that registers a 50 x 40 RGB image env on import, as third-party packages do."""
    (tmp_path / "vg_fake_pixels.py").write_text(textwrap.dedent('''
        import gymnasium as gym
        import numpy as np

        class Pixels(gym.Env):
            observation_space = gym.spaces.Box(0, 255, (50, 40, 3), np.uint8)
            action_space = gym.spaces.Discrete(3)

            def __init__(self, render_mode=None):
                self.render_mode = render_mode

            def reset(self, *, seed=None, options=None):
                super().reset(seed=seed)
                self.t = 0
                return self.observation_space.sample(), {}

            def step(self, action):
                self.t += 1
                return self.observation_space.sample(), float(action == 1), self.t >= 20, False, {}

        gym.register("VgFakePixels-v0", entry_point=Pixels)
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "vg_fake_pixels:VgFakePixels-v0"
    gym.registry.pop("VgFakePixels-v0", None)
    sys.modules.pop("vg_fake_pixels", None)


def test_module_colon_id_imports_the_module_and_other_image_envs_are_resized_and_grey(pixel_module, tmp_path):
    check_env_id(pixel_module)
    config = CONFIGS["dqn"](env=pixel_module, screen_size=32)
    assert pixel_options(config)["kind"] == "image"
    env = make_env(config.env, **wrapper_options(config))()
    assert env.reset(seed=0)[0].shape == (32, 32, 1)
    run = train_main(["dqn", "--env", pixel_module, "--screen-size", "40", *COMMON, "--total-steps", "64",
                      "--learning-starts", "32", "--buffer-size", "200", "--runs-dir", str(tmp_path)])
    assert load_checkpoint(run / "checkpoints" / "last.pt")["meta"]["frame_shape"] == [1, 40, 40]


def test_a_known_namespace_whose_package_is_missing_names_the_package_and_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ale_py", None)  # import ale_py now fails
    with pytest.raises(UsageError, match=r"'ale_py', which is not installed.*pip install visiongym\[atari\]"):
        check_env_id("ALE/NotAGame-v5")
    monkeypatch.setitem(registration.KNOWN_NAMESPACES, "Fake", ("vg_not_installed_pkg", "fake"))
    with pytest.raises(UsageError, match=r"vg_not_installed_pkg.*visiongym\[fake\]"):
        check_env_id("Fake/Thing-v0")


def test_an_unknown_id_gets_the_closest_ids_and_the_module_hint():
    with pytest.raises(UsageError, match=r"CartPole-v1.*module:Env-v0") as error:
        check_env_id("CartPol-v1")
    assert "ALE/ (ale_py)" in str(error.value)
    with pytest.raises(UsageError, match="'vg_no_such_module', which is not installed"):
        check_env_id("vg_no_such_module:Env-v0")
    with pytest.raises(UsageError, match="did not register 'Nope-v0'"):
        check_env_id("gymnasium.envs.classic_control:Nope-v0")


def test_the_command_line_prints_one_error_line(run_module):
    done = run_module("visiongym.agents.train", "ppo", "--env", "ALE/Pongg-v5")
    assert done.returncode == 2 and done.stderr.startswith("error: env 'ALE/Pongg-v5' unknown")
