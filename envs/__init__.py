"""visiongym: envs."""
