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

#: CIELAB shift of a clear tan (strength 1.0): one step of the Individual Typology Angle's skin classes
#: (ITA = atan((L* - 50) / b*); the classes, e.g. "light" 41-55 deg and "intermediate" 28-41 deg, are
#: 13-18 deg wide; Chardon, Cretois & Hourseau 1991). On the 54 London calibration people's cheek colour
#: this shift lowers the ITA by 15 deg (median; IQR 13-17). The former shift, twice this (ITA -30 deg,
#: two classes), turned light skin orange-brown at strength 1.0.
TAN_SHIFT = np.array([-4.5, 0.75, 3.5], np.float32)
#: CIELAB shift of clearly paler skin (strength -1.0): about one ITA class the other way.
PALE_SHIFT = np.array([3.5, -1.25, -2.5], np.float32)


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
