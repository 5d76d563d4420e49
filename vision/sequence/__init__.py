"""Sequences with an LSTM: the course's arithmetic/geometric continuations, and ball trajectories.

``python -m visiongym.vision.sequence arithmetic --help``.
"""
