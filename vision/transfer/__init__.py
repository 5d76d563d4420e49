"""Transfer learning between simulator tasks: ``python -m vision.transfer --help``."""
