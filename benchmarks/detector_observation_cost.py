"""What the detector's object list costs an agent's env loop: pixels vs detected objects.

    python benchmarks/detector_observation_cost.py --detector runs/feeds/pretrained/detector/detector.pt
    python benchmarks/detector_observation_cost.py --detector runs/feeds/pretrained/detector/detector.pt \
        runs/feeds/nano/detector/detector.pt --num-envs 16        # two detectors side by side
    python benchmarks/detector_observation_cost.py --seconds 20 --num-envs 8 --device auto

Three ways of stepping the same vector env (``TabletopSoccer-v0``, ``empty_goal``, the follow camera
at the detector's image size, random actions, ``SyncVectorEnv`` in this process as the trainers use
it), built by the trainers' own :func:`visiongym.agents.common.envs.make_vector_env`:

- ``pixels``: the frames themselves, what the pixel agents observe;
- ``batched <model>``: each ``--detector`` with several envs, one detector pass over every env's
  frame per vector step (:class:`visiongym.vision.detect.wrapper.DetectedObjectsVector`);
- ``batched <model> int8`` (with ``--int8``): the same with the convolutions in int8
  (:mod:`visiongym.vision.detect.quantize`; calibrated during the warm-up's first 64 frames);
- ``per env <model>``: the first detector, each env wrapped in the per-env
  :class:`~visiongym.vision.detect.wrapper.DetectedObjects`, one pass per env per step (how
  ``--detector`` ran before).

Several ``--detector`` checkpoints (all at one image size) are measured in the same run, e.g. the
comparison's ``grid_fine`` beside a ``grid_nano`` trained on the same frames.

The modes take turns for ``--rounds`` rounds of ``--seconds`` each (so a change in the machine's
load hits all three alike) and the median steps per second (env steps over all envs) of each is
reported, with its cost against pixel mode: ``pixel SPS / mode SPS``. Goal: the batched detector
costs at most 2x pixel mode. Results also go to ``--out`` (CSV).
"""

from __future__ import annotations

import csv
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
import tyro

from visiongym.agents.common.envs import make_env, make_vector_env
from visiongym.vision.runtime import load_checkpoint, pick_device

GOAL = 2.0


@dataclass
class Args:
    """Benchmark settings."""

    detector: tuple[Path, ...] = (Path("runs/feeds/pretrained/detector/detector.pt"),)
    """Detector checkpoints (visiongym.vision.detect.train), one image size; the env renders at it."""
    num_envs: int = 4
    """Envs in the vector env (the comparison recipe's 4)."""
    seconds: float = 5.0
    """Measuring time per mode and round (after a warm-up)."""
    rounds: int = 3
    """Rounds; the modes take turns within each."""
    threads: int = 1
    """Torch threads (the training runs' --threads 1)."""
    device: str = "cpu"
    """Where the detector runs: cpu, cuda, auto (the trainers run it on their training device)."""
    int8: bool = False
    """Also measure each detector batched with its convolutions in int8 (``--detector-int8``; CPU only)."""
    out: Path = Path("benchmarks/results/detector_observation_cost.csv")
    """CSV of every round."""


def build(mode: str, detector: Path | None, args: Args, env_kwargs: dict) -> gym.vector.VectorEnv:
    """The vector env of ``mode`` (pixels, batched or per env) with ``detector``."""
    device = pick_device(args.device)
    if mode == "pixels":
        return make_vector_env("visiongym/TabletopSoccer-v0", env_kwargs, args.num_envs)
    if mode in ("batched", "batched int8"):
        return make_vector_env("visiongym/TabletopSoccer-v0", env_kwargs, args.num_envs, detector=detector,
                               detector_players=1, detector_device=device, detector_int8=mode == "batched int8")
    from visiongym.vision.detect.wrapper import DetectedObjects

    def thunk() -> gym.Env:
        return DetectedObjects(make_env("visiongym/TabletopSoccer-v0", env_kwargs)(), detector,
                               players_per_team=1, device=str(device))

    return gym.vector.SyncVectorEnv([thunk] * args.num_envs, autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP)


def measure(envs: gym.vector.VectorEnv, seconds: float, seed: int) -> float:
    """Env steps per second (all envs) of random actions for ``seconds``, after a warm-up."""
    envs.action_space.seed(seed)
    envs.reset(seed=seed)
    for _ in range(max(10, -(-80 // envs.num_envs))):  # >= 80 frames: an int8 detector has calibrated
        envs.step(envs.action_space.sample())
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        envs.step(envs.action_space.sample())
        steps += envs.num_envs
    return steps / (time.perf_counter() - start)


def main(args: Args) -> list[dict]:
    torch.set_num_threads(args.threads)
    metas = [load_checkpoint(path, kind="detector")["meta"] for path in args.detector]
    sizes = sorted({int(meta["image_size"]) for meta in metas})
    if len(sizes) != 1:
        raise SystemExit(f"--detector checkpoints have image sizes {sizes}; pass detectors of one size")
    size = sizes[0]
    env_kwargs = {"scenario": "empty_goal", "obs_mode": "pixels", "camera": "follow", "image_size": size,
                  "max_episode_steps": 200}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {args.threads} "
          f"thread(s), detector on {pick_device(args.device)}, load average {os.getloadavg()[0]:.1f}")
    print(f"env: TabletopSoccer-v0 empty_goal, follow camera {size} px, {args.num_envs} envs (SyncVectorEnv), "
          "random actions; detectors " + ", ".join(f"{m['model']} ({p})" for m, p in zip(metas, args.detector, strict=True)))
    modes = {"pixels": ("pixels", None)}
    for meta, path in zip(metas, args.detector, strict=True):
        modes[f"batched {meta['model']}"] = ("batched", path)
        if args.int8:
            modes[f"batched {meta['model']} int8"] = ("batched int8", path)
    modes[f"per env {metas[0]['model']}"] = ("per env", args.detector[0])
    envs = {name: build(mode, path, args, env_kwargs) for name, (mode, path) in modes.items()}
    rows = []
    for round_ in range(args.rounds):
        for name in modes:
            rows.append({"round": round_, "mode": name, "sps": measure(envs[name], args.seconds, round_)})
            print(f"round {round_}: {name:22} {rows[-1]['sps']:7.0f} steps/s", flush=True)
    for vector in envs.values():
        vector.close()
    median = {name: float(np.median([row["sps"] for row in rows if row["mode"] == name])) for name in modes}
    print(f"\n| mode | env steps/s (median of {args.rounds}) | cost vs pixels |")
    print("|---|---:|---:|")
    for name in modes:
        print(f"| {name} | {median[name]:.0f} | {median['pixels'] / median[name]:.2f}x |")
    for name in [name for name in modes if name.startswith("batched ")]:
        cost = median["pixels"] / median[name]
        print(f"{name}: {cost:.2f}x pixel mode's cost per step; goal <= {GOAL:.0f}x "
              f"{'met' if cost <= GOAL else 'NOT met'}")
    model = metas[0]["model"]
    print(f"batching is {median[f'batched {model}'] / median[f'per env {model}']:.2f}x the per-env wrapper's speed")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["round", "mode", "sps"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


if __name__ == "__main__":
    main(tyro.cli(Args, description=__doc__))
