"""Pieces every agent shares: env construction, frames, replay memory, runs, evaluation."""
