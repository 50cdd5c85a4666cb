"""What every appearance effect returns, and the one way an effect writes pixels (inside its region)."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from editor.appearance.regions import RegionMask
from editor.images import from_lab

__all__ = ["Applied", "Refusal", "paste", "paste_pixels", "paste_rgb", "region_pixels"]


class Refusal(Exception):
    """An edit this backend will not fake; the message is the sentence for the person."""


@dataclass(frozen=True)
class Applied:
    """One appearance edit's result.

    Attributes:
        image: (H, W, 3) uint8 RGB, the input outside ``region`` bit for bit.
        region: where the edit acted (alpha > 0).
        colour: the colour name aimed at (None for effects without one).
        goal: (3,) CIELAB colour the region's mean was moved toward (None without a colour goal).
        notes: caveats for the person.
        measures: numbers for diagnostics (filled by the backend's measurement).
    """

    image: np.ndarray
    region: RegionMask
    colour: str | None = None
    goal: np.ndarray | None = None
    notes: tuple[str, ...] = ()
    measures: dict[str, float] = field(default_factory=dict)


def paste(image: np.ndarray, region: RegionMask, lab: np.ndarray) -> np.ndarray:
    """A copy of ``image`` whose pixels under ``region`` (alpha > 0) become ``lab`` (CIELAB, box-sized).

    Pixels where alpha is 0 are copied, not round-tripped through CIELAB, so they stay bit-identical.

    Args:
        image: (H, W, 3) uint8 RGB.
        region: the region; ``lab`` covers its box.
        lab: (h, w, 3) float32 CIELAB, already blended by the region's alpha.
    """
    out = image.copy()
    x0, y0, x1, y1 = region.box
    if x1 <= x0 or y1 <= y0:
        return out
    rgb = np.clip(np.round(from_lab(lab)), 0, 255).astype(np.uint8)  # (h, w, 3)
    inside = region.alpha > 0
    slot = out[y0:y1, x0:x1]
    slot[inside] = rgb[inside]
    return out


def paste_rgb(image: np.ndarray, region: RegionMask, rgb: np.ndarray) -> np.ndarray:
    """A copy of ``image`` whose pixels under ``region`` (alpha > 0) become ``rgb`` (box-sized).

    Args:
        image: (H, W, 3) uint8 RGB.
        region: the region; ``rgb`` covers its box.
        rgb: (h, w, 3) float RGB 0..255, already composited; rounded and clipped here.
    """
    out = image.copy()
    x0, y0, x1, y1 = region.box
    if x1 <= x0 or y1 <= y0:
        return out
    inside = (region.alpha > 0)[..., None]  # (h, w, 1)
    positive = cv2.threshold(np.ascontiguousarray(rgb, np.float32), 0, 0, cv2.THRESH_TOZERO)[1]
    np.copyto(out[y0:y1, x0:x1], cv2.convertScaleAbs(positive), where=inside)  # rounded, saturated at 255
    return out


def region_pixels(image: np.ndarray, region: RegionMask) -> tuple[np.ndarray, np.ndarray]:
    """((1, N, 3) uint8 pixels, (1, N) float32 alphas) of ``image`` where ``region``'s alpha > 0.

    An effect that works pixel by pixel computes only these (a region's box is often mostly empty)
    and writes them back with `paste_pixels`.
    """
    indices = region.pixel_indices()  # (N,) into the photo's pixels
    alpha = region.alpha.reshape(-1)[np.flatnonzero(region.alpha > 0)]  # (N,)
    return np.take(np.ascontiguousarray(image).reshape(-1, 3), indices, axis=0)[None], alpha[None]


def paste_pixels(image: np.ndarray, region: RegionMask, lab: np.ndarray) -> np.ndarray:
    """A copy of ``image`` whose pixels under ``region`` (alpha > 0) become ``lab``: (1, N, 3) float32
    CIELAB in `region_pixels` order, already blended. The same values `paste` writes for them."""
    out = image.copy()  # contiguous
    x0, y0, x1, y1 = region.box
    if x1 <= x0 or y1 <= y0 or lab.size == 0:
        return out
    rgb = np.clip(np.round(from_lab(lab)), 0, 255).astype(np.uint8)  # (1, N, 3)
    out.reshape(-1, 3)[region.pixel_indices()] = rgb[0]
    return out
