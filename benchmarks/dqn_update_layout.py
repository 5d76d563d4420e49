"""Time one DQN update of the Nature CNN in the contiguous (NCHW) and channels-last layouts.

One update = online forward/backward on a batch, target forward, clipping and an Adam step, as
in ``visiongym.agents.dqn.learner``. The two layouts are timed in interleaved rounds so machine load hits
both alike; the median over rounds is printed.

    python benchmarks/dqn_update_layout.py --image-size 64 --rounds 4
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np  # noqa: E402
import torch  # noqa: E402
import tyro  # noqa: E402

from visiongym.agents.common.replay import ReplayBatch  # noqa: E402
from visiongym.agents.dqn.learner import DQNLearner  # noqa: E402
from visiongym.agents.dqn.networks import QNetwork, stacked_space  # noqa: E402


@dataclass
class Args:
    """Benchmark settings."""

    image_size: int = 64
    """Frame side in pixels."""
    frame_stack: int = 4
    """Stacked RGB frames."""
    batch_size: int = 32
    """Transitions per update."""
    updates: int = 15
    """Updates timed per round and layout."""
    warmup: int = 30
    """Untimed updates per layout first."""
    rounds: int = 4
    """Interleaved rounds."""
    threads: int = 1
    """torch CPU threads."""


def main(args: Args) -> dict[str, float]:
    torch.set_num_threads(args.threads)
    space = stacked_space((3, args.image_size, args.image_size), args.frame_stack)
    generator = torch.Generator().manual_seed(0)
    shape = (args.batch_size, *space.shape)
    batch = ReplayBatch(
        observations=torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator),
        actions=torch.randint(0, 10, (args.batch_size,), generator=generator),
        returns=torch.rand(args.batch_size, generator=generator),
        next_observations=torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator),
        discounts=torch.full((args.batch_size,), 0.99),
    )
    learners = {}
    for layout in ("contiguous", "channels_last"):
        torch.manual_seed(0)
        network = QNetwork(space, 10, "nature_cnn", 512, dueling=False)
        if layout == "channels_last":
            network.use_channels_last()
        learners[layout] = DQNLearner(network, double=False, augment_pad=0)
        for _ in range(args.warmup):
            learners[layout].update(batch)
    times: dict[str, list[float]] = {layout: [] for layout in learners}
    for _ in range(args.rounds):
        for layout, learner in learners.items():
            start = time.perf_counter()
            for _ in range(args.updates):
                learner.update(batch)
            times[layout].append(1000 * (time.perf_counter() - start) / args.updates)
    medians = {layout: float(np.median(values)) for layout, values in times.items()}
    for layout, values in times.items():
        print(f"{layout:<14} {medians[layout]:7.1f} ms/update  (rounds: {', '.join(f'{v:.1f}' for v in values)})")
    print(f"channels-last speed-up: {medians['contiguous'] / medians['channels_last']:.2f}x "
          f"({args.image_size} px, {args.frame_stack} frames, batch {args.batch_size}, {args.threads} thread)")
    return medians


if __name__ == "__main__":
    main(tyro.cli(Args))
