"""Where one DQN update spends its time on the CPU: torch profiler table, with and without the
allocator setting, plus the replay's frame gather and the batch preparation (shift, float, channels-last) done two ways each.

    python benchmarks/dqn_update_profile.py
    python benchmarks/dqn_update_profile.py --no-tune-allocator
    python benchmarks/dqn_update_profile.py --defaults --compile   # torch.compile on this CPU?

The allocator setting is process-wide and sticky, so compare the two in two processes (as above).
Uses the learning-goal settings of ``empty_goal`` (48 px ``follow`` camera, 2 frames, batch 64,
4 envs, 256 features) and SB3's algorithm (no Double/Dueling/n-step/shifts) unless ``--defaults``.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch  # noqa: E402
import tyro  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402

from visiongym.agents.common.augment import random_shift  # noqa: E402
from visiongym.agents.config import DQNConfig  # noqa: E402
from visiongym.agents.dqn.trainer import DQNTrainer  # noqa: E402


@dataclass
class Args:
    tune_allocator: bool = True
    """Apply visiongym.vision.runtime.tune_cpu_allocator (as the trainers do by default)."""
    defaults: bool = False
    """Profile our default update (Double, Dueling, 10-step, shifts) instead of SB3's algorithm."""
    updates: int = 30
    """Profiled updates (after 10 untimed ones)."""
    rows: int = 15
    """Rows of the profiler table."""
    compile: bool = False
    """Also time the updates with the Q-network through ``torch.compile`` (what ``--compile`` does
    on CUDA), to see whether it would pay off on this CPU."""


def milliseconds(fn, repeats: int = 200) -> float:
    """Mean time of ``fn()`` in ms, after 5 untimed calls."""
    for _ in range(5):
        fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1e3


def main(args: Args) -> None:
    extra = {} if args.defaults else dict(double=False, dueling=False, n_step=1, augment_pad=0)
    config = DQNConfig(
        env="visiongym/TabletopSoccer-v0",
        env_kwargs=("scenario=empty_goal", "obs_mode=pixels", "camera=follow", "shaping=5", "kick_aim=goal",
                    "max_episode_steps=200", "image_size=48"),
        num_envs=4, frame_stack=2, batch_size=64, features_dim=256, runs_dir=Path(tempfile.mkdtemp()),
        progress=False, threads=1, learning_starts=0, save_replay=False, buffer_size=20_000,
        tune_allocator=args.tune_allocator, **extra)
    trainer = DQNTrainer(config)
    trainer.setup()
    trainer.start_segment()
    for _ in range(150):
        trainer.collect()
    for _ in range(10):
        trainer.learner.update(trainer.replay.sample(64))

    def time_updates() -> float:
        start = time.perf_counter()
        for _ in range(args.updates):
            trainer.learner.update(trainer.replay.sample(64))
        return (time.perf_counter() - start) / args.updates * 1e3

    per_update = time_updates()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(args.updates):
            trainer.learner.update(trainer.replay.sample(64))
    print(prof.key_averages(group_by_input_shape=True).table(
        sort_by="self_cpu_time_total", row_limit=args.rows, max_name_column_width=28, max_shapes_column_width=60))
    print(f"tune_allocator={args.tune_allocator} defaults={args.defaults}: {per_update:.1f} ms per update "
          f"(sampling included; timed without the profiler, over {args.updates} updates)")

    replay = trainer.replay
    rows, envs = replay.sample_indices(64)
    order = torch.stack([(rows - 1) % replay.rows, rows], dim=1)

    def two_index() -> torch.Tensor:
        return replay.frames[order, envs[:, None]].flatten(1, 2)

    def flat_index_select() -> torch.Tensor:
        return replay.stacked(rows, envs)

    assert torch.equal(two_index()[:, 3:], flat_index_select()[:, 3:])  # the newest frame
    for name, fn in (("two index tensors", two_index), ("flat index_select", flat_index_select)):
        print(f"frame gather, {name}: {milliseconds(fn):.3f} ms per batch of 64 x 2 frames")

    # Batch preparation for the update: shift, convert, relayout, in two orders (same pixels).
    network, generator = trainer.network, torch.Generator().manual_seed(0)
    observations = replay.sample(64).observations

    def float_then_shift() -> torch.Tensor:  # the order before 2026-11-29 18:00 UTC
        return random_shift(observations.float().contiguous(memory_format=torch.channels_last), 4, generator)

    def shift_then_float() -> torch.Tensor:  # DQNLearner.prepare: shift the uint8 frames first
        return network.prepare(random_shift(observations, 4, generator))

    generator.manual_seed(1)
    before = float_then_shift()
    generator.manual_seed(1)
    assert torch.equal(before, shift_then_float())
    for name, fn in (("float, channels-last, shift", float_then_shift),
                     ("shift uint8, float, channels-last", shift_then_float)):
        print(f"batch preparation, {name}: {milliseconds(fn):.3f} ms per batch of 64")

    if args.compile:
        trainer.learner.online = torch.compile(network)
        start = time.perf_counter()
        for _ in range(10):  # the first calls compile the forward and backward graphs
            trainer.learner.update(trainer.replay.sample(64))
        compile_seconds = time.perf_counter() - start
        compiled = time_updates()
        trainer.learner.online = network
        eager = time_updates()
        print(f"torch.compile: {compiled:.1f} ms per update against {eager:.1f} ms eager, timed just after "
              f"({eager / compiled:.2f}x); {compile_seconds:.0f} s for the first 10 compiled updates")
    trainer.close()


if __name__ == "__main__":
    main(tyro.cli(Args))
