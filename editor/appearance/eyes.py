"""Eye colour: the irises recoloured, pupil, catch-lights, lids and lashes left as they are.

The iris disc comes from MediaPipe's iris landmarks (centre and 4 outline points), clipped by the
eyelids. Inside it, the pupil (the darkest pixels near the centre) and catch-lights (the brightest)
are taken out by their lightness, softly, so their edges stay round. The remaining iris keeps its
radial texture: only its mean colour moves, and its lightness pattern is kept.

Two things every real iris shows and a recoloured dark one would lack (without them a brown iris
turned green reads as a flat painted disc, a coloured contact lens): a darker limbal ring at the
iris's outer edge, and the radial fibres of the stroma. The ring is added in proportion to the edit;
the fibres (a fixed radial pattern: random angular profiles, seeded, blended over the radius) only as
far as the iris's own lightness texture is too weak to show them.
"""

from __future__ import annotations

import functools

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
#: ... and always the disc within this fraction (a pupil is a quarter to a third of the iris across in
#: indoor light): in a dark brown iris the pupil is no darker than the iris, so lightness cannot find it.
PUPIL_MIN = 0.28
#: Catch-lights: pixels this much lighter (L units) than the iris median are left alone.
CATCHLIGHT_MARGIN = 22.0
#: Limbal ring: lightness multiplied down by up to this fraction from `LIMBAL_START` radii to the edge.
LIMBAL_DEPTH = 0.35
LIMBAL_START = 0.7
#: Stroma fibres: lightness amplitude (L units, robust spread) an iris texture needs to read as an iris;
#: an iris whose own texture is weaker gets fibres making up the difference.
FIBRE_SPREAD = 5.0


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
    new[..., 0] = _iris_structure(new[..., 0], lab[..., 0], region, landmarks, amount)
    return Applied(paste(image, region, new), region, name, goal)


def _iris_structure(
    lightness: np.ndarray, original: np.ndarray, region: RegionMask, landmarks: np.ndarray, amount: float
) -> np.ndarray:
    """(h, w) recoloured ``lightness`` with a limbal ring and, where the iris's own texture is weak,
    stroma fibres; both weighted by the region's alpha and by ``amount``."""
    x0, y0 = region.box[:2]
    ys, xs = np.mgrid[0 : lightness.shape[0], 0 : lightness.shape[1]].astype(np.float32)
    distance = np.full(lightness.shape, np.inf, np.float32)  # (h, w) radii from the nearer iris centre
    angle = np.zeros(lightness.shape, np.float32)
    for side in ("right", "left"):
        centre, radius = iris_circle(landmarks, side)
        dx, dy = xs + x0 - centre[0], ys + y0 - centre[1]
        own = np.hypot(dx, dy) / max(radius, 1e-6)
        nearer = own < distance
        distance[nearer], angle[nearer] = own[nearer], np.arctan2(dy, dx)[nearer]
    weight = region.alpha * amount  # (h, w)
    inside = region.alpha > 0.5
    if inside.any():
        values = original[inside]
        spread = 1.4826 * float(np.median(np.abs(values - np.median(values))))
        missing = max(FIBRE_SPREAD - spread, 0.0)
        lightness = lightness + weight * missing * _fibres(distance, angle)
    ring = np.clip((distance - LIMBAL_START) / (1.0 - LIMBAL_START), 0.0, 1.0) ** 2
    return lightness * (1.0 - weight * LIMBAL_DEPTH * ring)


def _fibres(distance: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """(h, w) radial stroma pattern, zero mean and unit spread: two angular profiles (`_fibre_profiles`)
    blended across the radius so the fibres wander a little."""
    turns, inner, outer = _fibre_profiles()
    inner_at, outer_at = (np.interp(angle, turns, p).astype(np.float32) for p in (inner, outer))
    blend = np.clip(distance, 0.0, 1.0)
    pattern = (1.0 - blend) * inner_at + blend * outer_at
    return pattern / max(float(pattern.std()), 1e-6)


@functools.cache
def _fibre_profiles(seed: int = 11, samples: int = 2048) -> tuple[np.ndarray, ...]:
    """(angles (samples + 1,), two profiles (samples + 1,)): sums of 60 random harmonics (8-67 fibres
    per turn, amplitude falling as 1 / sqrt(k)), tabulated once over a full turn."""
    rng = np.random.default_rng(seed)
    harmonics = np.arange(8, 68, dtype=np.float64)  # (60,) fibres per turn
    turns = np.linspace(-np.pi, np.pi, samples + 1)  # arctan2's range, both ends included
    profiles = []
    for _ in range(2):
        phases = rng.uniform(0, 2 * np.pi, harmonics.size)
        amplitudes = rng.uniform(0.5, 1.0, harmonics.size) / np.sqrt(harmonics)
        profiles.append((amplitudes * np.cos(np.outer(turns, harmonics) + phases)).sum(axis=1))
    return (turns, *profiles)


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
    pupil = ((distance < PUPIL_RADIUS) & (lightness < dark)) | (distance < PUPIL_MIN)
    catchlight = lightness > median + CATCHLIGHT_MARGIN
    exclude = (pupil | catchlight).astype(np.float32)
    sigma = max(0.5, 0.06 * radius)
    exclude = np.clip(cv2.GaussianBlur(exclude, (0, 0), sigma) * 1.5, 0.0, 1.0)
    return RegionMask((disc.alpha * (1.0 - exclude)).astype(np.float32), disc.box, disc.shape)
