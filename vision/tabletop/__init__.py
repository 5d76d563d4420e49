"""Tabletop soccer in 3-D from a broadcast clip: the reconstruction and its viewer."""
