"""visiongym: sims."""
