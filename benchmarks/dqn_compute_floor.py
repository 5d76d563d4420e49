"""How close a DQN update on the CPU is to the arithmetic it must do.

Counts the floating-point operations of each network pass of one update (torch's
``FlopCounterMode``), times each pass with one torch thread, and sets both against the rate
of a large matrix multiply on the same core (what the CPU's vector units deliver in practice).
Prints:

- GFLOP/s of the forward pass, the forward + backward pass and a 1024 x 1024 sgemm;
- the operations of one update of our default algorithm (online pass on s with backward, online
  pass on s' for the Double-DQN argmax, target pass on s') and of SB3's (no Double-DQN pass);
- the shortest update time those operations allow on N cores at the sgemm rate.

If the passes already run near the sgemm rate, an update can only get faster by doing less
arithmetic or by using more cores, not by better code around the passes.

    python benchmarks/dqn_compute_floor.py                      # learning-goal settings
    python benchmarks/dqn_compute_floor.py --image-size 64 --frame-stack 4 --batch-size 32 --features-dim 512
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch  # noqa: E402
import tyro  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from visiongym.agents.dqn.networks import QNetwork, stacked_space  # noqa: E402
from visiongym.vision.runtime import tune_cpu_allocator  # noqa: E402


@dataclass
class Args:
    image_size: int = 48
    """Observation side in pixels."""
    frame_stack: int = 2
    """Stacked RGB frames."""
    batch_size: int = 64
    """Minibatch size."""
    features_dim: int = 256
    """Encoder output size."""
    n_actions: int = 10
    """Discrete actions (TabletopSoccer's discrete action space has 10)."""
    repeats: int = 50
    """Timed repetitions of each pass (the median is kept)."""
    cores: int = 2
    """Cores of the machine, for the floor on N cores."""


def median_seconds(fn, repeats: int) -> float:
    for _ in range(5):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def count_flops(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def main(args: Args) -> dict[str, float]:
    torch.set_num_threads(1)
    tune_cpu_allocator()
    torch.manual_seed(0)
    space = stacked_space((3, args.image_size, args.image_size), args.frame_stack)
    network = QNetwork(space, args.n_actions, "nature_cnn", args.features_dim, dueling=True).use_channels_last()
    batch = network.prepare(torch.randint(0, 256, (args.batch_size, *space.shape), dtype=torch.uint8))

    @torch.no_grad()
    def forward() -> None:
        network(batch)

    def forward_backward() -> None:
        network.zero_grad(set_to_none=True)
        network(batch).sum().backward()

    size = 1024
    left, right = torch.randn(size, size), torch.randn(size, size)
    rows = {
        "forward (no grad)": (count_flops(forward), median_seconds(forward, args.repeats)),
        "forward + backward": (count_flops(forward_backward), median_seconds(forward_backward, args.repeats)),
        "sgemm 1024": (2 * size**3, median_seconds(lambda: left @ right, args.repeats)),
    }
    print(f"one torch thread, Nature CNN, batch {args.batch_size} of {args.frame_stack} x 3 x "
          f"{args.image_size} x {args.image_size}, {args.features_dim} features")
    print(f"{'pass':<20} {'MFLOP':>9} {'ms':>8} {'GFLOP/s':>9} {'% of sgemm':>11}")
    sgemm_rate = rows["sgemm 1024"][0] / rows["sgemm 1024"][1]
    for name, (flops, seconds) in rows.items():
        rate = flops / seconds
        print(f"{name:<20} {flops / 1e6:>9.1f} {seconds * 1e3:>8.2f} {rate / 1e9:>9.1f} {rate / sgemm_rate:>10.0%}")

    forward_flops, train_flops = rows["forward (no grad)"][0], rows["forward + backward"][0]
    ours = train_flops + 2 * forward_flops  # online s (+ backward), online s', target s'
    sb3 = train_flops + forward_flops  # online s (+ backward), target s'
    measured_rate = ours / (rows["forward + backward"][1] + 2 * rows["forward (no grad)"][1])
    print(f"\nour default update: {ours / 1e6:.1f} MFLOP; SB3's algorithm: {sb3 / 1e6:.1f} MFLOP "
          f"({ours / sb3:.2f}x)")
    print(f"network passes of our update, one thread: {ours / measured_rate * 1e3:.1f} ms "
          f"({measured_rate / sgemm_rate:.0%} of the sgemm rate)")
    for name, flops in (("our default update", ours), ("SB3's update", sb3)):
        print(f"floor for {name} at the sgemm rate: {flops / sgemm_rate * 1e3:.1f} ms on one core, "
              f"{flops / sgemm_rate / args.cores * 1e3:.1f} ms on {args.cores}")
    return {"sgemm_gflops": sgemm_rate / 1e9, "pass_efficiency": measured_rate / sgemm_rate,
            "ours_mflop": ours / 1e6, "sb3_mflop": sb3 / 1e6}


if __name__ == "__main__":
    main(tyro.cli(Args))
