"""Metric learning, FaceNet style, for player re-identification: ``python -m vision.metric --help``."""
