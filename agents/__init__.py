"""visiongym: agents."""
