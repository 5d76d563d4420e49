"""One small supervised training loop shared by the course modules (digits, augment, transfer).

It trains a classifier on in-memory tensors, evaluates after every epoch, logs to TensorBoard
when given a writer, and returns the per-epoch history, which the modules plot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

__all__ = ["History", "fit_classifier", "evaluate", "predict", "torch_threads"]


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run a block with ``count`` intra-op CPU threads (0 keeps the current setting).

    Tiny models on a shared 2-core machine run several times faster on one thread than on two.
    """
    previous = torch.get_num_threads()
    if count > 0:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@dataclass
class History:
    """Per-epoch curves of one training run."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Logits of ``model`` on ``images`` (eval mode, batched, on the model's device)."""
    model.eval()
    device = next(model.parameters()).device
    outs = [
        model(images[i : i + batch_size].to(device)).cpu()
        for i in range(0, len(images), batch_size)
    ]
    return torch.cat(outs) if outs else torch.empty(0)


def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """Return ``(mean cross-entropy, accuracy)`` of ``model`` on a labelled set."""
    logits = predict(model, images)
    loss = F.cross_entropy(logits, labels).item()
    accuracy = (logits.argmax(1) == labels).float().mean().item()
    return loss, accuracy


def fit_classifier(
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor] | None = None,
    *,
    epochs: int = 30,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    batch_size: int = 64,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    parameters: list[nn.Parameter] | None = None,
    device: torch.device | str = "cpu",
    writer=None,
    tag: str = "train",
    progress: bool = True,
    generator: torch.Generator | None = None,
) -> History:
    """Train ``model`` with Adam (decoupled from nothing: plain L2 ``weight_decay``) and cosine lr.

    Args:
        model: the classifier, returning logits.
        train: ``(images, labels)`` tensors on the CPU.
        val: optional held-out ``(images, labels)`` evaluated after every epoch.
        epochs: passes over ``train``.
        lr: initial Adam learning rate (cosine-annealed to 0).
        weight_decay: L2 penalty added by Adam to the gradients (0 turns it off).
        batch_size: minibatch size.
        augment: optional function applied to every training batch (on the device).
        parameters: the parameters to optimise (default: all that require gradients).
        device: where to train.
        writer: optional TensorBoard ``SummaryWriter``; curves go under ``tag/``.
        tag: TensorBoard prefix and progress-bar label.
        progress: show a tqdm bar over epochs.
        generator: random generator for the batch order (for reproducible runs).

    Returns:
        The :class:`History` of losses and accuracies.
    """
    model.to(device)
    params = (
        parameters if parameters is not None else [p for p in model.parameters() if p.requires_grad]
    )
    optimizer = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(1, epochs))
    images, labels = train
    history = History()
    bar = tqdm(range(epochs), desc=tag, disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        order = torch.randperm(len(images), generator=generator)
        total_loss, correct = 0.0, 0
        for start in range(0, len(images), batch_size):
            index = order[start : start + batch_size]
            batch, target = images[index].to(device), labels[index].to(device)
            if augment is not None:
                batch = augment(batch)
            logits = model(batch)
            loss = F.cross_entropy(logits, target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(index)
            correct += (logits.argmax(1) == target).sum().item()
        schedule.step()
        history.train_loss.append(total_loss / len(images))
        history.train_acc.append(correct / len(images))
        if val is not None:
            val_loss, val_acc = evaluate(model, *val)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
            bar.set_postfix(val_acc=f"{val_acc:.3f}")
        if writer is not None:
            writer.add_scalar(f"{tag}/train_loss", history.train_loss[-1], epoch)
            writer.add_scalar(f"{tag}/train_acc", history.train_acc[-1], epoch)
            if val is not None:
                writer.add_scalar(f"{tag}/val_loss", history.val_loss[-1], epoch)
                writer.add_scalar(f"{tag}/val_acc", history.val_acc[-1], epoch)
    return history
