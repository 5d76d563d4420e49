"""Train the per-player depth network: ``visiongym depth train``.

Examples::

    visiongym depth train --frames 400 --threads 1                  # classification (the paper)
    visiongym depth train --head regression --frames 400 --threads 1  # the regression ablation
    visiongym depth train --data data/soccer_512 --stacks 8 --crop-size 256 --stride 4   # paper size
    visiongym depth train --init-from runs/a/depth.pt --lr 3e-4 --run-dir runs/b      # fine-tune

Crops come from a rendered dataset (``--data``, e.g. one rendered with the human look) or, by
default, straight from the simulator (``--frames`` training frames at ``--frame-size``; the
val/test frames are the simulator's val/test seeds), and are cached under ``--cache-dir``.
Every epoch logs the losses, validation st-RMSE and mask IoU to TensorBoard and writes the
checkpoint atomically; rerunning with the same ``--run-dir`` resumes. At the end the test crops
are scored next to the billboard and cylinder baselines and a picture grid is written
(crop / true depth / predicted depth / predicted mask).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError
from visiongym.vision.depth.crops import CropSet, CropSpec, DepthBins, load_crops
from visiongym.vision.depth.engine import (
    BASELINES,
    CHECKPOINT_KIND,
    baseline_predictions,
    build_model,
    crop_batch,
    crop_loss,
    photometric_jitter,
    predict_crops,
    score_crops,
)
from visiongym.vision.metrics import print_table
from visiongym.vision.runs import RunOptions, log_losses, prepare_run, set_threads
from visiongym.vision.runtime import (
    init_from_checkpoint,
    pick_device,
    resume_epoch,
    save_checkpoint,
    seed_everything,
)

__all__ = ["CropSourceOptions", "DepthTrainConfig", "train_depth", "crop_source", "save_depth_grid"]


@dataclass
class CropSourceOptions:
    """Where player crops come from and how they are cut (shared by train and evaluate)."""

    data: Path | None = None
    """Rendered dataset folder (visiongym render-data, best with --depth npy); None renders from the simulator."""
    scene: Literal["soccer", "humanoid"] = "soccer"
    """Simulator scene (without --data): soccer, or the LearnToMove humanoid alone (use --frame-size
    128 --bin-width 0.02: a 1.6 m human in the paper's bins)."""
    frames: int = 400
    """Simulator training frames (without --data); val and test get --eval-frames each."""
    eval_frames: int = 60
    """Simulator frames of the val and of the test split."""
    frame_size: int = 512
    """Simulator frame side in pixels (players are about 22 px tall at 512 with the broadcast camera)."""
    camera: str = "broadcast"
    """Simulator camera."""
    appearance: str = "random"
    """Simulator looks (visiongym.sims.appearance names: random, default, held_out, a shift...)."""
    crop_size: int = 64
    """Crop side fed to the network (the paper: 256)."""
    stride: int = 2
    """Output stride: targets and predictions are crop_size / stride pixels (the paper: 4)."""
    context: float = 1.25
    """Crop side over the longer side of the player's box."""
    mask_input: Literal["box", "gt"] = "box"
    """Mask channel: the player's box (detector-like) or its true visible mask (makes IoU trivial)."""
    bins: int = 49
    """Depth bins (odd; plus one background class)."""
    bin_width: float = 0.002
    """Bin width in metres (the paper's 0.02 m for 1.8 m humans; 2 mm spans our 9 cm robot in 49 bins)."""
    player_height: float = 0.09
    """Player height in metres; st-RMSE in paper metres is ours x 1.8 / this."""
    cache_dir: Path = Path("data/depth_crops")
    """Crop cache folder."""

    def crop_spec(self) -> CropSpec:
        return CropSpec(crop_size=self.crop_size, stride=self.stride, context=self.context, mask_input=self.mask_input)

    def depth_bins(self) -> DepthBins:
        return DepthBins(bins=self.bins, bin_width=self.bin_width)


def crop_source(options: CropSourceOptions, split: str, seed: int = 0, appearance: str | None = None) -> dict:
    """The :func:`load_crops` source of ``split`` described by ``options``."""
    if options.data is not None:
        return {"data": str(options.data)}
    frames = options.frames if split == "train" else options.eval_frames
    if options.scene == "humanoid":
        return {"scene": "humanoid", "frames": frames, "frame_size": options.frame_size, "seed": seed}
    return {"frames": frames, "frame_size": options.frame_size, "camera": options.camera,
            "appearance": appearance or options.appearance, "seed": seed}


@dataclass
class DepthTrainConfig(RunOptions, CropSourceOptions):
    """Train a stacked-hourglass per-player depth network (classification or regression)."""

    head: Literal["classification", "regression"] = "classification"
    """classification: the paper's bins + background; regression: L1 depth + mask BCE (ablation)."""
    stacks: int = 2
    """Hourglasses (the paper: 8)."""
    features: int = 64
    """Channels inside the hourglasses (the paper: 256)."""
    depth: int = 3
    """Hourglass levels (down-samplings)."""
    epochs: int = 8
    """Passes over the training crops (the paper: 300)."""
    batch_size: int = 16
    """Crops per step (the paper: 6)."""
    lr: float = 1e-3
    """Adam learning rate, cosine-decayed (the paper: 3e-5 constant, for 300 epochs)."""
    photometric: bool = False
    """Also jitter the crops' light (gain 0.4-1.4, tint +-15 %, contrast 0.7-1.3) while training."""
    train_limit: int | None = None
    """Use only the first training crops."""
    seed: int = 0
    """Seed for torch, NumPy, Python and the simulator frames."""
    run_dir: Path | None = None
    """Run folder (default runs/<source>__depth-<head>__<seed>__<time>); a checkpoint there resumes."""
    init_from: Path | None = None
    """Start from the weights of this depth checkpoint (every tensor whose name and shape fit; a
    fine-tune: the optimizer and the --lr schedule start afresh). Ignored when the run folder
    already holds a checkpoint (that one resumes)."""


def checkpoint_meta(config: DepthTrainConfig) -> dict:
    return {"head": config.head, "bins": asdict(config.depth_bins()), "spec": asdict(config.crop_spec()),
            "stacks": config.stacks, "features": config.features, "depth": config.depth,
            "player_height": config.player_height}


def _depth_picture(relative: np.ndarray, mask: np.ndarray, bins: DepthBins) -> torch.Tensor:
    """Relative depth as grey (near light), background black, upsampled later."""
    half = bins.bins // 2 * bins.bin_width
    grey = np.clip(0.5 - relative / (2 * half), 0, 1) * 0.8 + 0.2
    return torch.from_numpy(np.where(mask, grey, 0.0).astype(np.float32))[:, None].expand(-1, 3, -1, -1)


def save_depth_grid(path: Path, crops: CropSet, depth: np.ndarray, mask: np.ndarray, bins: DepthBins, count: int = 8) -> Path:
    """Rows: crop RGB, true relative depth, predicted depth (inside the true mask), predicted mask."""
    from torch.nn import functional as F

    from visiongym.vision.autoencoders.evaluate import save_grid

    size = crops.rgb.shape[-1]
    up = lambda t: F.interpolate(t, size=(size, size), mode="nearest")  # noqa: E731
    n = min(count, len(crops))
    rows = [torch.from_numpy(crops.rgb[:n]).float() / 255,
            up(_depth_picture(crops.relative[:n], crops.mask[:n], bins)),
            up(_depth_picture(depth[:n], crops.mask[:n], bins)),
            up(torch.from_numpy(mask[:n].astype(np.float32))[:, None].expand(-1, 3, -1, -1))]
    return save_grid(path, rows, count=n)


def train_depth(config: DepthTrainConfig) -> dict[str, dict[str, float]]:
    """Train (or resume), score the test crops with the baselines, print the table; return the rows."""
    if config.epochs < 1:
        raise UsageError(f"epochs={config.epochs} must be at least 1")
    set_threads(config.threads)
    seed_everything(config.seed)
    device = pick_device(config.device)
    spec, bins = config.crop_spec(), config.depth_bins()
    crops = {split: load_crops(crop_source(config, split, config.seed), split, spec, config.cache_dir, config.progress)
             for split in ("train", "val", "test")}
    train = crops["train"] if config.train_limit is None else crops["train"].subset(slice(0, config.train_limit))
    source_name = Path(config.data).name if config.data else f"{config.scene}{config.frame_size}"
    run_dir, writer = prepare_run(config, Path(source_name), f"depth-{config.head}", config.run_dir)
    checkpoint_path = run_dir / "depth.pt"
    meta = checkpoint_meta(config)
    model = build_model(meta).to(device)
    if config.init_from is not None and not checkpoint_path.exists():
        init_from_checkpoint(model, config.init_from, CHECKPOINT_KIND, hint=f" 'depth-{config.head}'; start from a "
                             "depth checkpoint with the same --head, --stacks, --features and --depth")
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    steps_per_epoch = max(1, len(train) // config.batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.epochs * steps_per_epoch, eta_min=config.lr / 20)
    start_epoch = resume_epoch(checkpoint_path, model, optimizer, scheduler, CHECKPOINT_KIND, **meta)

    from tqdm import tqdm

    generator = torch.Generator().manual_seed(config.seed)
    step, started = start_epoch * steps_per_epoch, time.perf_counter()
    bar = tqdm(range(start_epoch, config.epochs), desc=f"depth-{config.head}", disable=not config.progress)
    for epoch in bar:
        model.train()
        order = torch.randperm(len(train), generator=generator).numpy()
        for batch_index in range(steps_per_epoch):
            index = np.sort(order[batch_index * config.batch_size:(batch_index + 1) * config.batch_size])
            flip = torch.rand(len(index), generator=generator) < 0.5
            rgb, mask_in, classes, relative_bins, mask = crop_batch(train, index, device, bins, flip)
            if config.photometric:
                rgb = photometric_jitter(rgb.cpu(), generator).to(device)
            loss, terms = crop_loss(model(rgb, mask_in), config.head, classes, relative_bins, mask)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            log_losses(writer, step, {"total": loss, **terms})
        val = score_crops(*predict_crops(model, config.head, crops["val"], bins), crops["val"], config.player_height)
        writer.add_scalar("val/st_rmse_paper_m", val["st_rmse_paper_m"], step)
        writer.add_scalar("val/mask_iou", val["mask_iou"], step)
        writer.add_scalar("charts/crops_per_s", (step - start_epoch * steps_per_epoch) * config.batch_size
                          / (time.perf_counter() - started), step)
        bar.set_postfix(loss=f"{loss.item():.3f}", st_rmse=f"{val['st_rmse_paper_m']:.3f}", iou=f"{val['mask_iou']:.3f}")
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}
        save_checkpoint(checkpoint_path, CHECKPOINT_KIND, state, epoch=epoch + 1, **meta)

    test = crops["test"]
    depth, mask = predict_crops(model, config.head, test, bins)
    rows = {f"hourglass-{config.head}": score_crops(depth, mask, test, config.player_height)}
    for name in BASELINES:
        rows[name] = score_crops(*baseline_predictions(name, test), test, config.player_height)
    for name, value in rows[f"hourglass-{config.head}"].items():
        writer.add_scalar(f"test/{name}", value, step)
    writer.close()
    save_depth_grid(run_dir / "grid.png", test, depth, mask, bins)
    headline = {name: {k: v for k, v in row.items() if "/" not in k} for name, row in rows.items()}
    print_table(f"per-player depth on {len(test)} test crops (st-RMSE in mm and in paper metres x{1.8 / config.player_height:.0f})",
                headline)
    print(f"checkpoint {checkpoint_path}; picture grid {run_dir / 'grid.png'}")
    return rows


def main(argv: list[str] | None = None) -> None:
    import tyro

    train_depth(tyro.cli(DepthTrainConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
