"""Learning benchmark for LearnToMove-v0 with Stable-Baselines3 SAC or PPO.

Trains one character on one task, evaluates the deterministic policy every ``eval_every`` steps
and writes the learning curve (CSV) under ``benchmarks/results/``, TensorBoard logs under
``runs/<env>__<algo>__<seed>__<time>/`` (with the config), atomic checkpoints that resume, and a
video of the final policy (the reference ghost is drawn in imitation runs). ``wall_minutes``
stops a run early on a CPU budget; the curve says how far it got.

    python benchmarks/learn_to_move_train.py --algo sac --character walker --task run \
        --total-steps 300000 --wall-minutes 45

Metrics per evaluation: mean return, mean episode length, mean forward speed (m/s, centre of
mass x over the episode's duration) and, for ``imitate``, the mean normalised imitation reward
per step (1.0 = perfect tracking).
"""

from __future__ import annotations

import csv
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from visiongym.sims.gl import configure_gl

configure_gl()

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from stable_baselines3 import PPO, SAC  # noqa: E402
from stable_baselines3.common.callbacks import BaseCallback  # noqa: E402
from stable_baselines3.common.monitor import Monitor  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize  # noqa: E402
from tqdm import tqdm  # noqa: E402

import visiongym  # noqa: E402, F401
from visiongym.vision.runtime import pick_device, seed_everything  # noqa: E402

ENV_ID = "visiongym/LearnToMove-v0"


@dataclass
class Config:
    """Training settings."""

    algo: Literal["sac", "ppo"] = "sac"
    """Algorithm."""
    character: str = "walker"
    """Preset (walker, quadruped, humanoid, snake) or a .yaml/.json description."""
    task: Literal["run", "target", "imitate"] = "run"
    """Task."""
    terrain: str = "flat"
    """Terrain (flat, slope, steps, random)."""
    total_steps: int = 300_000
    """Environment steps to train for."""
    wall_minutes: float | None = None
    """Stop after this many minutes of wall-clock (a CPU budget); None: no limit."""
    seed: int = 0
    """Seed of Python, NumPy, torch and the envs."""
    n_envs: int = 1
    """Parallel environments (in one process)."""
    eval_every: int = 10_000
    """Evaluate the deterministic policy every this many steps."""
    eval_episodes: int = 3
    """Episodes per evaluation."""
    learning_starts: int = 5_000
    """SAC: random steps before learning."""
    checkpoint_every: int = 50_000
    """Save an atomic checkpoint every this many steps."""
    device: str = "auto"
    """Torch device: auto (cuda > mps > cpu), cpu, cuda, mps."""
    threads: int = 1
    """Torch CPU threads."""
    normalize: bool = True
    """PPO: normalise observations and rewards with running statistics (VecNormalize)."""
    run_dir: Path | None = None
    """Run folder to create or resume; default runs/<env>__<algo>__<seed>__<time>."""
    results_dir: Path = Path("benchmarks/results")
    """Where the learning curve CSV and the video go."""
    video: bool = True
    """Record a video of the final policy."""


def make_env(config: Config, rank: int = 0, render_mode: str | None = None):
    """A thunk building one monitored env."""

    def thunk() -> gym.Env:
        env = gym.make(ENV_ID, character=config.character, task=config.task, terrain=config.terrain,
                       render_mode=render_mode)
        env = Monitor(env)
        env.reset(seed=config.seed + rank)
        return env

    return thunk


def evaluate(model, config: Config, episodes: int, record: bool = False) -> tuple[dict, list]:
    """Mean return, length, forward speed and imitation reward of the deterministic policy."""
    normalizer = model.get_vec_normalize_env()
    env = make_env(config, 10_000, render_mode="rgb_array" if record else None)()
    returns, lengths, speeds, imitation, frames = [], [], [], [], []
    for episode in range(episodes):
        obs, _ = env.reset(seed=config.seed + 10_000 + episode)
        scene = env.unwrapped.scene
        start_x, total, steps, done = scene.center_of_mass()[0], 0.0, 0, False
        while not done:
            policy_obs = normalizer.normalize_obs(obs) if normalizer is not None else obs
            action, _ = model.predict(policy_obs, deterministic=True)
            obs, reward, terminated, truncated, info = env.step(action)
            total += reward
            steps += 1
            if "imitation_reward" in info:
                imitation.append(info["imitation_reward"])
            if record and episode == 0:
                frames.append(env.render())
            done = terminated or truncated
        returns.append(total)
        lengths.append(steps)
        speeds.append((scene.center_of_mass()[0] - start_x) / (steps * env.unwrapped.dt))
    env.close()
    metrics = {
        "return": float(np.mean(returns)), "length": float(np.mean(lengths)),
        "forward_speed": float(np.mean(speeds)),
        # Over a full 500-step episode: a fall early scores the missing steps as 0.
        "imitation_per_step": float(np.sum(imitation) / (episodes * 500)) if imitation else float("nan"),
    }
    return metrics, frames


class _Progress(BaseCallback):
    """Evaluation, CSV curve, TensorBoard, checkpoints, progress bar and the wall budget."""

    def __init__(self, config: Config, run_dir: Path, curve: Path, started: float):
        super().__init__()
        self.config, self.run_dir, self.curve, self.started = config, run_dir, curve, started
        self.bar: tqdm | None = None
        self.last_eval = self.last_checkpoint = 0

    def _on_training_start(self) -> None:
        self.bar = tqdm(total=self.config.total_steps, initial=self.num_timesteps, desc="steps")
        self.last_eval = self.last_checkpoint = self.num_timesteps

    def _on_step(self) -> bool:
        self.bar.update(self.num_timesteps - self.bar.n)
        elapsed = time.time() - self.started
        if self.num_timesteps - self.last_eval >= self.config.eval_every:
            self.last_eval = self.num_timesteps
            metrics, _ = evaluate(self.model, self.config, self.config.eval_episodes)
            for key, value in metrics.items():
                self.logger.record(f"eval/{key}", value)
            self.logger.record("charts/SPS", self.num_timesteps / max(elapsed, 1e-6))
            self.logger.dump(self.num_timesteps)
            new = not self.curve.exists()
            with open(self.curve, "a", newline="") as handle:
                writer = csv.writer(handle)
                if new:
                    writer.writerow(["steps", "wall_s", *metrics])
                writer.writerow([self.num_timesteps, round(elapsed, 1), *[round(v, 4) for v in metrics.values()]])
            self.bar.set_postfix(ret=f"{metrics['return']:.0f}", v=f"{metrics['forward_speed']:.2f}")
        if self.num_timesteps - self.last_checkpoint >= self.config.checkpoint_every:
            self.last_checkpoint = self.num_timesteps
            save(self.model, self.run_dir)
        budget = self.config.wall_minutes
        return budget is None or elapsed < budget * 60

    def _on_training_end(self) -> None:
        if self.bar is not None:
            self.bar.close()


def save(model, run_dir: Path) -> None:
    """Atomic checkpoint: write to a temporary name, then rename (and the SAC replay buffer)."""
    temporary = run_dir / "model.tmp.zip"
    model.save(temporary)
    os.replace(temporary, run_dir / "model.zip")
    normalizer = model.get_vec_normalize_env()
    if normalizer is not None:
        normalizer.save(run_dir / "vecnormalize.tmp.pkl")
        os.replace(run_dir / "vecnormalize.tmp.pkl", run_dir / "vecnormalize.pkl")
    if hasattr(model, "save_replay_buffer"):
        model.save_replay_buffer(run_dir / "replay.tmp.pkl")
        os.replace(run_dir / "replay.tmp.pkl", run_dir / "replay.pkl")


def main(config: Config) -> dict:
    torch.set_num_threads(config.threads)
    seed_everything(config.seed)
    device = pick_device(config.device)
    started = time.time()
    name = f"LearnToMove-{config.character}-{config.task}__{config.algo}__{config.seed}"
    run_dir = config.run_dir or Path("runs") / f"{name}__{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(asdict(config), default=str, indent=2))
    config.results_dir.mkdir(parents=True, exist_ok=True)
    curve = config.results_dir / f"{name}.csv"
    vec = DummyVecEnv([make_env(config, rank) for rank in range(config.n_envs)])
    if config.algo == "ppo" and config.normalize:
        if (run_dir / "vecnormalize.pkl").exists():
            vec = VecNormalize.load(str(run_dir / "vecnormalize.pkl"), vec)
        else:
            vec = VecNormalize(vec, gamma=0.99)
    algo = {"sac": SAC, "ppo": PPO}[config.algo]
    if (run_dir / "model.zip").exists():
        model = algo.load(run_dir / "model.zip", env=vec, device=device)
        if (run_dir / "replay.pkl").exists() and hasattr(model, "load_replay_buffer"):
            model.load_replay_buffer(run_dir / "replay.pkl")
        print(f"resumed {run_dir} at {model.num_timesteps} steps")
    elif config.algo == "sac":
        model = SAC("MlpPolicy", vec, learning_starts=config.learning_starts, seed=config.seed,
                    device=device, tensorboard_log=str(run_dir), verbose=0)
    else:
        model = PPO("MlpPolicy", vec, n_steps=2048 // config.n_envs, batch_size=64, seed=config.seed,
                    device=device, tensorboard_log=str(run_dir), verbose=0)
    callback = _Progress(config, run_dir, curve, started)
    remaining = max(0, config.total_steps - model.num_timesteps)
    model.learn(remaining, callback=callback, reset_num_timesteps=False, tb_log_name="tb")
    save(model, run_dir)
    metrics, frames = evaluate(model, config, config.eval_episodes, record=config.video)
    metrics.update(steps=int(model.num_timesteps), wall_minutes=round((time.time() - started) / 60, 1))
    if frames:
        import imageio

        video = config.results_dir / f"{name}.mp4"
        imageio.mimsave(video, frames, fps=env_fps())
        metrics["video"] = str(video)
    (run_dir / "final.json").write_text(json.dumps(metrics, indent=2))
    print(json.dumps(metrics, indent=2))
    return metrics


def env_fps() -> int:
    """Frames per second of LearnToMove videos (one frame per control step)."""
    return 50


if __name__ == "__main__":
    import tyro

    main(tyro.cli(Config))
