"""Convolutional autoencoders (plain, denoising, sparse), their scores and a frozen-encoder feature extractor."""
