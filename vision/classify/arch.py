"""Classic ImageNet architectures from torchvision: layer listing, parameter counts, forward time.

Models are built with ``weights=None`` (random initialisation) unless ``--weights imagenet`` is
asked for, in which case torchvision's pretrained file must already sit in the torch hub cache
(or be given as a path): this module never opens a network connection.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from visiongym.sims.errors import UsageError
from visiongym.vision.registry import Registry
from visiongym.vision.runs import DEVICE_DEFAULT

__all__ = [
    "ARCHITECTURES",
    "CLASSIFIERS",
    "DOCUMENTED_PARAMETERS",
    "WeightsUnavailableError",
    "ArchConfig",
    "build_architecture",
    "count_parameters",
    "imagenet_weights_file",
    "layer_table",
    "format_layer_table",
    "forward_seconds",
    "run_arch",
]

CLASSIFIERS: Registry[nn.Module] = Registry("architecture")
"""Architecture name -> torchvision builder (a lazy entry: torchvision is imported on the first build)."""

ARCHITECTURES: dict[str, int] = {}
"""Architecture name -> input side the network expects."""

DOCUMENTED_PARAMETERS: dict[str, int] = {}
"""Architecture name -> parameters torchvision documents (its weights tables) for the ImageNet build."""


def _register_torchvision(name: str, input_side: int, documented_parameters: int) -> None:
    CLASSIFIERS.register_lazy(name, f"torchvision.models:{name}")
    ARCHITECTURES[name] = input_side
    DOCUMENTED_PARAMETERS[name] = documented_parameters


_register_torchvision("vgg16", 224, 138_357_544)
_register_torchvision("vgg19", 224, 143_667_240)
_register_torchvision("resnet50", 224, 25_557_032)
_register_torchvision("mobilenet_v3_large", 224, 5_483_032)
_register_torchvision("inception_v3", 299, 27_161_264)

ArchitectureName = CLASSIFIERS.choices()
"""The ``--models`` choices: every registered architecture."""


class WeightsUnavailableError(UsageError, RuntimeError):
    """Pretrained weights were asked for but are not on this machine."""


def imagenet_weights_file(name: str) -> tuple[object, Path]:
    """Return torchvision's ImageNet weights enum for ``name`` and where the hub cache keeps it."""
    from torchvision import models

    CLASSIFIERS.check(name)
    weights = models.get_model_weights(name).IMAGENET1K_V1
    filename = weights.url.rsplit("/", 1)[-1]
    return weights, Path(torch.hub.get_dir()) / "checkpoints" / filename


def build_architecture(
    name: str, weights: str = "none", device: torch.device | str = "cpu"
) -> nn.Module:
    """Build a torchvision architecture.

    Args:
        name: a registered architecture (:data:`CLASSIFIERS`).
        weights: ``"none"`` (random init), ``"imagenet"`` (torchvision's file, which must be in
            the torch hub cache already) or a path to a ``state_dict`` file.
        device: where to put the model (``"meta"`` builds shapes only, instantly).

    Raises:
        WeightsUnavailableError: ``imagenet`` asked but the file is not cached (no download is
            attempted), or the given path does not exist.
    """
    import warnings

    builder = CLASSIFIERS.get(name)
    extra = {"init_weights": True} if name == "inception_v3" and weights == "none" else {}
    if weights == "none":
        with torch.device(device), warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return builder(weights=None, **extra)
    if weights == "imagenet":
        enum, path = imagenet_weights_file(name)
        if not path.is_file():
            raise WeightsUnavailableError(
                f"ImageNet weights for {name!r} are not on this machine (looked for {path}); this "
                f'suite never downloads. On a connected machine run\n  python -c "import torchvision; '
                f"torchvision.models.get_model('{name}', weights='IMAGENET1K_V1')\"\nand copy "
                f"{path.name} into {path.parent}, or pass --weights /path/to/{path.name}; "
                f"or use --weights none"
            )
        # The file is cached, so torchvision reads it from disk without touching the network.
        return builder(weights=enum).to(device)
    path = Path(weights).expanduser()
    if not path.is_file():
        raise WeightsUnavailableError(
            f"weights {weights!r} is not 'none', 'imagenet' or an existing file"
        )
    model = build_architecture(name, "none", device="cpu")
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state.get("state", state) if isinstance(state, dict) else state)
    return model.to(device)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (all, or only those with ``requires_grad``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


@dataclass
class LayerRow:
    """One leaf layer of a forward pass."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    parameters: int


def layer_table(model: nn.Module, input_shape: tuple[int, ...]) -> list[LayerRow]:
    """List every leaf module in the order a forward pass calls it, with its output shape.

    Runs on the ``meta`` device when the model lives there, so even VGG19 costs nothing.
    """
    device = next(model.parameters()).device
    rows: list[LayerRow] = []
    hooks = []
    names = {module: name for name, module in model.named_modules()}

    def hook(module: nn.Module, _inputs, output) -> None:
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else ()
        own = sum(p.numel() for p in module.parameters(recurse=False))
        rows.append(LayerRow(names[module], type(module).__name__, shape, own))

    for module in model.modules():
        if not list(module.children()):
            hooks.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(input_shape, device=device))
    finally:
        for handle in hooks:
            handle.remove()
        model.train(was_training)
    return rows


def format_layer_table(rows: list[LayerRow], title: str, total: int) -> str:
    """Keras-style summary text ("Layer (type) / Output Shape / Param #")."""
    lines = [title, f"{'Layer (type)':<52}{'Output Shape':<24}{'Param #':>12}", "=" * 88]
    for row in rows:
        shape = "(" + ", ".join(["None", *map(str, row.output_shape[1:])]) + ")"
        lines.append(f"{row.name + ' (' + row.kind + ')':<52}{shape:<24}{row.parameters:>12,}")
    lines += ["=" * 88, f"Total params: {total:,}"]
    return "\n".join(lines)


def forward_seconds(
    model: nn.Module, input_side: int, device: torch.device, repeats: int = 3
) -> float:
    """Median seconds of one forward pass on a single image (after one warm-up pass)."""
    model = model.to(device).eval()
    image = torch.rand(1, 3, input_side, input_side, device=device)
    timings = []
    with torch.inference_mode():
        for index in range(repeats + 1):
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            model(image)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            if index:
                timings.append(time.perf_counter() - start)
    return sorted(timings)[len(timings) // 2]


@dataclass
class ArchConfig:
    """List the layers, count the parameters and time a forward pass of classic architectures."""

    models: tuple[ArchitectureName, ...] = field(default_factory=CLASSIFIERS.names)
    """Architectures to show."""
    weights: str = "none"
    """'none' (random init), 'imagenet' (torchvision's file, must be cached) or a state_dict path."""
    layers: Literal["summary", "repr", "none"] = "summary"
    """How to print the layers: a Keras-style table, PyTorch's print(model) (as the course's lab), or nothing."""
    repeats: int = 3
    """Timed forward passes per model and device (median reported); 0 skips timing."""
    device: str = DEVICE_DEFAULT
    """Also time on this device when it is not the CPU: auto (cuda > mps > cpu), cpu, cuda, cuda:N or mps."""
    out: Path = Path("runs/classify/arch")
    """Output folder (layer listings and the summary table)."""


def run_arch(config: ArchConfig) -> list[dict]:
    """Print layer listings, parameter counts and forward times; save them under ``config.out``."""
    from visiongym.vision.runtime import pick_device

    accelerator = pick_device(config.device)
    config.out.mkdir(parents=True, exist_ok=True)
    results = []
    for name in config.models:
        side = ARCHITECTURES[name]
        meta_model = build_architecture(name, "none", device="meta")
        total = count_parameters(meta_model)
        if config.layers != "none":
            if config.layers == "repr":
                listing = f"{name}\n{meta_model}\nTotal params: {total:,}"
            else:
                listing = format_layer_table(
                    layer_table(meta_model, (1, 3, side, side)), name, total
                )
            (config.out / f"{name}_layers.txt").write_text(listing + "\n")
            print(listing + "\n")
        row = {
            "model": name,
            "parameters": total,
            "documented": DOCUMENTED_PARAMETERS[name],
            "input": side,
            "weights": config.weights,
        }
        if config.repeats > 0:
            model = build_architecture(name, config.weights)
            row["cpu_ms"] = 1000 * forward_seconds(model, side, torch.device("cpu"), config.repeats)
            if accelerator.type != "cpu":
                row[f"{accelerator.type}_ms"] = 1000 * forward_seconds(
                    model, side, accelerator, config.repeats
                )
            del model
        results.append(row)
    return results


def print_arch(results: list[dict]) -> str:
    """Print and return the summary table (markdown)."""
    devices = sorted({k for row in results for k in row if k.endswith("_ms")})
    header = (
        "| model | parameters | documented | input | "
        + " | ".join(f"forward {d[:-3]} ms/image" for d in devices)
        + " |"
    )
    lines = [header, "|" + " --- |" * (4 + len(devices))]
    for row in results:
        times = " | ".join(f"{row[d]:.1f}" if d in row else "" for d in devices)
        lines.append(
            f"| {row['model']} | {row['parameters']:,} | {row['documented']:,} | "
            f"{row['input']} | {times} |"
        )
    text = "\n".join(lines)
    print(text)
    return text
