"""Per-player and whole-frame depth: crops, stacked hourglass, U-Net, st-RMSE (docs/vision/depth.md)."""
