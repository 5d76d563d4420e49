"""Evaluate a policy for some episodes: returns, success ("goal") rate and lengths with 95% CIs."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

from visiongym.envs.play import check_video_path
from visiongym.sims.errors import UsageError

__all__ = ["Policy", "EvaluationResult", "evaluate", "write_video", "wilson_interval"]


class Policy(Protocol):
    """What evaluation and ``visiongym.envs.play`` need: ``reset()`` at episode start, then obs -> action."""

    def reset(self) -> None: ...

    def __call__(self, observation: Any) -> Any: ...


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion (sane at 0 and 1, unlike the normal one)."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _ci95(values: np.ndarray) -> float:
    """Half-width of a normal-approximation 95% interval of the mean."""
    if len(values) < 2:
        return float("nan")
    return float(1.96 * values.std(ddof=1) / math.sqrt(len(values)))


@dataclass
class EvaluationResult:
    """Per-episode figures of one evaluation."""

    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    successes: list[bool] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    """Per-episode task metrics: ``info["task_metrics"]`` at the episode's end, and
    ``mean_<key>`` (the per-step mean) for each requested info key."""

    def summary(self) -> dict[str, float]:
        """Means with 95% confidence intervals (Wilson for the success rate)."""
        returns, lengths = np.asarray(self.returns, float), np.asarray(self.lengths, float)
        wins = int(sum(self.successes))
        low, high = wilson_interval(wins, len(self.successes))
        return {
            "mean_return": float(returns.mean()) if len(returns) else float("nan"),
            "return_ci95": _ci95(returns),
            "success_rate": wins / max(1, len(self.successes)),
            "success_ci_low": low,
            "success_ci_high": high,
            "mean_length": float(lengths.mean()) if len(lengths) else float("nan"),
            "length_ci95": _ci95(lengths),
            "episodes": len(self.returns),
            **{name: float(np.mean(values)) for name, values in sorted(self.metrics.items())},
        }

    def report(self) -> str:
        """Human-readable lines for the console."""
        s = self.summary()
        return (
            f"episodes      {s['episodes']}\n"
            f"mean return   {s['mean_return']:.3f} ± {s['return_ci95']:.3f} (95% CI)\n"
            f"goal rate     {s['success_rate']:.1%} (95% CI {s['success_ci_low']:.1%}–{s['success_ci_high']:.1%})\n"
            f"episode len   {s['mean_length']:.1f} ± {s['length_ci95']:.1f} (95% CI)"
        ) + "".join(
            f"\n{name:<15} {np.mean(values):.3f} ± {_ci95(np.asarray(values, float)):.3f} (95% CI)"
            for name, values in sorted(self.metrics.items())
        )


def write_video(frames: list[np.ndarray], path: Path, fps: int = 20) -> Path:
    """Write RGB frames as mp4 (ffmpeg) or, failing that, a gif; returns the written path."""
    import imageio.v2 as imageio

    path = check_video_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".mp4":
        try:
            imageio.mimsave(path, frames, fps=fps, macro_block_size=1)
            return path
        except Exception:  # noqa: BLE001 - no ffmpeg backend: fall back to gif
            path = path.with_suffix(".gif")
    imageio.mimsave(path, frames, duration=1000 / fps, loop=0)
    return path


def evaluate(
    policy: Policy,
    make_env: Callable[[], gym.Env],
    episodes: int = 10,
    seed: int = 0,
    video_path: Path | None = None,
    info_keys: Sequence[str] = (),
) -> tuple[EvaluationResult, Path | None]:
    """Run ``episodes`` episodes (seeds ``seed``, ``seed + 1``...) and collect their figures.

    The first episode is recorded to ``video_path`` when given, from ``env.render()`` if the env
    renders ``rgb_array`` frames and from the observations otherwise. Success is
    ``info["is_success"]`` at the episode's end. Task metrics: every float of the dict
    ``info["task_metrics"]`` at the episode's end (the env's own episode figures, e.g. forward
    speed), and ``mean_<key>``, the per-step mean of ``info[key]``, for each of ``info_keys``.
    """
    if episodes < 1:
        raise UsageError(f"episodes={episodes} must be >= 1")
    if video_path is not None:
        check_video_path(video_path)
    env = make_env()
    result, written = EvaluationResult(), None
    try:
        for episode in range(episodes):
            observation, info = env.reset(seed=seed + episode)
            policy.reset()
            recording = video_path is not None and episode == 0
            frames = [_frame(env, observation)] if recording else []
            total, length, done = 0.0, 0, False
            sums = dict.fromkeys(info_keys, 0.0)
            while not done:
                observation, reward, terminated, truncated, info = env.step(policy(observation))
                total += float(reward)
                length += 1
                done = terminated or truncated
                for key in sums:
                    sums[key] += _info_value(info, key)
                if recording:
                    frames.append(_frame(env, observation))
            result.returns.append(total)
            result.lengths.append(length)
            result.successes.append(bool(info.get("is_success", False)))
            episode_metrics = {f"mean_{key}": value / length for key, value in sums.items()}
            episode_metrics.update({name: float(value) for name, value in info.get("task_metrics", {}).items()})
            for name, value in episode_metrics.items():
                result.metrics.setdefault(name, []).append(value)
            if recording and frames:
                fps = int(env.metadata.get("render_fps", 20) or 20)
                written = write_video(frames, video_path, fps=fps)
    finally:
        env.close()
    return result, written


def _info_value(info: dict[str, Any], key: str) -> float:
    if key not in info:
        raise UsageError(f"eval info key {key!r} is not in the env's info; it has: {', '.join(sorted(info))}")
    return float(info[key])


def _frame(env: gym.Env, observation: Any) -> np.ndarray:
    if env.render_mode == "rgb_array":
        frame = env.render()
        if frame is not None:
            return np.asarray(frame)
    pixels = observation["pixels"] if isinstance(observation, dict) else observation
    return np.asarray(pixels)
