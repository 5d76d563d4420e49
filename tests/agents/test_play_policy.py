"""`python -m visiongym.envs.play ... --policy <run>` plays a trained agent through visiongym.agents.policies."""

import gymnasium as gym

from visiongym.agents.policies import EpisodeAwarePolicy
from visiongym.envs.play import main as play_main


def test_play_records_a_trained_dqn(catch_dqn_run, tmp_path, check_video, hud_frames):
    video = tmp_path / "play.gif"
    play_main(["visiongym/CatchBall-v0", "--env-kwargs", "rows=6", "columns=3", "image_size=36",
               "--policy", str(catch_dqn_run), "--record", str(video), "--episodes", "2"])
    assert len(hud_frames) == 2 * 5  # a ball falls 6 - 1 rows: five steps, a frame each
    # The grid has few colours: the gif's palette holds them all, so the frames come back exact.
    decoded = check_video(video, hud_frames, tolerance=0)
    assert decoded.shape[1:] == (4 * 36, 4 * 36, 3)  # CatchBall renders its observation scaled 4x


class CountingPolicy:
    def __init__(self):
        self.resets = 0

    def reset(self):
        self.resets += 1

    def __call__(self, observation):
        return 0


def test_policy_resets_itself_when_the_env_starts_an_episode():
    env = gym.make("visiongym/CatchBall-v0", rows=4, columns=3, image_size=12)
    inner = CountingPolicy()
    policy = EpisodeAwarePolicy(inner, env)
    for episode in range(3):
        obs, _ = env.reset(seed=episode)
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(policy(obs))
            done = terminated or truncated
        assert inner.resets == episode + 1  # once per episode, at its first step only
