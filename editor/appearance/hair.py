"""Hair colour, with a hair mask built from what can be had offline (no face-parsing network).

The mask is found at about `WORK_SIDE` px over a box around the head, from four things this photo
gives:

- **geometry** from the landmarks (`HeadGeometry`): an estimated hairline (the face oval's upper arc
  lifted toward the forehead's top) and skull (an ellipse over the head), sized by ratios measured on
  the London calibration people's templates (never the held-out ones);
- a **skin** colour model fitted on this photo's cheeks, nose and chin (and mid forehead when it looks
  like them: a fringe may cover it);
- a **background** colour model from the photo's own border (top and upper sides), a few k-means
  clusters, leaving out any cluster that explains the band above the forehead (hair reaching the
  photo's edge is not background);
- a **texture** term (local spread of lightness): curly or wavy hair is rough where skin is smooth.

OpenCV's GrabCut separates hair from everything else, seeded from these: sure hair between the
estimated hairline and skull where a pixel is neither skin- nor background-coloured (or is rough and
not skin); sure not-hair for the face below the brows, skin-coloured pixels and background-coloured
ones away from the head. The result keeps only parts touching the head, is matted with a guided filter
on the photo at reduced resolution (strands blend instead of ending in a cut-out edge) and faded out
wherever the colour is skin's: inside the face oval only pixels clearly unlike the skin and darker
than it (a fringe) stay, so recolouring never tints forehead skin.

Recolouring keeps the hair's luminance structure: the mean colour moves to the dye, lightness
offsets are stretched for lighter colours and compressed for darker ones, so strands stay strands. The
tone curve always rises (a lighter strand stays lighter; its sheens saturate below white). Only at the
hair's edge are pixels much lighter than the hair taken for mixes with what lies beside it (skin at the
hairline, the backdrop at the outline): they take the dye by their share of hair, hue included.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from editor.appearance.colour import HAIR, recolour, target
from editor.appearance.effect import Applied, paste_pixels, region_pixels
from editor.appearance.regions import (
    RegionMask,
    features_mask,
    interocular,
    mahalanobis,
    per_photo,
    skin_model,
)
from editor.images import to_lab
from editor.landmark_indices import LEFT_BROW_UPPER, RIGHT_BROW_UPPER, face_mesh_indices

logger = logging.getLogger(__name__)

#: Colour used when the request names none.
DEFAULT_COLOUR = "brown"
#: Hair pixels lighter than the median by more than this many robust standard deviations (divided by
#: the dye's contrast) keep their own lightness offset beyond it instead of the stretched one.
LIGHT_KNEE = 2.0
#: Most a lighter dye stretches the hair's lightness offsets (dark hair to blonde would ask for 3-4x:
#: its lighter strands, the fine hairs at the hairline, would glow).
MAX_CONTRAST = 1.8
#: Reach (Gaussian sigma, interocular units) and working size (long side, pixels) of the average of the
#: non-hair lightness around the hair that its mixed edge pixels are read against.
SURROUND_REACH = 0.12
SURROUND_SIDE = 256
#: The hair's edge, where pixels mix hair with what is beside it: within about this reach (Gaussian
#: sigma, interocular units) of non-hair pixels, fully where their share there is `EDGE_PRESENCE`;
#: right on the outline where it is `OUTLINE_PRESENCE`.
EDGE_REACH = 0.05
EDGE_PRESENCE = 0.03
OUTLINE_PRESENCE = 0.3
#: Loose strands beyond the mask (flyaways against the backdrop): looked for up to `FLYAWAY_REACH`
#: (interocular units) outside the hair, above the eyes, where the backdrop around them (a median
#: over `FLYAWAY_WINDOW`) is lighter than the hair by at least `FLYAWAY_CONTRAST` L*; a pixel darker than
#: that backdrop by more than `FLYAWAY_FLOOR` L* (noise) is a strand, its share of hair read off its
#: lightness between the backdrop's and the hair's. Worked out at `SURROUND_SIDE` px (long side) except
#: the strands' own lightness, read at full size (a strand is a pixel or two wide).
FLYAWAY_REACH = 0.3
FLYAWAY_WINDOW = 0.12
FLYAWAY_CONTRAST = 15.0
FLYAWAY_FLOOR = 4.0
#: No strand is looked for within this distance (interocular units) of skin-coloured pixels.
FLYAWAY_SKIN_MARGIN = 0.06
#: Row length the sampled points are folded into for `cv2.remap` (which takes at most 32767 columns).
REMAP_ROW = 4096
#: Long side of the GrabCut working image, pixels.
WORK_SIDE = 200
#: Long side at which the hard mask is matted (guided filter) before it is brought to full size.
MATTE_SIDE = 480
#: GrabCut iterations.
ITERATIONS = 2
#: Head geometry, in units of the face height H (landmark 10 to the chin, 152) and the face oval's
#: width W, medians over the London calibration people's templates: the hairline's top lies 0.16 H
#: above landmark 10 and its ends (the temples) 0.34 H below it; the skull's top 0.34 H above it, its
#: width 1.35 W.
HAIRLINE_LIFT = 0.16
TEMPLE_DROP = 0.34
SKULL_TOP = 0.34
SKULL_WIDTH = 1.35
#: The temples: beside the eyes (further across than `TEMPLE_ACROSS` W from the midline) and down to
#: `TEMPLE_DEPTH` H below the brows, where hair inside the face oval may be found.
TEMPLE_ACROSS = 0.38
TEMPLE_DEPTH = 0.3
#: Mahalanobis distances from the skin model: under `SKIN_SURE` sure skin; over `SKIN_FAR` clearly not.
SKIN_SURE = 1.5
SKIN_FAR = 3.0
#: Mahalanobis distance under which a pixel is background-coloured (`BACK_SURE`: surely background).
BACK_FITS = 3.0
BACK_SURE = 2.0
#: The face oval narrowed to this fraction of its width (around its middle) is "the face": MediaPipe's
#: oval reaches over the temples' hair.
FACE_NARROW = 0.9
#: Roughness (`_roughness`, 5x5 mean) under which a pixel beyond the skull is smooth: background.
SMOOTH = 0.2
#: Mean roughness over which a border colour cluster that fits the cap is hair, not background.
HAIR_ROUGH = 0.3
#: Background clusters (k-means over the photo's border).
BACK_CLUSTERS = 3


def apply(image: np.ndarray, landmarks: np.ndarray, strength: float, value: str | None) -> Applied:
    """Hair of colour ``value`` at ``strength`` (its size; a colour has no opposite) on ``image``."""
    name, goal = target(HAIR, value, DEFAULT_COLOUR)
    region = hair_mask(landmarks, image)
    amount = float(min(abs(strength), 1.0))
    pixels, alpha = region_pixels(image, region)  # (1, N, 3), (1, N): only the hair's pixels
    lab = to_lab(pixels)  # (1, N, 3)
    mean_l = float((lab[..., 0] * alpha).sum() / max(region.area, 1e-6))
    core = lab[..., 0][alpha > 0.5] if (alpha > 0.5).any() else lab[..., 0].ravel()  # (M,) lightness
    centre = float(np.median(core))
    # Robust spread (median absolute deviation): a rim of mixed pixels must not widen it.
    spread = max(1.4826 * float(np.median(np.abs(core - centre))), 4.0)
    contrast = float(np.clip(goal[0] / max(mean_l, 1.0), 0.5, MAX_CONTRAST))
    new = recolour(lab, alpha, goal, amount, contrast=contrast, chroma_texture=0.3)  # (1, N, 3)
    # Lighter strands inside the hair (sheens) are stretched up to the knee, then saturate smoothly
    # toward half the room left below white: still lighter than their neighbours (the tone curve never
    # falls back, which would cut the hair into flat blotches), never glowing white.
    knee = LIGHT_KNEE / max(contrast, 1.0) * spread
    gain = 1.0 + amount * (contrast - 1.0)  # recolour's lightness gain
    lightness = lab[0, :, 0]  # (N,)
    bright = np.nonzero(lightness > centre + knee)[0]  # (B,) the pixels beyond the knee
    over = lightness[bright] - (centre + knee)  # (B,)
    at_knee = new[0, bright, 0] - gain * over
    headroom = np.maximum(0.5 * (100.0 - at_knee), 1.0)
    new[0, bright, 0] = at_knee + headroom * np.tanh(gain * over / headroom)
    # Pixels at the hair's edge mix it with what lies beside it (fine hairs over the forehead, the
    # outline against the backdrop). Stretched by a lighter dye's contrast they would glow as a light
    # rim; left alone they would outline the dyed hair in its old colour. So there they take the dye's
    # mean shift only, scaled by the share of hair in the mix, read off their lightness between the
    # hair's and what it is mixed with: the lightness of the non-hair pixels around it (skin at the
    # hairline, the backdrop at the outline). Inside the hair no pixel is a mix.
    skin_l = float(skin_model(landmarks, image)[0][0])
    unit = interocular(landmarks)
    reduced = _Reduced.of(image, region)
    ys, xs = np.divmod(np.flatnonzero(region.alpha > 0), region.alpha.shape[1])  # `region_pixels` order
    surround, presence = _surround(reduced, ys, xs, SURROUND_REACH * unit, EDGE_REACH * unit, skin_l)
    edge = np.clip(presence[0] / EDGE_PRESENCE, 0.0, 1.0)  # (N,) 1 at the edge, 0 inside
    # At the edge pixels clearly lighter than the hair are mixes: from LIGHT_KNEE / contrast robust
    # standard deviations above its median (fully at twice that), from the median itself right on the
    # outline (`OUTLINE_PRESENCE`); darker ones are hair like the rest.
    start = centre + knee * (1.0 - np.clip(presence[0] / OUTLINE_PRESENCE, 0.0, 1.0))  # (N,)
    lighter = np.clip((lightness - start) / knee, 0.0, 1.0)  # (N,)
    # Pixels the matte gives to the hair only in part (the backdrop through thin hair) are mixes too.
    mix = np.maximum(edge, 1.0 - alpha[0]) * lighter  # (N,)
    shift = amount * (goal - np.array([mean_l, *(lab[0] * alpha[0, :, None]).sum(axis=0)[1:]
                                       / max(region.area, 1e-6)], np.float32))  # fmt: skip
    mixes = np.nonzero(mix > 0)[0]  # (X,) only these are computed below
    mix_l, mix_edge = lightness[mixes], edge[mixes]  # (X,)
    light = np.maximum(surround[0, mixes], centre + 2.0 * knee)  # (X,)
    share = np.clip((light - mix_l) / (light - centre), 0.0, 1.0)  # (X,)
    # A sheen inside the hair (lighter than the skin) is the hair's own: it takes the dye's hue by its
    # distance from white, keeping its lightness. Distance counted from the lighter of the hair and the
    # dye: under a lighter dye a sheen still darker than the dye is dyed hair (full hue), not a grey
    # patch. At the edge the hue goes by the share of hair: the skin's half of a mix keeps the skin's.
    sheen_base = max(centre, float(goal[0]))
    sheen = np.clip((100.0 - mix_l) / max(100.0 - sheen_base, 1.0), 0.0, 1.0)  # (X,)
    hue = np.maximum(share, (1.0 - mix_edge) * sheen)  # (X,)
    weights = alpha[0, mixes, None] * np.stack([share, hue, hue], axis=-1)  # (X, 3)
    mixed = lab[0, mixes] + weights * shift  # (X, 3)
    blend = mix[mixes, None]  # (X, 1)
    new[0, mixes] = (1.0 - blend) * new[0, mixes] + blend * mixed
    out = paste_pixels(image, region, new)
    strands = flyaway_mask(landmarks, image, region, reduced)
    if strands.support:
        # A loose strand takes the dye's mean shift by its share of hair, as a mixed edge pixel does.
        loose, share_of_hair = region_pixels(image, strands)  # (1, M, 3), (1, M); none is hair's
        out = paste_pixels(out, strands, to_lab(loose) + share_of_hair[..., None] * shift)
        region = region.union(strands)
    return Applied(out, region, name, goal)


@dataclass(frozen=True)
class _Reduced:
    """The hair region's box reduced to `SURROUND_SIDE` px (long side), shared by the edge and the
    loose-strand maps.

    Attributes:
        lab: (h', w', 3) CIELAB of the photo's box.
        alpha: (h', w') the hair's alpha.
        factor: reduced / full size.
    """

    lab: np.ndarray
    alpha: np.ndarray
    factor: float

    @staticmethod
    def of(image: np.ndarray, region: RegionMask) -> _Reduced:
        height, width = region.alpha.shape
        factor = min(1.0, SURROUND_SIDE / max(height, width, 1))
        size = (max(int(round(width * factor)), 1), max(int(round(height * factor)), 1))
        lab = to_lab(cv2.resize(region.crop(image), size, interpolation=cv2.INTER_AREA))
        return _Reduced(lab, cv2.resize(region.alpha, size, interpolation=cv2.INTER_AREA), factor)


def flyaway_mask(
    landmarks: np.ndarray, image: np.ndarray, hair: RegionMask, reduced: _Reduced | None = None
) -> RegionMask:
    """Loose strands just beyond ``hair`` against a lighter backdrop (see `FLYAWAY_REACH`), alpha = each
    pixel's share of hair; disjoint from ``hair`` (only where its alpha is 0), over its box."""
    alpha = hair.alpha  # (h, w)
    height, width = alpha.shape
    empty = RegionMask(np.zeros_like(alpha), hair.box, hair.shape)
    if height < 8 or width < 8:
        return empty
    crop = hair.crop(image)  # (h, w, 3)
    reduced = reduced or _Reduced.of(image, hair)
    factor, small_lab = reduced.factor, reduced.lab  # (h', w', 3)
    unit = interocular(landmarks) * factor
    small_l = small_lab[..., 0]  # (h', w')
    small_core = reduced.alpha > 0.5  # (h', w') the hair itself
    if small_core.sum() < 20:
        return empty
    hair_l = float(np.median(small_l[small_core]))
    # The backdrop: the hair and the skin filled with the lightness around them, then a median wide
    # enough that strands vanish from it (skin beside a darker backdrop must not make it look lighter).
    skin = mahalanobis(small_lab, *skin_model(landmarks, image)) < SKIN_FAR  # (h', w')
    outside = (~(small_core | skin)).astype(np.float32)
    sigma = max(FLYAWAY_WINDOW * unit, 1.0)
    around = cv2.GaussianBlur(small_l * outside, (0, 0), sigma) / np.maximum(
        cv2.GaussianBlur(outside, (0, 0), sigma), 1e-3
    )
    filled = np.where(outside > 0, small_l, around)
    window = max(int(FLYAWAY_WINDOW * unit) | 1, 3)
    backdrop = cv2.medianBlur(np.clip(filled * 2.55, 0, 255).astype(np.uint8), window) / 2.55  # (h', w')
    reach = max(int(FLYAWAY_REACH * unit), 1)
    near = cv2.dilate(
        small_core.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2)
    )
    # Above the eyes only: below them lie ears, neck and clothes, which are no backdrop.
    eyes_y = (float(landmarks[468, 1] + landmarks[473, 1]) / 2.0 - hair.box[1]) * factor
    near[int(max(eyes_y, 0)) :] = 0
    # Nor next to skin: the shadowed rim of an ear is darker than the backdrop and nearly skin-coloured.
    grow = max(int(round(FLYAWAY_SKIN_MARGIN * unit)), 1)
    by_skin = cv2.dilate(skin.astype(np.uint8), np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)).astype(bool)
    near &= ((backdrop > hair_l + FLYAWAY_CONTRAST) & ~by_skin).astype(np.uint8)
    if not near.any():
        return empty
    # Only the box around the candidates is looked at full size (strands are few; the hair's box is big).
    small_rows, small_cols = np.nonzero(near.any(axis=1))[0], np.nonzero(near.any(axis=0))[0]
    y0, y1 = _full_span(small_rows, near.shape[0], height)
    x0, x1 = _full_span(small_cols, near.shape[1], width)
    # Nearest reduced pixel of each full-size one, as cv2.resize's INTER_NEAREST picks it.
    rows = np.minimum(np.arange(y0, y1) * near.shape[0] // height, near.shape[0] - 1)
    cols = np.minimum(np.arange(x0, x1) * near.shape[1] // width, near.shape[1] - 1)
    near = near[np.ix_(rows, cols)].astype(bool) & (alpha[y0:y1, x0:x1] == 0)  # (y1 - y0, x1 - x0)
    ys, xs = np.nonzero(near)  # (M,) pixels of the sub-box where a strand may be
    # The backdrop is smooth: read off the reduced map. The strand's lightness: at full size.
    around_l = _sample(backdrop, ys + y0, xs + x0, factor)
    lightness = to_lab(crop[ys + y0, xs + x0][None])[0, :, 0]  # (M,)
    darker = around_l - lightness - FLYAWAY_FLOOR
    values = np.clip(darker / np.maximum(around_l - hair_l - FLYAWAY_FLOOR, 1.0), 0.0, 1.0)  # (M,)
    values[values < 0.05] = 0.0
    share = np.zeros(near.shape, np.float32)
    share[ys, xs] = values
    box = (hair.box[0] + x0, hair.box[1] + y0, hair.box[0] + x1, hair.box[1] + y1)
    return RegionMask(share, box, hair.shape).minus(features_mask(landmarks, hair.shape))


def _full_span(small: np.ndarray, small_size: int, full_size: int) -> tuple[int, int]:
    """[start, stop) of the full-size pixels whose nearest reduced pixel (of ``small_size``, as
    cv2.resize's INTER_NEAREST picks it) lies between the first and last of the sorted ``small``."""
    start = -(-int(small[0]) * full_size // small_size)  # ceil: first d with d * small_size // full_size >= s
    stop = -(-(int(small[-1]) + 1) * full_size // small_size)
    return max(start, 0), min(stop, full_size)


def _surround(
    reduced: _Reduced, ys: np.ndarray, xs: np.ndarray, reach: float, edge_reach: float, fallback: float
) -> tuple[np.ndarray, np.ndarray]:
    """((1, N) lightness of the non-hair pixels around each hair pixel (``ys``, ``xs``: the region's
    pixels in its box), (1, N) how much non-hair lies right beside it).

    The lightness is a normalised Gaussian average (sigma ``reach`` pixels) of L* weighted by 1 - alpha,
    on the ``reduced`` copy of the region's box; ``fallback`` where hardly any non-hair pixel is within reach
    (deep in the hair). The presence is the Gaussian average (sigma ``edge_reach``) of the non-hair
    (alpha < 0.5, holes up to ``edge_reach`` closed): about 0.5 on the outline, 0 a few ``edge_reach``
    inside the hair.
    """
    factor, small_l = reduced.factor, reduced.lab[..., 0]  # (h', w')
    weight = 1.0 - reduced.alpha  # (h', w')
    sigma = max(reach * factor, 0.5)
    total = cv2.GaussianBlur(small_l * weight, (0, 0), sigma)
    present = cv2.GaussianBlur(weight, (0, 0), sigma)
    near = np.where(present > 0.05, total / np.maximum(present, 1e-6), fallback).astype(np.float32)
    # Light strands the mask let through (holes a strand wide) are inside the hair, not beside it.
    side = max(int(round(edge_reach * factor)) * 2 + 1, 3)
    solid = cv2.morphologyEx(
        (weight < 0.5).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((side, side), np.uint8)
    )
    beside = cv2.GaussianBlur(1.0 - solid.astype(np.float32), (0, 0), max(edge_reach * factor, 0.5))
    return tuple(_sample(m, ys, xs, factor)[None] for m in (near, beside))


def _sample(small: np.ndarray, ys: np.ndarray, xs: np.ndarray, factor: float) -> np.ndarray:
    """(M,) float32 values of the reduced (h', w') map ``small`` (``factor`` times the full size, as
    `cv2.resize` makes it) at full-size pixels (``ys``, ``xs``), interpolated bilinearly."""
    count = len(ys)
    rows = max(-(-count // REMAP_ROW), 1)  # cv2.remap takes at most 32767 columns: fold into rows
    maps = []
    for coordinate in (xs, ys):
        folded = np.zeros(rows * REMAP_ROW, np.float32)
        folded[:count] = (coordinate + 0.5) * factor - 0.5  # pixel centres on the reduced map
        maps.append(folded.reshape(rows, REMAP_ROW))
    out = cv2.remap(small.astype(np.float32), *maps, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(-1)[:count]


@dataclass(frozen=True)
class HeadGeometry:
    """Where hair can be, from the landmarks alone (pixels of the photo).

    Attributes:
        top: (2,) landmark 10, the face oval's top.
        up: (2,) unit vector from the chin toward the top of the head.
        height: H, landmark 10 to the chin (152).
        width: W, the face oval's width across the face.
        oval: (36, 2) the face oval.
        hairline: (N, 2) estimated hairline, temple to temple over the forehead.
        skull: (M, 2) estimated skull outline (a closed ellipse).
        brow_level: distance of the brows' top above landmark 10 along -up (negative: below it).
    """

    top: np.ndarray
    up: np.ndarray
    height: float
    width: float
    oval: np.ndarray
    hairline: np.ndarray
    skull: np.ndarray
    brow_level: float

    @staticmethod
    def of(landmarks: np.ndarray) -> HeadGeometry:
        """The geometry of (478, 2|3) ``landmarks``."""
        points = np.asarray(landmarks, np.float64)[:, :2]
        idx = face_mesh_indices()
        oval = points[list(idx.face_oval)]  # (36, 2)
        top, chin = points[10], points[152]
        height = max(float(np.linalg.norm(top - chin)), 1e-6)
        up = (top - chin) / height
        across = np.array([-up[1], up[0]])
        along = (oval - top) @ across  # (36,) across the face
        width = float(along.max() - along.min())
        centre_x = top + across * 0.5 * (along.max() + along.min())
        rise = (oval - top) @ up  # (36,) above landmark 10 (negative: below)
        upper = rise > -TEMPLE_DROP * height
        arc = oval[upper]
        # Order the upper arc across the face, then lift it: most at the top, nothing at the temples.
        arc = arc[np.argsort((arc - top) @ across)]
        lift = HAIRLINE_LIFT * height * np.clip(1.0 + ((arc - top) @ up) / (TEMPLE_DROP * height), 0, 1)
        hairline = arc + lift[:, None] * up
        centre = centre_x - up * TEMPLE_DROP * height
        axes = (0.5 * SKULL_WIDTH * width, (SKULL_TOP + TEMPLE_DROP) * height)
        angle = np.arange(0, 360, 10) * np.pi / 180
        skull = centre + np.outer(np.cos(angle) * axes[0], across) + np.outer(np.sin(angle) * axes[1], up)
        brows = points[list(LEFT_BROW_UPPER + RIGHT_BROW_UPPER)]
        brow_level = float(((brows - top) @ up).max())
        return HeadGeometry(top, up, height, width, oval, hairline, skull, brow_level)

    def box(self, shape: tuple[int, int]) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) where hair is looked for: the skull grown by half, down past the chin
        (long hair), clipped to the photo of (height, width) ``shape``."""
        centre = self.skull.mean(axis=0)
        grown = centre + 1.5 * (self.skull - centre)
        chin = self.top - self.up * 1.5 * self.height
        corners = np.concatenate(
            [grown, chin + np.outer([-1.2, 1.2], [-self.up[1], self.up[0]]) * self.width]
        )
        (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
        h, w = shape
        return max(0, int(x0)), max(0, int(y0)), min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))


def head_box(landmarks: np.ndarray, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) around the head where hair is looked for (see `HeadGeometry.box`)."""
    return HeadGeometry.of(landmarks).box(shape)


@per_photo
def hair_mask(landmarks: np.ndarray, image: np.ndarray) -> RegionMask:
    """The head hair as a soft mask (eyebrows, lashes and the face excluded).

    Args:
        landmarks: (478, 2|3) pixels.
        image: (H, W, 3) uint8 RGB.
    """
    shape = image.shape[:2]
    geometry = HeadGeometry.of(landmarks)
    x0, y0, x1, y1 = geometry.box(shape)
    empty = RegionMask(np.zeros((max(0, y1 - y0), max(0, x1 - x0)), np.float32), (x0, y0, x1, y1), shape)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return empty
    crop = image[y0:y1, x0:x1]
    scale = min(1.0, WORK_SIDE / max(crop.shape[:2]))
    small = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)  # (h, w, 3)
    lab = to_lab(small)  # (h, w, 3)
    local = _Local(geometry, (x0, y0), scale, small.shape[:2])
    skin_mean, skin_inverse = _skin_model(lab, landmarks, (x0, y0), scale)
    d_skin = mahalanobis(lab, skin_mean, skin_inverse)  # (h, w)
    d_back = _background_distance(image, lab, local)  # (h, w)
    rough = _roughness(lab[..., 0])  # (h, w) 0..1
    labels = _seeds(local, lab, d_skin, d_back, rough)
    if (labels == cv2.GC_FGD).sum() < 10 or ((labels == cv2.GC_BGD) | (labels == cv2.GC_PR_BGD)).sum() < 10:
        return empty
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    bgr = np.ascontiguousarray(small[..., ::-1])
    cv2.setRNGSeed(0)  # GrabCut's k-means starts from OpenCV's global RNG: the same photo, the same mask
    cv2.grabCut(bgr, labels, None, bgd, fgd, ITERATIONS, cv2.GC_INIT_WITH_MASK)
    hard = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.uint8)  # (h, w)
    hard = _touching(hard, local.fill(local.skull))
    # Matting at `MATTE_SIDE`, where the skin fade is computed too (sharper than the working image):
    # skin-coloured pixels are never hair; inside the face (a fringe over the forehead) only pixels
    # clearly unlike the skin AND darker than it stay.
    mid, size = _matte_size(crop.shape[:2]), (x1 - x0, y1 - y0)
    middle = cv2.resize(crop, mid, interpolation=cv2.INTER_AREA)  # (h', w', 3)
    alpha = _matte(cv2.resize(hard.astype(np.float32), mid, interpolation=cv2.INTER_LINEAR), middle)
    lab_mid = to_lab(middle)
    d_mid = mahalanobis(lab_mid, skin_mean, skin_inverse)  # (h', w')
    not_skin = np.clip((d_mid - SKIN_SURE) / (SKIN_FAR - SKIN_SURE), 0.0, 1.0)
    darker = np.clip((skin_mean[0] - 8.0 - lab_mid[..., 0]) / 10.0, 0.0, 1.0)
    face = cv2.resize(local.fill(local.face).astype(np.float32), mid, interpolation=cv2.INTER_LINEAR)
    alpha *= not_skin * (1.0 - face * (1.0 - darker * np.clip(d_mid / SKIN_FAR - 1.0, 0.0, 1.0)))
    if mid != size:
        alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR)  # (h, w) the box
    alpha[alpha < 0.02] = 0.0
    mask = RegionMask(alpha.astype(np.float32), (x0, y0, x1, y1), shape)
    return mask.minus(features_mask(landmarks, shape))


class _Local:
    """A `HeadGeometry` in the working image's pixels, with its polygons filled there."""

    def __init__(self, geometry: HeadGeometry, origin: tuple[int, int], scale: float, size: tuple[int, int]):
        def move(p: np.ndarray) -> np.ndarray:
            return (p - origin) * scale

        self.size = size
        self.scale = scale
        self.origin = origin
        self.oval = move(geometry.oval)
        across = np.array([-geometry.up[1], geometry.up[0]])
        middle = self.oval.mean(axis=0)
        offset = (self.oval - middle) @ across  # (36,)
        #: The face: the oval narrowed across to `FACE_NARROW` of its width.
        self.face = self.oval - np.outer((1.0 - FACE_NARROW) * offset, across)
        self.hairline = move(geometry.hairline)
        self.skull = move(geometry.skull)
        self.top = move(geometry.top)
        self.up = geometry.up
        self.height = geometry.height * scale
        self.width = geometry.width * scale
        ys, xs = np.mgrid[0 : size[0], 0 : size[1]].astype(np.float32)
        #: (h, w) height above landmark 10 along ``up``, and distance across from it (working pixels).
        self.rise = (xs - self.top[0]) * self.up[0] + (ys - self.top[1]) * self.up[1]
        self.across = np.abs((xs - self.top[0]) * -self.up[1] + (ys - self.top[1]) * self.up[0])
        self.brow_rise = geometry.brow_level * scale
        #: Below the estimated hairline, within its width (forehead and face).
        drop = 3.0 * self.height * self.up
        self.under_hairline = np.concatenate(
            [self.hairline, [self.hairline[-1] - drop, self.hairline[0] - drop]]
        )

    def fill(self, polygon: np.ndarray) -> np.ndarray:
        """(h, w) bool inside ``polygon`` (working pixels)."""
        canvas = np.zeros(self.size, np.uint8)
        cv2.fillPoly(canvas, [np.round(polygon).astype(np.int32)], 1)
        return canvas.astype(bool)


def _skin_model(
    lab: np.ndarray, landmarks: np.ndarray, origin: tuple[int, int], scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """(mean (3,), inverse covariance (3, 3)) of this photo's skin in CIELAB, from patches of the
    working image ``lab`` on the cheeks, nose and chin, and the mid forehead when it fits them."""
    radius = max(2, int(0.1 * interocular(landmarks) * scale))

    def patch(index: int) -> np.ndarray:
        x, y = np.round((np.asarray(landmarks[index, :2], np.float64) - origin) * scale).astype(int)
        return lab[max(0, y - radius) : y + radius + 1, max(0, x - radius) : x + radius + 1].reshape(-1, 3)

    samples = [patch(i) for i in (50, 280, 4, 199, 205, 425)]  # cheeks, nose tip, chin, lower cheeks
    samples = [s for s in samples if len(s)]
    if not samples:
        return np.array([60.0, 15.0, 18.0], np.float32), np.diag([1 / 100, 1 / 25, 1 / 25]).astype(np.float32)
    cheeks = np.concatenate(samples)  # (N, 3)
    forehead = patch(151)
    if len(forehead) and np.linalg.norm(np.median(forehead, axis=0) - np.median(cheeks, axis=0)) < 12.0:
        cheeks = np.concatenate([cheeks, forehead])
    mean = cheeks.mean(axis=0)
    covariance = np.cov(cheeks.T) + np.diag([9.0, 4.0, 4.0])  # floor: lighting varies more than samples show
    return mean.astype(np.float32), np.linalg.inv(covariance).astype(np.float32)


def _background_distance(image: np.ndarray, lab: np.ndarray, local: _Local) -> np.ndarray:
    """(h, w) Mahalanobis distance of the working image's pixels to the nearest background cluster.

    Background: the photo's top rows and its sides down to the brows (where a portrait's background
    shows; lower down the sides show clothes), in `BACK_CLUSTERS` k-means clusters. A cluster that
    is rough (`_roughness`, mean over its members above `HAIR_ROUGH`) and that more than a third of
    the cap above the forehead fits is hair reaching the photo's edge, and is left out (a smooth one
    is background, e.g. over a bald head).
    """
    height, width = image.shape[:2]
    border = max(2, int(0.02 * max(height, width)))
    step = max(1, int(np.sqrt(height * width) / 300))
    brows = (local.top[1] - local.brow_rise) / local.scale + local.origin[1]  # photo row of the brows
    low = max(border, int(np.clip(brows, 0, height)))
    strips = [image[:border:step, ::step], image[:low:step, :border:step], image[:low:step, -border::step]]
    strips = [to_lab(s) for s in strips]  # each (h', w', 3)
    samples = np.concatenate([s.reshape(-1, 3) for s in strips])  # (N, 3)
    rough = np.concatenate([_roughness(s[..., 0]).ravel() for s in strips])  # (N,)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    cv2.setRNGSeed(0)
    clusters = min(BACK_CLUSTERS, len(samples))
    _, labels, _ = cv2.kmeans(samples, clusters, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    cap = local.fill(local.skull) & (local.rise > local.brow_rise + 0.15 * local.height)
    cap &= ~local.fill(local.oval)
    cap_lab = lab[cap] if cap.any() else lab.reshape(-1, 3)[:1]
    best = np.full(lab.shape[:2], np.inf, np.float32)
    for k in range(clusters):
        chosen = labels[:, 0] == k
        members = samples[chosen]
        if len(members) < max(10, 0.1 * len(samples)):
            continue
        inverse = np.linalg.inv(np.cov(members.T) + np.diag([16.0, 4.0, 4.0])).astype(np.float32)
        mean = members.mean(axis=0)
        fits_cap = (mahalanobis(cap_lab[None], mean, inverse) < BACK_FITS).mean() > 1 / 3
        if fits_cap and rough[chosen].mean() > HAIR_ROUGH:
            continue  # hair at the photo's edge
        best = np.minimum(best, mahalanobis(lab, mean, inverse))
    return best


def _roughness(lightness: np.ndarray) -> np.ndarray:
    """(h, w) 0..1 local spread of lightness (3x3 standard deviation, 1 from 6 L up): hair texture."""
    mean = cv2.blur(lightness, (3, 3))
    spread = np.sqrt(np.maximum(cv2.blur(lightness * lightness, (3, 3)) - mean * mean, 0.0))
    return np.clip((spread - 2.0) / 4.0, 0.0, 1.0)


def _seeds(
    local: _Local, lab: np.ndarray, d_skin: np.ndarray, d_back: np.ndarray, rough: np.ndarray
) -> np.ndarray:
    """(h, w) uint8 GrabCut labels from the head geometry and the skin / background / texture terms."""
    oval = local.fill(local.face)
    skull = local.fill(local.skull)
    centre = local.skull.mean(axis=0)
    volume = local.fill(centre + 1.35 * (local.skull - centre))  # hair beyond the skull (curls, volume)
    hairline = local.fill(local.under_hairline)
    rise = local.rise
    below_brows = rise < local.brow_rise
    skin = d_skin < SKIN_SURE
    background = d_back < BACK_FITS
    labels = np.full(local.size, cv2.GC_PR_BGD, np.uint8)
    # Probably hair: over and around the skull, beside the face down past the jaw (long hair).
    beside = (local.across < 0.9 * local.width) & (rise > -1.4 * local.height)
    labels[(volume | beside) & ~background & ~skin] = cv2.GC_PR_FGD
    # Below the chin (collars, clothes) hair starts as probably-not: GrabCut's hair colours are learnt
    # from above, and it takes long hair there only where it matches them.
    labels[(rise < -local.height) & (labels == cv2.GC_PR_FGD)] = cv2.GC_PR_BGD
    # Beyond the skull hair has strands; a smooth patch there is background (a lit wall, a vignette).
    smooth = cv2.blur(rough, (5, 5)) < SMOOTH
    labels[~skull & smooth & (labels == cv2.GC_PR_FGD)] = cv2.GC_PR_BGD
    # Sure hair: the cap between the estimated hairline and the skull, neither skin nor background
    # (or rough and not skin: curls).
    cap = skull & ~hairline & (rise > local.brow_rise)
    inner = local.fill(centre + 0.92 * (local.skull - centre))
    sure = (
        cap
        & inner
        & (d_skin > SKIN_FAR)
        & ((d_back > BACK_FITS + 1.0) | ((rough > 0.5) & (d_back > BACK_SURE)))
    )
    labels[sure] = cv2.GC_FGD
    # Sure not hair: the face below the brows (but for the temples beside the eyes, where MediaPipe's
    # oval reaches over the hair of short cuts and sideburns: GrabCut decides there), skin anywhere,
    # background away from the skull.
    temples = (local.across > TEMPLE_ACROSS * local.width) & (
        rise > local.brow_rise - TEMPLE_DEPTH * local.height
    )
    labels[oval & below_brows & ~temples] = cv2.GC_BGD
    labels[oval & below_brows & temples] = cv2.GC_PR_BGD
    labels[(oval & ~below_brows) & skin] = cv2.GC_BGD
    labels[skin & ~sure] = cv2.GC_BGD
    labels[(d_back < BACK_SURE) & ~skull] = cv2.GC_BGD
    labels[~(volume | beside)] = cv2.GC_BGD
    return labels


def _touching(hard: np.ndarray, head: np.ndarray) -> np.ndarray:
    """The connected parts of (h, w) 0/1 ``hard`` that overlap ``head`` (stray blobs dropped)."""
    count, parts = cv2.connectedComponents(hard, connectivity=8)
    if count <= 1:
        return hard
    keep = np.zeros(count, bool)
    keep[np.unique(parts[head & (hard > 0)])] = True
    keep[0] = False
    return keep[parts].astype(np.uint8)


def _matte_size(shape: tuple[int, int]) -> tuple[int, int]:
    """(width, height) of a box of (height, width) ``shape`` reduced to at most `MATTE_SIDE`."""
    scale = min(1.0, MATTE_SIDE / max(shape))
    return max(1, round(shape[1] * scale)), max(1, round(shape[0] * scale))


def _matte(hard: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """(h, w) float32 soft alpha from the (h, w) 0..1 mask ``hard``: a guided filter on the grey levels
    of the (h, w, 3) uint8 photo ``rgb`` (strands blend instead of ending in a cut-out edge)."""
    guide = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    radius = max(2, int(0.012 * max(hard.shape)))
    alpha = cv2.ximgproc.guidedFilter(guide, hard, radius, 1e-3)
    return np.clip((alpha - 0.15) / 0.7, 0.0, 1.0).astype(np.float32)
