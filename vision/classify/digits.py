"""LeNet-style digit recognition on scikit-learn's 8x8 digits, beside an SVM trained in the same run.

The CNN is the course's "CNN à 2 niveaux de convolution": two 3x3 convolutions (32 and 64
channels), max-pooling, a 128-unit dense layer and a 10-way output, with dropout, L2 weight
decay and +/-1 pixel random shifts as separate switches. The baseline is an RBF SVM whose ``C``
and ``gamma`` are chosen by 3-fold cross-validation on the same training split.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from visiongym.sims.errors import UsageError
from visiongym.vision.classify.training import History, evaluate, fit_classifier, torch_threads
from visiongym.vision.runs import RunOptions
from visiongym.vision.runtime import pick_device, save_checkpoint, seed_everything

__all__ = [
    "DigitsConfig",
    "DigitsData",
    "LeNet",
    "lenet",
    "load_digit_splits",
    "random_shift",
    "train_lenet",
    "svm_baseline",
    "run_digits",
    "print_digits",
]

CHECKPOINT_KIND = "lenet_digits"


class LeNet(nn.Module):
    """Two convolutions, max-pool, dense 128, dense ``num_classes`` (inputs ``(N, 1, H, W)`` in [0, 1]).

    Args:
        num_classes: output logits.
        in_channels: image channels.
        image_size: input side, used for a dummy forward pass that sizes the dense layer.
        dropout: turn the two dropout layers (0.25 after pooling, 0.5 before the output) on.
    """

    def __init__(
        self, num_classes: int = 10, in_channels: int = 1, image_size: int = 8, dropout: bool = True
    ) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Dropout(0.25 if dropout else 0.0),
            nn.Flatten(),
        )
        with torch.no_grad():
            flat = self.features(torch.zeros(1, in_channels, image_size, image_size)).shape[1]
        self.classifier = nn.Sequential(
            nn.Linear(flat, 128),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5 if dropout else 0.0),
            nn.Linear(128, num_classes),
        )

    @property
    def first_conv(self) -> nn.Conv2d:
        """The first convolution (its kernels are what the filters module visualises)."""
        return self.features[0]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(images))


def lenet(*, num_classes: int = 10, dropout: bool = True, image_size: int = 8) -> LeNet:
    """Build the digits LeNet."""
    return LeNet(num_classes=num_classes, image_size=image_size, dropout=dropout)


@dataclass
class DigitsData:
    """Stratified splits of scikit-learn's digits; images are float in [0, 1], ``(N, 1, 8, 8)``."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor


def load_digit_splits(
    seed: int = 0, test_fraction: float = 0.25, val_fraction: float = 0.15
) -> DigitsData:
    """Split the 1,797 digits into train / validation / test, stratified by class."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    for name, value in (("test_fraction", test_fraction), ("val_fraction", val_fraction)):
        if not 0.0 < value < 1.0:
            raise UsageError(f"{name}={value} must lie strictly between 0 and 1")
    images, labels = load_digits(return_X_y=True)
    images = (images / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    rest_x, test_x, rest_y, test_y = train_test_split(
        images, labels, test_size=test_fraction, stratify=labels, random_state=seed
    )
    train_x, val_x, train_y, val_y = train_test_split(
        rest_x, rest_y, test_size=val_fraction, stratify=rest_y, random_state=seed
    )

    def pair(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.from_numpy(x), torch.from_numpy(y).long()

    return DigitsData(*pair(train_x, train_y), *pair(val_x, val_y), *pair(test_x, test_y))


def random_shift(images: torch.Tensor, pixels: int = 1) -> torch.Tensor:
    """Shift a batch by one random offset in ``[-pixels, pixels]`` on each axis (zero fill)."""
    size_h, size_w = images.shape[-2:]
    padded = F.pad(images, (pixels, pixels, pixels, pixels))
    dy, dx = torch.randint(0, 2 * pixels + 1, (2,)).tolist()
    return padded[..., dy : dy + size_h, dx : dx + size_w]


def train_lenet(
    data: DigitsData,
    *,
    epochs: int = 30,
    lr: float = 2e-3,
    batch_size: int = 64,
    dropout: bool = True,
    weight_decay: float = 1e-4,
    shift: bool = True,
    device: torch.device | str = "cpu",
    writer=None,
    tag: str = "lenet",
    progress: bool = True,
) -> tuple[LeNet, History]:
    """Train a :class:`LeNet` on ``data.train`` with validation curves on ``data.val``."""
    model = lenet(dropout=dropout)
    history = fit_classifier(
        model,
        (data.train_x, data.train_y),
        (data.val_x, data.val_y),
        epochs=epochs,
        lr=lr,
        weight_decay=weight_decay,
        batch_size=batch_size,
        augment=random_shift if shift else None,
        device=device,
        writer=writer,
        tag=tag,
        progress=progress,
    )
    return model, history


def svm_baseline(data: DigitsData, seed: int = 0) -> tuple[float, dict]:
    """RBF SVM with ``C``/``gamma`` chosen by 3-fold CV on train; return (test accuracy, params)."""
    from sklearn.model_selection import GridSearchCV
    from sklearn.svm import SVC

    flat = lambda x: x.reshape(len(x), -1).numpy()  # noqa: E731
    grid = {"C": [1.0, 10.0, 100.0], "gamma": ["scale", 1e-3 * 256, 5e-4 * 256]}
    search = GridSearchCV(SVC(random_state=seed), grid, cv=3)
    search.fit(flat(data.train_x), data.train_y.numpy())
    accuracy = float(search.score(flat(data.test_x), data.test_y.numpy()))
    return accuracy, search.best_params_


@dataclass
class DigitsConfig(RunOptions):
    """Train the LeNet CNN and an SVM on scikit-learn digits; plot the curves."""

    epochs: int = 30
    """Training epochs of each CNN."""
    lr: float = 2e-3
    """Adam learning rate (cosine-annealed)."""
    batch_size: int = 64
    """Minibatch size."""
    dropout: bool = True
    """Dropout in the CNN (0.25 after pooling, 0.5 before the output)."""
    weight_decay: float = 1e-4
    """L2 weight decay (0 turns it off)."""
    shift: bool = True
    """Random +/-1 pixel shifts of training batches."""
    compare_unregularised: bool = True
    """Also train a CNN with dropout, weight decay and shifts off, to show overfitting."""
    seed: int = 0
    """Seed of the split, the initialisation and the batch order."""
    out: Path = Path("runs/classify/digits")
    """Output folder (curves PNG, results JSON, checkpoint, TensorBoard logs)."""


def _plot_curves(histories: dict[str, History], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (loss_axis, acc_axis) = plt.subplots(1, 2, figsize=(11, 4))
    for (name, history), colour in zip(histories.items(), ("tab:blue", "tab:red"), strict=False):
        epochs = np.arange(1, len(history.train_loss) + 1)
        loss_axis.plot(epochs, history.train_loss, color=colour, ls="--", label=f"{name} train")
        loss_axis.plot(epochs, history.val_loss, color=colour, label=f"{name} validation")
        acc_axis.plot(epochs, history.train_acc, color=colour, ls="--", label=f"{name} train")
        acc_axis.plot(epochs, history.val_acc, color=colour, label=f"{name} validation")
    loss_axis.set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title="loss")
    acc_axis.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0.8, 1.001))
    for axis in (loss_axis, acc_axis):
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle("LeNet on scikit-learn digits")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def run_digits(config: DigitsConfig) -> dict:
    """Run the digits experiment; save curves, checkpoint and results; return the results."""
    with torch_threads(config.threads):
        return _run_digits(config)


def _run_digits(config: DigitsConfig) -> dict:
    from torch.utils.tensorboard import SummaryWriter

    seed_everything(config.seed)
    device = pick_device(config.device)
    config.out.mkdir(parents=True, exist_ok=True)
    data = load_digit_splits(config.seed)
    writer = SummaryWriter(str(config.out / "tensorboard"))
    results: dict = {
        "device": str(device),
        "config": {k: str(v) for k, v in asdict(config).items()},
    }

    start = time.perf_counter()
    svm_accuracy, svm_params = svm_baseline(data, config.seed)
    results["svm"] = {
        "test_accuracy": svm_accuracy,
        "params": svm_params,
        "seconds": time.perf_counter() - start,
    }

    runs = {"regularised": (config.dropout, config.weight_decay, config.shift)}
    if config.compare_unregularised:
        runs["unregularised"] = (False, 0.0, False)
    histories: dict[str, History] = {}
    for name, (dropout, weight_decay, shift) in runs.items():
        seed_everything(config.seed)
        start = time.perf_counter()
        model, history = train_lenet(
            data,
            epochs=config.epochs,
            lr=config.lr,
            batch_size=config.batch_size,
            dropout=dropout,
            weight_decay=weight_decay,
            shift=shift,
            device=device,
            writer=writer,
            tag=name,
            progress=config.progress,
        )
        model.cpu()
        _, test_accuracy = evaluate(model, data.test_x, data.test_y)
        histories[name] = history
        results[f"cnn_{name}"] = {
            "test_accuracy": test_accuracy,
            "final_train_loss": history.train_loss[-1],
            "final_val_loss": history.val_loss[-1],
            "min_val_loss": min(history.val_loss),
            "dropout": dropout,
            "weight_decay": weight_decay,
            "shift": shift,
            "seconds": time.perf_counter() - start,
        }
        if name == "regularised":
            save_checkpoint(
                config.out / "lenet.pt",
                CHECKPOINT_KIND,
                model.state_dict(),
                dropout=dropout,
                test_accuracy=test_accuracy,
            )
    writer.close()
    _plot_curves(histories, config.out / "curves.png")
    results["figure"] = str(config.out / "curves.png")
    (config.out / "results.json").write_text(json.dumps(results, indent=2))
    return results


def print_digits(results: dict) -> None:
    """Print the results table of :func:`run_digits` (markdown)."""
    print(f"scikit-learn digits, test accuracy on the held-out split (device {results['device']})")
    print("| model | test accuracy | final train loss | final val loss | seconds |")
    print("| --- | --- | --- | --- | --- |")
    svm = results["svm"]
    print(
        f"| SVM, RBF kernel, {svm['params']} by 3-fold CV | {svm['test_accuracy']:.4f} | | | {svm['seconds']:.1f} |"
    )
    for key in ("cnn_regularised", "cnn_unregularised"):
        if key in results:
            row = results[key]
            print(
                f"| LeNet CNN, dropout={row['dropout']}, weight_decay={row['weight_decay']}, shift={row['shift']} | "
                f"{row['test_accuracy']:.4f} | {row['final_train_loss']:.4f} | {row['final_val_loss']:.4f} | "
                f"{row['seconds']:.1f} |"
            )
    print(f"curves: {results['figure']}")
