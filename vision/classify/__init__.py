"""Image classification for the course: LeNet on digits (``digits``) and classic architectures (``arch``).

Run ``python -m visiongym.vision.classify digits --help`` or ``python -m visiongym.vision.classify arch --help``.
"""
