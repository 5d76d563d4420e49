"""Metric learning, FaceNet style, for player re-identification: ``python -m visiongym.vision.metric --help``."""
