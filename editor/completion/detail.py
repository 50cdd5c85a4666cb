"""Expression detail a warp cannot make: the shading of folds, bulges and wrinkles.

Two sources, both derived, neither painted by hand:

- **Real smiles** (data). The mean log-luminance ratio of real smiling / neutral photos of the same
  people in the canonical frame (an expression ratio image, Liu, Shan & Zhang, SIGGRAPH 2001): the
  nasolabial folds, cheek highlights and bulges, lower-lid bulges and crow's feet of a real smile.
  Split into a cheek map and an eye map; applied in proportion to the edit's smile (AU12 / AU6), and
  the cheek map's folds in part for an upper-lip raise (AU10: disgust, bared-teeth anger).
- **Skin compression** (geometry). Where the warp compresses skin (the flow's Jacobian), skin buckles
  into furrows that run across the compression: a brow raise compresses the forehead vertically
  (horizontal forehead lines), a brow lowerer pulls the inner brows together (vertical lines between
  them), a nose wrinkle compresses the nose bridge. Furrows are laid out in the
  person's own skin coordinates (they sit at fixed places on the skin and deepen as it compresses),
  spaced in proportion to the face's size, irregular through a fixed noise field, and allowed only in
  the regions where these folds form.

Everything is a per-pixel luminance gain (log shading) applied inside the face mask; nothing outside
the face changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from editor.alignment import FaceAxes, eye_centres, face_axes
from editor.completion import frame
from editor.completion.assets import shipped_asset
from editor.landmark_indices import (
    CHIN,
    LEFT_BROW,
    OUTER_LOWER_LIP_MID,
    RIGHT_BROW,
    as_array,
    face_mesh_indices,
)

DETAIL_FILE = "smile_detail.npz"

FOREHEAD = 151  # mid-forehead
NOSE_BRIDGE = 6  # between the eyes, on the nose
NOSE_MID = 197


@dataclass(frozen=True)
class DetailConfig:
    """How strongly detail is added. Lengths are in interocular units (eye centre to eye centre)."""

    smile_gain: float = 1.0  # multiplies the real smile's mean shading change at smile level 1
    smile_limit: float = 1.4  # beyond a typical smile (1) the level saturates toward this
    lip_raise_share: float = 0.5  # an upper-lip raise (AU10) deepens the folds by this share of a smile's
    wrinkle_gain: float = 1.2  # log-luminance depth of a furrow per unit of skin compression
    wrinkle_limit: float = 0.22  # compression saturates here (a furrow cannot darken without end)
    # Forehead lines' depth relative to the other furrows': the whole forehead folds under a brow raise
    # (FACS's AU1+2 appearance changes), deeper than the warp's compressed band alone says. At 1.5 the
    # classifier read surprise on 13 of 27 calibration people instead of 11; fear and sadness unchanged
    # within one face (2026-12-03).
    forehead_gain: float = 1.5
    forehead_spacing: float = 0.16  # furrow spacing on the forehead
    forehead_spread: float = 0.25  # compression is shared over this distance: the forehead folds as a whole
    forehead_arch: float = 0.12  # forehead lines rise toward the middle, like the brows below them
    glabella_spacing: float = 0.16  # between the brows: two lines, half a spacing either side of the midline
    nose_spacing: float = 0.06  # across the nose bridge
    furrow_width: float = 5.0  # exponent of the furrow profile: larger = thinner dark lines
    chin_spacing: float = 0.035  # typical distance between the dimples of a raised chin
    chin_gain: float = 0.6  # a dimple's depth relative to a furrow's at the same compression


# --------------------------------------------------------------------------------------- regions


def _polygon_mask(points: np.ndarray, size: int = frame.FRAME_SIZE) -> np.ndarray:
    canvas = np.zeros((size, size), np.uint8)
    cv2.fillPoly(canvas, [np.round(points).astype(np.int32)], 1)
    return canvas.astype(np.float32)


def _disc(centre: np.ndarray, radii: tuple[float, float], size: int = frame.FRAME_SIZE) -> np.ndarray:
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    d = ((xs - centre[0]) / radii[0]) ** 2 + ((ys - centre[1]) / radii[1]) ** 2
    return np.exp(-0.5 * d * 4.0).astype(np.float32)  # ~0 beyond the radii


def _unit(shape: np.ndarray) -> float:
    return face_axes(shape).unit


def detail_support(shape: np.ndarray) -> np.ndarray:
    """(S, S) float32 0..1: skin of the canonical face where detail may go (no lips, eyes, brow hair)."""
    idx = face_mesh_indices()
    unit = _unit(shape)
    oval = shape[as_array(idx.face_oval)]
    centre = oval.mean(axis=0)
    face = _polygon_mask(centre + 0.96 * (oval - centre))
    holes = np.zeros_like(face)
    lips = shape[as_array(idx.outer_lip_upper + tuple(reversed(idx.outer_lip_lower[1:-1])))]
    holes = np.maximum(holes, _polygon_mask(lips))
    for side in ("right", "left"):
        holes = np.maximum(holes, _polygon_mask(shape[as_array(idx.eye_loop(side))]))
    for brow in (RIGHT_BROW, LEFT_BROW):
        outline = brow[:5] + tuple(reversed(brow[5:]))  # the upper row out -> in, the lower row back
        holes = np.maximum(holes, _polygon_mask(shape[list(outline)]))
    grow = max(int(round(0.03 * unit)), 1)
    holes = cv2.dilate(holes, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    support = face * (1.0 - holes)
    return cv2.GaussianBlur(support, (0, 0), 0.02 * unit)


def reference_region(shape: np.ndarray) -> np.ndarray:
    """(S, S) bool: forehead and nose bridge, which a smile barely changes (exposure reference)."""
    unit = _unit(shape)
    region = np.maximum(
        _disc(shape[FOREHEAD], (0.3 * unit, 0.15 * unit)), _disc(shape[NOSE_BRIDGE], (0.1 * unit, 0.1 * unit))
    )
    return region > 0.5


def eye_region(shape: np.ndarray) -> np.ndarray:
    """(S, S) float32 0..1: lower lids, the outer eye corners (crow's feet) and the skin just below."""
    unit = _unit(shape)
    region = np.zeros((frame.FRAME_SIZE, frame.FRAME_SIZE), np.float32)
    for centre, outward in zip(eye_centres(shape), (-1.0, 1.0), strict=True):
        region = np.maximum(
            region, _disc(centre + unit * np.array([0.08 * outward, 0.06]), (0.42 * unit, 0.26 * unit))
        )
    return region


def wrinkle_regions(shape: np.ndarray) -> np.ndarray:
    """(S, S, 4) float32 0..1: where forehead, glabella and nose-bridge furrows and chin dimples can form."""
    unit = _unit(shape)
    brows = np.vstack([shape[list(RIGHT_BROW)], shape[list(LEFT_BROW)]])
    brow_top = brows[:, 1].min()
    oval = shape[as_array(face_mesh_indices().face_oval)]
    top = oval[:, 1].min()
    forehead = _disc(
        np.array([shape[FOREHEAD][0], 0.5 * (top + brow_top) + 0.02 * unit]), (0.75 * unit, 0.4 * unit)
    )
    inner_brows = 0.5 * (shape[107] + shape[336])
    glabella = _disc(inner_brows + np.array([0.0, 0.02 * unit]), (0.14 * unit, 0.22 * unit))
    nose = _disc(0.5 * (shape[NOSE_BRIDGE] + shape[NOSE_MID]), (0.16 * unit, 0.16 * unit))
    # The chin boss, between the lower lip and the chin's tip: a chin raise (AU17) bunches it into dimples.
    chin = _disc(0.4 * shape[OUTER_LOWER_LIP_MID] + 0.6 * shape[CHIN], (0.26 * unit, 0.15 * unit))
    support = detail_support(shape)
    return np.stack([forehead, glabella, nose, chin], axis=-1) * support[..., None]


# --------------------------------------------------------------------------------------- assets


@dataclass(frozen=True)
class DetailMaps:
    """The canonical-frame maps, stacked for one remap.

    Attributes:
        shape: (478, 2) float32 the canonical (mean neutral) face shape, frame pixels.
        maps: (S, S, 6) float32: smile cheeks, smile eyes (log luminance ratios at smile level 1),
            then the forehead, glabella, nose-bridge furrow and chin dimple regions (0..1).
    """

    shape: np.ndarray
    maps: np.ndarray


@cache
def shipped_detail() -> DetailMaps:
    """The shipped smile detail (editor/data/completion/smile_detail.npz), loaded once per process."""
    with np.load(shipped_asset(DETAIL_FILE)) as data:
        shape = data["shape"].astype(np.float64)
        smile = np.stack([data["smile_cheeks"], data["smile_eyes"]], axis=-1).astype(np.float32)
    return DetailMaps(
        shape=shape.astype(np.float32), maps=np.concatenate([smile, wrinkle_regions(shape)], axis=-1)
    )


def _pits(s_across: np.ndarray, s_down: np.ndarray, spacing: float) -> np.ndarray:
    """(h, w) float32 0..1 irregular pits about ``spacing`` apart at skin coordinates (interocular units,
    within 1.5 of the face centre), fixed on the skin so they deepen in place as it bunches."""
    cells = max(int(round(3.0 * 2.5 / spacing)), 8)  # the noise's blobs are about 2.5 cells wide
    dips = _on_skin(_noise(seed=11, size=cells)[..., 0], s_across, s_down)
    return (np.clip(-dips * 2.0, 0.0, 1.0) ** 1.5).astype(np.float32)


def _on_skin(noise: np.ndarray, s_across: np.ndarray, s_down: np.ndarray) -> np.ndarray:
    """A (n, n[, c]) noise field spread over skin coordinates -1.5..1.5 (interocular units), sampled at
    (``s_across``, ``s_down``): (h, w[, c]) float32."""
    cells = noise.shape[0]
    lookup_x = ((s_across + 1.5) / 3.0 * (cells - 1)).astype(np.float32)
    lookup_y = ((s_down + 1.5) / 3.0 * (cells - 1)).astype(np.float32)
    return cv2.remap(noise, lookup_x, lookup_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


@cache
def _noise(seed: int = 7, size: int = 24) -> np.ndarray:
    """(size, size, 2) float32 smooth fixed noise in [-1, 1]: furrow depth and phase irregularity."""
    rng = np.random.default_rng(seed)
    field = cv2.GaussianBlur(rng.standard_normal((size, size, 2)).astype(np.float32), (0, 0), 1.2)
    return np.clip(field / (3 * field.std() + 1e-9), -1, 1)


# --------------------------------------------------------------------------------------- shading


def saturate(x: np.ndarray | float, limit: float) -> np.ndarray | float:
    """Smooth saturation: ~x for small x, never beyond +-limit."""
    return limit * np.tanh(np.asarray(x) / limit)


def saturate_beyond_typical(level: float, limit: float) -> float:
    """An expression level (1 = the typical real expression) kept exactly up to 1 in size, then
    saturating smoothly toward +-``limit`` (continuous in value and slope at 1).

    `saturate` would already shave a typical level: 1.4 tanh(1 / 1.4) is 0.86, so a typical smile would
    carry only 86% of a typical smile's shading.
    """
    size = abs(level)
    if size <= 1.0 or limit <= 1.0:
        return float(np.sign(level) * min(size, max(limit, 1.0)))
    excess = limit - 1.0
    return float(np.sign(level) * (1.0 + excess * math.tanh((size - 1.0) / excess)))


def _live_box(regions: np.ndarray, level: float = 0.02) -> tuple[slice, slice] | None:
    """(rows, cols) slices of the box around the pixels where any of ``regions`` (h, w, k) exceeds
    ``level``; None where none does."""
    live = regions.max(axis=-1) > level
    if not live.any():
        return None
    rows, cols = np.flatnonzero(live.any(axis=1)), np.flatnonzero(live.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


@dataclass(frozen=True)
class _SkinBox:
    """What the furrows of one box need from the flow, each (h, w) float32 in that box.

    compress_across / compress_down: how much the skin was compressed along the face's across / down
    axis (0 = not compressed); s_across / s_down: the source skin coordinates (interocular units from
    the face centre), so a pattern fixed on them moves with the skin; depth, wobble: fixed noise there.
    """

    compress_across: np.ndarray
    compress_down: np.ndarray
    s_across: np.ndarray
    s_down: np.ndarray
    depth: np.ndarray
    wobble: np.ndarray


def _skin_box(
    flow: np.ndarray, rows: slice, cols: slice, origin: tuple[int, int], axes: FaceAxes
) -> _SkinBox:
    """The skin's compression and coordinates in the box (rows, cols) of ``flow`` (h, w, 2)."""
    f = flow[rows, cols]
    across, down, centre, unit = axes.across, axes.down, axes.centre, axes.unit
    # Directional derivatives of the backward map: |a + (a . grad) flow| > 1 where skin was compressed.
    gy_x, gx_x = np.gradient(f[..., 0])
    gy_y, gx_y = np.gradient(f[..., 1])

    def compression(a: np.ndarray) -> np.ndarray:
        dx = a[0] + a[0] * gx_x + a[1] * gy_x
        dy = a[1] + a[0] * gx_y + a[1] * gy_y
        return np.maximum(np.sqrt(dx * dx + dy * dy) - 1.0, 0.0)

    ys, xs = np.mgrid[rows, cols].astype(np.float32)
    src_x = xs + origin[0] + f[..., 0] - centre[0]
    src_y = ys + origin[1] + f[..., 1] - centre[1]
    s_across = (src_x * across[0] + src_y * across[1]) / unit  # skin coordinates, interocular units
    s_down = (src_x * down[0] + src_y * down[1]) / unit
    noise = _on_skin(_noise(), s_across, s_down)
    return _SkinBox(
        compress_across=compression(across),
        compress_down=compression(down),
        s_across=s_across,
        s_down=s_down,
        depth=0.7 + 0.3 * noise[..., 0],
        wobble=0.25 * noise[..., 1],
    )


def furrows(
    flow: np.ndarray,
    regions: np.ndarray,
    origin: tuple[int, int],
    axes: FaceAxes,
    config: DetailConfig,
) -> np.ndarray:
    """(h, w) float32 log shading of compression furrows in a box of the OUTPUT photo.

    The upper face's furrows and the chin's dimples are worked out each in the box around its own
    regions, so a face pays for the chin only around the chin.

    Args:
        flow: (h, w, 2) backward flow in the box (output pixel q shows source q + flow[q]).
        regions: (h, w, 4) forehead, glabella, nose-bridge furrow and chin dimple regions, in output
            geometry.
        origin: (x0, y0) of the box in the photo.
        axes: the face's frame (centre, across, down, unit) in source pixels.
    """
    out = np.zeros(flow.shape[:2], np.float32)
    unit = axes.unit

    def profile(skin: _SkinBox, coordinate: np.ndarray, spacing: float, phase: float = 0.0) -> np.ndarray:
        wave = 0.5 * (1.0 + np.cos(2 * math.pi * (coordinate / spacing + phase + skin.wobble)))
        return wave**config.furrow_width - 0.5**config.furrow_width  # dark furrows, a faint lift between

    upper = _live_box(regions[..., :3])
    if upper is not None:
        skin = _skin_box(flow, *upper, origin, axes)
        forehead, glabella, nose = (regions[upper][..., k] for k in range(3))
        # The warp compresses the forehead in a band above the brows; real skin folds over the whole
        # forehead: spread the compression over the region (weighted by it), so several lines form.
        sigma = config.forehead_spread * unit
        spread = cv2.GaussianBlur(skin.compress_down * forehead, (0, 0), sigma) / (
            cv2.GaussianBlur(forehead, (0, 0), sigma) + 1e-3
        )
        arched = skin.s_down + config.forehead_arch * skin.s_across**2
        lines = config.forehead_gain * forehead * spread * profile(skin, arched, config.forehead_spacing)
        lines += nose * skin.compress_down * profile(skin, skin.s_down, config.nose_spacing)  # nose bridge
        # Vertical lines between the brows, symmetric about the midline (none on it).
        lines += glabella * skin.compress_across * profile(skin, skin.s_across, config.glabella_spacing, 0.5)
        out[upper] += lines * skin.depth
    lower = _live_box(regions[..., 3:])
    if lower is not None:
        # Chin dimples: the bunched skin of a raised chin pits where a fine fixed noise on the skin dips.
        # Like the forehead, the chin boss bunches as a whole: its compression is shared over the region.
        skin = _skin_box(flow, *lower, origin, axes)
        chin = regions[lower][..., 3]
        bunched = np.maximum(skin.compress_down, skin.compress_across) * chin
        spread_chin = cv2.GaussianBlur(bunched, (0, 0), 0.1 * unit) / (
            cv2.GaussianBlur(chin, (0, 0), 0.1 * unit) + 1e-3
        )
        pits = _pits(skin.s_across, skin.s_down, config.chin_spacing)
        out[lower] += config.chin_gain * chin * spread_chin * pits * skin.depth
    return -saturate(config.wrinkle_gain * out, config.wrinkle_limit).astype(np.float32)
