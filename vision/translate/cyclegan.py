"""CycleGAN (Zhu et al. 2017): unpaired translation between two simulator looks.

Two generators (``a_to_b``, ``b_to_a``) and two PatchGAN discriminators, trained as the
reference implementation (``junyanz/pytorch-CycleGAN-and-pix2pix``) does: least-squares GAN
losses, the cycle loss ``|G_BA(G_AB(a)) - a| + |G_AB(G_BA(b)) - b|`` weighted 10, the identity
loss ``|G_AB(b) - b| + |G_BA(a) - a|`` weighted 0.5 x 10, each discriminator shown a 50/50 mix of
the newest fakes and a pool of 50 older ones, Adam 2e-4 with betas (0.5, 0.999), the learning
rate constant for the first half of the run and falling linearly to zero over the second.

Look ``a`` gets the even frames of the train split's states and look ``b`` the odd ones, so no
state is seen in both looks: the pairs exist only for scoring.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional as F

from visiongym.vision.translate.frames import float_images, render_frames, uint8_images
from visiongym.vision.translate.looks import check_look
from visiongym.vision.translate.models import PatchDiscriminator, ResnetGenerator

__all__ = ["CycleGAN", "ImagePool"]

DIRECTIONS = ("a_to_b", "b_to_a")


class ImagePool:
    """The last ``size`` generated frames (Shrivastava et al.): half of each batch the
    discriminator sees is swapped for older fakes, so it does not forget what it beat before."""

    def __init__(self, size: int = 50) -> None:
        self.size = size
        self.images: list[torch.Tensor] = []

    def query(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A batch as large as ``images``: each frame kept, or (once the pool is full, with
        probability 1/2) swapped for a stored one, which the new frame replaces."""
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand((), generator=generator) < 0.5:
                slot = int(torch.randint(self.size, (), generator=generator))
                out.append(self.images[slot].clone())
                self.images[slot] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict[str, Any]:
        stored = torch.stack(self.images).cpu() if self.images else torch.zeros(0)
        return {"size": self.size, "images": stored}

    def load_state_dict(self, state: dict[str, Any], device: torch.device | str = "cpu") -> None:
        self.size = int(state["size"])
        self.images = [image.to(device) for image in state["images"]] if len(state["images"]) else []


class CycleGAN:
    """The CycleGAN of one checkpoint: generators for inference; :meth:`prepare_training` adds the rest.

    Args:
        meta: the architecture as a checkpoint records it (``look_a``, ``look_b``, ``image_size``,
            ``width``, ``blocks``, ``disc_width``).
        device: where the networks live.
    """

    kind = "cyclegan"
    generator_names = DIRECTIONS

    def __init__(self, meta: dict[str, Any], device: torch.device | str = "cpu") -> None:
        self.meta = dict(meta)
        self.device = torch.device(device)
        self.look_a, self.look_b = check_look(meta["look_a"]), check_look(meta["look_b"])
        self.generators = {
            name: ResnetGenerator(0, meta["width"], meta["blocks"], norm=meta["norm"]).to(self.device) for name in DIRECTIONS
        }

    @staticmethod
    def architecture(config: Any) -> dict[str, Any]:
        """The checkpoint meta of a training config (the looks are checked here)."""
        check_look(config.look_a), check_look(config.look_b)
        return {"look_a": config.look_a, "look_b": config.look_b, "image_size": config.image_size,
                "width": config.width, "blocks": config.blocks, "norm": config.norm or "instance",
                "disc_width": config.disc_width}

    @torch.no_grad()
    def translate(self, images: torch.Tensor, direction: str = "b_to_a", batch_size: int = 32) -> torch.Tensor:
        """uint8 frames of one look as uint8 frames of the other (``a_to_b`` or ``b_to_a``)."""
        generator = self.generators[direction].eval()
        return torch.cat([
            uint8_images(generator(images[i : i + batch_size].to(self.device)))
            for i in range(0, len(images), batch_size)
        ])

    # --- training -------------------------------------------------------------------------

    def prepare_training(self, config: Any, info: dict[str, Any], records: list[dict[str, Any]],
                         renderer: Any) -> None:
        """Render the unpaired training frames and build the discriminators, optimisers and pool."""
        size = config.image_size
        self.frames = {
            "a": render_frames(info, records[0::2], self.look_a, size, renderer, config.progress, "look a").images,
            "b": render_frames(info, records[1::2], self.look_b, size, renderer, config.progress, "look b").images,
        }
        self.config = config
        self.discriminators = {
            look: PatchDiscriminator(config.disc_width).to(self.device) for look in ("a", "b")
        }
        self.lr = config.lr if config.lr is not None else 2e-4
        betas = (0.5, 0.999)
        self.optim_g = torch.optim.Adam(
            [p for g in self.generators.values() for p in g.parameters()], lr=self.lr, betas=betas
        )
        self.optim_d = torch.optim.Adam(
            [p for d in self.discriminators.values() for p in d.parameters()], lr=self.lr, betas=betas
        )
        self.pools = {look: ImagePool(config.pool_size) for look in ("a", "b")}

    def training_state(self) -> dict[str, Any]:
        """Everything a resumed run needs, as a checkpoint's ``state``."""
        return {
            **{f"generator_{name}": g.state_dict() for name, g in self.generators.items()},
            **{f"discriminator_{look}": d.state_dict() for look, d in self.discriminators.items()},
            "optim_g": self.optim_g.state_dict(),
            "optim_d": self.optim_d.state_dict(),
            **{f"pool_{look}": pool.state_dict() for look, pool in self.pools.items()},
        }

    def load_training_state(self, state: dict[str, Any]) -> None:
        self.load_generators(state)
        for look, discriminator in self.discriminators.items():
            discriminator.load_state_dict(state[f"discriminator_{look}"])
            self.pools[look].load_state_dict(state[f"pool_{look}"], self.device)
        self.optim_g.load_state_dict(state["optim_g"])
        self.optim_d.load_state_dict(state["optim_d"])

    def load_generators(self, state: dict[str, Any]) -> None:
        for name, generator in self.generators.items():
            generator.load_state_dict(state[f"generator_{name}"])

    def _batch(self, look: str, rng: torch.Generator) -> torch.Tensor:
        frames = self.frames[look]
        batch = frames[torch.randint(len(frames), (self.config.batch_size,), generator=rng)]
        flip = torch.rand(len(batch), generator=rng) < 0.5
        batch[flip] = batch[flip].flip(-1)
        return float_images(batch.to(self.device))

    def train_step(self, step: int, rng: torch.Generator) -> dict[str, torch.Tensor]:
        """One generator and one discriminator update; returns the loss terms."""
        config = self.config
        real_a, real_b = self._batch("a", rng), self._batch("b", rng)
        g_ab, g_ba = self.generators["a_to_b"].train(), self.generators["b_to_a"].train()
        d_a, d_b = self.discriminators["a"], self.discriminators["b"]
        fake_b, fake_a = g_ab(real_a), g_ba(real_b)

        for d in (d_a, d_b):
            d.requires_grad_(False)
        adversarial = _lsgan(d_b(fake_b), True) + _lsgan(d_a(fake_a), True)
        cycle = F.l1_loss(g_ba(fake_b), real_a) + F.l1_loss(g_ab(fake_a), real_b)
        losses = {"g_adversarial": adversarial, "cycle": cycle}
        total = adversarial + config.cycle_weight * cycle
        if config.identity_weight > 0:
            identity = F.l1_loss(g_ab(real_b), real_b) + F.l1_loss(g_ba(real_a), real_a)
            losses["identity"] = identity
            total = total + config.identity_weight * config.cycle_weight * identity
        self.optim_g.zero_grad(set_to_none=True)
        total.backward()
        self.optim_g.step()

        for d in (d_a, d_b):
            d.requires_grad_(True)
        old_b = self.pools["b"].query(fake_b, rng)
        old_a = self.pools["a"].query(fake_a, rng)
        loss_d_b = 0.5 * (_lsgan(d_b(real_b), True) + _lsgan(d_b(old_b.detach()), False))
        loss_d_a = 0.5 * (_lsgan(d_a(real_a), True) + _lsgan(d_a(old_a.detach()), False))
        self.optim_d.zero_grad(set_to_none=True)
        (loss_d_a + loss_d_b).backward()
        self.optim_d.step()
        return {name: value.detach() for name, value in {**losses, "d_a": loss_d_a, "d_b": loss_d_b}.items()}

    def prepare_samples(self, info: dict[str, Any], records: list[dict[str, Any]], renderer: Any) -> None:
        """Render the sample grid's states in both looks once."""
        size = self.meta["image_size"]
        self.sample_frames = {
            "a": render_frames(info, records, self.look_a, size, renderer).images,
            "b": render_frames(info, records, self.look_b, size, renderer).images,
        }

    def sample_rows(self) -> list[torch.Tensor]:
        """Grid rows in [0, 1]: a, a->b, true b; b, b->a, true a (the same states in every column)."""
        a, b = self.sample_frames["a"], self.sample_frames["b"]
        rows = [a, self.translate(a, "a_to_b"), b, b, self.translate(b, "b_to_a"), a]
        return [row.float() / 255 for row in rows]


def _lsgan(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss against target 1 (real) or 0 (fake), as CycleGAN's reference uses."""
    return F.mse_loss(logits, torch.full_like(logits, 1.0 if real else 0.0))
