"""Object detection on rendered frames: a YOLO-style grid detector, Faster R-CNN for comparison, mAP, predict CLI, observation wrapper."""
