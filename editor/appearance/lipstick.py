"""Lipstick: the lips recoloured in CIELAB, their own shading and texture kept, matte by default.

Positive strength moves the lips' mean colour toward the shade (1.0 = the shade reached, on average);
highlights are toned down a little (matte). Negative strength gives natural, bare lips: chroma pulled
toward a soft rose-beige, as lips look without colour.
"""

from __future__ import annotations

import numpy as np

from editor.appearance.colour import LIPSTICK, recolour, target, weighted_mean
from editor.appearance.effect import Applied, paste
from editor.appearance.regions import lips_mask
from editor.images import to_lab

#: Colour used when the request names none.
DEFAULT_SHADE = "red"
#: Natural lips (CIELAB): where negative strength moves the colour.
BARE_LIPS = np.array([58.0, 16.0, 12.0], np.float32)
#: Lightness offsets above the mean are multiplied by this at full strength (matte: fewer highlights).
MATTE = 0.7
#: Bounds of the factor (shade's L* / lips' L*) the lips' shading offsets are scaled by.
SHADING_RANGE = (0.6, 1.6)


def apply(image: np.ndarray, landmarks: np.ndarray, strength: float, value: str | None) -> Applied:
    """Lipstick of colour ``value`` at ``strength`` on (H, W, 3) uint8 RGB ``image``."""
    region = lips_mask(landmarks, image.shape[:2])
    lab = to_lab(region.crop(image))  # (h, w, 3)
    if strength >= 0:
        name, goal = target(LIPSTICK, value, DEFAULT_SHADE)
        amount = float(min(strength, 1.0))
        # Light and shade multiply what the lips reflect: the shading's lightness offsets scale with
        # the shade's lightness against the lips' own (dark lips under a light shade show their form
        # and lines more, light lips under a dark shade less), a little flatter for matte.
        core = region.alpha > 0.5  # the lips themselves, not the skin their soft edge reaches into
        lips_l = (
            float(np.median(lab[..., 0][core])) if core.any() else float(weighted_mean(lab, region.alpha)[0])
        )
        contrast = 0.9 * float(np.clip(goal[0] / max(lips_l, 1.0), *SHADING_RANGE))
        new = recolour(lab, region.alpha, goal, amount, contrast=contrast, chroma_texture=0.4)
        bright = np.maximum(new[..., 0] - weighted_mean(new, region.alpha)[0], 0.0)
        new[..., 0] -= amount * (1 - MATTE) * bright * region.alpha
        return Applied(paste(image, region, new), region, name, goal)
    amount = float(min(-strength, 1.0))
    mean = weighted_mean(lab, region.alpha)
    goal = np.array([mean[0], *BARE_LIPS[1:]], np.float32)  # keep lightness, lose the colour
    new = recolour(lab, region.alpha, goal, amount, contrast=1.0, chroma_texture=0.7)
    return Applied(paste(image, region, new), region, "nude", goal)
