"""Stable-Baselines3 / sb3-contrib algorithms trained through ``agents.train`` with our encoders."""
