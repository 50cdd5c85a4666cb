"""Soft polygon masks for painting inside a box of the photo."""

from __future__ import annotations

import cv2
import numpy as np


def polygon_coverage(shape: tuple[int, int], polygon: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Anti-aliased (h, w) float32 coverage in [0, 1] of a polygon given in photo pixels, in a box of
    ``shape`` whose top-left corner is the photo pixel ``origin`` (x, y)."""
    canvas = np.zeros(shape, np.uint8)
    points = np.round((np.asarray(polygon, np.float64) - origin) * 16).astype(np.int32)
    cv2.fillPoly(canvas, [points], 255, lineType=cv2.LINE_AA, shift=4)
    return canvas.astype(np.float32) / 255.0
