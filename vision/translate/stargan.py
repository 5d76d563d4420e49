"""StarGAN (Choi et al. 2018): one generator for every combination of the look attributes.

The generator takes a frame and a target label (one value per attribute of
:data:`~visiongym.vision.translate.looks.ATTRIBUTES`, as concatenated one-hot vectors tiled onto
the input). The critic scores realism (WGAN-GP) and classifies the attributes. As in
``yunjey/stargan``: the critic learns to classify real frames (``lambda_cls`` 1) while the
generator is trained to make translated frames classified as their target, to be reconstructed
by translating back to the source label (L1, ``lambda_rec`` 10), and to score as real; gradient
penalty ``lambda_gp`` 10; 5 critic steps per generator step; Adam, betas (0.5, 0.999); the
learning rate constant for the first half of the run, then falling linearly to zero. A run's
``steps`` count critic steps, as StarGAN's iterations do.

Three departures, the defaults since they lifted the attribute accuracy of a 1,500-step run from
55% to 75% (``docs/vision/translate.md``): the generator's head predicts a per-pixel colour
transform (``head="affine"``); the critic classifies with both its trunk and a batch-norm
classifier of its own (``critic_classifier="both"``: the trunk alone never learns the few-pixel
kits), and that classifier trains alone on real frames for ``cls_warmup`` steps before the GAN
starts; Adam 3e-4 instead of 1e-4 (a CPU-sized run has a thousandth of the reference's steps).

Training frames: each state of the train split rendered under a label drawn uniformly per
attribute; target labels are drawn the same way for every step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from visiongym.vision.gan.ema import GeneratorEMA
from visiongym.vision.translate.frames import float_images, render_frames, uint8_images
from visiongym.vision.translate.looks import (
    attribute_appearance,
    attribute_sizes,
    draw_attribute_values,
)
from visiongym.vision.translate.models import (
    ResnetGenerator,
    StarDiscriminator,
    attribute_loss,
    one_hot_labels,
)

__all__ = ["StarGAN", "build_critic", "render_labelled", "random_labels"]


def render_labelled(info: dict[str, Any], records: list[dict[str, Any]], attributes: tuple[str, ...],
                    labels: np.ndarray, size: int, renderer: Any = None, progress: bool = False,
                    desc: str = "render"):
    """The states of ``records`` rendered at ``size`` px, frame ``i`` under label ``labels[i]``."""
    looks = [attribute_appearance(attributes, label) for label in labels]
    return render_frames(info, records, looks, size, renderer, progress, desc)


def random_labels(sizes: tuple[int, ...], count: int, rng: torch.Generator) -> torch.Tensor:
    """``count`` labels drawn uniformly per attribute: int64 (count, K)."""
    return torch.stack([torch.randint(size, (count,), generator=rng) for size in sizes], dim=1)


def build_critic(meta: dict[str, Any]) -> StarDiscriminator:
    """The critic of a StarGAN checkpoint's meta (checkpoints from before ``critic_classifier``: ``shared``)."""
    return StarDiscriminator(meta["image_size"], attribute_sizes(meta["attributes"]), meta["disc_width"],
                             classifier=meta.get("critic_classifier") or "shared")


class StarGAN:
    """The StarGAN of one checkpoint: the generator for inference; :meth:`prepare_training` adds the rest.

    Args:
        meta: the architecture as a checkpoint records it (``attributes``, ``image_size``,
            ``width``, ``blocks``, ``disc_width``).
        device: where the networks live.
    """

    kind = "stargan"

    def __init__(self, meta: dict[str, Any], device: torch.device | str = "cpu") -> None:
        self.meta = dict(meta)
        self.device = torch.device(device)
        self.attributes = tuple(meta["attributes"])
        self.sizes = attribute_sizes(self.attributes)
        self.generator = ResnetGenerator(sum(self.sizes), meta["width"], meta["blocks"], norm=meta["norm"],
                                         head=meta.get("head") or "residual").to(self.device)
        self.ema: GeneratorEMA | None = None  # training with --ema-decay: the averaged copy

    @staticmethod
    def architecture(config: Any) -> dict[str, Any]:
        """The checkpoint meta of a training config (the attribute names are checked here)."""
        attribute_sizes(config.attributes)
        return {"attributes": list(config.attributes), "image_size": config.image_size,
                "width": config.width, "blocks": config.blocks, "norm": config.norm or "none",
                "disc_width": config.disc_width, "critic_classifier": config.critic_classifier,
                "head": config.head, "ema_decay": config.ema_decay}

    @torch.no_grad()
    def translate(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 32) -> torch.Tensor:
        """uint8 frames translated to ``labels`` (int64 (N, K) value indices): uint8 frames.

        In training with an EMA, the averaged generator translates (the sample grids show it)."""
        generator = self.ema.module if self.ema is not None else self.generator
        generator.eval()
        condition = one_hot_labels(torch.as_tensor(labels), self.sizes)
        return torch.cat([
            uint8_images(generator(images[i : i + batch_size].to(self.device),
                                        condition[i : i + batch_size].to(self.device)))
            for i in range(0, len(images), batch_size)
        ])

    # --- training -------------------------------------------------------------------------

    def prepare_training(self, config: Any, info: dict[str, Any], records: list[dict[str, Any]],
                         renderer: Any) -> None:
        """Render the labelled training frames and build the critic and optimisers."""
        rng = np.random.default_rng(np.random.SeedSequence([config.seed, 7]))
        labels = draw_attribute_values(self.attributes, len(records), rng)
        self.frames = render_labelled(info, records, self.attributes, labels, config.image_size, renderer,
                                      config.progress, "labelled frames").images
        self.labels = torch.from_numpy(labels)
        self.config = config
        self.critic = build_critic(self.meta).to(self.device)
        self.lr = config.lr if config.lr is not None else 3e-4
        self.optim_g = torch.optim.Adam(self.generator.parameters(), lr=self.lr, betas=(0.5, 0.999))
        self.optim_d = torch.optim.Adam(self.critic.parameters(), lr=self.lr, betas=(0.5, 0.999))
        self._last_g: dict[str, torch.Tensor] = {}
        self.ema = GeneratorEMA(self.generator, config.ema_decay) if config.ema_decay is not None else None

    def training_state(self) -> dict[str, Any]:
        state = {
            "generator": self.generator.state_dict(),
            "critic": self.critic.state_dict(),
            "optim_g": self.optim_g.state_dict(),
            "optim_d": self.optim_d.state_dict(),
        }
        if self.ema is not None:
            state["generator_ema"] = self.ema.module.state_dict()
        return state

    def load_training_state(self, state: dict[str, Any]) -> None:
        self.load_generators(state)
        if self.ema is not None:
            self.ema.module.load_state_dict(state["generator_ema"])
        self.critic.load_state_dict(state["critic"])
        self.optim_g.load_state_dict(state["optim_g"])
        self.optim_d.load_state_dict(state["optim_d"])

    def load_generators(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])

    def _gradient_penalty(self, real: torch.Tensor, fake: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        alpha = torch.rand(len(real), 1, 1, 1, generator=rng).to(self.device)
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        scores = self.critic.score(mixed)
        (gradient,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
        return ((gradient.flatten(1).norm(dim=1) - 1) ** 2).mean()

    def _real_batch(self, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch of training frames in [-1, 1] (half of them mirrored) and their labels."""
        index = torch.randint(len(self.frames), (self.config.batch_size,), generator=rng)
        real = self.frames[index]
        flip = torch.rand(len(real), generator=rng) < 0.5
        real[flip] = real[flip].flip(-1)
        return float_images(real.to(self.device)), self.labels[index].to(self.device)

    def warm_up_classifier(self, rng: torch.Generator) -> torch.Tensor:
        """Train the critic's classifier alone on real frames for ``cls_warmup`` steps (Adam 1e-3), so the
        generator's first steps already get a classification signal; returns the last loss."""
        optimiser = torch.optim.Adam(self.critic.parameters(), lr=1e-3, betas=(0.5, 0.999))
        loss = torch.zeros(())
        for _ in range(self.config.cls_warmup):
            real, labels = self._real_batch(rng)
            loss = self._classification_loss(self.critic.scores_and_logits(real)[1], labels)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
        return loss.detach()

    def _classification_loss(self, logits: list[torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
        """The attribute loss of each of the critic's classifiers, summed."""
        return sum(attribute_loss(part, labels, self.sizes) for part in logits)

    def train_step(self, step: int, rng: torch.Generator) -> dict[str, torch.Tensor]:
        """One critic update, and a generator update every ``critic_steps``; returns the loss terms."""
        config = self.config
        if step == 0 and config.cls_warmup:
            self._last_g = {"warmup_classification": self.warm_up_classifier(rng)}
        real, source_labels = self._real_batch(rng)
        target_labels = random_labels(self.sizes, len(real), rng).to(self.device)
        source, target = one_hot_labels(source_labels, self.sizes), one_hot_labels(target_labels, self.sizes)

        self.generator.train()
        real_scores, real_logits = self.critic.scores_and_logits(real)
        with torch.no_grad():
            fake = self.generator(real, target)
        fake_scores = self.critic.score(fake)
        d_classification = self._classification_loss(real_logits, source_labels)
        penalty = self._gradient_penalty(real, fake, rng)
        d_adversarial = fake_scores.mean() - real_scores.mean()
        loss_d = d_adversarial + config.cls_weight * d_classification + config.gp_weight * penalty
        self.optim_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.optim_d.step()
        losses = {"d_adversarial": d_adversarial.detach(), "d_classification": d_classification.detach(),
                  "gradient_penalty": penalty.detach()}

        if (step + 1) % config.critic_steps == 0:
            # eval: a critic classifier with batch norm judges fakes by the real frames' statistics
            self.critic.requires_grad_(False).eval()
            fake = self.generator(real, target)
            scores, logits = self.critic.scores_and_logits(fake)
            g_adversarial = -scores.mean()
            g_classification = self._classification_loss(logits, target_labels)
            reconstruction = F.l1_loss(self.generator(fake, source), real)
            g_cls_weight = config.cls_weight if config.g_cls_weight is None else config.g_cls_weight
            loss_g = g_adversarial + g_cls_weight * g_classification + config.rec_weight * reconstruction
            self.optim_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.optim_g.step()
            if self.ema is not None:
                self.ema.update(self.generator, step // config.critic_steps)
            self.critic.requires_grad_(True).train()
            self._last_g = {"g_adversarial": g_adversarial.detach(), "g_classification": g_classification.detach(),
                            "reconstruction": reconstruction.detach()}
        return {**losses, **self._last_g}

    def prepare_samples(self, info: dict[str, Any], records: list[dict[str, Any]], renderer: Any) -> None:
        """Render the grid's states under random source labels, and their truth with each attribute
        moved to its next value."""
        size = self.meta["image_size"]
        rng = np.random.default_rng(np.random.SeedSequence([0, 11]))
        source = draw_attribute_values(self.attributes, len(records), rng)
        self.sample_inputs = render_labelled(info, records, self.attributes, source, size, renderer).images
        self.sample_targets = []
        for k, count in enumerate(self.sizes):
            target = source.copy()
            target[:, k] = (target[:, k] + 1) % count
            truth = render_labelled(info, records, self.attributes, target, size, renderer).images
            self.sample_targets.append((torch.from_numpy(target), truth))

    def sample_rows(self) -> list[torch.Tensor]:
        """Grid rows in [0, 1]: the inputs, then per attribute the translation to its next value and the truth."""
        rows = [self.sample_inputs]
        for target, truth in self.sample_targets:
            rows += [self.translate(self.sample_inputs, target), truth]
        return [row.float() / 255 for row in rows]
