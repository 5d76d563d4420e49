"""4x super-resolution of rendered frames: bicubic, SRResNet and SRGAN, on downsampled and on
rendered low-resolution frames. Scores: PSNR/SSIM (Y channel, 4-pixel border removed) and the
detector's mAP@0.5 and ball AP@0.5 on the upscaled frames.

    python benchmarks/superres.py                       # CPU scale: 32 -> 128 px, minutes per step
    python benchmarks/superres.py --size 192 --data data/sr192 --out runs/superres192 --tag 48to192   # 48 -> 192 px
    python benchmarks/superres.py --arch paper --epochs 200 --detector-epochs 40 --frames 6000  # longer (GPU)

Steps (each resumes, or only re-scores when its run folder already holds a finished checkpoint):

1. render ``--frames`` frames at ``--size`` px into ``--data`` (unless it exists);
2. train the grid detector (``grid_fine``) on the HR training frames (or take ``--detector``);
3. train the feature network of the perceptual loss (``--feature-net``): ``detector``, a second
   grid detector (seed + 1) whose backbone gives the features, or ``autoencoder``, a tiny
   autoencoder. Not the scoring detector: a loss on the judge's own features would optimise for
   the judge;
4. train SRResNet (MSE) on downsampled LR crops, and (``--rendered-training``, default on) a second
   SRResNet on rendered LR crops;
5. train SRGAN from the first SRResNet: perceptual loss on the feature network + 1e-3 adversarial;
6. score bicubic and every model on the test split, with LR frames downsampled and rendered at
   the low size; print the table, check the goals, write ``benchmarks/results/superres.csv`` and
   the grids ``benchmarks/results/superres_{grid,ball}_{downsampled,rendered}.png``.
"""

from __future__ import annotations

import csv
import dataclasses
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import tyro

from visiongym.vision.autoencoders.train import AutoencoderTrainConfig, train_autoencoder
from visiongym.vision.data.render_soccer import RenderConfig, render_dataset
from visiongym.vision.detect.train import DetectorTrainConfig, train_detector
from visiongym.vision.superres.evaluate import SuperResEvaluateConfig, evaluate_superres
from visiongym.vision.superres.train import SuperResTrainConfig, train_superres

COLUMNS = ("psnr_y", "ssim_y", "psnr_rgb", "map_50", "ap50_ball")


@dataclass
class Benchmark:
    """Bicubic / SRResNet / SRGAN x {downsampled, rendered} LR frames at 4x."""

    data: Path = Path("data/sr128")
    """Dataset folder (rendered by step 1 when missing)."""
    out: Path = Path("runs/superres_benchmark")
    """Folder for the run folders of every step."""
    frames: int = 800
    """Frames rendered in step 1 (train 520, val 80, test 200 at the default fractions)."""
    size: int = 128
    """HR frame side; the LR side is size / scale."""
    scale: int = 4
    """Upscaling factor."""
    test_fraction: float = 0.25
    """Share of the test split in step 1."""
    detector: Path | None = None
    """A trained detector to score with instead of step 2."""
    detector_epochs: int = 12
    """Epochs of the detectors (step 2, and step 3 with --feature-net detector)."""
    feature_net: Literal["detector", "autoencoder"] = "detector"
    """Step 3: a second grid detector (seed + 1; its backbone) or a tiny autoencoder (its encoder)."""
    feature_layer: int = 1
    """Stage of the feature network that the perceptual loss compares (1: stride 4)."""
    ae_epochs: int = 12
    """Step 3 epochs with --feature-net autoencoder."""
    arch: str = "small"
    """Generator size of steps 4 and 5 (small: CPU; paper: 64 x 16 blocks)."""
    epochs: int = 25
    """Step 4 (SRResNet) epochs."""
    rendered_training: bool = True
    """Step 4 also trains an SRResNet on rendered LR frames (row srresnet-rendered)."""
    gan_epochs: int = 12
    """Step 5 (SRGAN) epochs."""
    patch_size: int = 64
    """HR crop side for steps 4 and 5."""
    device: str = "auto"
    """auto, cpu, cuda..."""
    threads: int = 1
    """torch CPU threads."""
    seed: int = 0
    """Seed of every step."""
    results: Path = Path("benchmarks/results")
    """Where the CSV and the grids go."""
    tag: str = ""
    """Appended to the result file names (e.g. 48to192: superres_48to192.csv), so runs at other sizes do not
    overwrite the default's."""


def _timed(name: str, times: dict[str, float], function, *args):
    started = time.perf_counter()
    result = function(*args)
    times[name] = time.perf_counter() - started
    print(f"[{name}] {times[name]:.0f} s")
    return result


def _detector(bench: Benchmark, run_dir: Path, seed: int) -> DetectorTrainConfig:
    return DetectorTrainConfig(
        data=bench.data,
        model="grid_fine",
        image_size=bench.size,
        epochs=bench.detector_epochs,
        fps_frames=0,
        run_dir=run_dir,
        device=bench.device,
        threads=bench.threads,
        seed=seed,
    )


def main() -> None:
    bench = tyro.cli(Benchmark)
    times: dict[str, float] = {}
    common = dict(device=bench.device, threads=bench.threads, seed=bench.seed)
    if not (bench.data / "dataset.json").is_file():
        config = RenderConfig(
            out=bench.data,
            frames=bench.frames,
            size=bench.size,
            test_fraction=bench.test_fraction,
            depth="none",
            workers=1,
            seed=bench.seed,
        )
        _timed("render", times, render_dataset, config)
    detector = bench.detector
    if detector is None:
        detector = bench.out / "detector" / "detector.pt"
        _timed("detector", times, train_detector, _detector(bench, detector.parent, bench.seed))
    if bench.feature_net == "detector":
        features = bench.out / "feature_detector" / "detector.pt"
        config = _detector(bench, features.parent, bench.seed + 1)
        _timed("feature_detector", times, train_detector, config)
    else:
        features = bench.out / "autoencoder" / "autoencoder.pt"
        config = AutoencoderTrainConfig(
            data=bench.data,
            variant="conv",
            arch="tiny",
            image_size=bench.size,
            epochs=bench.ae_epochs,
            run_dir=features.parent,
            **common,
        )
        _timed("autoencoder", times, train_autoencoder, config)
    sr = SuperResTrainConfig(
        data=bench.data,
        model="srresnet",
        arch=bench.arch,
        scale=bench.scale,
        patch_size=bench.patch_size,
        epochs=bench.epochs,
        run_dir=bench.out / "srresnet",
        **common,
    )
    _timed("srresnet", times, train_superres, sr)
    checkpoints = [sr.run_dir / "superres.pt"]
    if bench.rendered_training:
        rendered = dataclasses.replace(
            sr, lr_source="rendered", run_dir=bench.out / "srresnet_rendered"
        )
        _timed("srresnet_rendered", times, train_superres, rendered)
        checkpoints.append(rendered.run_dir / "superres.pt")
    gan = dataclasses.replace(
        sr,
        model="srgan",
        epochs=bench.gan_epochs,
        init=sr.run_dir / "superres.pt",
        feature_net=features,
        feature_layer=bench.feature_layer,
        run_dir=bench.out / f"srgan_{bench.feature_net}",
    )
    _timed("srgan", times, train_superres, gan)
    checkpoints.append(gan.run_dir / "superres.pt")
    grids = bench.out / "evaluate"
    config = SuperResEvaluateConfig(
        checkpoints=tuple(checkpoints),
        data=bench.data,
        scale=bench.scale,
        detector=detector,
        grid=grids,
        device=bench.device,
        threads=bench.threads,
    )
    rows = _timed("evaluate", times, evaluate_superres, config)

    print(
        f"\n{bench.scale}x, {bench.size // bench.scale} -> {bench.size} px; PSNR/SSIM on Y with a "
        f"{bench.scale}-pixel border removed (psnr_rgb: same border, RGB); SRGAN features: "
        f"{bench.feature_net} stage {bench.feature_layer}\n"
    )
    print("| model | LR frames | " + " | ".join(COLUMNS) + " |")
    print("| --- | --- |" + " --- |" * len(COLUMNS))
    for name, scores in rows.items():
        model, _, source = name.partition(" (")
        cells = " | ".join(f"{scores[c]:.3f}" if c in scores else "" for c in COLUMNS)
        print(f"| {model} | {source.rstrip(')') or 'none (HR frames)'} | {cells} |")
    print()
    for name, scores in rows.items():
        model, _, source = name.partition(" (")
        if model in ("hr", "bicubic"):
            continue
        bicubic = rows[f"bicubic ({source}"]
        if model.startswith("srresnet"):
            gain = scores["psnr_y"] - bicubic["psnr_y"]
            verdict = "met" if gain >= 2 else "NOT met"
            print(f"goal PSNR-Y >= bicubic + 2 dB, {name}: {gain:+.2f} dB -> {verdict}")
        delta = scores["ap50_ball"] - bicubic["ap50_ball"]
        verdict = "met" if delta >= 0.1 else "NOT met"
        print(f"goal ball AP@0.5 >= bicubic + 0.1, {name}: {delta:+.3f} -> {verdict}")
    print("wall seconds this invocation: " + ", ".join(f"{k} {v:.0f}" for k, v in times.items()))

    bench.results.mkdir(parents=True, exist_ok=True)
    suffix = f"_{bench.tag}" if bench.tag else ""
    csv_path = bench.results / f"superres{suffix}.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", *COLUMNS])
        for name, scores in rows.items():
            writer.writerow([name, *(f"{scores[c]:.4f}" if c in scores else "" for c in COLUMNS)])
    for kind in ("grid", "ball"):
        for source in ("downsampled", "rendered"):
            if (grids / f"{kind}_{source}.png").is_file():
                target = bench.results / f"superres_{kind}_{source}{suffix}.png"
                shutil.copy(grids / f"{kind}_{source}.png", target)
    print(f"results written to {csv_path}")


if __name__ == "__main__":
    main()
