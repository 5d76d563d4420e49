"""Transfer learning between simulator tasks: ``python -m visiongym.vision.transfer --help``."""
