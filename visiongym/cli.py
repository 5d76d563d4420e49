"""The ``visiongym`` command: one entry point for every program of the suite.

``visiongym <command> [options]`` runs the same program as ``python -m <module> [options]``;
``visiongym <command> --help`` shows its options and ``visiongym --help`` lists the commands.
A command module is imported only when it runs, so ``--help`` answers at once, and an error
raised while importing it (no renderer, say) gets the same one-line ``error:`` as any bad input.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

__all__ = ["COMMANDS", "main"]

#: command -> (module whose ``main(argv)`` runs it, one line of help). Group commands
#: (``detect train``) are written with a space.
COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("visiongym.agents.train",
              "train an agent (our dqn/drqn, or ppo, sac, sb3-dqn, ...; ppo --engine rllib on Ray) on any Gymnasium env"),
    "evaluate": ("visiongym.agents.evaluate",
                 "evaluate a run or checkpoint: returns, goal rate and lengths with 95% intervals"),
    "league": ("visiongym.agents.selfplay.league",
               "rate a self-play run's learner, snapshots and scripted levels: OpenSkill, cross-play, W/D/L"),
    "play": ("visiongym.envs.play",
             "play or watch an env in a pygame window (keyboard, random, scripted, a run), or record it"),
    "demo": ("visiongym.agents.demo",
             "train DQN on soccer empty_goal from pixels, evaluate it and film it (make demo)"),
    "record-match": ("visiongym.envs.demo", "record a scripted tabletop-soccer match to a video"),
    "render-data": ("visiongym.vision.data.render_soccer",
                    "render a soccer dataset with exact boxes, masks, depth and identities"),
    "clips": ("visiongym.sims.characters.clips", "write the characters' procedural gait clips (.npz)"),
    "detect train": ("visiongym.vision.detect.train",
                     "train a detector (YOLO-style grid or Faster R-CNN) on a rendered dataset"),
    "detect evaluate": ("visiongym.vision.detect.evaluate",
                        "compare detector checkpoints: mAP, per-class AP, frames per second"),
    "detect predict": ("visiongym.vision.detect.predict", "draw a detector's boxes on an image"),
    "segment train": ("visiongym.vision.segment.train",
                      "train a segmenter (U-Net or FCN class masks, Mask R-CNN instances) on a rendered dataset"),
    "segment evaluate": ("visiongym.vision.segment.evaluate",
                         "compare segmenter checkpoints: mIoU, per-class IoU, player mask IoU, a picture grid"),
    "autoencoder train": ("visiongym.vision.autoencoders.train",
                          "train an autoencoder (restoring, conv, denoising or sparse) on rendered frames"),
    "autoencoder evaluate": ("visiongym.vision.autoencoders.evaluate",
                             "score an autoencoder: PSNR, SSIM, denoising, a reconstruction grid"),
    "robustness": ("visiongym.vision.robustness.__main__",
                   "score a detector, autoencoder, frame classifier or segmenter on corrupted and shifted frames: drops, mCE"),
    "gan train": ("visiongym.vision.gan.train", "train a GAN (DCGAN or SNGAN, with an EMA generator) on rendered frames"),
    "gan sample": ("visiongym.vision.gan.generate", "draw frames from a trained GAN: PNGs, an .npz and a grid"),
    "gan score": ("visiongym.vision.gan.score",
                  "score generated frames: FID, KID, precision/recall, detector objects per frame, real-vs-real floor"),
    "gan mix": ("visiongym.vision.gan.mix", "write a dataset of GAN frames pseudo-labelled by a detector"),
    "superres train": ("visiongym.vision.superres.train", "train 4x super-resolution (SRResNet or SRGAN) on rendered frames"),
    "superres evaluate": ("visiongym.vision.superres.evaluate",
                          "score bicubic, SRResNet and SRGAN: PSNR, SSIM and the detector's AP on upscaled frames"),
    "layout train": ("visiongym.vision.layout2img.train",
                     "train a pix2pix layout-to-frame generator on a rendered dataset's exact masks"),
    "layout generate": ("visiongym.vision.layout2img.generate",
                        "generate a labelled dataset from new simulator layouts (boxes and masks exact)"),
    "dissect": ("visiongym.vision.dissect.dissection",
                "GAN Dissection of the layout generator: interpretable units per layer, ablation, insertion"),
    "translate train": ("visiongym.vision.translate.train",
                        "train CycleGAN (two looks) or StarGAN (look attributes) on re-rendered frames"),
    "translate evaluate": ("visiongym.vision.translate.evaluate",
                           "score a translator against the true frames: PSNR/SSIM, detector mAP, attribute accuracy"),
    "translate augment": ("visiongym.vision.translate.augment",
                          "write a dataset of StarGAN-translated training frames for detector augmentation"),
    "calibrate": ("visiongym.vision.calibrate.__main__",
                  "estimate the broadcast camera from the pitch lines (no clicks); errors against the exact camera"),
    "tabletop": ("visiongym.vision.tabletop.__main__",
                 "Soccer on Your Tabletop: a broadcast clip to tracked 3-D players on a table (PLY, AR video, scores)"),
    "tabletop view": ("visiongym.vision.tabletop.viewer",
                      "orbit a 3-D tabletop reconstruction in a window (or a screenshot, an orbit video)"),
    "depth train": ("visiongym.vision.depth.train",
                    "train the per-player depth hourglass (classification bins or regression) on player crops"),
    "depth evaluate": ("visiongym.vision.depth.evaluate",
                       "score depth checkpoints and billboard/plane/cylinder baselines: st-RMSE, mask IoU, by occlusion"),
    "depth frames": ("visiongym.vision.depth.frames",
                     "train and score a whole-frame monocular depth U-Net: AbsRel, RMSE, per-player st-RMSE"),
    "filters": ("visiongym.vision.filters.__main__", "course: filters as convolutions (edges, blur, sharpen)"),
    "classify": ("visiongym.vision.classify.__main__",
                 "course: digits (LeNet against an SVM) and the architecture tour (VGG, ResNet, ...)"),
    "classify frames": ("visiongym.vision.classify.frames",
                        "train an encoder + linear heads on frame labels (ball third, players) of a rendered dataset"),
    "transfer": ("visiongym.vision.transfer.__main__", "course: transfer learning, frozen against fine-tuned"),
    "augment": ("visiongym.vision.augment.__main__", "course: augmentation, shown and ablated"),
    "style": ("visiongym.vision.style.__main__", "course: Gram-matrix style transfer (Gatys)"),
    "metric": ("visiongym.vision.metric.__main__", "course: FaceNet-style triplet loss, player re-identification"),
    "sequence": ("visiongym.vision.sequence.__main__", "course: LSTM sequences (arithmetic, ball tracking)"),
}


def _usage() -> str:
    width = max(map(len, COMMANDS)) + 2
    lines = ["usage: visiongym <command> [options]   (visiongym <command> --help for its options)",
             "", "commands:"]
    lines += [f"  {name:<{width}}{text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(lines)


def _resolve(args: Sequence[str]) -> tuple[str, list[str]]:
    """The command that ``args`` names and the arguments left for it."""
    if len(args) >= 2 and f"{args[0]} {args[1]}" in COMMANDS:
        return f"{args[0]} {args[1]}", list(args[2:])
    if args and args[0] in COMMANDS:
        return args[0], list(args[1:])
    from visiongym.sims.errors import UsageError

    group = [name for name in COMMANDS if name.split(" ")[0] == (args[0] if args else "")]
    if group:
        raise UsageError(f"'visiongym {args[0]}' needs one of: "
                         f"{', '.join(name.split(' ', 1)[1] for name in group)}")
    raise UsageError(f"command {args[0]!r} unknown; choose one of: {', '.join(COMMANDS)}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``visiongym <command> ...``; returns the exit status (bad input: 2, with one error line)."""
    from visiongym.envs.cli import run_command

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if args[0] == "--version":
        from visiongym import __version__

        print(f"visiongym {__version__}")
        return 0

    def run():
        name, rest = _resolve(args)
        module = importlib.import_module(COMMANDS[name][0])
        # tyro and argparse name the program after argv[0]: make --help say "visiongym train".
        sys.argv[0] = f"visiongym {name}"
        return module.main(rest)

    status = run_command(run)
    # Course modules return their exit status; trainers return what they made (a path, a score).
    return status if isinstance(status, int) and not isinstance(status, bool) else 0
