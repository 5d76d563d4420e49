"""Where an agent on the detector's object list fails: episodes with and without a goal, side by side.

    python benchmarks/object_agent_failures.py runs/feeds20/detector_objects_seed2 --look random --episodes 100
    python benchmarks/object_agent_failures.py runs/feeds20/detector_objects_seed*/ --look held_out

For each run (a run folder: its ``last.pt``; or a checkpoint file) the policy plays ``--episodes``
fresh episodes on ``--look`` (as ``visiongym evaluate --appearance``) with the env's ground truth
switched on, and the script prints, separately for the episodes that end in a goal and those that
do not: how many, the share of steps in which the agent's observation holds a ball (its ball slot
is present), the share in which the ball is in the camera's frame at all (the ground truth: at
least one ball pixel), and the mean episode length. A gap between the two shares is the
detector's misses; a low share of both is the ball outside the view, which no detector fixes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tyro

BALL = 1
"""The ball's class in the ground truth's labels (``sims.soccer.ground_truth.CLASS_NAMES``)."""


@dataclass
class Args:
    """Benchmark settings."""

    runs: tyro.conf.Positional[tuple[Path, ...]]
    """Run folders (their checkpoints/last.pt) or checkpoint files of object-list agents."""
    look: str = "random"
    """Appearance of the episodes: random, held_out, default or a named shift."""
    episodes: int = 100
    """Episodes per run."""
    seed: int = 10_000
    """Seed of the first episode (episode i uses seed + i)."""
    threads: int = 1
    """Torch threads."""


def episodes(path: Path, args: Args) -> np.ndarray:
    """Rows (goal, ball observed share, ball in view share, length), one per episode."""
    from visiongym.agents.common.envs import make_env, wrapper_options
    from visiongym.agents.evaluate import appearance_argument
    from visiongym.agents.policies import load_policy, read_checkpoint
    from visiongym.sims.errors import UsageError

    meta = read_checkpoint(path)["meta"]
    if not meta.get("config", {}).get("detector"):
        raise UsageError(f"{path} was not trained on a detector's object list (--detector); nothing to split")
    env_kwargs = {**meta["env_kwargs"], "appearance": appearance_argument(args.look), "ground_truth": True}
    options = wrapper_options(meta.get("config", {}), training=False)
    env = make_env(meta["env_id"], env_kwargs, render_mode="rgb_array", **options)()
    names = env.get_wrapper_attr("slot_names")()
    present = names.index("ball0.present")
    policy = load_policy(path, env, device="cpu")
    rows = []
    for episode in range(args.episodes):
        observation, info = env.reset(seed=args.seed + episode)
        observed, in_view, length = [], [], 0
        done = False
        while not done:
            newest = np.asarray(observation).reshape(-1, len(names))[-1]  # the last of the stacked frames
            observed.append(newest[present] > 0)
            in_view.append(bool((np.asarray(info["ground_truth"]["labels"]) == BALL).any()))
            observation, _, terminated, truncated, info = env.step(policy(observation))
            length += 1
            done = terminated or truncated
        rows.append((bool(info.get("is_success", False)), np.mean(observed), np.mean(in_view), length))
    env.close()
    return np.asarray(rows, dtype=float)


def main(args: Args) -> dict[str, dict[str, float]]:
    import torch

    torch.set_num_threads(args.threads)
    results = {}
    print("| run | look | episodes | goal | n | ball in the observation | ball in view (truth) | length |")
    print("|---|---|---:|---|---:|---:|---:|---:|")
    for run in args.runs:
        path = run / "checkpoints" / "last.pt" if run.is_dir() else run
        rows = episodes(path, args)
        for name, part in (("yes", rows[rows[:, 0] == 1]), ("no", rows[rows[:, 0] == 0])):
            if not len(part):
                continue
            figures = {"episodes": len(part), "observed": float(part[:, 1].mean()),
                       "in_view": float(part[:, 2].mean()), "length": float(part[:, 3].mean())}
            results[f"{run}:{name}"] = figures
            print(f"| {run} | {args.look} | {len(rows)} | {name} | {len(part)} | {figures['observed']:.2f} | "
                  f"{figures['in_view']:.2f} | {figures['length']:.0f} |", flush=True)
    return results


if __name__ == "__main__":
    from visiongym.envs.cli import run_command

    run_command(lambda: main(tyro.cli(Args, description=__doc__)))
