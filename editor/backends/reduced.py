"""Flow edits of a huge face region: flow and completion on a reduced view, the warp at full resolution.

A 12000x12000 photo's face region is about 4000x4000 pixels; warping and completing it there takes
seconds and over half a gigabyte of float arrays, though the warp's flow is smooth (a coarse grid,
upsampled) and the completion's shading is computed small anyway. So a region longer than
`REDUCED_SIDE` is edited on a copy reduced to that side, and the result is carried back at full
resolution: the reduced flow, upsampled, moves the region's own full-resolution pixels (the texture
stays sharp); the completion's shading multiplies them; what it painted (mouth interior, lash lines)
comes upsampled from the reduced edit, blended with its opacity. All of it band by band, so no
full-size float array of the region is ever made.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

logger = logging.getLogger(__name__)

#: Face regions longer than this (pixels) are edited on a reduced view of this longest side. Regions of
#: photos up to about 1600x1600 never are (a region is at most the photo).
REDUCED_SIDE = 1600
#: Rows of the full-resolution region carried back at a time (each band's float maps: a few MB).
BAND_ROWS = 128


def reduced_size(shape: tuple[int, int], side: int | None = None) -> tuple[int, int] | None:
    """(width, height) of the reduced view of a (height, width) region, or None when it needs none.

    ``side``: the longest side allowed (default `REDUCED_SIDE`)."""
    side = side or REDUCED_SIDE
    height, width = shape
    if max(height, width) <= side:
        return None
    factor = side / max(height, width)
    return max(2, round(width * factor)), max(2, round(height * factor))


def to_reduced(points: np.ndarray, scales: tuple[float, float]) -> np.ndarray:
    """(N, 2+) pixel positions in the region -> (N, 2) in the reduced view (pixel centres kept)."""
    return (np.asarray(points, np.float64)[:, :2] + 0.5) * scales - 0.5


def apply_at_full_resolution(
    image: np.ndarray,
    flow: np.ndarray,
    shading: np.ndarray,
    shaded: np.ndarray,
    completed: np.ndarray,
    painted: np.ndarray,
) -> np.ndarray:
    """The reduced edit carried back onto the full-resolution region ``image`` (a new array).

    Args:
        image: (H, W, 3) uint8 the region at full resolution.
        flow: (h, w, 2) float32 the backward flow of the reduced view's warp, reduced pixels.
        shading: (h, w) float32 log-luminance change of the completion's detail (reduced view).
        shaded: (h, w, 3) uint8 the reduced warp with that shading (what the completion painted over).
        completed: (h, w, 3) uint8 the completed reduced view.
        painted: (h, w) float32 opacity of what the completion painted (mouth interior, lash lines).

    Returns:
        (H, W, 3) uint8: each pixel warped with the upsampled flow and shaded, and where the completion
        painted, ``completed`` upsampled blended in with ``painted``. Where the reduced edit changed
        nothing the region's pixels are copied exactly.
    """
    height, width = image.shape[:2]
    h, w = flow.shape[:2]
    sx, sy = w / width, h / height
    moved = (flow[..., 0] != 0) | (flow[..., 1] != 0) | (shading != 0)
    differs = completed != shaded
    touched = differs[..., 0] | differs[..., 1] | differs[..., 2] | (painted > 0)
    out = image.copy()
    support = moved | touched
    rows = np.flatnonzero(support.any(axis=1))
    if len(rows) == 0:
        return out
    y0, y1 = _full_span(rows, sy, height)
    # What was painted, cropped to where it was (a mouth, two eyes: a small part of the view).
    paint_rows = np.flatnonzero(touched.any(axis=1))
    if len(paint_rows):
        paint_cols = np.flatnonzero(touched.any(axis=0))
        paint_x, paint_y = _full_span(paint_cols, sx, width), _full_span(paint_rows, sy, height)
        r0, r1 = max(paint_rows[0] - 2, 0), min(paint_rows[-1] + 3, h)
        c0, c1 = max(paint_cols[0] - 2, 0), min(paint_cols[-1] + 3, w)
        crop = (slice(r0, r1), slice(c0, c1))
        base = shaded[crop].astype(np.float32)
        change = completed[crop].astype(np.float32) - base  # what the completion painted
        alpha = np.ascontiguousarray(painted[crop])
    for top in range(y0, y1, BAND_ROWS):
        bottom = min(top + BAND_ROWS, y1)
        # the reduced rows this band reads (bilinear: one more each side); the columns they change
        first = max(int(np.floor((top + 0.5) * sy - 0.5)) - 1, 0)
        last = min(int(np.ceil((bottom - 0.5) * sy - 0.5)) + 2, h)
        cols = np.flatnonzero(support[first:last].any(axis=0))
        if len(cols) == 0:
            continue
        x0, x1 = _full_span(cols, sx, width)
        xs = ((np.arange(x0, x1, dtype=np.float32) + 0.5) * sx - 0.5)[None, :]
        ys = ((np.arange(top, bottom, dtype=np.float32) + 0.5) * sy - 0.5)[:, None]
        map_x = np.ascontiguousarray(np.broadcast_to(xs, (bottom - top, x1 - x0)))
        map_y = np.ascontiguousarray(np.broadcast_to(ys, (bottom - top, x1 - x0)))
        band_flow = _sample(flow, map_x, map_y)
        source_x = band_flow[..., 0] / sx + np.arange(x0, x1, dtype=np.float32)[None, :]
        source_y = band_flow[..., 1] / sy + np.arange(top, bottom, dtype=np.float32)[:, None]
        warped = cv2.remap(image, source_x, source_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        gain = np.exp(_sample(shading, map_x, map_y))
        sharp = cv2.multiply(warped, cv2.merge([gain, gain, gain]), dtype=cv2.CV_8U)
        out[top:bottom, x0:x1] = sharp
        if not len(paint_rows) or top >= paint_y[1] or bottom <= paint_y[0]:
            continue
        px0, px1 = max(paint_x[0], x0), min(paint_x[1], x1)
        if px1 <= px0:
            continue
        part = (slice(None), slice(px0 - x0, px1 - x0))
        mx, my = map_x[part] - np.float32(c0), map_y[part] - np.float32(r0)
        a = _sample(alpha, mx, my)[..., None]
        blended = sharp[part].astype(np.float32)
        blended += _sample(change, mx, my) - a * (blended - _sample(base, mx, my))
        out[top:bottom, px0:px1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return out


def _sample(small: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    """``small`` read (bilinearly, edges repeated) at the reduced-view positions ``map_x, map_y``."""
    return cv2.remap(small, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _full_span(indices: np.ndarray, scale: float, size: int) -> tuple[int, int]:
    """[start, stop) of the full-resolution pixels (of ``size``) whose reduced position (``scale``
    reduced pixels per pixel) lies within one reduced pixel of ``indices`` (sorted, not empty)."""
    start = max(0, int(np.floor((indices[0] - 1 + 0.5) / scale - 0.5)))
    stop = min(size, int(np.ceil((indices[-1] + 1 + 0.5) / scale - 0.5)) + 1)
    return start, stop
