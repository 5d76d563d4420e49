"""Score a translation model against the true frames: ``visiongym translate evaluate``.

Examples::

    visiongym translate evaluate --checkpoint runs/cyclegan/translator.pt --detector runs/det/detector.pt
    visiongym translate evaluate --checkpoint runs/stargan/translator.pt

The test states are rendered in every look the scores need, so each translated frame is compared
with the frame the simulator renders for that state in the target look.

CycleGAN, in both directions: PSNR and SSIM of the translation against the true target-look
frame, next to the untranslated input's (what doing nothing scores). With ``--detector`` (a
detector trained on look a), the FCN-score protocol of CycleGAN's Cityscapes experiment: the
detector's mAP on frames translated b -> a against its mAP on the true look-a frames, and on the
untranslated look-b frames; ``recovered`` is the share of the mAP drop (look a minus look b) that
translating back wins back (the goal: at least 0.5).

StarGAN: every test state rendered under a random source label and translated to a random target
label (another one: a target equal to the source gets one attribute moved). PSNR/SSIM against the state's true frame under the target label; attribute accuracy of
the translations by a classifier trained on real frames only
(:mod:`~visiongym.vision.translate.attributes`; saved beside the checkpoint and reused), with its
accuracy on the true target frames (the ceiling) and on the untranslated inputs (the floor).

Writes ``evaluation.json`` and an example grid ``evaluation.png`` beside the checkpoint (or to ``--out``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from visiongym.envs.cli import run_command
from visiongym.sims.errors import UsageError
from visiongym.vision.metrics import print_table, psnr, ssim
from visiongym.vision.runs import RunOptions, read_run_config, set_threads
from visiongym.vision.runtime import CheckpointError, pick_device, seed_everything
from visiongym.vision.translate.frames import RenderedFrames, read_states, render_frames
from visiongym.vision.translate.looks import describe_label, draw_attribute_values
from visiongym.vision.translate.train import load_translator

__all__ = ["TranslateEvaluateConfig", "evaluate_translator", "evaluate_cyclegan", "evaluate_stargan",
           "detector_scores", "reconstruction_scores"]


@dataclass(kw_only=True)  # --checkpoint is required, after RunOptions' defaulted fields
class TranslateEvaluateConfig(RunOptions):
    """Score a CycleGAN or StarGAN checkpoint on re-rendered test states."""

    checkpoint: Path
    """translator.pt written by visiongym translate train."""
    data: Path | None = None
    """Dataset whose states are scored (default: the one the run was trained on, from its config.yaml)."""
    split: str = "test"
    """Split whose states are scored."""
    limit: int | None = 120
    """Score only the first states of the split."""
    detector: Path | None = None
    """CycleGAN: a detector checkpoint trained on look a, for the FCN-score and the share of its mAP drop recovered."""
    classifier_epochs: int = 15
    """StarGAN: epochs of the attribute classifier that judges the translations (trained once, then reused)."""
    classifier_states: int | None = 720
    """StarGAN: training states (of the train split) the judge learns from, each under a random label."""
    seed: int = 0
    """Seed of the labels drawn for StarGAN's test frames and of its judge."""
    out: Path | None = None
    """Folder for evaluation.json and evaluation.png (default: the checkpoint's folder)."""
    weights: Literal["ema", "raw"] = "ema"
    """StarGAN: the averaged generator of a run trained with --ema-decay (the last step's weights otherwise), or raw: the last step's."""


def reconstruction_scores(prediction: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """PSNR (dB) and SSIM of uint8 frames against uint8 frames."""
    prediction, target = prediction.float() / 255, target.float() / 255
    return {"psnr": psnr(prediction, target), "ssim": ssim(prediction, target)}


def detector_scores(scorer: Any, images: torch.Tensor, frames: RenderedFrames) -> dict[str, float]:
    """mAP@0.5 and mAP of a :class:`~visiongym.vision.robustness.scorers.DetectorScorer` on ``images``
    (uint8 (N, 3, S, S)), against the labels of ``frames`` (the same states, the same pixels)."""
    from visiongym.vision.robustness.shifts import EvalFrames

    hwc = [image.permute(1, 2, 0).numpy() for image in images]
    return scorer.score(EvalFrames(hwc, frames.targets, frames.records))


def evaluate_cyclegan(translator: Any, info: dict[str, Any], records: list[dict[str, Any]],
                      detector: Path | None = None, device: str = "cpu", progress: bool = False) -> dict[str, Any]:
    """Scores of a CycleGAN on ``records``' states (see the module docstring) and the grid rows."""
    size = translator.meta["image_size"]
    frames_a = render_frames(info, records, translator.look_a, size, progress=progress, desc="look a")
    frames_b = render_frames(info, records, translator.look_b, size, progress=progress, desc="look b")
    a, b = frames_a.images, frames_b.images
    a_to_b, b_to_a = translator.translate(a, "a_to_b"), translator.translate(b, "b_to_a")
    rows = {
        "b -> a": {**reconstruction_scores(b_to_a, a), **_prefixed("untranslated_", reconstruction_scores(b, a))},
        "a -> b": {**reconstruction_scores(a_to_b, b), **_prefixed("untranslated_", reconstruction_scores(a, b))},
    }
    result: dict[str, Any] = {"translation": rows}
    if detector is not None:
        from visiongym.vision.robustness.scorers import DetectorScorer

        scorer = DetectorScorer(detector, device)
        detection = {
            "true look a": detector_scores(scorer, a, frames_a),
            "look b": detector_scores(scorer, b, frames_b),
            "b -> a (translated)": detector_scores(scorer, b_to_a, frames_b),
        }
        result["detection"] = detection
        result["recovery"] = {metric: _recovered(detection, metric) for metric in ("map_50", "map")}
    result["grid"] = [b, b_to_a, a, a, a_to_b, b]
    return result


def _prefixed(prefix: str, scores: dict[str, float]) -> dict[str, float]:
    return {prefix + key: value for key, value in scores.items()}


def _recovered(detection: dict[str, dict[str, float]], metric: str) -> dict[str, float]:
    clean, shifted = detection["true look a"][metric], detection["look b"][metric]
    translated = detection["b -> a (translated)"][metric]
    drop = clean - shifted
    return {"drop": drop, "won_back": translated - shifted,
            "recovered": (translated - shifted) / drop if abs(drop) > 1e-9 else float("nan"),
            "fcn_ratio": translated / clean if clean > 0 else float("nan")}


def evaluate_stargan(translator: Any, info: dict[str, Any], records: list[dict[str, Any]],
                     train_records: list[dict[str, Any]], judge_path: Path, classifier_epochs: int = 15,
                     seed: int = 0, device: str = "cpu", progress: bool = False) -> dict[str, Any]:
    """Scores of a StarGAN on ``records``' states (see the module docstring) and the grid rows."""
    from visiongym.vision.translate.attributes import attribute_accuracy, predict_attributes
    from visiongym.vision.translate.stargan import render_labelled

    names, sizes, size = translator.attributes, translator.sizes, translator.meta["image_size"]
    rng = np.random.default_rng(np.random.SeedSequence([seed, 21]))
    source = draw_attribute_values(names, len(records), rng)
    target = draw_attribute_values(names, len(records), rng)
    for index in np.flatnonzero((source == target).all(axis=1)):  # every test frame asks for a change
        k = int(rng.integers(len(sizes)))
        target[index, k] = (source[index, k] + 1 + int(rng.integers(sizes[k] - 1))) % sizes[k]
    inputs = render_labelled(info, records, names, source, size, progress=progress, desc="source labels").images
    truth = render_labelled(info, records, names, target, size, progress=progress, desc="target labels").images
    translated = translator.translate(inputs, torch.from_numpy(target))
    judge = _judge(judge_path, info, train_records, names, sizes, size, classifier_epochs, seed, device, progress)
    labels = torch.from_numpy(target)
    changed = torch.from_numpy(source != target)
    rows = {
        "translated": {**reconstruction_scores(translated, truth),
                       **attribute_accuracy(predict_attributes(judge, translated, sizes), labels, names, changed)},
        "untranslated input": {**reconstruction_scores(inputs, truth),
                               **attribute_accuracy(predict_attributes(judge, inputs, sizes), labels, names, changed)},
        "true target frame": attribute_accuracy(predict_attributes(judge, truth, sizes), labels, names, changed),
    }
    examples = [describe_label(names, target[i]) for i in range(min(8, len(records)))]
    return {"translation": rows, "grid": [inputs, translated, truth], "grid_targets": examples}


def _judge(path: Path, info: dict[str, Any], records: list[dict[str, Any]], names: tuple[str, ...],
           sizes: tuple[int, ...], size: int, epochs: int, seed: int, device: str, progress: bool):
    """The attribute classifier at ``path`` when it matches; else train it on real frames and save it."""
    from visiongym.vision.translate.attributes import (
        load_attribute_classifier,
        save_attribute_classifier,
        train_attribute_classifier,
    )
    from visiongym.vision.translate.stargan import render_labelled

    meta = {"attributes": list(names), "image_size": size, "epochs": epochs, "seed": seed, "states": len(records)}
    if path.is_file():
        try:
            return load_attribute_classifier(path, sizes, device, **meta)
        except CheckpointError:
            pass  # another setting: train it again below
    rng = np.random.default_rng(np.random.SeedSequence([seed, 31]))
    labels = draw_attribute_values(names, len(records), rng)
    frames = render_labelled(info, records, names, labels, size, progress=progress, desc="judge frames").images
    model = train_attribute_classifier(frames, torch.from_numpy(labels), sizes, epochs, seed=seed, device=device,
                                       progress=progress)
    save_attribute_classifier(path, model, **meta)
    return model


def evaluate_translator(config: TranslateEvaluateConfig) -> dict[str, Any]:
    """Score ``config.checkpoint``, print the tables, write evaluation.json and the grid; return the scores."""
    set_threads(config.threads)
    seed_everything(config.seed)
    device = pick_device(config.device)
    translator, meta = load_translator(config.checkpoint, device, weights=config.weights)
    data = config.data
    if data is None:
        run_config = read_run_config(config.checkpoint.parent) or {}
        if "data" not in run_config:
            raise UsageError(f"no --data given and {config.checkpoint.parent} has no run config naming one")
        data = Path(run_config["data"])
    info, records = read_states(data, config.split, config.limit)
    out = config.out or config.checkpoint.parent
    if translator.kind == "cyclegan":
        result = evaluate_cyclegan(translator, info, records, config.detector, str(device), config.progress)
    else:
        if config.detector is not None:
            raise UsageError("--detector scores CycleGAN's translation back to the detector's look; "
                             "StarGAN's detector use is visiongym translate augment")
        _, train_records = read_states(data, "train", config.classifier_states)
        result = evaluate_stargan(translator, info, records, train_records, out / "attribute_classifier.pt",
                                  config.classifier_epochs, config.seed, str(device), config.progress)
    from visiongym.vision.autoencoders.evaluate import save_grid

    grid = save_grid(out / "evaluation.png", [row.float() / 255 for row in result.pop("grid")])
    title = f"{translator.kind} {_describe(meta)} on {len(records)} {config.split} states of {data}"
    print_table(f"{title}: translations against the true frames", result["translation"])
    if "detection" in result:
        print_table(f"detector {config.detector} (trained on look a), FCN-score protocol", result["detection"])
        for metric, entry in result["recovery"].items():
            print(f"{metric}: drop {entry['drop']:+.3f} (look a -> look b), won back {entry['won_back']:+.3f} by "
                  f"translating b -> a: {entry['recovered']:.0%} of the drop recovered (goal: at least 50%)")
    result.update(checkpoint=str(config.checkpoint), data=str(data), split=config.split, states=len(records),
                  meta=meta, grid=str(grid))
    (out / "evaluation.json").write_text(json.dumps(result, indent=1))
    print(f"wrote {out / 'evaluation.json'} and {grid}")
    return result


def _describe(meta: dict[str, Any]) -> str:
    if "look_a" in meta:
        return f"{meta['look_a']} <-> {meta['look_b']}, step {meta.get('step')}"
    return f"({', '.join(meta['attributes'])}), step {meta.get('step')}"


def main(argv: list[str] | None = None) -> None:
    import tyro

    evaluate_translator(tyro.cli(TranslateEvaluateConfig, args=argv))


if __name__ == "__main__":
    run_command(main)
