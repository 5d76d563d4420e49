"""Camera calibration from the pitch lines."""
