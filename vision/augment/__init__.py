"""Data augmentation with boxes and masks (torchvision ``transforms.v2``): ``python -m visiongym.vision.augment --help``."""
