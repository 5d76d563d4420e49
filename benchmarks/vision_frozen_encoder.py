"""SAC-AE style: an agent on a frozen pretrained autoencoder encoder vs end-to-end training.

    python benchmarks/vision_frozen_encoder.py --data data/soccer_kits --steps 12000

1. Pretrains an autoencoder (``visiongym.vision.autoencoders.train``, plain MSE, ``--arch``, at the env's
   image size) on rendered soccer frames, unless ``--autoencoder`` names a finished checkpoint.
2. Trains our DQN twice on ``TabletopSoccer-v0`` (empty goal, pixels) with the same seed, budget
   and hyperparameters: once on the frozen encoder (``--encoder autoencoder``; only the
   projection after it and the Q head learn), once with the Nature CNN learned end to end.
3. Prints final/best evaluation goal rates and writes the learning curves
   (``<out>.csv`` / ``<out>.png``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro
from rl_compare import compare_agents

from visiongym.vision.autoencoders.train import AutoencoderTrainConfig, train_autoencoder


@dataclass
class Args:
    """Benchmark settings."""

    data: Path = Path("data/soccer_kits")
    """Rendered dataset (visiongym.vision.data.render_soccer) for pretraining the autoencoder."""
    autoencoder: Path | None = None
    """A finished autoencoder checkpoint at --image-size (default: pretrain one in --runs-dir)."""
    arch: str = "small"
    """Autoencoder architecture for pretraining."""
    ae_epochs: int = 6
    """Pretraining epochs."""
    image_size: int = 48
    """Env observation side in pixels (the autoencoder is trained at this size)."""
    steps: int = 12_000
    """Env steps per agent."""
    seed: int = 1
    """Seed of both agents (and of pretraining)."""
    eval_interval: int = 2_000
    """Env steps between evaluations (10 episodes, fixed seeds)."""
    runs_dir: Path = Path("runs/frozen_encoder")
    """Folder for the autoencoder and the agents' run folders (existing finished runs are reused)."""
    out: Path = Path("benchmarks/results/vision_frozen_encoder")
    """Stem of the curve CSV/PNG."""


def main(args: Args) -> None:
    checkpoint = args.autoencoder
    if checkpoint is None:
        ae_dir = args.runs_dir / f"ae_{args.arch}_{args.image_size}"
        train_autoencoder(AutoencoderTrainConfig(
            data=args.data, variant="conv", arch=args.arch, image_size=args.image_size,
            epochs=args.ae_epochs, seed=args.seed, run_dir=ae_dir, threads=1, progress=False,
        ))
        checkpoint = ae_dir / "autoencoder.pt"
    common = [
        "dqn", "--env", "visiongym/TabletopSoccer-v0", "--env-kwargs", "scenario=empty_goal", "obs_mode=pixels",
        f"image_size={args.image_size}", "shaping=True", "max_episode_steps=200", "--num-envs", "4",
        "--frame-stack", "2", "--features-dim", "256", "--buffer-size", "50000", "--learning-starts", "1000",
        "--train-frequency", "4", "--n-step", "5", "--target-update-interval", "1000",
        "--exploration-steps", str(min(10_000, args.steps // 2)), "--learning-rate", "2.5e-4",
        "--eval-interval", str(args.eval_interval), "--eval-episodes", "10", "--checkpoint-interval",
        str(args.steps), "--no-video", "--seed", str(args.seed), "--threads", "1", "--no-progress",
        "--pipeline", "off",  # the recorded runs predate --pipeline
    ]
    variants = {
        "dqn_frozen_ae": [*common, "--encoder", "autoencoder", "--encoder-checkpoint", str(checkpoint)],
        "dqn_end_to_end": [*common, "--encoder", "nature_cnn"],
    }
    compare_agents(variants, args.runs_dir, args.out, args.steps,
                   f"DQN, empty_goal {args.image_size}px: frozen pretrained AE encoder vs end to end")


if __name__ == "__main__":
    main(tyro.cli(Args))
