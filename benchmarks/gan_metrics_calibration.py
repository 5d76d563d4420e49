"""Calibrate the GAN metrics: where do the floor, known degradations and a DCGAN fall?

    python benchmarks/gan_metrics_calibration.py --data data/frames64 --features runs/fc/frame_classifier.pt \\
        --detector runs/det/detector.pt --generator runs/gan/dcgan.pt --count 300

The real frames of ``--split`` are split as ``visiongym gan score`` splits them: the first
``--count`` are the reference, the next ``--count`` the floor set. Each row scores one set of
"generated" frames against the reference with :func:`visiongym.vision.gan.metrics.score_samples`:
the floor set itself (the real-vs-real floor), the floor set under a corruption of the robustness
suite at each ``--severities`` (frames we know are worse, by a known amount), and, with
``--generator``, ``--count`` DCGAN samples. A metric is useful when the rows come out in that
order. Prints one table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from visiongym.vision.data.dataset import load_frames
from visiongym.vision.gan.metrics import load_feature_network, object_classes, score_samples
from visiongym.vision.metrics import print_table
from visiongym.vision.robustness.corruptions import corrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data/frames64"))
    parser.add_argument("--split", default="train")
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--detector", type=Path)
    parser.add_argument("--generator", type=Path)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--corruption", default="gaussian_noise")
    parser.add_argument("--severities", type=int, nargs="+", default=[1, 3, 5])
    parser.add_argument("--score-threshold", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)

    net = load_feature_network(args.features)
    detector = None
    if args.detector is not None:
        from visiongym.vision.detect.engine import load_detector

        detector, _ = load_detector(args.detector)
    real = load_frames(args.data, args.split, limit=2 * args.count)
    count = len(real) // 2
    reference, floor = real[:count], real[count : 2 * count]
    floor_nhwc = floor.permute(0, 2, 3, 1).numpy()
    candidates = {"real floor set": floor}
    for severity in args.severities:
        candidates[f"{args.corruption} {severity}"] = np.stack(
            [
                corrupt(frame, args.corruption, severity, seed=i)
                for i, frame in enumerate(floor_nhwc)
            ]
        )
    if args.generator is not None:
        from visiongym.vision.gan.score import load_samples

        candidates["dcgan samples"] = load_samples(args.generator, count, args.seed)
    rows = {}
    for name, frames in candidates.items():
        scores = score_samples(
            frames,
            reference,
            net,
            detector,
            real_floor_images=floor,
            score_threshold=args.score_threshold,
            seed=args.seed,
        )
        row = {k: scores[k] for k in ("fid", "kid_mean", "kid_std", "precision", "recall")}
        row.update({f"{c} ratio": scores[f"objects_{c}_ratio"] for c in object_classes(scores)})
        rows[name] = row
    print_table(
        f"{count} frames of each set against {count} reference frames ({args.data}/{args.split}); "
        f"features: {net.name}",
        rows,
    )


if __name__ == "__main__":
    main()
