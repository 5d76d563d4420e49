"""Image classification for the course: LeNet on digits (``digits``) and classic architectures (``arch``).

Run ``python -m vision.classify digits --help`` or ``python -m vision.classify arch --help``.
"""
