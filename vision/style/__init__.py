"""Neural style transfer (Gatys et al.) with VGG19 features: ``python -m visiongym.vision.style --help``."""
