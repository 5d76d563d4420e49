"""Datasets rendered from the simulator: writer CLI, on-disk format, PyTorch readers."""
