"""Beard (stubble to a short beard): procedural hairs grown in the beard region, lit like the skin.

The region is `regions.beard_mask` (jaw, chin, lower cheeks and upper lip; lips excluded). Inside it:

1. a five-o'clock shadow: hair under and just through the skin darkens it a little and moves it toward
   blue-grey (a soft, low-frequency shift in CIELAB, more with strength);
2. short hair strokes, seeded where the region's alpha is high (so the edge along the cheek fades
   out) and unevenly (patches), in batches of different opacity and lightness, pointing the way
   facial hair grows: down the face, outward and down on the upper lip, down and toward the chin on
   the cheeks, each turned a little at random; longer and denser with strength (stubble at 1.0, a
   short beard toward 2.0);
3. each hair takes the colour of the person's own brows (their darker pixels), shaded by the skin's
   local lightness (hair in the shadow under the jaw is darker), blended with anti-aliased coverage.

The strokes follow the head's pose (`editor.appearance.pose`), so a turned or tilted head grows them
in its own directions. Removing a beard is refused: that needs a generative model.
"""

from __future__ import annotations

import cv2
import numpy as np

from editor.appearance.effect import Applied, Refusal, paste_rgb
from editor.appearance.pose import head_pose
from editor.appearance.regions import beard_mask, brow_mask, interocular, points
from editor.images import from_lab, to_lab
from editor.landmark_indices import OUTER_MOUTH_CORNERS

__all__ = ["apply", "hair_colour"]

#: Hairs per square interocular unit of full-alpha region at strength 1.0.
DENSITY = 2600.0
#: Hair length (interocular units) at strength 1.0, and how much each further unit of strength adds.
LENGTH = 0.022
LENGTH_GROWTH = 0.03
#: Hair width, interocular units (at least 1 pixel).
WIDTH = 0.0045
#: Hair opacity at strength 1.0 (fine hairs do not hide the skin fully).
OPACITY = 0.8
#: CIELAB shift of the five-o'clock shadow at strength 1.0 (darker, toward blue-grey).
SHADOW = np.array([-9.0, -2.0, -5.0], np.float32)
#: Random turn of each hair, degrees (standard deviation).
JITTER = 18.0
#: Why removing a beard is refused.
SHAVING = (
    "I can't shave a beard off: that needs repainting the skin under it, which only a generative "
    "(latent) backend can do, and none is installed."
)
#: The seed of the hair pattern (the same request gives the same beard).
SEED = 11


def apply(image: np.ndarray, landmarks: np.ndarray, strength: float, value: str | None) -> Applied:
    """Stubble (strength 1.0) up to a short beard (2.0) on (H, W, 3) uint8 RGB ``image``."""
    if strength < 0:
        raise Refusal(SHAVING)
    amount = float(np.clip(strength, 0.0, 2.0))
    region = beard_mask(landmarks, image.shape[:2])
    x0, y0, x1, y1 = region.box
    if amount == 0 or region.support == 0:
        return Applied(image.copy(), region, "beard")
    crop = image[y0:y1, x0:x1]
    lab = to_lab(crop)  # (h, w, 3)
    alpha = region.alpha
    unit = interocular(landmarks)
    # 1. The shadow of hair under the skin.
    shade = np.clip(lab[..., 0] / 60.0, 0.4, 1.0)[..., None]  # dark skin takes less of it
    lab = lab + (min(amount, 1.0) * alpha)[..., None] * shade * SHADOW
    # 2. The hairs' coverage (anti-aliased strokes) over the box.
    coverage, lift = _strokes(landmarks, region.box, alpha, amount, unit)  # (h, w) each
    # 3. Their colour: the brows', shaded by the skin's own local lightness.
    hair = hair_colour(image, landmarks)  # (3,) CIELAB
    light = cv2.GaussianBlur(lab[..., 0], (0, 0), 0.05 * unit)
    relative = np.clip(light / max(float(np.median(light[alpha > 0.5])), 1.0), 0.5, 1.3)
    hair_lab = np.empty_like(lab)
    hair_lab[..., 0] = np.maximum(hair[0] + lift, 2.0) * relative
    hair_lab[..., 1:] = hair[1:]
    # A hair narrower than a pixel (a small face) covers only part of the pixel it is drawn in.
    fine = float(np.clip(WIDTH * unit, 0.35, 1.0))
    weight = (coverage * alpha * OPACITY * fine * min(1.0, 0.6 + 0.4 * amount))[..., None]
    mixed = lab * (1.0 - weight) + hair_lab * weight
    rgb = crop * (1.0 - alpha[..., None]) + np.clip(from_lab(mixed), 0, 255) * alpha[..., None]
    return Applied(paste_rgb(image, region, rgb), region, "beard")


def hair_colour(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(3,) CIELAB colour of the person's facial hair: the darker half of the brow pixels."""
    brows = brow_mask(landmarks, image.shape[:2])
    lab = to_lab(brows.crop(image))[brows.alpha > 0.5]  # (N, 3)
    if len(lab) < 10:
        return np.array([25.0, 4.0, 8.0], np.float32)
    dark = lab[lab[:, 0] <= np.median(lab[:, 0])]
    colour = np.median(dark, axis=0).astype(np.float32)
    colour[0] = min(colour[0], 45.0)  # hair reads as hair only darker than the skin around it
    return colour


#: Hair batches: (share of the hairs, opacity, lightness offset in L units): darker hairs deeper in
#: the beard, lighter ones catching the light, so the hairs are not one flat colour.
BATCHES = ((0.3, 1.0, -6.0), (0.3, 0.8, 0.0), (0.25, 0.6, 6.0), (0.15, 0.45, 12.0))


def _strokes(
    landmarks: np.ndarray, box: tuple[int, int, int, int], alpha: np.ndarray, amount: float, unit: float
) -> tuple[np.ndarray, np.ndarray]:
    """((h, w) coverage 0..1, (h, w) lightness offset) of short hair strokes seeded by ``alpha``.

    Seeds are uniform in the box, kept with probability alpha^1.5 times a patchiness field (beards
    grow unevenly), and drawn in `BATCHES` of different opacity and lightness.
    """
    x0, y0, x1, y1 = box
    height, width = y1 - y0, x1 - x0
    rng = np.random.default_rng(SEED)
    area = float(alpha.sum()) / unit**2  # full-alpha interocular units
    count = int(DENSITY * area * min(amount, 1.5))
    patches = cv2.GaussianBlur(rng.uniform(0, 1, (height, width)).astype(np.float32), (0, 0), 0.04 * unit)
    patches = np.clip(0.5 + (patches - patches.mean()) / (patches.std() + 1e-6) * 0.25, 0.1, 1.0)
    candidates = rng.uniform((0, 0), (width, height), size=(int(1.6 * count / max(alpha.mean(), 0.05)), 2))
    rows = np.clip(candidates[:, 1].astype(int), 0, height - 1)
    columns = np.clip(candidates[:, 0].astype(int), 0, width - 1)
    keep = rng.uniform(size=len(candidates)) < alpha[rows, columns] ** 1.5 * patches[rows, columns]
    seeds = candidates[keep][:count]  # (N, 2) box pixels
    directions = _growth(landmarks, seeds + (x0, y0), unit)  # (N, 2) unit vectors
    angles = np.radians(rng.normal(0.0, JITTER, len(seeds)))
    cos, sin = np.cos(angles)[:, None], np.sin(angles)[:, None]
    turned = np.concatenate([directions[:, :1] * cos - directions[:, 1:] * sin,
                             directions[:, :1] * sin + directions[:, 1:] * cos], axis=1)  # fmt: skip
    length = unit * (LENGTH + LENGTH_GROWTH * max(0.0, amount - 1.0))
    ends = seeds + turned * length * rng.uniform(0.5, 1.3, (len(seeds), 1))
    lines = np.round(np.stack([seeds, ends], axis=1) * 16).astype(np.int32)  # (N, 2, 2), 4 fractional bits
    thickness = max(1, int(round(WIDTH * unit)))
    clear = np.ones((height, width), np.float32)  # product of (1 - coverage) over the batches
    offset = np.zeros((height, width), np.float32)
    total = np.zeros((height, width), np.float32)
    start = 0
    for share, opacity, lightness in BATCHES:
        batch = lines[start : start + int(round(share * len(lines)))]
        start += len(batch)
        canvas = np.zeros((height, width), np.uint8)
        cv2.polylines(canvas, list(batch), False, 255, thickness, cv2.LINE_AA, shift=4)
        cover = canvas.astype(np.float32) * (opacity / 255.0)
        clear *= 1.0 - cover
        offset += cover * lightness
        total += cover
    return 1.0 - clear, offset / np.maximum(total, 1e-6)


def _growth(landmarks: np.ndarray, where: np.ndarray, unit: float) -> np.ndarray:
    """(N, 2) unit directions facial hair grows at photo pixels ``where`` (N, 2)."""
    pose = head_pose(landmarks)
    across = pose.rotation[:2, 0] / np.linalg.norm(pose.rotation[:2, 0])  # (2,) toward the image's right
    down = pose.rotation[:2, 1] / np.linalg.norm(pose.rotation[:2, 1])  # (2,) toward the chin
    corners = points(landmarks, OUTER_MOUTH_CORNERS)
    mouth = corners.mean(axis=0)
    u = (where - mouth) @ across / unit  # (N,) across the face, interocular units
    v = (where - mouth) @ down / unit  # (N,) down the face from the mouth
    side = np.sign(u)
    upper_lip = v < -0.05
    outward = np.where(upper_lip, 0.9, np.where(np.abs(u) > 0.45, -0.3, 0.0)) * side  # chin: straight down
    vectors = down[None, :] + outward[:, None] * across[None, :]
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
