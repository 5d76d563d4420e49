"""Semantic and instance segmentation of rendered soccer frames (``visiongym segment``).

- :mod:`~visiongym.vision.segment.models`: U-Net and FCN (class masks), torchvision Mask R-CNN
  (instance masks), registered by name in :data:`~visiongym.vision.segment.models.SEGMENTERS`;
- :mod:`~visiongym.vision.segment.metrics`: mIoU and per-class IoU, per-player mask IoU;
- :mod:`~visiongym.vision.segment.engine`: one ``loss`` / ``predict`` / ``save`` interface;
- :mod:`~visiongym.vision.segment.train` and :mod:`~visiongym.vision.segment.evaluate`: the commands.

See ``docs/vision/segment.md``.
"""
