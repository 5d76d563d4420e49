"""Robustness of the vision models under domain shift (``visiongym robustness``).

- :mod:`~visiongym.vision.robustness.corruptions`: 14 ImageNet-C-style corruptions, severities 1..5.
- :mod:`~visiongym.vision.robustness.shifts`: shift families (``corruptions``, ``simulator``) and
  the frames they shift (:class:`~visiongym.vision.robustness.shifts.EvalFrames`).
- :mod:`~visiongym.vision.robustness.scorers`: one scorer per checkpoint kind (detector: mAP@0.5,
  autoencoder: PSNR).
- :mod:`~visiongym.vision.robustness.report`: drops, mCE, the table files and the example grid.
- :mod:`~visiongym.vision.robustness.suite`: the command's config and runner.
"""
