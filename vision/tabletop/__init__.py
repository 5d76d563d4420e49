"""Soccer on Your Tabletop (Rematas et al., CVPR 2018): a broadcast clip to a 3-D game on a table.

``python -m visiongym.vision.tabletop`` (``visiongym tabletop``); docs/vision/tabletop.md.
"""

from visiongym.vision.tabletop.clip import Clip, Frame, read_video, render_demo_clip
from visiongym.vision.tabletop.lift import chamfer, foot_pixel, ground_position, lift_player
from visiongym.vision.tabletop.pipeline import (
           FORMAT,
           PitchSkippedWarning,
           atomic_folder,
           reconstruct,
           write_outputs,
)
from visiongym.vision.tabletop.plyio import PointCloud, read_ply, write_ply
from visiongym.vision.tabletop.track import Tracker, count_id_switches

__all__ = ["Clip", "Frame", "read_video", "render_demo_clip", "chamfer", "foot_pixel", "ground_position",
           "lift_player", "FORMAT", "PitchSkippedWarning", "atomic_folder", "reconstruct", "write_outputs",
           "PointCloud", "read_ply", "write_ply", "Tracker", "count_id_switches"]
