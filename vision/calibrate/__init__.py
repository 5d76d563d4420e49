"""Camera calibration from the pitch lines, with no clicks (Rematas et al., "Soccer on Your
Tabletop", CVPR 2018, step one).

``calibrate_frame(rgb, pitch_spec, image_size, prior=None)`` estimates a frame's broadcast camera
(position, orientation, focal length) from its detected line pixels and pitch outline and the
known pitch model: a coarse search around a prior camera, then a two-way chamfer refinement
(:mod:`~visiongym.vision.calibrate.fit`). ``visiongym calibrate`` runs it over rendered frames,
a dataset or a picture and scores it against the exact camera. Method and error definitions:
``docs/vision/calibrate.md``.
"""

from visiongym.vision.calibrate.detect import Features, PitchNotVisible, detect_features
from visiongym.vision.calibrate.evaluate import camera_errors, overlay
from visiongym.vision.calibrate.fit import (
           CalibrationFailed,
           CalibrationResult,
           SearchGrid,
           calibrate_frame,
           homography,
)
from visiongym.vision.calibrate.model import pitch_markings, visible_outline

__all__ = ["calibrate_frame", "CalibrationResult", "CalibrationFailed", "PitchNotVisible", "SearchGrid",
           "Features", "detect_features", "camera_errors", "overlay", "homography", "pitch_markings",
           "visible_outline"]
