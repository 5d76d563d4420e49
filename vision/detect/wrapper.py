"""Detector as observation: pixels turned into an object list, for one env or a batch of envs.

Example::

    import gymnasium as gym, envs
    from visiongym.vision.detect.wrapper import DetectedObjects, DetectedObjectsVector

    env = gym.make("visiongym/TabletopSoccer-1v1-v0", obs_mode="pixels", camera="broadcast", image_size=128)
    env = DetectedObjects(env, "runs/grid/detector.pt", players_per_team=1)

    envs = gym.make_vec("visiongym/TabletopSoccer-1v1-v0", num_envs=4, obs_mode="pixels", image_size=128)
    envs = DetectedObjectsVector(envs, "runs/grid/detector.pt", players_per_team=1)  # one pass for all 4

The observation becomes a flat float32 vector of fixed layout, slots in this order: 1 ball,
``players_per_team`` team-A players, ``players_per_team`` team-B players, 2 goals. Each slot holds
``(present, x, y, w, h, score)`` with the box centre and size as fractions of the image. Within a
class, slots are filled by decreasing detector confidence; empty slots are zeros.

:class:`ObjectSlots` does the work on a batch of frames (one detector forward pass); the env
wrapper :class:`DetectedObjects` calls it with a batch of one, the vector-env wrapper
:class:`DetectedObjectsVector` with every env's frame of a step at once, so a vector step costs one
detector pass instead of ``num_envs``. Both give the same vectors. This lives in ``vision/``
because ``envs/`` may not import vision code.

For the grid detectors the slots come straight from the raw cell map, batched over every frame
and class: the first ``count`` picks of greedy class-wise NMS are the ``count`` rounds of "take the
best cell left, drop the cells overlapping it", the same detections (and order) as
:meth:`~visiongym.vision.detect.engine.Detector.predict` followed by the per-frame slot filling,
without a Python loop over frames. The network runs with its batch norms folded into the
convolutions (:func:`torch.nn.utils.fusion.fuse_conv_bn_eval`), on a copy: the detector passed in
is left as it is.
"""

from __future__ import annotations

import copy
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from torchvision.transforms.v2 import functional as TF

from visiongym.sims.errors import UsageError
from visiongym.vision.detect.engine import FASTER_RCNN, Detector, load_detector

__all__ = [
    "DetectedObjects",
    "DetectedObjectsVector",
    "ObjectSlots",
    "SLOT_FIELDS",
    "fold_batch_norms",
    "pixel_space",
]

SLOT_FIELDS = ("present", "x", "y", "w", "h", "score")
IOU_THRESHOLD = 0.5
"""Class-wise NMS overlap, as :meth:`GridDetector.predict`'s default."""


def _batched_iou(boxes: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
    """IoU of xyxy ``boxes`` N x A x 4 against ``others`` N x B x 4, per frame: N x A x B."""
    x0, y0, x1, y1 = (v[:, :, None] for v in boxes.unbind(-1))
    u0, v0, u1, v1 = (v[:, None, :] for v in others.unbind(-1))
    inter = (torch.minimum(x1, u1) - torch.maximum(x0, u0)).clamp(min=0) * (
        torch.minimum(y1, v1) - torch.maximum(y0, v0)
    ).clamp(min=0)
    union = (x1 - x0) * (y1 - y0) + (u1 - u0) * (v1 - v0) - inter
    return inter / union.clamp(min=1e-12)


def fold_batch_norms(module: nn.Module) -> nn.Module:
    """An eval-mode copy of ``module`` with each ``Conv2d`` -> ``BatchNorm2d`` pair of a
    ``Sequential`` folded into one convolution (same outputs up to rounding, fewer ops)."""
    module = copy.deepcopy(module).eval()
    for sequential in [m for m in module.modules() if isinstance(m, nn.Sequential)]:
        for index in range(len(sequential) - 1):
            conv, norm = sequential[index], sequential[index + 1]
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                sequential[index] = fuse_conv_bn_eval(conv, norm)
                sequential[index + 1] = nn.Identity()
    return module


def pixel_space(space: gym.Space, owner: str) -> gym.spaces.Box:
    """The RGB Box of ``space`` (itself or a Dict's ``pixels``); anything else is refused."""
    if isinstance(space, gym.spaces.Dict):
        space = space.spaces.get("pixels")
    if not (
        isinstance(space, gym.spaces.Box)
        and space.dtype == np.uint8
        and len(space.shape) == 3
        and space.shape[-1] == 3
    ):
        raise UsageError(
            f"{owner} needs RGB pixel observations (Box uint8 (H, W, 3)); got {space}. "
            "Make the env with obs_mode='pixels'"
        )
    return space


class ObjectSlots:
    """A detector and the slot layout: uint8 frames (N, H, W, 3) -> object vectors (N, D).

    Args:
        detector: a checkpoint path or a loaded :class:`~visiongym.vision.detect.engine.Detector`.
        players_per_team: slots per team.
        score_threshold: minimum confidence for a detection to fill a slot.
        device: where the detector runs (a loaded detector stays where it is).
        int8: run a grid detector's convolutions in 8-bit integers on the CPU
            (:class:`~visiongym.vision.detect.quantize.Int8GridNetwork`): about twice as fast there,
            calibrated on the first ``calibration_frames`` frames it sees (those run in float).
        calibration_frames: frames that calibrate ``int8``.
    """

    def __init__(
        self,
        detector: str | Path | Detector,
        players_per_team: int = 2,
        score_threshold: float = 0.3,
        device: str | torch.device = "cpu",
        int8: bool = False,
        calibration_frames: int = 64,
    ) -> None:
        self.detector = (
            detector if isinstance(detector, Detector) else load_detector(detector, device)[0]
        )
        self.detector.eval()
        self.players_per_team = players_per_team
        self.score_threshold = score_threshold
        names = self.detector.class_names
        self.slots = [("ball", 1), ("team_a", players_per_team), ("team_b", players_per_team), ("goal", 2)]
        self._label_of = {name: names.index(name) + 1 for name, _ in self.slots}
        size = sum(count for _, count in self.slots) * len(SLOT_FIELDS)
        self.space = gym.spaces.Box(0.0, 1.0, (size,), np.float32)
        # The batched grid path stands in for Detector.predict; a detector whose predict was
        # replaced (a stand-in, a subclass) keeps its own.
        plain = "predict" not in vars(self.detector) and type(self.detector).predict is Detector.predict
        grid = plain and self.detector.name != FASTER_RCNN
        self._grid = fold_batch_norms(self.detector.net) if grid else None
        self.int8 = bool(int8)
        if self.int8:
            where = next(self.detector.parameters()).device
            if self._grid is None:
                raise UsageError(f"int8 runs grid detectors only; this one is {self.detector.name!r}")
            if where.type != "cpu":
                raise UsageError(f"int8 is a CPU option; this detector runs on {where}. Leave int8 off there")
            from visiongym.vision.detect.quantize import Int8GridNetwork

            self._grid = Int8GridNetwork(self._grid, calibration_frames)
        # Slot rows as (class channel, pick number): the grid path reads its picks in this order.
        rows = [(self._label_of[name] - 1, k) for name, count in self.slots for k in range(count)]
        self._row_channel = torch.tensor([c for c, _ in rows])
        self._row_pick = torch.tensor([k for _, k in rows])
        self._picks = max(count for _, count in self.slots)

    def slot_names(self) -> list[str]:
        """Human-readable name of every entry of the observation vector."""
        return [
            f"{name}{k}.{field}"
            for name, count in self.slots
            for k in range(count)
            for field in SLOT_FIELDS
        ]

    def __call__(self, pixels: np.ndarray | dict) -> np.ndarray:
        """One detector pass over ``pixels`` (N, H, W, 3) uint8 (or a dict of observations with
        ``pixels``); returns (N, D) float32."""
        if isinstance(pixels, dict):
            pixels = pixels["pixels"]
        device = next(self.detector.parameters()).device
        images = torch.from_numpy(np.ascontiguousarray(np.asarray(pixels))).to(device).permute(0, 3, 1, 2)
        size = self.detector.image_size
        if tuple(images.shape[-2:]) != (size, size):
            images = TF.resize(images, [size, size], antialias=True)
        if self._grid is not None:
            return self._grid_vectors(images, size)
        found = self.detector.predict(images, score_threshold=self.score_threshold)
        return np.stack([self._vector(item, size) for item in found])

    @torch.inference_mode()
    def _grid_vectors(self, images: torch.Tensor, size: int) -> np.ndarray:
        """Slots of a whole batch from the grid detector's cell map, no loop over frames."""
        self.detector._check(images)
        raw = self._grid(images)
        boxes = self._grid.boxes_from_map(raw).flatten(1, 2)  # N x cells x 4
        logits = raw[:, 5:].flatten(2)  # N x C x cells; a softmax over C written out (faster here)
        exp = (logits - logits.amax(dim=1, keepdim=True)).exp()
        scores = raw[:, 0].flatten(1).sigmoid()[:, None] * exp / exp.sum(dim=1, keepdim=True)
        left = scores.masked_fill(scores <= self.score_threshold, -1.0)
        picked_scores, picked_boxes = [], []
        for _ in range(self._picks):
            best, cell = left.max(dim=-1)  # N x C
            box = torch.gather(boxes, 1, cell.flatten(1)[..., None].expand(-1, -1, 4))  # N x C x 4
            picked_scores.append(best)
            picked_boxes.append(box)
            overlap = _batched_iou(box, boxes)
            left = left.masked_fill(overlap > IOU_THRESHOLD, -1.0)
            left.scatter_(-1, cell[..., None], -1.0)
        picked_scores = torch.stack(picked_scores, dim=-1)  # N x C x picks
        picked_boxes = torch.stack(picked_boxes, dim=2) / size  # N x C x picks x 4
        channel, pick = self._row_channel.to(raw.device), self._row_pick.to(raw.device)
        score = picked_scores[:, channel, pick]  # N x rows
        x0, y0, x1, y1 = picked_boxes[:, channel, pick].unbind(-1)
        present = score > self.score_threshold
        rows = torch.stack([present.float(), (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0, score], -1)
        rows = rows * present[..., None]
        return rows.flatten(1).clamp(0.0, 1.0).cpu().numpy()

    def _vector(self, found: dict[str, torch.Tensor], size: int) -> np.ndarray:
        boxes, scores, labels = (found[key].cpu().numpy() for key in ("boxes", "scores", "labels"))
        vector = np.zeros(self.space.shape, np.float32).reshape(-1, len(SLOT_FIELDS))
        row = 0
        for name, count in self.slots:
            chosen = np.flatnonzero(labels == self._label_of[name])
            chosen = chosen[np.argsort(-scores[chosen], kind="stable")][:count]
            for k, index in enumerate(chosen):
                x0, y0, x1, y1 = boxes[index] / size
                vector[row + k] = (1.0, (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0, scores[index])
            row += count
        return np.clip(vector.reshape(-1), 0.0, 1.0)


class DetectedObjects(gym.ObservationWrapper):
    """Replace an image observation by the detector's object list.

    Args:
        env: an env whose observation is ``Box(0, 255, (H, W, 3), uint8)``, or a ``Dict`` with
            a ``pixels`` key (then the whole dict is replaced).
        detector: a checkpoint path or a loaded :class:`~visiongym.vision.detect.engine.Detector`.
        players_per_team: slots per team.
        score_threshold: minimum confidence for a detection to fill a slot.
        device: where the detector runs.
        int8: as :class:`ObjectSlots`.
    """

    def __init__(
        self,
        env: gym.Env,
        detector: str | Path | Detector,
        players_per_team: int = 2,
        score_threshold: float = 0.3,
        device: str = "cpu",
        int8: bool = False,
    ) -> None:
        super().__init__(env)
        pixel_space(env.observation_space, "DetectedObjects")
        self.objects = ObjectSlots(detector, players_per_team, score_threshold, device, int8=int8)
        self.detector, self.players_per_team = self.objects.detector, players_per_team
        self.score_threshold = score_threshold
        self.observation_space = self.objects.space

    def slot_names(self) -> list[str]:
        """Human-readable name of every entry of the observation vector."""
        return self.objects.slot_names()

    def observation(self, observation) -> np.ndarray:
        pixels = observation["pixels"] if isinstance(observation, dict) else observation
        return self.objects(np.asarray(pixels)[None])[0]


class DetectedObjectsVector(gym.vector.VectorObservationWrapper):
    """:class:`DetectedObjects` for a vector env: one detector pass over all envs' frames a step.

    Works with next-step autoreset (Gymnasium's default), where no final observation hides in
    ``infos``. ``step_async``/``step_wait`` of an ``AsyncVectorEnv`` are passed through, so the
    envs can step in their processes while the caller does something else.

    Args:
        env: a vector env of RGB pixel observations (or ``Dict`` with ``pixels``).
        Other arguments as :class:`ObjectSlots`.
    """

    def __init__(
        self,
        env: gym.vector.VectorEnv,
        detector: str | Path | Detector,
        players_per_team: int = 2,
        score_threshold: float = 0.3,
        device: str | torch.device = "cpu",
        int8: bool = False,
    ) -> None:
        super().__init__(env)
        pixel_space(env.single_observation_space, "DetectedObjectsVector")
        self.objects = ObjectSlots(detector, players_per_team, score_threshold, device, int8=int8)
        self.single_observation_space = self.objects.space
        self.observation_space = gym.vector.utils.batch_space(self.objects.space, env.num_envs)

    def slot_names(self) -> list[str]:
        """Human-readable name of every entry of the observation vector."""
        return self.objects.slot_names()

    def observations(self, observations) -> np.ndarray:
        return self.objects(observations)

    def step_async(self, actions) -> None:
        self.env.step_async(actions)

    def step_wait(self, **kwargs):
        observations, rewards, terminations, truncations, infos = self.env.step_wait(**kwargs)
        return self.observations(observations), rewards, terminations, truncations, infos
