"""A pygame window that shows env frames with a heads-up display, for every visiongym env.

The HUD is drawn onto the frame with OpenCV (:func:`draw_hud`), so a recorded video shows exactly
what the window shows. pygame is imported lazily, in the process that opens the window.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Viewer", "draw_hud", "upscale"]


def upscale(frame: np.ndarray, min_height: int = 360) -> np.ndarray:
    """Nearest-neighbour enlarge small frames (84x84 observations) so people can see them."""
    factor = max(1, int(np.ceil(min_height / frame.shape[0])))
    if factor == 1:
        return frame
    return np.repeat(np.repeat(frame, factor, axis=0), factor, axis=1)


def draw_hud(frame: np.ndarray, hud: dict[str, str] | None) -> np.ndarray:
    """Return a copy of ``frame`` with ``hud`` lines (``key: value``) in a translucent box."""
    import cv2

    out = np.ascontiguousarray(frame).copy()
    if not hud:
        return out
    lines = [f"{key}: {value}" for key, value in hud.items()]
    scale = max(0.4, out.shape[0] / 900)
    line_height = int(22 * scale / 0.5)
    box_height = line_height * len(lines) + 8
    box_width = min(out.shape[1], int(max(len(line) for line in lines) * 10 * scale / 0.5) + 12)
    region = out[:box_height, :box_width]
    region[:] = (region * 0.45).astype(np.uint8)
    for row, text in enumerate(lines):
        cv2.putText(out, text, (6, line_height * (row + 1)), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), 1, cv2.LINE_AA)
    return out


class Viewer:
    """A window that shows frames at ``fps``; ``show`` returns False once the user closed it.

    Args:
        title: window caption.
        fps: frames per second to cap the display at (0 for no cap).
    """

    def __init__(self, title: str = "visiongym", fps: int = 20) -> None:
        try:
            import pygame
        except ImportError as error:  # pragma: no cover - pygame-ce is a dependency
            raise ImportError(
                "the pygame viewer needs pygame-ce: pip install pygame-ce"
            ) from error
        self._pygame = pygame
        pygame.init()
        pygame.display.set_caption(title)
        self.fps = fps
        self._clock = pygame.time.Clock()
        self._screen = None
        self.open = True
        self.pressed: set[int] = set()

    def show(self, frame: np.ndarray, hud: dict[str, str] | None = None) -> bool:
        """Draw ``frame`` (uint8 H x W x 3) with ``hud`` text; pump events; keep the frame rate."""
        if not self.open:
            return False
        pygame = self._pygame
        image = draw_hud(upscale(frame), hud)
        height, width = image.shape[:2]
        if self._screen is None or self._screen.get_size() != (width, height):
            self._screen = pygame.display.set_mode((width, height))
        surface = pygame.surfarray.make_surface(image.swapaxes(0, 1))
        self._screen.blit(surface, (0, 0))
        pygame.display.flip()
        self.poll()
        if self.fps:
            self._clock.tick(self.fps)
        return self.open

    def poll(self) -> None:
        """Handle window events: closing, Escape, and which keys are held."""
        pygame = self._pygame
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
                self.close()
                return
            if event.type == pygame.KEYDOWN:
                self.pressed.add(event.key)
            elif event.type == pygame.KEYUP:
                self.pressed.discard(event.key)

    def close(self) -> None:
        """Close the window; safe to call twice."""
        if self.open:
            self.open = False
            self._pygame.display.quit()
