"""Whole-frame monocular depth: ``visiongym depth frames`` trains and scores a small U-Net.

Example::

    visiongym depth frames --frames 300 --frame-size 128 --epochs 6 --threads 1

The U-Net (:class:`~visiongym.vision.depth.models.DepthUNet`) regresses log-depth from RGB with
the scale-invariant log loss of Eigen et al. (2014), ``mean(g^2) - 0.5 mean(g)^2`` with
``g = log(pred) - log(true)``, over pixels nearer than ``max_depth``. Scores on the test split:

- ``abs_rel`` and ``rmse_m``: whole frame, after per-frame median scaling (the usual monocular
  protocol, the prediction being known up to scale only);
- ``st_rmse_paper_m``: st-RMSE (:mod:`visiongym.vision.depth.metrics`) of each player's pixels at
  the frame's resolution, in paper metres (x 1.8 / player height), averaged over the players:
  the paper's "generic depth network" row (0.92).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError
from visiongym.vision.depth.crops import (
    PLAYER_LABELS,
    ground_truth_from_dataset,
    ground_truth_from_simulator,
)
from visiongym.vision.depth.engine import PAPER_PLAYER_HEIGHT
from visiongym.vision.depth.metrics import abs_rel, median_scale, rmse, st_rmse
from visiongym.vision.depth.models import DEPTH_MODELS
from visiongym.vision.metrics import print_table
from visiongym.vision.runs import (
    RunOptions,
    config_dict,
    load_state,
    log_losses,
    prepare_run,
    set_threads,
)
from visiongym.vision.runtime import (
    load_checkpoint,
    pick_device,
    resume_epoch,
    save_checkpoint,
    seed_everything,
)

__all__ = ["FRAMES_KIND", "FrameDepthConfig", "load_depth_frames", "scale_invariant_loss", "score_frames",
           "train_frame_depth", "load_frame_model"]

FRAMES_KIND = "depth_unet"


def load_depth_frames(source: dict, split: str, cache_dir: Path | None = None, progress: bool = False) -> dict[str, np.ndarray]:
    """``rgb`` (N, 3, S, S) uint8, ``depth`` (N, S, S) float32 m, ``players`` (N, S, S) int16 (0 none,
    k the k-th player of the frame) of a dataset split (``{"data": ...}``) or simulator frames."""
    key = hashlib.sha1(json.dumps([source, split], sort_keys=True, default=str).encode()).hexdigest()[:12]
    path = None if cache_dir is None else Path(cache_dir) / f"frames_{split}_{key}.npz"
    if path is not None and path.is_file():
        with np.load(path) as archive:
            return {k: archive[k] for k in archive.files}
    if source.get("data"):
        frames = ground_truth_from_dataset(source["data"], split)
    else:
        frames = ground_truth_from_simulator(source["frames"], split, source["frame_size"], source.get("camera", "broadcast"),
                                             source.get("appearance", "random"), source.get("seed", 0),
                                             players=source.get("players", True))
    from tqdm import tqdm

    rgb, depth, players = [], [], []
    for ground_truth in tqdm(frames, desc="frames", total=source.get("frames"), disable=not progress):
        rgb.append(np.asarray(ground_truth["rgb"]).transpose(2, 0, 1))
        depth.append(np.asarray(ground_truth["depth"], np.float32))
        player_map = np.zeros(depth[-1].shape, np.int16)
        ids = [i for i, label in zip(ground_truth["instance_ids"], ground_truth["labels"], strict=True) if int(label) in PLAYER_LABELS]
        for k, instance in enumerate(ids, start=1):
            player_map[ground_truth["instance_mask"] == instance] = k
        players.append(player_map)
    out = {"rgb": np.stack(rgb), "depth": np.stack(depth), "players": np.stack(players)}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **out)
        tmp.replace(path)
    return out


def scale_invariant_loss(log_prediction: torch.Tensor, depth: torch.Tensor, valid: torch.Tensor,
                         lam: float = 0.5) -> torch.Tensor:
    """Eigen et al.'s scale-invariant log loss over ``valid`` pixels, per frame, averaged:
    ``mean(g^2) - lam mean(g)^2``; ``lam = 1`` ignores a global scale entirely, Eigen's 0.5
    charges half of its squared log."""
    g = (log_prediction - torch.log(depth.clamp(min=1e-4))) * valid
    count = valid.sum((1, 2)).clamp(min=1)
    return ((g**2).sum((1, 2)) / count - lam * (g.sum((1, 2)) / count) ** 2).mean()


@torch.no_grad()
def predict_frames(model, rgb: np.ndarray, batch_size: int = 16) -> np.ndarray:
    device = next(model.parameters()).device
    model.eval()
    return np.concatenate([torch.exp(model(torch.from_numpy(rgb[i:i + batch_size]).to(device))).cpu().numpy()
                           for i in range(0, len(rgb), batch_size)])


def score_frames(prediction: np.ndarray, frames: dict[str, np.ndarray], max_depth: float, player_height: float = 0.09,
                 min_pixels: int = 4) -> dict[str, float]:
    """Whole-frame AbsRel / RMSE (median-scaled) and the mean per-player st-RMSE in paper metres."""
    rels, rmses, players = [], [], []
    for pred, true, player_map in zip(prediction, frames["depth"], frames["players"], strict=True):
        valid = true < max_depth
        scaled = median_scale(pred, true, valid)
        rels.append(abs_rel(scaled, true, valid))
        rmses.append(rmse(scaled, true, valid))
        for k in range(1, int(player_map.max()) + 1):
            mask = player_map == k
            if mask.sum() >= min_pixels:
                players.append(st_rmse(pred, true, mask))
    return {"abs_rel": float(np.mean(rels)), "rmse_m": float(np.mean(rmses)),
            "st_rmse_paper_m": PAPER_PLAYER_HEIGHT / player_height * float(np.nanmean(players)) if players else float("nan"),
            "players": float(len(players))}


@dataclass
class FrameDepthConfig(RunOptions):
    """Train a whole-frame monocular depth U-Net (scale-invariant log loss) and score it."""

    data: Path | None = None
    """Rendered dataset folder (visiongym render-data); None renders frames from the simulator."""
    frames: int = 300
    """Simulator training frames; val/test get --eval-frames each."""
    eval_frames: int = 40
    """Simulator frames of the val and of the test split."""
    frame_size: int = 128
    """Frame side in pixels."""
    appearance: str = "random"
    """Simulator looks."""
    train_players: bool = True
    """Training frames show the players; --no-train-players trains on the same scenes with every
    player moved off the table (the paper's network trained on scenes without players); val and
    test frames always show them."""
    width: int = 16
    """U-Net channels at full resolution."""
    levels: int = 4
    """U-Net levels."""
    epochs: int = 6
    """Passes over the training frames."""
    batch_size: int = 8
    """Frames per step."""
    lr: float = 1e-3
    """Adam learning rate, cosine-decayed."""
    max_depth: float = 10.0
    """Pixels at or beyond this depth (metres) are left out of the loss and scores."""
    player_height: float = 0.09
    """Player height in metres (for st-RMSE in paper metres)."""
    cache_dir: Path = Path("data/depth_crops")
    """Frame cache folder."""
    seed: int = 0
    """Seed for torch, NumPy, Python and the simulator frames."""
    run_dir: Path | None = None
    """Run folder (default runs/<source>__depth-unet__<seed>__<time>); a checkpoint there resumes."""


def _source(config: FrameDepthConfig, split: str) -> dict:
    if config.data is not None:
        return {"data": str(config.data)}
    source = {"frames": config.frames if split == "train" else config.eval_frames, "frame_size": config.frame_size,
              "appearance": config.appearance, "seed": config.seed}
    if split == "train" and not config.train_players:
        source["players"] = False
    return source


def load_frame_model(path: str | Path, device: str | torch.device = "cpu"):
    """A ``visiongym depth frames`` checkpoint: ``(model, meta)``."""
    payload = load_checkpoint(path, kind=FRAMES_KIND, map_location="cpu")
    meta = payload["meta"]
    model = DEPTH_MODELS.build("unet", width=meta["width"], levels=meta["levels"])
    load_state(model, payload["state"]["model"], path, "unet", "visiongym depth frames")
    return model.to(pick_device(device)).eval(), meta


def train_frame_depth(config: FrameDepthConfig) -> dict[str, float]:
    """Train (or resume) the U-Net, score the test frames, print the table; return the scores."""
    if config.epochs < 1:
        raise UsageError(f"epochs={config.epochs} must be at least 1")
    set_threads(config.threads)
    seed_everything(config.seed)
    device = pick_device(config.device)
    data = {split: load_depth_frames(_source(config, split), split, config.cache_dir, config.progress)
            for split in ("train", "val", "test")}
    name = Path(config.data).name if config.data else f"sim{config.frame_size}"
    run_dir, writer = prepare_run(config, Path(name), "depth-unet" if config.train_players else "depth-unet-noplayers",
                                  config.run_dir)
    checkpoint_path = run_dir / "depth_unet.pt"
    meta = {"width": config.width, "levels": config.levels, "frame_size": int(data["train"]["rgb"].shape[-1]),
            "max_depth": config.max_depth, "player_height": config.player_height}
    model = DEPTH_MODELS.build("unet", width=config.width, levels=config.levels).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    train = data["train"]
    steps = max(1, len(train["rgb"]) // config.batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.epochs * steps, eta_min=config.lr / 20)
    start = resume_epoch(checkpoint_path, model, optimizer, scheduler, FRAMES_KIND, **meta)
    from tqdm import tqdm

    generator = torch.Generator().manual_seed(config.seed)
    step = start * steps
    bar = tqdm(range(start, config.epochs), desc="depth-unet", disable=not config.progress)
    for epoch in bar:
        model.train()
        order = torch.randperm(len(train["rgb"]), generator=generator).numpy()
        for b in range(steps):
            index = np.sort(order[b * config.batch_size:(b + 1) * config.batch_size])
            rgb = torch.from_numpy(train["rgb"][index]).to(device)
            depth = torch.from_numpy(train["depth"][index]).to(device)
            loss = scale_invariant_loss(model(rgb), depth, (depth < config.max_depth).float())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            log_losses(writer, step, {"scale_invariant": loss})
        val = score_frames(predict_frames(model, data["val"]["rgb"]), data["val"], config.max_depth, config.player_height)
        for key in ("abs_rel", "st_rmse_paper_m"):
            writer.add_scalar(f"val/{key}", val[key], step)
        bar.set_postfix(loss=f"{loss.item():.4f}", abs_rel=f"{val['abs_rel']:.3f}")
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}
        save_checkpoint(checkpoint_path, FRAMES_KIND, state, epoch=epoch + 1, **meta)
    prediction = predict_frames(model, data["test"]["rgb"])
    scores = score_frames(prediction, data["test"], config.max_depth, config.player_height)
    for key, value in scores.items():
        writer.add_scalar(f"test/{key}", value, step)
    writer.close()
    _save_grid(run_dir / "grid.png", data["test"], prediction, config.max_depth)
    print_table(f"whole-frame depth U-Net on {len(prediction)} test frames ({config_dict(config)['frame_size']} px)",
                {"unet": scores})
    print(f"checkpoint {checkpoint_path}; picture grid {run_dir / 'grid.png'}")
    return scores


def _save_grid(path: Path, frames: dict, prediction: np.ndarray, max_depth: float, count: int = 6) -> None:
    from visiongym.vision.autoencoders.evaluate import save_grid

    def picture(depth: np.ndarray, reference: np.ndarray) -> torch.Tensor:
        valid = reference < max_depth
        log = np.log(np.clip(depth, 1e-3, None))
        low, high = np.log(reference[valid].min()), np.log(reference[valid].max())
        return torch.from_numpy(np.where(valid, 1 - (log - low) / max(high - low, 1e-6), 0).astype(np.float32))

    n = min(count, len(prediction))
    true = torch.stack([picture(frames["depth"][i], frames["depth"][i]) for i in range(n)])[:, None].expand(-1, 3, -1, -1)
    pred = torch.stack([picture(median_scale(prediction[i], frames["depth"][i], frames["depth"][i] < max_depth),
                                frames["depth"][i]) for i in range(n)])[:, None].expand(-1, 3, -1, -1)
    save_grid(path, [torch.from_numpy(frames["rgb"][:n]).float() / 255, true, pred], count=n)


def main(argv: list[str] | None = None) -> None:
    import tyro

    train_frame_depth(tyro.cli(FrameDepthConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
