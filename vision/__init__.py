"""visiongym: vision."""
