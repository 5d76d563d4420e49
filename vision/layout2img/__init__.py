"""Layout-conditioned generation: frames drawn from a class and instance mask, labelled by construction.

A pix2pix-style generator (:mod:`.models`: U-Net, PatchGAN critic, L1 plus adversarial loss, a
look code that picks the lighting, kits and materials) learns from the exact masks of a
``visiongym render-data`` dataset (:mod:`.train`); :mod:`.generate` asks the simulator for new
layouts, draws a frame for each and writes a dataset folder in the render-data format whose boxes
and masks are the layout's own. Documented in ``docs/vision/layout2img.md``.
"""
