"""Articulated characters, terrains, motion clips and BVH retargeting (MuJoCo, no RL)."""
