"""DCGAN on rendered frames and a pseudo-labelled generated-frame dataset for detector training."""
