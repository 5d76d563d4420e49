"""An agent on the detector's object list vs the same agent on pixels and on the true state.

    python benchmarks/vision_detector_observation.py --detector runs/det_grid_fine/detector.pt --steps 10000

Trains Stable-Baselines3 PPO (through ``visiongym.agents.train``) three times on ``TabletopSoccer-v0``
(empty goal) with the same seed and budget: ``state`` (the env's state vector, MLP), ``detector``
(pixels at the detector's size turned into ``(present, x, y, w, h, score)`` slots by
``visiongym.vision.detect.wrapper.DetectedObjects``, MLP) and ``pixels`` (Nature CNN on stacked frames).
Prints final/best evaluation goal rates and writes the learning curves (``<out>.csv``/``.png``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro
from rl_compare import compare_agents

from visiongym.vision.runtime import load_checkpoint


@dataclass
class Args:
    """Benchmark settings."""

    detector: Path = Path("runs/det_grid_fine/detector.pt")
    """Grid-detector checkpoint (visiongym.vision.detect.train)."""
    steps: int = 10_000
    """Env steps per agent."""
    pixel_size: int = 64
    """Observation side of the pixels agent."""
    seed: int = 1
    """Seed of every agent."""
    eval_interval: int = 2_500
    """Env steps between evaluations (10 episodes, fixed seeds)."""
    runs_dir: Path = Path("runs/detector_observation")
    """Folder for the run folders (existing finished runs are reused)."""
    out: Path = Path("benchmarks/results/vision_detector_observation")
    """Stem of the curve CSV/PNG."""


def main(args: Args) -> None:
    detector_size = int(load_checkpoint(args.detector, kind="detector")["meta"]["image_size"])
    env = ["--env", "visiongym/TabletopSoccer-v0", "--env-kwargs", "scenario=empty_goal", "shaping=True",
           "max_episode_steps=200"]
    common = ["--num-envs", "4", "--n-steps", "256", "--batch-size", "128", "--eval-interval",
              str(args.eval_interval), "--eval-episodes", "10", "--checkpoint-interval", str(args.steps),
              "--no-video", "--seed", str(args.seed), "--threads", "1", "--no-progress"]
    variants = {
        "ppo_state": ["ppo", *env, "obs_mode=state", *common],
        "ppo_detector": ["ppo", *env, "obs_mode=pixels", f"image_size={detector_size}", *common,
                         "--detector", str(args.detector), "--detector-players", "1", "--frame-stack", "1"],
        "ppo_pixels": ["ppo", *env, "obs_mode=pixels", f"image_size={args.pixel_size}", *common,
                       "--frame-stack", "2", "--features-dim", "256"],
    }
    compare_agents(variants, args.runs_dir, args.out, args.steps,
                   "PPO, empty_goal: detector objects vs state vs pixels")


if __name__ == "__main__":
    main(tyro.cli(Args))
