"""Soft region masks of a face from its 478 MediaPipe landmarks: lips, irises, eyes, skin, beard area.

Every mask is a `RegionMask`: an alpha (0..1, float32) over a small box of the photo, exactly zero
outside that box and wherever the region does not reach, so an edit blended through it leaves every
other pixel bit-identical. The appearance backend and the latent backend both build their regions
here; nothing here edits pixels.

Conventions: ``landmarks`` is (478, 2|3) in pixels (only x, y are used), ``shape`` is the photo's
(height, width). Feathering is measured in units of the face's interocular distance, so masks scale
with the face, not the photo.
"""

from __future__ import annotations

import functools
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from editor.landmark_indices import (
    CHIN,
    LEFT_BROW_LOWER,
    LEFT_BROW_UPPER,
    OUTER_MOUTH_CORNERS,
    RIGHT_BROW_LOWER,
    RIGHT_BROW_UPPER,
    as_array,
    face_mesh_indices,
)

__all__ = [
    "RegionMask",
    "beard_mask",
    "brow_mask",
    "eye_band_mask",
    "eye_opening_mask",
    "eyelid_mask",
    "features_mask",
    "iris_circle",
    "face_oval_mask",
    "interocular",
    "iris_mask",
    "lips_mask",
    "mahalanobis",
    "mouth_opening_mask",
    "points",
    "polygon_mask",
    "skin_mask",
]

#: The face-oval points at the ears (subject's right, left) and the point under the nose.
EAR_POINTS = (234, 454)
SUBNASALE = 2
#: Cheek (blush) centres: on the cheekbone under the outer half of each eye.
CHEEK_POINTS = (50, 280)  # subject's right, left


#: Photos whose colour-model masks (`per_photo`) are kept, most recent first.
CACHED_PHOTOS = 2


def per_photo(function: Callable[..., RegionMask]) -> Callable[..., RegionMask]:
    """Cache ``function(landmarks, image, **options)`` for the last `CACHED_PHOTOS` photos.

    A mask that reads the photo's colours (hair, skin) is the same for every edit of the same photo
    (a preview, another colour, the next turn), so it is computed once. The key is a CRC-32 of the
    photo's and the landmarks' bytes with their shapes (computed in about a millisecond at
    1350x1350), and the options; a cached `RegionMask` is shared, so callers must not write into it.
    """
    cache: OrderedDict[tuple, RegionMask] = OrderedDict()
    lock = threading.Lock()

    @functools.wraps(function)
    def cached(landmarks: np.ndarray, image: np.ndarray, **options) -> RegionMask:
        points = np.ascontiguousarray(landmarks, np.float32)
        photo = np.ascontiguousarray(image)
        key = (
            zlib.crc32(memoryview(photo).cast("B")), photo.shape, photo.dtype.str,
            zlib.crc32(memoryview(points).cast("B")), points.shape, tuple(sorted(options.items())),
        )  # fmt: skip
        with lock:
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
        mask = function(landmarks, image, **options)
        mask.alpha.setflags(write=False)
        with lock:
            cache[key] = mask
            while len(cache) > CACHED_PHOTOS:
                cache.popitem(last=False)
        return mask

    cached.cache_clear = cache.clear  # type: ignore[attr-defined]
    return cached


#: Feathers wider than this (sigma, pixels) are computed at a reduced scale where sigma is this wide.
FEATHER_PIXELS = 4.0


@dataclass(frozen=True)
class RegionMask:
    """A soft region of a photo.

    Attributes:
        alpha: (h, w) float32 in [0, 1], the region's weight over ``box``; 0 outside the region.
        box: (x0, y0, x1, y1) exclusive pixel box of ``alpha`` inside the photo.
        shape: (height, width) of the photo.
    """

    alpha: np.ndarray
    box: tuple[int, int, int, int]
    shape: tuple[int, int]

    @property
    def area(self) -> float:
        """The region's size: sum of alpha, in pixels."""
        return float(self.alpha.sum())

    @property
    def support(self) -> int:
        """Pixels the region touches at all (alpha > 0)."""
        return int(np.count_nonzero(self.alpha))

    def pixel_indices(self) -> np.ndarray:
        """(N,) intp indices of the pixels with alpha > 0 into the photo's flattened (H * W) grid, row
        by row: the order in which boolean indexing of the box visits them."""
        width = max(self.box[2] - self.box[0], 1)
        inside = np.flatnonzero(self.alpha > 0)  # (N,) in the box
        rows, cols = np.divmod(inside, width)
        return (rows + self.box[1]) * self.shape[1] + (cols + self.box[0])

    def full(self) -> np.ndarray:
        """(H, W) float32 alpha over the whole photo."""
        out = np.zeros(self.shape, np.float32)
        x0, y0, x1, y1 = self.box
        out[y0:y1, x0:x1] = self.alpha
        return out

    def crop(self, image: np.ndarray) -> np.ndarray:
        """The part of an (H, W, ...) array under ``box`` (a view)."""
        x0, y0, x1, y1 = self.box
        return image[y0:y1, x0:x1]

    def __mul__(self, other: RegionMask) -> RegionMask:
        """Intersection (product of alphas) over this mask's box."""
        return RegionMask(self.alpha * _resample(other, self.box), self.box, self.shape)

    def minus(self, other: RegionMask) -> RegionMask:
        """This region with ``other`` taken out (alpha * (1 - other)); only the boxes' overlap is
        computed (a small feature mask taken out of a large region costs its own size)."""
        alpha = self.alpha.copy()
        overlap = _overlap(self.box, other.box)
        if overlap is not None:
            mine = _view(alpha, self.box, overlap)
            mine *= 1.0 - _view(other.alpha, other.box, overlap)
        return RegionMask(alpha, self.box, self.shape)

    def union(self, other: RegionMask) -> RegionMask:
        """Both regions (max of alphas) over the box holding both."""
        box = _union_box(self.box, other.box)
        alpha = _resample(self, box)  # a new array: ``other`` is merged into it where it reaches
        overlap = _overlap(box, other.box)
        if overlap is not None:
            mine = _view(alpha, box, overlap)
            np.maximum(mine, _view(other.alpha, other.box, overlap), out=mine)
        return RegionMask(alpha, box, self.shape)

    def scaled(self, factor: float) -> RegionMask:
        """Alpha times ``factor``, clipped to [0, 1]."""
        return RegionMask(np.clip(self.alpha * factor, 0.0, 1.0).astype(np.float32), self.box, self.shape)


def interocular(landmarks: np.ndarray) -> float:
    """Distance between the iris centres (468, 473), pixels."""
    return float(np.linalg.norm(landmarks[468, :2] - landmarks[473, :2]))


def polygon_mask(
    polygons: list[np.ndarray],
    shape: tuple[int, int],
    *,
    feather: float = 0.0,
    grow: float = 0.0,
    inside: bool = False,
) -> RegionMask:
    """Filled polygons as a soft mask.

    Args:
        polygons: each (N, 2) pixel coordinates.
        shape: the photo's (height, width).
        feather: Gaussian sigma of the soft edge, pixels (0: a hard edge).
        grow: pixels to dilate (> 0) or erode (< 0) before feathering.
        inside: keep the soft edge inside the polygons (alpha 0 on the outline, nothing beyond it),
            for regions that must not spill (lips onto skin).
    """
    height, width = shape
    points = np.concatenate([np.asarray(p, np.float64)[:, :2] for p in polygons])
    pad = int(np.ceil(3 * feather + max(grow, 0.0))) + 2
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + pad + 1
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x1 <= x0 or y1 <= y0:
        return RegionMask(np.zeros((0, 0), np.float32), (0, 0, 0, 0), shape)
    # Wide feathers are drawn and blurred at a reduced scale (a blur needs no more detail), then
    # brought back to full resolution: the cost follows the region's shape, not its pixel count.
    scale = min(1.0, FEATHER_PIXELS / feather) if feather > 0 else 1.0
    size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    canvas = np.zeros(size[::-1], np.uint8)  # (h', w') filled at 255
    shifted = [np.round((np.asarray(p)[:, :2] - (x0, y0)) * scale * 4).astype(np.int32) for p in polygons]
    for polygon in shifted:  # one at a time: fillPoly would cut overlaps out as holes
        cv2.fillPoly(canvas, [polygon], 255, lineType=cv2.LINE_AA, shift=2)
    if abs(grow) * scale >= 0.5:
        side = 2 * int(round(abs(grow) * scale)) + 1
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
        canvas = cv2.dilate(canvas, kernel) if grow > 0 else cv2.erode(canvas, kernel)
    alpha = canvas.astype(np.float32) / 255.0
    if feather > 0:
        sigma = feather * scale
        side = 2 * int(np.ceil(3 * sigma)) + 1
        alpha = cv2.GaussianBlur(alpha, (side, side), sigma)
        if scale < 1.0:
            alpha = cv2.resize(alpha, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
        if inside:
            alpha = np.clip(2.0 * alpha - 1.0, 0.0, 1.0)
        alpha[alpha < 1e-3] = 0.0
        alpha[alpha > 1.0 - 1e-3] = 1.0
    return RegionMask(alpha, (int(x0), int(y0), int(x1), int(y1)), shape)


def points(landmarks: np.ndarray, indices) -> np.ndarray:
    """(N, 2) float64 pixel positions of the landmarks ``indices``."""
    return np.asarray(landmarks, np.float64)[as_array(indices), :2]


def lips_mask(landmarks: np.ndarray, shape: tuple[int, int], *, feather: float = 0.02) -> RegionMask:
    """The lips' skin: outer lip contour minus the mouth opening (teeth, tongue), soft inside the edge.

    ``feather`` is in interocular units; the soft rim lies inside the lip contour, so nothing spills
    onto the skin around the lips, and the mouth opening is taken out with a rim of its own.
    """
    idx = face_mesh_indices()
    unit = interocular(landmarks)
    outer = points(landmarks, idx.outer_lip_upper + tuple(reversed(idx.outer_lip_lower[1:-1])))
    sigma = max(0.6, feather * unit)
    lips = polygon_mask([outer], shape, feather=sigma, inside=True)
    return lips.minus(mouth_opening_mask(landmarks, shape, grow=0.5 * sigma, feather=0.5 * sigma))


def mouth_opening_mask(
    landmarks: np.ndarray, shape: tuple[int, int], *, grow: float = 0.0, feather: float = 0.0
) -> RegionMask:
    """The mouth opening (inner lip loop): teeth, tongue, mouth interior. ``grow``, ``feather`` in pixels."""
    return polygon_mask(
        [points(landmarks, face_mesh_indices().inner_lip_loop)], shape, feather=feather, grow=grow
    )


def eye_opening_mask(
    landmarks: np.ndarray, shape: tuple[int, int], side: str, *, grow: float = 0.0, feather: float = 0.0
) -> RegionMask:
    """The visible eyeball of the subject's ``side`` ('left' / 'right') eye, between the lids (pixels)."""
    return polygon_mask(
        [points(landmarks, face_mesh_indices().eye_loop(side))], shape, feather=feather, grow=grow
    )


def iris_circle(landmarks: np.ndarray, side: str) -> tuple[np.ndarray, float]:
    """(centre (2,), radius px) of the subject's ``side`` iris from its centre and 4 outline points."""
    idx = face_mesh_indices()
    chain = idx.left_iris if side == "left" else idx.right_iris
    outline = points(landmarks, chain)  # (5, 2) centre first
    centre = outline[0]
    radius = float(np.mean(np.linalg.norm(outline[1:] - centre, axis=1)))
    return centre, radius


def iris_mask(
    landmarks: np.ndarray, shape: tuple[int, int], side: str, *, feather: float = 0.08
) -> RegionMask:
    """The visible iris disc of one eye: the iris circle clipped by the lids (pupil NOT removed here).

    ``feather`` is a fraction of the iris radius (the limbus is soft in photos).
    """
    centre, radius = iris_circle(landmarks, side)
    angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    circle = centre + 0.95 * radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    disc = polygon_mask([circle], shape, feather=feather * radius, inside=True)
    return disc * polygon_mask(
        [points(landmarks, face_mesh_indices().eye_loop(side))], shape, feather=0.05 * radius, inside=True
    )


def eyelid_mask(
    landmarks: np.ndarray, shape: tuple[int, int], side: str, *, height: float = 0.35, feather: float = 0.08
) -> RegionMask:
    """The upper lid between lash line and brow (eyeshadow area), eye opening excluded.

    ``height`` (interocular units) is how far above the lash line the area reaches at its middle.
    """
    idx = face_mesh_indices()
    unit = interocular(landmarks)
    upper = points(landmarks, idx.left_eye_upper if side == "left" else idx.right_eye_upper)
    lower = points(landmarks, idx.left_eye_lower if side == "left" else idx.right_eye_lower)
    centre = upper.mean(axis=0)
    t = np.linspace(0, np.pi, len(upper))
    lift = np.sin(t)[:, None] * np.array([0.0, height * unit])  # highest over the middle of the lid
    spread = (upper - centre) * 0.12  # a little wider than the eye, toward the outer corner
    top = upper + spread - lift
    # From the lower lid up, soft only inside: full strength at the lash line, nothing below the eye.
    polygon = np.concatenate([lower, top[::-1]])
    area = polygon_mask([polygon], shape, feather=feather * unit, inside=True)
    brows = brow_mask(landmarks, shape, grow=0.02 * unit)
    return area.minus(brows).minus(eye_opening_mask(landmarks, shape, side, grow=0.01 * unit))


def brow_mask(landmarks: np.ndarray, shape: tuple[int, int], *, grow: float = 0.0) -> RegionMask:
    """Both eyebrows (upper and lower brow rows joined), hard-edged, grown by ``grow`` pixels."""
    polygons = [
        points(landmarks, upper + tuple(reversed(lower)))
        for upper, lower in ((RIGHT_BROW_UPPER, RIGHT_BROW_LOWER), (LEFT_BROW_UPPER, LEFT_BROW_LOWER))
    ]
    return polygon_mask(polygons, shape, grow=grow)


def face_oval_mask(
    landmarks: np.ndarray, shape: tuple[int, int], *, grow: float = 0.0, feather: float = 0.0
) -> RegionMask:
    """Inside MediaPipe's face oval (forehead to chin, ear to ear), pixels for ``grow`` and ``feather``."""
    return polygon_mask([points(landmarks, face_mesh_indices().face_oval)], shape, grow=grow, feather=feather)


def features_mask(landmarks: np.ndarray, shape: tuple[int, int]) -> RegionMask:
    """Eyes (grown past the lashes), brows and lips: what a skin edit must not touch, feathered."""
    unit = interocular(landmarks)
    idx = face_mesh_indices()
    eyes = [points(landmarks, idx.eye_loop(side)) for side in ("left", "right")]
    region = polygon_mask(eyes, shape, grow=0.06 * unit, feather=0.03 * unit)
    outer = points(landmarks, idx.outer_lip_upper + tuple(reversed(idx.outer_lip_lower[1:-1])))
    region = region.union(polygon_mask([outer], shape, grow=0.015 * unit, feather=0.02 * unit))
    brows = brow_mask(landmarks, shape, grow=0.03 * unit)
    return region.union(
        RegionMask(cv2.GaussianBlur(brows.alpha, (0, 0), 0.02 * unit + 0.5), brows.box, shape)
    )


@per_photo
def skin_mask(landmarks: np.ndarray, image: np.ndarray, *, reach: float = 0.6) -> RegionMask:
    """Skin of the face and, by a skin colour model, the visible neck and ears.

    The face oval (minus eyes, brows and lips) is skin by definition; around it, up to ``reach``
    interocular distances away (further down, for the neck), a pixel counts by how well its CIELAB
    colour fits a Gaussian model of the cheeks' skin (soft, so hair strands and shadows fade out).

    Args:
        landmarks: (478, 2|3) pixels.
        image: (H, W, 3) uint8 RGB photo.
    """
    shape = image.shape[:2]
    unit = interocular(landmarks)
    oval = points(landmarks, face_mesh_indices().face_oval)
    centre = oval.mean(axis=0)
    # The neck and ears: the oval widened by ``reach``, and pulled down for the neck.
    width = oval[:, 0].max() - oval[:, 0].min()
    grown = centre + (oval - centre) * (1.0 + reach * unit / width)
    grown[:, 1] += np.where(oval[:, 1] > centre[1], 0.9 * unit, 0.0)
    area = polygon_mask([oval, grown], shape, feather=0.1 * unit)
    mean, inverse = skin_model(landmarks, image)
    distance = _coarse(
        lambda lab: mahalanobis(lab, mean, inverse), _lab_small(area.crop(image)), area.alpha.shape
    )
    likelihood = np.clip(1.5 - 0.5 * distance, 0.0, 1.0).astype(np.float32)  # 1 within 1 sigma, 0 beyond 3
    core = polygon_mask([oval], shape, grow=-0.05 * unit, feather=0.05 * unit)
    # Hair over the forehead is inside the oval too: the colour model decides there as well, but
    # leniently (twice the distance) so shadows on the face stay skin.
    lenient = np.clip(1.5 - 0.25 * distance, 0.0, 1.0).astype(np.float32)
    inner = _resample(core, area.box)
    alpha = area.alpha * np.maximum(likelihood, inner * lenient)
    skin = RegionMask(alpha.astype(np.float32), area.box, shape)
    return skin.minus(features_mask(landmarks, shape))


#: Colour models are evaluated on images at most this many pixels on the long side, then upsampled
#: (a colour decision needs no more detail; the soft edges come from the upsampling).
COARSE_SIDE = 320


def _lab_small(rgb: np.ndarray) -> np.ndarray:
    """(h', w', 3) CIELAB of ``rgb`` reduced to at most `COARSE_SIDE` on its long side."""
    scale = min(1.0, COARSE_SIDE / max(rgb.shape[:2]))
    if scale < 1.0:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return _lab(rgb)


def _coarse(function, small: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``function`` of a reduced image, brought back to (h, w) ``shape`` by bilinear interpolation."""
    value = function(small).astype(np.float32)
    if value.shape != shape:
        value = cv2.resize(value, shape[::-1], interpolation=cv2.INTER_LINEAR)
    return value


def skin_model(landmarks: np.ndarray, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean (3,), inverse covariance (3, 3)) of CIELAB skin colour sampled on both cheeks and the nose."""
    unit = interocular(landmarks)
    samples = []
    for index in (*CHEEK_POINTS, 4, 151, 199):  # cheeks, nose tip, mid forehead, chin
        x, y = landmarks[index, :2]
        r = max(2, int(0.08 * unit))
        x0, y0 = max(0, int(x) - r), max(0, int(y) - r)
        patch = image[y0 : int(y) + r + 1, x0 : int(x) + r + 1]
        if patch.size:
            samples.append(_lab(patch).reshape(-1, 3))
    lab = np.concatenate(samples)  # (N, 3)
    mean = lab.mean(axis=0)
    covariance = np.cov(lab.T) + np.diag([9.0, 4.0, 4.0])  # floor: lighting varies more than samples show
    return mean, np.linalg.inv(covariance).astype(np.float32)


def beard_mask(landmarks: np.ndarray, shape: tuple[int, int], *, feather: float = 0.08) -> RegionMask:
    """Where a beard grows: jaw, chin, lower cheeks and upper lip, lips and mouth opening excluded.

    The lower edge is the face oval's jaw from ear to ear (through the chin, 152); the upper edge runs
    from each ear point to the mouth corner and across the upper lip under the nose (point 2).
    """
    unit = interocular(landmarks)
    oval = list(face_mesh_indices().face_oval)
    i, j = sorted((oval.index(EAR_POINTS[0]), oval.index(EAR_POINTS[1])))
    jaw = oval[i : j + 1] if CHIN in oval[i : j + 1] else oval[j:] + oval[: i + 1]  # ear -> chin -> ear
    if jaw[0] != EAR_POINTS[1]:
        jaw = jaw[::-1]  # from the subject's left ear, so the upper edge (right -> left) closes the loop
    lower = points(landmarks, jaw)
    ear_r, ear_l = points(landmarks, EAR_POINTS)
    corner_r, corner_l = points(landmarks, OUTER_MOUTH_CORNERS)
    nose = points(landmarks, (SUBNASALE,))[0]
    lift = np.array([0.0, -0.12 * unit])
    right = [ear_r, 0.5 * (ear_r + corner_r) + lift, corner_r + lift, nose + 0.3 * (corner_r - nose)]
    left = [nose + 0.3 * (corner_l - nose), corner_l + lift, 0.5 * (ear_l + corner_l) + lift, ear_l]
    upper = np.array([*right, nose, *left])  # (9, 2) ear -> upper lip -> ear
    area = polygon_mask([np.concatenate([lower, upper])], shape, feather=feather * unit)
    idx = face_mesh_indices()
    outer = points(landmarks, idx.outer_lip_upper + tuple(reversed(idx.outer_lip_lower[1:-1])))
    return area.minus(polygon_mask([outer], shape, grow=0.02 * unit, feather=0.02 * unit))


def eye_band_mask(
    landmarks: np.ndarray,
    shape: tuple[int, int],
    *,
    width: float = 1.05,
    above: float = 0.5,
    below: float = 0.45,
    feather: float = 0.08,
) -> RegionMask:
    """Where a pair of glasses sits: a band across both eyes, brows to upper cheeks, temple to temple.

    A rectangle in the face's own frame (along the line through the iris centres, 468 and 473), so it
    turns with the head. Sizes are in interocular units from the irises' midpoint: ``width`` to each
    side, ``above`` and ``below`` the iris line; ``feather`` is the soft edge.
    """
    right, left = points(landmarks, (468, 473))
    unit = max(float(np.linalg.norm(left - right)), 1e-6)
    across = (left - right) / unit  # (2,) unit vector, subject's right eye -> left eye
    down = np.array([-across[1], across[0]])  # (2,) toward the mouth of an upright face
    centre = (right + left) / 2
    corners = [centre + unit * (a * width * across + d * down) for a, d in ((-1, -above), (1, -above))]
    corners += [centre + unit * (a * width * across + below * down) for a in (1, -1)]
    return polygon_mask([np.array(corners)], shape, feather=feather * unit)


def _lab(rgb: np.ndarray) -> np.ndarray:
    """(h, w, 3) uint8 RGB -> float32 CIELAB (L 0..100, a, b about -128..127)."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def mahalanobis(lab: np.ndarray, mean: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    """(h, w) float32 Mahalanobis distance of each CIELAB pixel of (h, w, 3) ``lab`` from the model.

    With the Cholesky factor L of ``inverse`` (inverse = L L^T) the squared distance of a pixel x is
    |L^T (x - mean)|^2: two per-pixel 3x3 transforms in OpenCV, no (h * w, 3) temporaries.
    """
    if lab.size == 0:
        return np.zeros(lab.shape[:2], np.float32)
    factor = np.linalg.cholesky(np.asarray(inverse, np.float64)).T.astype(np.float32)  # (3, 3)
    shift = tuple(float(m) for m in np.asarray(mean).ravel()[:3]) + (0.0,)
    diff = cv2.subtract(np.ascontiguousarray(lab, np.float32), shift)  # (h, w, 3)
    whitened = cv2.transform(diff, factor)  # (h, w, 3)
    squared = cv2.transform(cv2.multiply(whitened, whitened), np.ones((1, 3), np.float32))  # (h, w)
    return cv2.sqrt(cv2.max(squared, 0.0)).reshape(lab.shape[:2])


def _union_box(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    if a[2] <= a[0] or a[3] <= a[1]:
        return b
    if b[2] <= b[0] or b[3] <= b[1]:
        return a
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """The (x0, y0, x1, y1) box both boxes cover, or None."""
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _resample(mask: RegionMask, box: tuple[int, int, int, int]) -> np.ndarray:
    """``mask``'s alpha over another ``box`` of the same photo (zeros where it does not reach)."""
    x0, y0, x1, y1 = box
    out = np.zeros((max(0, y1 - y0), max(0, x1 - x0)), np.float32)
    overlap = _overlap(box, mask.box)
    if overlap is not None:
        _view(out, box, overlap)[:] = _view(mask.alpha, mask.box, overlap)
    return out


def _view(alpha: np.ndarray, box: tuple[int, int, int, int], part: tuple[int, int, int, int]) -> np.ndarray:
    """The view of ``alpha`` (laid over ``box``) covering ``part``, a box inside ``box``."""
    return alpha[part[1] - box[1] : part[3] - box[1], part[0] - box[0] : part[2] - box[0]]
