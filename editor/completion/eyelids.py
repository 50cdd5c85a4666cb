"""A lash line over eyes the warp closes.

Closing an eye by warping squeezes the whole eye (sclera, iris) into the slit left between the lids:
a light, streaky line where a closed eye shows the dark line of the lashes. Where the target eye
opening is much smaller than the source's, this module paints the slit (with a soft edge of a
couple of pixels) with the person's own lash colour, read from the darkest pixels along the source upper lid.
Nothing outside the target eye polygon's soft edge changes; partly closed eyes are left alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from editor.completion.masks import polygon_coverage
from editor.landmark_indices import as_array, face_mesh_indices


@dataclass(frozen=True)
class LidConfig:
    """When and how the lash line is painted."""

    closed_from: float = 0.6  # start painting when the eye opening lost this fraction of its area ...
    closed_full: float = 0.85  # ... fully painted from this fraction on
    edge: float = 0.025  # soft edge (Gaussian sigma), as a fraction of the eye width
    darkest: float = 0.1  # the lash colour is the mean of this darkest fraction of the upper-lid band


def paint_closed_lids(
    image: np.ndarray,
    original: np.ndarray,
    source: np.ndarray,
    target: np.ndarray,
    config: LidConfig | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Paint a lash line into eyes whose opening the warp (nearly) closed.

    Args:
        image: (H, W, 3) uint8 RGB, the warped photo.
        original: (H, W, 3) uint8 RGB, the photo before warping (the lash colour is read there).
        source: (478, 2) landmarks of the original photo, pixels.
        target: (478, 2) landmarks after editor.warp.apply_safety.
        config: LidConfig.
    Returns:
        (image, alpha): the composited photo (a new array) and the (H, W) float32 opacity painted.
    """
    config = config or LidConfig()
    height, width = image.shape[:2]
    out = image.copy()
    alpha_full = np.zeros((height, width), np.float32)
    idx = face_mesh_indices()
    for side in ("right", "left"):
        loop = as_array(idx.eye_loop(side))
        area_s = abs(cv2.contourArea(source[loop].astype(np.float32)))
        area_t = abs(cv2.contourArea(target[loop].astype(np.float32)))
        if area_s < 1.0:
            continue
        lost = 1.0 - area_t / area_s
        t = min(max((lost - config.closed_from) / (config.closed_full - config.closed_from), 0.0), 1.0)
        strength = t * t * (3 - 2 * t)
        if strength <= 0:
            continue
        eye_w = float(np.ptp(source[loop][:, 0]))
        sigma = max(config.edge * eye_w, 0.6)
        pad = int(math.ceil(3 * sigma)) + 2
        points = np.concatenate([source[loop], target[loop]])
        x0, y0 = (max(int(math.floor(v)) - pad - int(0.3 * eye_w), 0) for v in points.min(axis=0))
        x1 = min(int(math.ceil(points[:, 0].max())) + pad + 1, width)
        y1 = min(int(math.ceil(points[:, 1].max())) + pad + 1, height)
        box = (y1 - y0, x1 - x0)
        origin = np.array([x0, y0], np.float64)
        region = (slice(y0, y1), slice(x0, x1))

        # Lash colour: the darkest pixels of a band along the source upper lid (lashes, liner).
        upper = source[as_array(idx.right_eye_upper if side == "right" else idx.left_eye_upper)]
        band = np.concatenate([upper - [0, 0.12 * eye_w], upper[::-1] + [0, 0.04 * eye_w]])
        weights = polygon_coverage(box, band, origin) > 0.5
        pixels = original[region][weights].astype(np.float32)
        if len(pixels) < 4:
            continue
        luma = pixels @ np.array([0.299, 0.587, 0.114], np.float32)
        darkest = pixels[luma <= np.quantile(luma, config.darkest)]
        lash = darkest.mean(axis=0)

        slit = polygon_coverage(box, target[loop], origin)
        k = 2 * math.ceil(2 * sigma) + 1
        alpha = strength * np.clip(cv2.GaussianBlur(slit, (k, k), sigma) * 1.3, 0.0, 1.0)
        a = alpha[..., None]
        patch = out[region].astype(np.float32)
        out[region] = np.clip(patch * (1 - a) + lash * a + 0.5, 0, 255).astype(np.uint8)
        alpha_full[region] = np.maximum(alpha_full[region], alpha)
    return out, alpha_full
