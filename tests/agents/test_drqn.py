"""DRQN: sequence sampling with burn-in, state resets at episode starts, run + save/load."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from visiongym.agents.dqn.drqn import DRQNLearner, RecurrentQNetwork, SequenceReplay
from visiongym.agents.dqn.networks import stacked_space
from visiongym.agents.policies import load_policy
from visiongym.agents.train import main as train_main


def test_sequences_carry_actions_returns_and_bootstrap_positions():
    replay = SequenceReplay(64, 1, (1, 4, 4), stack=1, n_step=2, gamma=0.5)
    for index in range(20):
        first, final = index in (0, 10), index == 9
        frame = torch.full((1, 1, 4, 4), index, dtype=torch.uint8)
        replay.add(frame, [index % 3], [1.0], [index == 8], [False], [first], [final])
    batch = replay.sample_sequences(64, burn_in=2, length=4)
    starts = batch.frames[:, 0, 0, 0, 0].long()
    assert torch.equal(batch.frames[:, :, 0, 0, 0].long(), starts[:, None] + torch.arange(8))
    assert torch.equal(batch.actions, (starts[:, None] + 2 + torch.arange(4)) % 3)
    rows = starts[:, None] + 2 + torch.arange(4)
    assert torch.equal(batch.mask, (rows != 9).float())  # row 9 is a final observation
    # row 8 terminates: return 1, no bootstrap; row 7: 1 + .5, no bootstrap; others 1.5 + .25 Q
    expected_returns = torch.where(rows == 8, 1.0, 1.5)
    assert torch.allclose(batch.returns[rows != 9], expected_returns[rows != 9])
    assert torch.equal(batch.discounts[(rows == 7) | (rows == 8)], torch.zeros(int(((rows == 7) | (rows == 8)).sum())))
    assert torch.equal(batch.bootstrap_index[rows < 7], (torch.arange(4) + 2).expand_as(rows)[rows < 7])


def test_state_resets_at_episode_starts_and_burn_in_has_no_gradient():
    net = RecurrentQNetwork(stacked_space((3, 36, 36), 1), 3, "nature_cnn", 32, 16)
    frames = torch.randint(0, 255, (2, 6, 3, 36, 36), dtype=torch.uint8)
    first = torch.zeros(2, 6, dtype=torch.bool)
    first[:, 3] = True
    q = net.unroll(frames, first)
    # after a reset, the output only depends on the frames from the reset on
    alone = net.unroll(frames[:, 3:], torch.zeros(2, 3, dtype=torch.bool))
    assert torch.allclose(q[:, 3:], alone, atol=1e-5)
    burned = net.unroll(frames, torch.zeros(2, 6, dtype=torch.bool), burn_in=4)
    assert burned.shape == (2, 2, 3)
    learner = DRQNLearner(net, burn_in=2, augment_pad=2)
    assert learner.target is not net


def test_drqn_trains_saves_and_plays_through_the_command(tmp_path, catch_args):
    catch_env, _ = catch_args
    run_args = ["drqn", *catch_env, "--flicker", "0.3", "--features-dim", "32", "--lstm-hidden", "32",
                      "--buffer-size", "2000", "--learning-starts", "100", "--train-frequency", "8",
                      "--burn-in", "2", "--sequence-length", "4", "--batch-size", "8", "--total-steps", "240",
                      "--num-envs", "2", "--eval-interval", "240", "--eval-episodes", "2", "--no-video",
                      "--threads", "1", "--no-progress", "--runs-dir", str(tmp_path), "--amp", "--compile"]
    with pytest.warns(UserWarning, match="--compile is a GPU option"):  # both flags leave the CPU alone
        run = train_main(run_args)
    env = gym.make("visiongym/CatchBall-v0", rows=6, columns=3, image_size=36)
    policy = load_policy(run, env, device="cpu")
    obs, _ = env.reset(seed=0)
    policy.reset()
    actions = [policy(obs) for _ in range(3)]
    assert all(env.action_space.contains(np.int64(a)) for a in actions)
    with pytest.raises(ValueError, match="frame_stack=4 must be 1"):
        train_main(["drqn", *catch_env, "--frame-stack", "4", "--runs-dir", str(tmp_path), "--no-progress"])


class _Recall(gym.Env):
    """A cue in the first observation, ``delay`` blank ones, then a query: the action at the query
    must name the cue (reward 1). Without memory the query step is a coin flip (at most 50%)."""

    observation_space = gym.spaces.Box(0.0, 1.0, (3,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, delay: int = 3, render_mode=None):
        self.delay, self.render_mode = delay, render_mode

    def _obs(self) -> np.ndarray:
        obs = np.zeros(3, np.float32)
        if self.t == 0:
            obs[self.cue] = 1.0
        elif self.t == self.delay + 1:
            obs[2] = 1.0
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.cue = 0, int(self.np_random.integers(2))
        return self._obs(), {}

    def step(self, action):
        query = self.t == self.delay + 1
        self.t += 1
        reward = float(query and int(action) == self.cue)
        return self._obs(), reward, query, False, {"is_success": bool(reward)}


@pytest.fixture
def recall_env():
    gym.register("VgRecall-v0", entry_point=_Recall)
    yield "VgRecall-v0"
    gym.registry.pop("VgRecall-v0", None)


def test_drqn_remembers_a_cue_from_vector_observations(recall_env, tmp_path):
    """A real learning test on flat vectors (a state, a detector's object list): the LSTM must
    carry the first observation's cue over three blank steps; a memoryless agent scores 50%."""
    run = train_main(["drqn", "--env", recall_env, "--encoder", "mlp",
                      "--features-dim", "32", "--lstm-hidden", "32", "--no-dueling", "--num-envs", "4",
                      "--buffer-size", "5000", "--learning-starts", "200", "--train-frequency", "2",
                      "--burn-in", "0", "--sequence-length", "8", "--batch-size", "16", "--n-step", "1",
                      "--gamma", "0.9", "--target-update-interval", "100", "--exploration-steps", "1000",
                      "--learning-rate", "3e-3", "--total-steps", "3000", "--eval-interval", "0",
                      "--no-video", "--threads", "1", "--no-progress", "--pipeline", "off", "--seed", "0",
                      "--runs-dir", str(tmp_path)])
    env = gym.make(recall_env)
    policy = load_policy(run, env, device="cpu")
    wins = 0
    for episode in range(100):
        obs, _ = env.reset(seed=episode)
        policy.reset()
        done = False
        while not done:
            obs, reward, done, _, _ = env.step(policy(obs))
        wins += reward
    assert wins >= 90, f"{wins}/100 recalled"
