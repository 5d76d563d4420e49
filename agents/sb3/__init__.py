"""Stable-Baselines3 / sb3-contrib algorithms trained through ``visiongym.agents.train`` with our encoders."""
