"""Makeup: blush, eyeliner, eyeshadow and mascara, layered; plain "makeup" is a light everyday set.

Each product is a soft region from the landmarks and a colour laid on like a pigment: the region's
lightness is multiplied down (never lifted, so highlights stay) and its chroma moved toward the
product's, in proportion to the region's alpha and the strength. Removing makeup a person wears
cannot be done honestly without a model of their bare skin: negative strength is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np

from editor.appearance.effect import Applied, Refusal, paste
from editor.appearance.regions import (
    CHEEK_POINTS,
    RegionMask,
    eyelid_mask,
    features_mask,
    interocular,
    points,
    polygon_mask,
)
from editor.images import to_lab
from editor.landmark_indices import face_mesh_indices

#: Why removing makeup is refused.
REMOVAL = (
    "I can't remove makeup: I have no way to know the skin under it, and painting over it would "
    "look fake. I can add blush, eyeliner, eyeshadow and mascara."
)
#: Product -> (CIELAB colour, opacity at strength 1.0).
PRODUCTS: MappingProxyType[str, tuple[tuple[float, float, float], float]] = MappingProxyType(
    {
        "blush": ((58.0, 38.0, 14.0), 0.35),
        "eyeshadow": ((45.0, 14.0, 10.0), 0.45),
        "eyeliner": ((12.0, 2.0, 0.0), 0.85),
        "mascara": ((8.0, 1.0, 0.0), 0.7),
    }
)
#: The everyday set: product -> its share of the strength.
EVERYDAY: MappingProxyType[str, float] = MappingProxyType(
    {"blush": 0.8, "eyeshadow": 0.6, "eyeliner": 0.7, "mascara": 0.9}
)


def apply(image: np.ndarray, landmarks: np.ndarray, strength: float, value: str | None) -> Applied:
    """The everyday set at ``strength`` on (H, W, 3) uint8 RGB ``image`` (``value`` unused)."""
    if strength < 0:
        raise Refusal(REMOVAL)
    return apply_products(image, landmarks, {p: share * strength for p, share in EVERYDAY.items()})


def apply_products(image: np.ndarray, landmarks: np.ndarray, amounts: Mapping[str, float]) -> Applied:
    """Lay each product in ``amounts`` (product -> strength) on ``image``, in a fixed order."""
    out, region = image, None
    for product in PRODUCTS:
        if amounts.get(product, 0.0) <= 0:
            continue
        colour, opacity = PRODUCTS[product]
        area = REGIONS[product](landmarks, image)
        out = _pigment(out, area, np.asarray(colour, np.float32), opacity * min(amounts[product], 1.5))
        region = area if region is None else region.union(area)
    if region is None:
        region = RegionMask(np.zeros((0, 0), np.float32), (0, 0, 0, 0), image.shape[:2])
    return Applied(out if out is not image else image.copy(), region, "makeup")


def _pigment(image: np.ndarray, region: RegionMask, colour: np.ndarray, opacity: float) -> np.ndarray:
    """Lay a pigment of CIELAB ``colour`` over ``region`` at ``opacity`` (multiplicative lightness)."""
    if region.support == 0:
        return image
    lab = to_lab(region.crop(image))  # (h, w, 3)
    weight = np.clip(region.alpha * opacity, 0.0, 1.0)  # (h, w)
    new = lab.copy()
    factor = np.minimum(1.0, colour[0] / np.maximum(lab[..., 0], 1.0))
    new[..., 0] = lab[..., 0] * (1.0 - weight * (1.0 - factor))
    new[..., 1:] = lab[..., 1:] + weight[..., None] * (colour[1:] - lab[..., 1:])
    return paste(image, region, new)


def blush_region(landmarks: np.ndarray, image: np.ndarray) -> RegionMask:
    """Soft ovals on the cheekbones, slanting up toward the temples."""
    unit = interocular(landmarks)
    shape = image.shape[:2]
    ovals = []
    for index, outward in zip(CHEEK_POINTS, (-1.0, 1.0), strict=True):
        centre = landmarks[index, :2].astype(np.float64) + [outward * 0.08 * unit, -0.02 * unit]
        t = np.linspace(0, 2 * np.pi, 32, endpoint=False)
        oval = np.stack([0.26 * unit * np.cos(t), 0.15 * unit * np.sin(t)], axis=1)
        angle = -outward * 0.35
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        ovals.append(centre + oval @ rotation.T)
    return polygon_mask(ovals, shape, feather=0.12 * unit).minus(features_mask(landmarks, shape))


def eyeshadow_region(landmarks: np.ndarray, image: np.ndarray) -> RegionMask:
    """Both upper lids up to the crease."""
    shape = image.shape[:2]
    return eyelid_mask(landmarks, shape, "right").union(eyelid_mask(landmarks, shape, "left"))


def _lash_band(landmarks: np.ndarray, image: np.ndarray, width: float, flick: float) -> RegionMask:
    """A band along each upper lash line, ``width`` interocular units thick, thicker at the outer end."""
    unit = interocular(landmarks)
    idx = face_mesh_indices()
    bands = []
    for chain in (idx.right_eye_upper, idx.left_eye_upper):  # outer corner first
        line = points(landmarks, chain)
        taper = np.linspace(1.0, 0.35, len(line))[:, None]  # thick outside, thin at the inner corner
        top = line - np.array([0.0, width * unit]) * taper
        tip = line[0] + (line[0] - line[1]) * 0.6 - [0.0, flick * unit]
        bands.append(np.concatenate([[tip], top, line[::-1]]))
    return polygon_mask(bands, image.shape[:2], feather=0.012 * unit + 0.3)


def eyeliner_region(landmarks: np.ndarray, image: np.ndarray) -> RegionMask:
    """A thin line on each upper lash line with a small flick at the outer corner."""
    return _lash_band(landmarks, image, 0.035, 0.03)


def mascara_region(landmarks: np.ndarray, image: np.ndarray) -> RegionMask:
    """The lashes just above the upper lash line (darkened where they are already dark)."""
    band = _lash_band(landmarks, image, 0.07, 0.0)
    lightness = to_lab(band.crop(image))[..., 0]  # (h, w)
    dark = np.clip((np.median(lightness[band.alpha > 0.5]) - lightness) / 20.0 + 0.3, 0.0, 1.0) if (
        band.alpha > 0.5).any() else np.zeros_like(lightness)  # fmt: skip
    return RegionMask((band.alpha * dark).astype(np.float32), band.box, band.shape)


#: Product -> its region builder.
REGIONS: MappingProxyType[str, Callable[[np.ndarray, np.ndarray], RegionMask]] = MappingProxyType(
    {
        "blush": blush_region,
        "eyeshadow": eyeshadow_region,
        "eyeliner": eyeliner_region,
        "mascara": mascara_region,
    }
)
