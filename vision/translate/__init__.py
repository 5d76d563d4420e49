"""Image-to-image translation between simulator looks (``visiongym translate``).

- :mod:`~visiongym.vision.translate.looks`: the named looks (``default``, ``evening``, ...) and
  StarGAN's attributes (light, time of day, pitch, kits).
- :mod:`~visiongym.vision.translate.frames`: a dataset's states rendered again in any look.
- :mod:`~visiongym.vision.translate.models`: ResNet generator, PatchGAN, StarGAN critic, attribute classifier.
- :mod:`~visiongym.vision.translate.cyclegan`, :mod:`~visiongym.vision.translate.stargan`: the two recipes.
- :mod:`~visiongym.vision.translate.train`: ``visiongym translate train``.
- :mod:`~visiongym.vision.translate.evaluate`: ``visiongym translate evaluate`` (PSNR/SSIM against the true
  frames, the detector's mAP on translated frames, attribute accuracy).
- :mod:`~visiongym.vision.translate.augment`: ``visiongym translate augment`` (StarGAN frames for detector training).
"""
