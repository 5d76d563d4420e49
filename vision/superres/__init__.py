"""4x super-resolution of rendered frames: bicubic, SRResNet (MSE) and SRGAN (perceptual + adversarial)."""
