"""Eye colour: the irises recoloured, pupil, catch-lights, lids and lashes left as they are.

The iris disc comes from MediaPipe's iris landmarks (centre and 4 outline points), clipped by the
eyelids. Inside it, the pupil (the darkest pixels near the centre) and catch-lights (the brightest)
are taken out by their lightness, softly, so their edges stay round. The remaining iris keeps its
radial texture: only its mean colour moves, and its lightness pattern is kept.
"""

from __future__ import annotations

import cv2
import numpy as np

from editor.appearance.colour import IRIS, recolour, target
from editor.appearance.effect import Applied, paste
from editor.appearance.regions import RegionMask, iris_circle, iris_mask
from editor.images import to_lab

#: Colour used when the request names none.
DEFAULT_COLOUR = "blue"
#: Pupil: within this fraction of the iris radius, pixels darker than the iris's dark percentile.
PUPIL_RADIUS = 0.45
#: Catch-lights: pixels this much lighter (L units) than the iris median are left alone.
CATCHLIGHT_MARGIN = 22.0


def apply(image: np.ndarray, landmarks: np.ndarray, strength: float, value: str | None) -> Applied:
    """Irises of colour ``value`` at ``strength`` (negative: treated as its size, the colour is the aim)."""
    name, goal = target(IRIS, value, DEFAULT_COLOUR)
    amount = float(min(abs(strength), 1.0))
    shape = image.shape[:2]
    region = None
    for side in ("right", "left"):
        disc = iris_mask(landmarks, shape, side)
        if disc.support == 0:
            continue
        centre, radius = iris_circle(landmarks, side)
        keep = _iris_only(to_lab(disc.crop(image)), disc, centre, radius)
        region = keep if region is None else region.union(keep)
    if region is None:
        empty = iris_mask(landmarks, shape, "right").scaled(0.0)
        note = "The eyes are closed or hidden, so there was no iris to recolour."
        return Applied(image.copy(), empty, name, goal, notes=(note,))
    lab = to_lab(region.crop(image))  # (h, w, 3)
    new = recolour(lab, region.alpha, goal, amount, contrast=1.0, chroma_texture=0.6)
    return Applied(paste(image, region, new), region, name, goal)


def _iris_only(lab: np.ndarray, disc: RegionMask, centre: np.ndarray, radius: float) -> RegionMask:
    """``disc`` with the pupil and catch-lights removed (both found by lightness), soft edged."""
    lightness = lab[..., 0]  # (h, w)
    inside = disc.alpha > 0.5
    if not inside.any():
        return disc
    x0, y0 = disc.box[:2]
    ys, xs = np.mgrid[0 : lightness.shape[0], 0 : lightness.shape[1]]
    distance = np.hypot(xs + x0 - centre[0], ys + y0 - centre[1]) / max(radius, 1e-6)  # (h, w) in radii
    values = lightness[inside]
    median = float(np.median(values))
    ring = values[distance[inside] > PUPIL_RADIUS]
    dark = float(np.percentile(ring, 10)) if ring.size else median
    pupil = (distance < PUPIL_RADIUS) & (lightness < dark)
    catchlight = lightness > median + CATCHLIGHT_MARGIN
    exclude = (pupil | catchlight).astype(np.float32)
    sigma = max(0.5, 0.06 * radius)
    exclude = np.clip(cv2.GaussianBlur(exclude, (0, 0), sigma) * 1.5, 0.0, 1.0)
    return RegionMask((disc.alpha * (1.0 - exclude)).astype(np.float32), disc.box, disc.shape)
