"""Tan (negative: paler): the skin of face, ears and neck shifted the way sun shifts it.

Sun darkens skin and moves it toward yellow-orange (melanin: lower L, higher b, a little more a);
paler is the opposite, with a slight loss of yellow. The shift is additive in CIELAB, so freckles,
pores and shading stay, and it is weighted by the skin mask (a colour model around the face oval), so
eyes, brows, lips, hair and background stay as they were.
"""

from __future__ import annotations

import numpy as np

from editor.appearance.effect import Applied, paste
from editor.appearance.regions import skin_mask
from editor.images import to_lab

#: CIELAB shift of a clear tan (strength 1.0).
TAN_SHIFT = np.array([-9.0, 1.5, 7.0], np.float32)
#: CIELAB shift of clearly paler skin (strength -1.0).
PALE_SHIFT = np.array([7.0, -2.5, -5.0], np.float32)


def apply(image: np.ndarray, landmarks: np.ndarray, strength: float, value: str | None) -> Applied:
    """Tan at ``strength`` (negative: paler) on (H, W, 3) uint8 RGB ``image``; ``value`` is unused."""
    region = skin_mask(landmarks, image)
    lab = to_lab(region.crop(image))  # (h, w, 3)
    amount = float(np.clip(abs(strength), 0.0, 1.5))
    shift = (TAN_SHIFT if strength >= 0 else PALE_SHIFT) * amount
    # Dark pixels (shadows, stubble) take less of the shift, as pigment shows least there.
    light = np.clip(lab[..., 0] / 60.0, 0.3, 1.0)[..., None]  # (h, w, 1)
    new = lab + region.alpha[..., None] * light * shift
    goal = None
    return Applied(paste(image, region, new), region, "tan" if strength >= 0 else "pale", goal)
