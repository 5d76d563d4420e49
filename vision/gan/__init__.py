"""GANs on rendered frames (DCGAN, SNGAN), their samples, and pseudo-labelled generated datasets.

``load_generator(path) -> (generator, meta)`` and ``sample(generator, n, seed) -> uint8 NHWC``
are the two calls a scorer needs; ``visiongym gan train`` / ``gan sample`` / ``gan mix`` are the
commands (docs/vision.md, GAN section).
"""

from visiongym.vision.gan.generate import load_generator, sample

__all__ = ["load_generator", "sample"]
