"""A small VGG19-shaped network trained by the suite itself, for offline style transfer.

No wheel ships ImageNet weights, so when torchvision's VGG19 file is absent the style module uses
this network instead: the same 16 convolutions in five blocks (so layer names ``conv1_1`` ...
``conv5_4`` mean the same thing), with far fewer channels, trained to tell apart 64-pixel patches
of the photos that ship with scikit-image and scikit-learn and of frames rendered by the soccer
simulator. It is *not* ImageNet VGG19 and its stylisations are not the paper's.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from visiongym.vision.runtime import load_checkpoint, save_checkpoint

__all__ = ["SUITE_VGG_LABEL", "SmallVGG19", "train_suite_vgg", "load_or_train_suite_vgg"]

CHECKPOINT_KIND = "suite_vgg19"
SUITE_VGG_LABEL = (
    "visiongym SmallVGG19 (VGG19 layout, widths {widths}) trained by the suite on patches of "
    "{classes} classes: shipped photos and rendered soccer frames; NOT ImageNet VGG19"
)
_BLOCKS = (2, 2, 4, 4, 4)


class SmallVGG19(nn.Module):
    """VGG19's layout (``features`` with 16 convolutions and 5 max-pools) with narrow layers.

    It trains with a BatchNorm after every convolution (a plain 16-convolution stack barely
    trains in a CPU budget); :meth:`fuse` then folds each BatchNorm into its convolution, which
    leaves exactly VGG19's ``features`` layout (conv, ReLU, ..., max-pool) and the same function.

    Args:
        num_classes: classes of the patch-recognition task it is trained on.
        widths: channels of the five blocks.
        batch_norm: build with BatchNorm layers (for training); ``False`` is the fused layout.
    """

    def __init__(
        self,
        num_classes: int = 20,
        widths: tuple[int, ...] = (16, 32, 64, 64, 64),
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for width, convs in zip(widths, _BLOCKS, strict=True):
            for _ in range(convs):
                layers.append(nn.Conv2d(channels, width, 3, padding=1))
                if batch_norm:
                    layers.append(nn.BatchNorm2d(width))
                layers.append(nn.ReLU(inplace=True))
                channels = width
            layers.append(nn.MaxPool2d(2))
        self.widths = tuple(widths)
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(F.adaptive_avg_pool2d(self.features(images), 1).flatten(1))

    @torch.no_grad()
    def fuse(self) -> SmallVGG19:
        """Return an equivalent network without BatchNorm (each folded into its convolution)."""
        fused = SmallVGG19(self.classifier.out_features, self.widths, batch_norm=False)
        fused.classifier.load_state_dict(self.classifier.state_dict())
        source = [m for m in self.features if not isinstance(m, nn.ReLU | nn.MaxPool2d)]
        targets = [m for m in fused.features if isinstance(m, nn.Conv2d)]
        pairs = (
            zip(source[0::2], source[1::2], strict=True)
            if any(isinstance(m, nn.BatchNorm2d) for m in source)
            else ((c, None) for c in source)
        )
        for target, (conv, norm) in zip(targets, pairs, strict=True):
            weight, bias = conv.weight.clone(), conv.bias.clone()
            if norm is not None:
                scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
                weight = weight * scale[:, None, None, None]
                bias = (bias - norm.running_mean) * scale + norm.bias
            target.weight.copy_(weight)
            target.bias.copy_(bias)
        return fused.eval()


def _patch_sources(size: int, soccer_frames: int, seed: int) -> list[np.ndarray]:
    """One uint8 RGB image per class: every shipped photo, then rendered soccer frames."""
    from visiongym.vision.filters.images import load_image, shipped_images

    sources = [load_image(name, "rgb", size=size) for name in sorted(shipped_images())]
    if soccer_frames:
        from visiongym.sims.soccer import SoccerScene

        rng = np.random.default_rng(seed)
        scene = SoccerScene(team_size=3, ego_cameras=False)
        try:
            for camera in ("broadcast", "top"):
                for _ in range(soccer_frames):
                    scene.reset(rng)
                    scene.randomize_appearance(rng)
                    for _ in range(int(rng.integers(0, 40))):
                        scene.step(scene.scripted_commands(rng))
                    sources.append(scene.render(camera=camera, height=size, width=size))
        finally:
            scene.close()
    return sources


def _sample_patches(sources, count: int, patch: int, rng: np.random.Generator):
    """Random crops (with flips) and their source index, as float tensors in [0, 1]."""
    labels = rng.integers(0, len(sources), count)
    patches = np.empty((count, patch, patch, 3), np.uint8)
    for i, label in enumerate(labels):
        image = sources[label]
        y = rng.integers(0, image.shape[0] - patch + 1)
        x = rng.integers(0, image.shape[1] - patch + 1)
        crop = image[y : y + patch, x : x + patch]
        patches[i] = crop[:, ::-1] if rng.random() < 0.5 else crop
    tensor = torch.from_numpy(patches).permute(0, 3, 1, 2).float() / 255.0
    return tensor, torch.from_numpy(labels).long()


def train_suite_vgg(
    steps: int = 400,
    batch_size: int = 32,
    patch: int = 32,
    image_size: int = 192,
    soccer_frames: int = 2,
    lr: float = 3e-3,
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> tuple[SmallVGG19, dict]:
    """Train :class:`SmallVGG19` to recognise which image a patch was cut from; return it fused."""
    from tqdm.auto import tqdm

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    sources = _patch_sources(image_size, soccer_frames, seed)
    model = SmallVGG19(num_classes=len(sources)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    start, losses = time.perf_counter(), []
    for _ in tqdm(range(steps), desc="training suite VGG", disable=not progress, leave=False):
        images, labels = _sample_patches(sources, batch_size, patch, rng)
        loss = F.cross_entropy(model(images.to(device)), labels.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
    images, labels = _sample_patches(sources, 256, patch, np.random.default_rng(seed + 1))
    model = model.cpu().eval().fuse().to(device)
    with torch.no_grad():
        accuracy = (model(images.to(device)).argmax(1).cpu() == labels).float().mean().item()
    info = {
        "classes": len(sources),
        "steps": steps,
        "patch_accuracy": accuracy,
        "final_loss": float(np.mean(losses[-20:])),
        "seconds": time.perf_counter() - start,
        "widths": list(model.widths),
    }
    return model.cpu(), info


def load_or_train_suite_vgg(
    path: Path, device: torch.device | str = "cpu", steps: int = 400, progress: bool = True
) -> tuple[SmallVGG19, dict]:
    """Load the suite VGG from ``path``, or train it and save it there (atomically)."""
    if path.is_file():
        payload = load_checkpoint(path, kind=CHECKPOINT_KIND)
        info = dict(payload["meta"])
        model = SmallVGG19(
            num_classes=info["classes"], widths=tuple(info["widths"]), batch_norm=False
        )
        model.load_state_dict(payload["state"])
        return model, info
    model, info = train_suite_vgg(steps=steps, device=device, progress=progress)
    save_checkpoint(path, CHECKPOINT_KIND, model.state_dict(), **info)
    return model, info
