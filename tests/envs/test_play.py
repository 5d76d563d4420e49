"""The pygame viewer and the play/record command (headless, SDL_VIDEODRIVER=dummy)."""

import os

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np
import pytest

import visiongym  # noqa: F401
from visiongym.envs.play import PlayConfig, parse_env_kwargs, play
from visiongym.envs.viewer import Viewer, draw_hud


def test_viewer_opens_draws_and_closes():
    assert os.environ["SDL_VIDEODRIVER"] == "dummy"
    viewer = Viewer("test", fps=0)
    frame = np.zeros((84, 84, 3), np.uint8)
    frame[20:40, 20:40] = 255
    assert viewer.show(frame, {"score": "A 0 - 0 B"})
    import pygame

    shown = pygame.surfarray.array3d(pygame.display.get_surface()).swapaxes(0, 1)
    assert shown.shape[0] >= 360 and shown.max() == 255  # upscaled and drawn
    viewer.close()
    viewer.close()
    assert not viewer.show(frame)


def test_human_render_mode_runs_headless():
    env = gym.make("visiongym/TabletopSoccer-v0", scenario="1v1", render_mode="human", render_size=(120, 160))
    env.reset(seed=0)
    for _ in range(3):
        env.step(env.action_space.sample())
    env.close()
    env.close()


def test_hud_is_drawn_on_the_frame():
    frame = np.full((200, 200, 3), 100, np.uint8)
    out = draw_hud(frame, {"score": "A 1 - 0 B"})
    assert out.shape == frame.shape and not np.array_equal(out, frame)
    np.testing.assert_array_equal(frame, 100)  # the input is untouched


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_record_writes_a_playable_video(tmp_path, suffix):
    out = tmp_path / f"match{suffix}"
    returns = play(PlayConfig(scenario="2v2", policy="scripted", record=out, max_steps=12,
                              env_kwargs=["render_size=(120, 160)"]))
    assert len(returns) == 1
    frames = [frame for frame in imageio.get_reader(out)]
    assert len(frames) == 12 and frames[0].shape[:2] == (120, 160)


def test_bad_play_arguments_are_explained(tmp_path):
    with pytest.raises(ValueError, match="neither one of keyboard, random, scripted"):
        play(PlayConfig(policy=str(tmp_path / "missing.pt"), record=tmp_path / "x.mp4"))
    with pytest.raises(ValueError, match=r"--record '.*x\.avi': suffix '\.avi' unsupported; choose one of: \.mp4, \.gif"):
        play(PlayConfig(policy="random", record=tmp_path / "x.avi"))
    with pytest.raises(ValueError, match="not key=value"):
        parse_env_kwargs(["scenario"])
    assert parse_env_kwargs(["image_size=64", "scenario=2v2"]) == {"image_size": 64, "scenario": "2v2"}
