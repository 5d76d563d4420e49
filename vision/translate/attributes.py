"""The judge of StarGAN's frames: an attribute classifier trained on real (rendered) frames only.

It never sees a translated frame while it learns, so its accuracy on translated frames says how
often a translation shows the attributes it was asked for; its accuracy on real held-out frames
is the ceiling of that figure. Checkpoints have kind ``attribute_classifier``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from visiongym.vision.runs import load_state
from visiongym.vision.runtime import load_checkpoint, save_checkpoint
from visiongym.vision.translate.models import (
    AttributeClassifier,
    attribute_loss,
    attribute_predictions,
)

__all__ = ["CLASSIFIER_KIND", "train_attribute_classifier", "predict_attributes", "load_attribute_classifier",
           "attribute_accuracy"]

CLASSIFIER_KIND = "attribute_classifier"


def train_attribute_classifier(
    frames: torch.Tensor,
    labels: torch.Tensor,
    sizes: Sequence[int],
    epochs: int = 15,
    batch_size: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: bool = False,
) -> AttributeClassifier:
    """Fit an :class:`AttributeClassifier` to uint8 ``frames`` with value indices ``labels`` (N, K)."""
    from tqdm import tqdm

    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = AttributeClassifier(sizes).to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * max(1, len(frames) // batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=max(1, steps))
    model.train()
    for _ in tqdm(range(steps), desc="attribute classifier", disable=not progress, leave=False):
        index = torch.randint(len(frames), (batch_size,), generator=generator)
        batch = frames[index]
        flip = torch.rand(len(batch), generator=generator) < 0.5
        batch[flip] = batch[flip].flip(-1)
        loss = attribute_loss(model(batch.to(device)), labels[index].to(device), sizes)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
    return model.eval()


@torch.no_grad()
def predict_attributes(model: AttributeClassifier, frames: torch.Tensor, sizes: Sequence[int],
                       batch_size: int = 64) -> torch.Tensor:
    """Predicted value indices (N, K) of uint8 frames."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([
        attribute_predictions(model(frames[i : i + batch_size].to(device)), sizes).cpu()
        for i in range(0, len(frames), batch_size)
    ])


def attribute_accuracy(predicted: torch.Tensor, labels: torch.Tensor, names: Sequence[str],
                       changed: torch.Tensor | None = None) -> dict[str, float]:
    """Accuracy per attribute (``acc/<name>``), their mean (``accuracy``) and all-correct (``exact``);
    with ``changed`` (N, K bool: the attributes a translation had to change) also ``accuracy_changed``,
    the accuracy over those (frame, attribute) pairs only."""
    correct = (predicted == labels).float()
    scores = {f"acc/{name}": float(correct[:, k].mean()) for k, name in enumerate(names)}
    scores["accuracy"] = float(correct.mean())
    scores["exact"] = float(correct.all(dim=1).float().mean())
    if changed is not None and changed.any():
        scores["accuracy_changed"] = float(correct[changed].mean())
    return scores


def save_attribute_classifier(path: Path, model: AttributeClassifier, **meta: Any) -> Path:
    return save_checkpoint(path, CLASSIFIER_KIND, {"model": model.state_dict()}, **meta)


def load_attribute_classifier(path: Path, sizes: Sequence[int], device: torch.device | str = "cpu",
                              **expected: Any) -> AttributeClassifier:
    """A classifier saved by :func:`save_attribute_classifier` whose meta matches ``expected``."""
    payload = load_checkpoint(path, kind=CLASSIFIER_KIND, **expected)
    model = AttributeClassifier(sizes)
    load_state(model, payload["state"]["model"], path, CLASSIFIER_KIND, "visiongym translate evaluate")
    return model.to(device).eval()
