"""Gymnasium wrappers (observation, flicker/occlusion, recording)."""
