"""Ball trajectory prediction on the tabletop soccer pitch: an LSTM against constant velocity.

Trajectories come from :class:`visiongym.sims.soccer.SoccerScene`: the ball starts anywhere on the pitch
with a random velocity and rolls (friction slows it, the boards bounce it) while the only player
stands parked in a corner. From the last ``past`` positions the LSTM predicts the next
``horizon`` ones as a correction to the constant-velocity extrapolation, so it starts where the
baseline is and learns what the baseline cannot: deceleration and bounces off the boards.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from visiongym.sims.errors import UsageError
from visiongym.vision.runs import RunOptions
from visiongym.vision.sequence.model import SequenceLSTM

__all__ = [
    "BallConfig",
    "TrajectoryPredictor",
    "simulate_trajectories",
    "make_windows",
    "constant_velocity",
    "bounce_mask",
    "run_ball",
    "print_ball",
]

PITCH_LENGTH, PITCH_WIDTH = 2.4, 1.6


def simulate_trajectories(
    count: int, steps: int, rng: np.random.Generator, speed: tuple[float, float] = (0.8, 2.4)
) -> np.ndarray:
    """Roll the ball ``count`` times for ``steps`` control steps; return ``(count, steps, 2)`` metres.

    Runs in which a goal or a referee restart moves the ball discontinuously are drawn again.
    """
    from visiongym.sims.soccer import SoccerScene

    scene = SoccerScene(
        team_size=(1, 0), pitch_length=PITCH_LENGTH, pitch_width=PITCH_WIDTH, ego_cameras=False
    )
    half_l, half_w = scene.pitch.length / 2, scene.pitch.width / 2
    margin = 0.1
    idle = np.zeros((1, 4))
    runs = []
    try:
        while len(runs) < count:
            scene.reset(rng)
            scene.set_player(0, (-half_l + 0.05, half_w - 0.05), 0.0)
            angle = rng.uniform(0, 2 * np.pi)
            velocity = rng.uniform(*speed) * np.array([np.cos(angle), np.sin(angle)])
            scene.set_ball(
                rng.uniform(
                    [-half_l + margin, -half_w + margin], [half_l - margin, half_w - margin]
                ),
                velocity,
            )
            path = np.empty((steps, 2))
            clean = True
            for t in range(steps):
                if scene.step(idle) != 0:
                    clean = False
                    break
                path[t] = scene.ball_position()
                if t and np.hypot(*(path[t] - path[t - 1])) > 0.3:
                    clean = False
                    break
            if clean:
                runs.append(path)
    finally:
        scene.close()
    return np.stack(runs).astype(np.float32)


def make_windows(
    trajectories: np.ndarray, past: int, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """Slide over every trajectory: ``(N, past, 2)`` inputs and ``(N, horizon, 2)`` targets."""
    inputs, targets = [], []
    for path in trajectories:
        for start in range(len(path) - past - horizon + 1):
            inputs.append(path[start : start + past])
            targets.append(path[start + past : start + past + horizon])
    return np.asarray(inputs, np.float32), np.asarray(targets, np.float32)


def constant_velocity(history: np.ndarray | torch.Tensor, horizon: int):
    """Extrapolate the last displacement: ``p[-1] + j * (p[-1] - p[-2])`` for j = 1..horizon."""
    velocity = history[:, -1] - history[:, -2]
    if isinstance(history, torch.Tensor):
        steps = torch.arange(1, horizon + 1, dtype=history.dtype, device=history.device)
    else:
        steps = np.arange(1, horizon + 1, dtype=history.dtype)
    return history[:, -1:, :] + steps[None, :, None] * velocity[:, None, :]


def bounce_mask(history: np.ndarray, future: np.ndarray) -> np.ndarray:
    """Windows whose future holds a bounce: a velocity component reverses sign (beyond noise)."""
    path = np.concatenate([history[:, -2:], future], axis=1)
    velocity = np.diff(path, axis=1)
    flips = (velocity[:, 1:] * velocity[:, :-1] < 0) & (np.abs(velocity[:, 1:]) > 2e-3)
    return flips.any(axis=(1, 2))


class TrajectoryPredictor(nn.Module):
    """LSTM over scaled positions and displacements; adds its output to constant velocity.

    Args:
        half_extent: (half length, half width) of the pitch, to scale positions to [-1, 1].
        horizon: predicted steps.
        hidden: LSTM hidden units.
    """

    def __init__(self, half_extent: tuple[float, float], horizon: int, hidden: int = 64) -> None:
        super().__init__()
        self.horizon = horizon
        self.register_buffer("half_extent", torch.tensor(half_extent, dtype=torch.float32))
        self.lstm = SequenceLSTM(dim=4, hidden=hidden, horizon=horizon, out_dim=2)
        self.displacement_scale = 0.1

    def forward(self, history: torch.Tensor) -> torch.Tensor:
        displacement = torch.diff(history, dim=1, prepend=history[:, :1])
        features = torch.cat(
            [history / self.half_extent, displacement / self.displacement_scale], dim=2
        )
        correction = self.lstm(features) * self.displacement_scale
        return constant_velocity(history, self.horizon) + correction


@dataclass
class BallConfig(RunOptions):
    """Predict the ball's next positions with an LSTM; compare with constant velocity."""

    trajectories: int = 300
    """Simulated rolls for training (a fifth as many more are drawn for the test set)."""
    steps: int = 60
    """Control steps (0.05 s each) per roll."""
    past: int = 10
    """Positions the model sees."""
    horizon: int = 10
    """Future positions it predicts."""
    hidden: int = 64
    """LSTM hidden units."""
    train_steps: int = 1500
    """Optimisation steps."""
    batch_size: int = 256
    """Windows per step."""
    lr: float = 3e-3
    """Adam learning rate (cosine-annealed)."""
    seed: int = 0
    """Seed of the simulation, the initialisation and the batches."""
    out: Path = Path("runs/sequence/ball")
    """Output folder (examples figure, results, TensorBoard)."""


def _rmse(prediction: np.ndarray, target: np.ndarray) -> float:
    """Root mean squared Euclidean error in metres over all predicted points."""
    return (
        float(np.sqrt(np.mean(np.sum((prediction - target) ** 2, axis=-1))))
        if len(target)
        else float("nan")
    )


def run_ball(config: BallConfig) -> dict:
    """Simulate, train, evaluate on held-out rolls; save the figure and results."""
    from torch.utils.tensorboard import SummaryWriter
    from tqdm.auto import tqdm

    from visiongym.vision.classify.training import torch_threads
    from visiongym.vision.runtime import pick_device, seed_everything

    if config.past < 2:
        raise UsageError(
            f"past={config.past} must be at least 2 (constant velocity needs two points)"
        )
    seed_everything(config.seed)
    device = pick_device(config.device)
    config.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(config.seed)
    start = time.perf_counter()
    train_paths = simulate_trajectories(config.trajectories, config.steps, rng)
    test_paths = simulate_trajectories(max(10, config.trajectories // 5), config.steps, rng)
    simulate_seconds = time.perf_counter() - start
    train_x, train_y = make_windows(train_paths, config.past, config.horizon)
    test_x, test_y = make_windows(test_paths, config.past, config.horizon)
    half_extent = (PITCH_LENGTH / 2, PITCH_WIDTH / 2)
    model = TrajectoryPredictor(half_extent, config.horizon, config.hidden).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.train_steps)
    inputs, targets = torch.from_numpy(train_x), torch.from_numpy(train_y)
    writer = SummaryWriter(str(config.out / "tensorboard"))
    generator = torch.Generator().manual_seed(config.seed)
    start = time.perf_counter()
    with torch_threads(config.threads):
        model.train()
        for step in tqdm(
            range(config.train_steps), desc="ball lstm", disable=not config.progress, leave=False
        ):
            index = torch.randint(len(inputs), (config.batch_size,), generator=generator)
            loss = F.mse_loss(model(inputs[index].to(device)), targets[index].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            if step % 20 == 0:
                writer.add_scalar("ball/train_mse", loss.item(), step)
        model.eval()
        with torch.no_grad():
            lstm = model(torch.from_numpy(test_x).to(device)).cpu().numpy()
    train_seconds = time.perf_counter() - start
    writer.close()
    baseline = constant_velocity(test_x, config.horizon)
    bounces = bounce_mask(test_x, test_y)
    table = {}
    for name, mask in (
        ("all windows", np.ones(len(test_x), bool)),
        ("bounce ahead", bounces),
        ("no bounce", ~bounces),
    ):
        table[name] = {
            "windows": int(mask.sum()),
            "lstm_rmse": _rmse(lstm[mask], test_y[mask]),
            "constant_velocity_rmse": _rmse(baseline[mask], test_y[mask]),
        }
    per_step = {
        "lstm": np.sqrt(np.mean(np.sum((lstm - test_y) ** 2, -1), 0)).tolist(),
        "constant_velocity": np.sqrt(np.mean(np.sum((baseline - test_y) ** 2, -1), 0)).tolist(),
    }
    results = {
        "table": table,
        "rmse_by_step": per_step,
        "device": str(device),
        "train_windows": len(train_x),
        "test_windows": len(test_x),
        "simulate_seconds": simulate_seconds,
        "train_seconds": train_seconds,
        "past": config.past,
        "horizon": config.horizon,
        "seed": config.seed,
    }
    _plot(test_x, test_y, lstm, baseline, bounces, config.out / "trajectories.png")
    (config.out / "results.json").write_text(json.dumps(results, indent=2))
    results["figure"] = str(config.out / "trajectories.png")
    return results


def _plot(history, future, lstm, baseline, bounces, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen = np.flatnonzero(bounces)[:: max(1, int(bounces.sum()) // 6)][:6]
    figure, axes = plt.subplots(2, 3, figsize=(12, 6.5))
    for axis, index in zip(np.ravel(axes), chosen, strict=False):
        axis.add_patch(
            plt.Rectangle(
                (-PITCH_LENGTH / 2, -PITCH_WIDTH / 2),
                PITCH_LENGTH,
                PITCH_WIDTH,
                fill=False,
                color="green",
            )
        )
        axis.plot(*history[index].T, "k.-", label="past")
        axis.plot(*future[index].T, "g.-", label="true future")
        axis.plot(*baseline[index].T, "r.--", label="constant velocity")
        axis.plot(*lstm[index].T, "b.-", label="LSTM")
        axis.set_aspect("equal")
        axis.set(xlim=(-1.3, 1.3), ylim=(-0.9, 0.9))
    np.ravel(axes)[0].legend(fontsize=7, loc="lower left")
    figure.suptitle("Ball trajectories with a bounce ahead (held-out rolls)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def print_ball(results: dict) -> None:
    """Print the RMSE table (metres)."""
    print(f"next {results['horizon']} positions from the last {results['past']}; RMSE in metres")
    print("| windows | count | LSTM | constant velocity |\n| --- | --- | --- | --- |")
    for name, row in results["table"].items():
        print(
            f"| {name} | {row['windows']} | {row['lstm_rmse']:.4f} | {row['constant_velocity_rmse']:.4f} |"
        )
    print(
        f"simulated in {results['simulate_seconds']:.1f} s, trained in {results['train_seconds']:.1f} s "
        f"on {results['device']}; figure: {results['figure']}"
    )
