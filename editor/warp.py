"""Landmark-driven warp of a full-resolution photo: (source landmarks, target landmarks) -> edited photo.

The geometry backend's image side, and the generator of (source, target, flow) training pairs:

1. `apply_safety` makes the target landmarks safe to render: eyelid motion scaled, irises moved only
   by a gaze change (their outlines never follow the lids), facing inner-lip and eyelid points never
   crossing, and no triangle of MediaPipe's face mesh folding over (`untangle`).
2. `dense_backward_flow` fits a thin-plate spline from the target positions of the moved points plus
   two fixed anchor rings (the face oval scaled by 1.35 and 1.6 about its centre) back to their source
   positions, evaluates it every `grid_step` pixels only inside a feathered face mask (switching to a
   piecewise-affine map where the spline would nearly fold, e.g. around closing eyelids), multiplies it
   by the mask and upsamples it: a backward flow (see editor.flow for the convention) that is exactly
   zero outside the mask, so hair, background and neck cannot move.
3. `warp_face` remaps the photo with that flow (only inside the mask's bounding box; every pixel
   outside it is copied) and reports fold-over (Jacobian determinant <= 0). What a warp cannot make
   (a mouth interior where the lips part, folds and wrinkles, a lash line over closed eyes) is the
   completion stage's job (`editor.completion`), which every flow backend runs on the result.

Landmarks are MediaPipe FaceLandmarker's 478 points in image pixels, (478, 2) or (478, 3) (z ignored).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass, field

import cv2
import numpy as np
from threadpoolctl import ThreadpoolController

from editor.flow import jacobian_determinant
from editor.interpolants import ThinPlateSpline, piecewise_affine
from editor.landmark_indices import NUM_LANDMARKS, FaceMeshIndices, as_array, face_mesh_indices

logger = logging.getLogger(__name__)

#: Fraction of the face that must fold over before a warp counts as folded (`WarpResult.folded`).
VISIBLE_FOLD = 5e-4

# The spline's ~500x500 solve and its evaluation are small BLAS calls: on a laptop's few shared cores
# OpenBLAS's threads only contend (10x slower measured on 2 busy cores), so they run single-threaded.
_THREADPOOLS = ThreadpoolController()


@dataclass(frozen=True)
class WarpConfig:
    """How the sparse landmark motion becomes a dense warp. Lengths relative to the face are fractions."""

    grid_step: int | None = None  # px between spline evaluations (bilinearly upsampled); None: face height
    #   / 64 clipped to 6..12 (8 for a 1350 px portrait's 540 px face; 4-5 folded more around lids)
    anchor_scales: tuple[float, ...] = (1.35, 1.6)  # fixed rings: the face oval scaled about its centroid
    mask_scale: float = 1.25  # outer edge of the mask (the oval scaled); must be inside the first ring
    feather: float = 0.16  # width of the mask's 0 -> 1 ramp, as a fraction of the face oval's height
    smoothing: float = 1e-6  # thin-plate-spline regulariser (normalised units); 0 interpolates exactly
    affine_below: float = 0.3  # piecewise affine replaces the spline where its Jacobian det is below this
    #   or above its inverse (a lid closing to a slit compresses the eye ~10x; the spline rings around it)
    fine_step: int | None = None  # eyes and mouth that open or close get the field this finely; None:
    #   3/8 of the grid step (3 px at 8), 0: off
    merge_distance: float = 0.5  # target points closer than this (pixels) become one control point
    eyelid_scale: float = 1.0  # multiplies the motion of the 32 eye-contour points (e.g. 0.5-1.2)
    lip_min_gap: float = 0.02  # facing inner-lip points stay this far apart (fraction of mouth width)
    lid_min_gap: float = 0.04  # facing eyelid points stay this far apart (fraction of eye width)
    pin_irises: bool = True  # keep the iris centres 468/473 still (while inside the eye opening) ...
    follow_gaze: bool = True  # ... unless the target moves them (a gaze change, eyeLook*): then they go
    untangle: bool = True  # pull points of folded face-mesh triangles back toward the source (`untangle`)

    def __post_init__(self) -> None:
        if self.grid_step is not None and self.grid_step < 1:
            raise ValueError(f"grid_step must be at least 1 pixel, got {self.grid_step}.")
        if not self.anchor_scales or self.mask_scale >= min(self.anchor_scales):
            raise ValueError(
                f"mask_scale ({self.mask_scale}) must be smaller than every anchor ring scale "
                f"{self.anchor_scales}, or the mask would let pixels beyond the fixed ring move."
            )
        if not 0 < self.feather < 1:
            raise ValueError(f"feather is a fraction of the face height in (0, 1), got {self.feather}.")


@dataclass(frozen=True)
class WarpResult:
    """An edited photo and what made it."""

    image: np.ndarray  # (H, W, 3) uint8 edited photo
    flow: np.ndarray  # (H, W, 2) float32 backward flow in pixels (out[p] = photo[p + flow[p]]), 0 off-face
    mask: np.ndarray  # (H, W) float32 in [0, 1]: the feathered face mask the flow was multiplied by
    target: np.ndarray  # (478, 2) float64 target landmarks after `apply_safety`
    fold_fraction: float  # fraction of the face (mask > 0.01) that folds over (Jacobian det <= 0) and shows;
    #   folds inside a mouth opening the warp enlarged (a closed seam stretched open) are not counted:
    #   the completion stage paints a mouth interior there
    min_jacobian: float  # smallest Jacobian determinant there (1 = unchanged, < 1 stretched, <= 0 folded)
    raw_fold_fraction: float  # the same counting the enlarged mouth opening too
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds per stage and "total"

    @property
    def folded(self) -> bool:
        """True when a visible part of the face folds over (the warp mirrored content somewhere).

        More than `VISIBLE_FOLD` of the face: the few stray pixels a closing lid or a lip corner can
        leave (about 1e-4 measured on London and Canada photos) do not count.
        """
        return self.fold_fraction > VISIBLE_FOLD


def _xy(landmarks: np.ndarray, name: str) -> np.ndarray:
    points = np.asarray(landmarks, np.float64)
    if points.ndim != 2 or points.shape[0] != NUM_LANDMARKS or points.shape[1] not in (2, 3):
        raise ValueError(
            f"{name} must be MediaPipe's (478, 2) or (478, 3) landmarks in pixels, got shape {points.shape}."
        )
    if not np.isfinite(points[:, :2]).all():
        raise ValueError(f"{name} contains NaN or infinite coordinates.")
    return points[:, :2].copy()


def face_polygon(landmarks: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """(36, 2) face-oval loop scaled by `scale` about the oval's centroid (the anchor rings, the mask)."""
    oval = _xy(landmarks, "landmarks")[as_array(face_mesh_indices().face_oval)]
    centre = oval.mean(axis=0)
    return centre + scale * (oval - centre)


def _face_height(landmarks: np.ndarray) -> float:
    return float(np.ptp(face_polygon(landmarks)[:, 1]))


def _down_direction(source: np.ndarray, idx: FaceMeshIndices) -> np.ndarray:
    """Unit vector from the eyes to the mouth: the face's 'down' (robust to roll and mirrored photos)."""
    eyes = source[as_array((*idx.right_eye_upper, *idx.left_eye_upper))].mean(axis=0)
    mouth = source[as_array((*idx.outer_lip_upper, *idx.outer_lip_lower))].mean(axis=0)
    down = mouth - eyes
    norm = np.linalg.norm(down)
    if norm < 1e-6:
        raise ValueError("The landmarks are degenerate: the eyes and the mouth are at the same place.")
    return down / norm


def clamp_facing_points(
    source: np.ndarray,
    target: np.ndarray,
    upper: tuple[int, ...],
    lower: tuple[int, ...],
    down: np.ndarray,
    min_gap: float,
) -> np.ndarray:
    """Push facing points of an opening (lips, eyelids) apart so `lower` never crosses above `upper`.

    The gap of pair i is (target[lower[i]] - target[upper[i]]) measured across the opening (along the
    perpendicular to the corner-to-corner line, oriented like `down`). Where the target gap is below
    min(source gap, min_gap) (never more crossed than MediaPipe saw it), the pair is moved back apart,
    along that perpendicular, to exactly that gap; the point that moved toward the other takes the
    correction (both in proportion when both did), so a lower lip pushed up into a still upper lip
    stops at it instead of shoving it up.
    The shared corner points (first and last) are not touched.

    Args:
        source, target: (478, 2) landmarks in pixels.
        upper, lower: facing index chains of the same length, corner to corner.
        down: (2,) unit vector pointing from the upper to the lower side of the face.
        min_gap: pixels.
    Returns:
        A corrected copy of `target`.
    """
    out = target.copy()
    up, lo = as_array(upper[1:-1]), as_array(lower[1:-1])

    def across(points: np.ndarray) -> np.ndarray:
        axis = points[upper[-1]] - points[upper[0]]
        normal = np.array([-axis[1], axis[0]])
        normal /= max(np.linalg.norm(normal), 1e-9)
        return normal if normal @ down >= 0 else -normal

    n_src, n_tgt = across(source), across(target)
    gap_src = (source[lo] - source[up]) @ n_src
    gap_tgt = (target[lo] - target[up]) @ n_tgt
    required = np.minimum(gap_src, min_gap)  # lips MediaPipe already reads as crossed may stay so
    short = gap_tgt < required
    if short.any():
        toward_up = np.maximum((target[up] - source[up]) @ n_tgt, 0.0)  # the upper point moving down
        toward_lo = np.maximum(-(target[lo] - source[lo]) @ n_tgt, 0.0)  # the lower point moving up
        total = toward_up + toward_lo
        share_up = np.where(total > 1e-9, toward_up / np.maximum(total, 1e-9), 0.5)
        overlap = (required - gap_tgt)[:, None] * n_tgt
        out[up[short]] -= (share_up[:, None] * overlap)[short]
        out[lo[short]] += ((1.0 - share_up)[:, None] * overlap)[short]
    return out


def untangle(
    source: np.ndarray,
    target: np.ndarray,
    *,
    min_area_ratio: float = 0.05,
    min_height_ratio: float = 0.05,
    min_height_iris: float = 0.01,
    relax: float = 0.75,
    max_iterations: int = 40,
) -> np.ndarray:
    """Relax the landmark motion until no face-mesh triangle folds over.

    A triangle of MediaPipe's tessellation folds when its signed area changes sign (or it collapses
    below `min_area_ratio` of its source area; triangles already nearly degenerate in the photo, small
    or slivers, are not judged): somewhere two points crossed (anny's eyelid skin
    passing the lid line in a blink, mouthClose used alone). Each round keeps every such triangle's
    common motion and multiplies what each of its points moves apart from it by `relax`
    (`_relax_folded`); points in no folded triangle keep their full motion. Folds left after
    `max_iterations` rounds get up to as many rounds that shrink the whole motion of their points.

    Args:
        source, target: (478, 2) landmarks in pixels.
    Returns:
        A corrected copy of `target` (unchanged when nothing folds).
    """
    idx = face_mesh_indices()
    openings = [
        _strip(upper, lower)
        for upper, lower in (
            (idx.right_eye_upper, idx.right_eye_lower),
            (idx.left_eye_upper, idx.left_eye_lower),
            (idx.inner_lip_upper, idx.inner_lip_lower),
        )
    ]
    triangles = np.concatenate([idx.triangles, *openings])  # the mesh plus its eye and mouth openings

    def signed_areas(points: np.ndarray) -> np.ndarray:
        a, b, c = (points[triangles[:, k]] for k in range(3))
        return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))

    reference = signed_areas(source)
    # Triangles that are nearly degenerate in the photo already (MediaPipe's lip corners, eye corners)
    # have no reliable orientation: judge only those of at least a tenth of the median area and not
    # slivers: height under `min_height_ratio` of the longest side, or under `min_height_iris` of the
    # inter-iris distance (about twice FaceLandmarker's frame-to-frame noise). Such a triangle's
    # orientation flips with landmark noise; pulling its points back cascaded into its neighbours (a
    # sliver beside a lip corner took half of a dropped jaw with it, in some frames of a video only).
    a, b, c = (source[triangles[:, k]] for k in range(3))
    sides = [np.linalg.norm(b - a, axis=1), np.linalg.norm(c - b, axis=1), np.linalg.norm(a - c, axis=1)]
    longest = np.maximum.reduce(sides)
    height = 2.0 * np.abs(reference) / np.maximum(longest, 1e-12)
    inter_iris = float(np.linalg.norm(source[idx.right_iris[0]] - source[idx.left_iris[0]]))
    judged = (
        (np.abs(reference) > 0.1 * np.median(np.abs(reference)))
        & (height >= min_height_ratio * longest)
        & (height >= min_height_iris * inter_iris)
    )
    out = target.copy()
    for round_ in range(2 * max_iterations):
        bad = judged & (signed_areas(out) * np.sign(reference) < min_area_ratio * np.abs(reference))
        if not bad.any():
            break
        out = _relax_folded(source, out, triangles[bad], relax, keep_common=round_ < max_iterations)
    else:
        logger.warning("Landmark folds remain after %d untangling rounds.", 2 * max_iterations)
    return out


def _relax_folded(
    source: np.ndarray, target: np.ndarray, folded: np.ndarray, relax: float, *, keep_common: bool = True
) -> np.ndarray:
    """One untangling round: each folded triangle's points keep their common motion, the rest shrinks.

    A folded triangle's motion is split into the mean of its three points' motions (a translation,
    which cannot fold anything) and each point's deviation from that mean (the deformation that
    folded it); the deviation is multiplied by `relax`. A point in several folded triangles takes the
    mean of their means. Pulling the points back toward the source instead (the motion itself times
    `relax`) left the neighbours that were not pulled back ahead of them: contempt's corner pull moved
    the lip corner and the dense rings of lip points around it by different amounts, and the warp tore
    the corner into a jagged staircase; closed eyes kept a slit of iris. Where whole regions cross (their
    common motion itself folds, e.g. half of the face pushed through the other half) a few dozen such
    rounds do not untangle them: then `keep_common=False` pulls the points back toward the source.

    Args:
        source, target: (478, 2) landmarks in pixels.
        folded: (n, 3) point indices of the folded triangles.
    Returns:
        A corrected copy of `target`.
    """
    motion = target - source  # (478, 2)
    shared = np.zeros_like(motion)
    count = np.zeros(len(source))
    np.add.at(shared, folded.ravel(), np.repeat(motion[folded].mean(axis=1), 3, axis=0))
    np.add.at(count, folded.ravel(), 1.0)
    moving = count > 0
    common = shared[moving] / count[moving, None]  # (m, 2) the mean motion of a point's folded triangles
    if not keep_common:
        common = np.zeros_like(common)
    out = target.copy()
    out[moving] = source[moving] + common + relax * (motion[moving] - common)
    return out


def apply_safety(source: np.ndarray, target: np.ndarray, config: WarpConfig | None = None) -> np.ndarray:
    """The target landmarks the warp will actually render (see the module docstring), (478, 2) float64.

    Also what a training-pair generator should store as the pair's target landmarks.
    """
    config = config or WarpConfig()
    src, tgt = _xy(source, "source"), _xy(target, "target")
    idx = face_mesh_indices()
    lids = as_array(idx.eyelids)
    tgt[lids] = src[lids] + config.eyelid_scale * (tgt[lids] - src[lids])
    for iris in (as_array(idx.right_iris), as_array(idx.left_iris)):
        # Each iris moves as a whole with its centre's gaze motion (none for every shape but eyeLook*):
        # its outline never follows the lids.
        gaze = tgt[iris[0]] - src[iris[0]] if config.follow_gaze else 0.0
        tgt[iris] = src[iris] + gaze
    tgt = _clamp_openings(src, tgt, config)
    if config.untangle:
        tgt = _clamp_openings(src, untangle(src, tgt), config)
    return tgt


def _clamp_openings(src: np.ndarray, tgt: np.ndarray, config: WarpConfig) -> np.ndarray:
    """Keep the inner lips and both pairs of eyelids from crossing (`clamp_facing_points`)."""
    idx = face_mesh_indices()
    down = _down_direction(src, idx)
    mouth_width = np.linalg.norm(src[idx.inner_lip_upper[-1]] - src[idx.inner_lip_upper[0]])
    tgt = clamp_facing_points(
        src, tgt, idx.inner_lip_upper, idx.inner_lip_lower, down, config.lip_min_gap * mouth_width
    )
    eyes = ((idx.right_eye_upper, idx.right_eye_lower), (idx.left_eye_upper, idx.left_eye_lower))
    for upper, lower in eyes:
        eye_width = np.linalg.norm(src[upper[-1]] - src[upper[0]])
        tgt = clamp_facing_points(src, tgt, upper, lower, down, config.lid_min_gap * eye_width)
    return tgt


def control_points(
    source: np.ndarray, safe_target: np.ndarray, config: WarpConfig | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The thin-plate spline's data: where each control point IS in the output, and where it came FROM.

    Landmarks (without the iris outlines; iris centres only while inside the target eye opening and
    `pin_irises`) plus the anchor rings (fixed: from == to). Points closer than `merge_distance` in
    the output are merged (their sources averaged).

    Returns:
        to_points (N, 2), from_points (N, 2), float64 pixels.
    """
    config = config or WarpConfig()
    src, tgt = _xy(source, "source"), _xy(safe_target, "target")
    idx = face_mesh_indices()
    keep = np.ones(NUM_LANDMARKS, bool)
    keep[as_array((*idx.right_iris, *idx.left_iris))] = False
    if config.pin_irises:
        for side, centre in (("right", idx.right_iris[0]), ("left", idx.left_iris[0])):
            eye = tgt[as_array(idx.eye_loop(side))].astype(np.float32)
            keep[centre] = cv2.pointPolygonTest(eye, tuple(map(float, tgt[centre])), True) > 1.0
    rings = np.concatenate([face_polygon(src, s) for s in config.anchor_scales])
    to_pts = np.concatenate([tgt[keep], rings])
    from_pts = np.concatenate([src[keep], rings])
    keys = np.round(to_pts / config.merge_distance).astype(np.int64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    if len(first) < len(to_pts):
        inverse = inverse.ravel()
        counts = np.bincount(inverse)[:, None]
        merged_to = np.zeros((len(first), 2))
        merged_from = np.zeros((len(first), 2))
        np.add.at(merged_to, inverse, to_pts)
        np.add.at(merged_from, inverse, from_pts)
        to_pts, from_pts = merged_to / counts, merged_from / counts
    return to_pts, from_pts


def _strip(first: tuple[int, ...] | np.ndarray, second: tuple[int, ...] | np.ndarray) -> np.ndarray:
    """Triangles of the band between two facing chains of equal length (first[i] faces second[i])."""
    a, b = np.asarray(first), np.asarray(second)
    tris = np.concatenate(
        [np.stack([a[:-1], a[1:], b[1:]], axis=1), np.stack([a[:-1], b[1:], b[:-1]], axis=1)]
    )
    return tris[(tris[:, 0] != tris[:, 1]) & (tris[:, 1] != tris[:, 2]) & (tris[:, 0] != tris[:, 2])]


def affine_mesh(
    source: np.ndarray, safe_target: np.ndarray, config: WarpConfig | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The triangle mesh the piecewise-affine fallback maps: face mesh, eye and mouth openings, rings.

    MediaPipe's tessellation (which `untangle` keeps unfolded), the eye and mouth openings filled with
    strips between their facing chains (kept uncrossed by the clamps), and bands from the face oval to
    each anchor ring, so the map is defined, and cannot fold, everywhere the warp moves pixels.

    Returns:
        to_points (478 + 36 k, 2) target positions, from_points (same) source positions,
        triangles (T, 3) int64.
    """
    config = config or WarpConfig()
    src, tgt = _xy(source, "source"), _xy(safe_target, "target")
    idx = face_mesh_indices()
    rings = [face_polygon(src, s) for s in config.anchor_scales]
    to_pts = np.concatenate([tgt, *rings])
    from_pts = np.concatenate([src, *rings])
    oval = np.asarray(idx.face_oval + idx.face_oval[:1])
    chains = [oval] + [NUM_LANDMARKS + 36 * k + np.r_[np.arange(36), 0] for k in range(len(rings))]
    parts = [idx.triangles]
    parts += [_strip(chains[k], chains[k + 1]) for k in range(len(rings))]
    for upper, lower in (
        (idx.right_eye_upper, idx.right_eye_lower),
        (idx.left_eye_upper, idx.left_eye_lower),
        (idx.inner_lip_upper, idx.inner_lip_lower),
    ):
        parts.append(_strip(upper, lower))
    return to_pts, from_pts, np.concatenate(parts).astype(np.int64)


@dataclass(frozen=True)
class _CoarseField:
    """The flow and mask sampled on a coarse grid over a region of interest of the photo."""

    roi: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive) in photo pixels
    flow: np.ndarray  # (ny, nx, 2) float32 backward flow in photo pixels, already multiplied by the mask
    mask: np.ndarray  # (ny, nx) float32 in [0, 1]
    cell: tuple[float, float]  # photo pixels per coarse cell along x, y
    spline: ThinPlateSpline | None  # the fitted field (None when the mask is empty)
    mesh: tuple[np.ndarray, np.ndarray, np.ndarray]  # `affine_mesh`: to_points, from_points, triangles


def _coarse_field(
    source: np.ndarray, safe_target: np.ndarray, shape: tuple[int, int], config: WarpConfig
) -> _CoarseField:
    height, width = shape
    polygon = face_polygon(source, config.mask_scale)
    pad = 2 * config.grid_step
    x0 = max(int(math.floor(polygon[:, 0].min())) - pad, 0)
    y0 = max(int(math.floor(polygon[:, 1].min())) - pad, 0)
    x1 = min(int(math.ceil(polygon[:, 0].max())) + pad + 1, width)
    y1 = min(int(math.ceil(polygon[:, 1].max())) + pad + 1, height)
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise ValueError("The face lies outside the image; pass landmarks in this image's pixel coordinates.")
    nx = max(math.ceil((x1 - x0) / config.grid_step), 2)
    ny = max(math.ceil((y1 - y0) / config.grid_step), 2)
    cx, cy = (x1 - x0) / nx, (y1 - y0) / ny  # cv2.resize maps coarse centre j to x0 + (j + 0.5) * cx - 0.5

    # Mask: the scaled oval rasterised on the coarse grid, eroded by R and Gaussian-blurred with radius R,
    # so it ramps from 1 to 0 over about 2R; nodes within one cell of the outline are 0, so the upsampled
    # mask is exactly 0 outside the polygon.
    coarse_poly = (polygon - [x0 - 0.5, y0 - 0.5]) / [cx, cy] - 0.5
    inside = np.zeros((ny, nx), np.uint8)
    cv2.fillPoly(inside, [np.round(coarse_poly * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    inside = cv2.erode(inside, np.ones((3, 3), np.uint8), borderValue=0)
    radius = max(config.feather * _face_height(source) / 2.0 / min(cx, cy), 1.0)
    eroded = (cv2.distanceTransform(inside, cv2.DIST_L2, 5) > radius).astype(np.float32)
    k = 2 * math.ceil(radius) + 1
    mask = cv2.GaussianBlur(eroded, (k, k), radius / 2.0) * inside

    mesh = affine_mesh(source, safe_target, config)
    spline = None
    flow = np.zeros((ny, nx, 2), np.float32)
    if (mask > 0).any():
        to_pts, from_pts = control_points(source, safe_target, config)
        with _THREADPOOLS.limit(limits=1, user_api="blas"):
            spline = ThinPlateSpline.fit(to_pts, from_pts - to_pts, smoothing=config.smoothing)
        flow = _sample_field(spline, mesh, (x0, y0), (cx, cy), mask > 0, config)
        flow *= mask[..., None]
    return _CoarseField(roi=(x0, y0, x1, y1), flow=flow, mask=mask, cell=(cx, cy), spline=spline, mesh=mesh)


def _sample_field(
    spline: ThinPlateSpline,
    mesh: tuple[np.ndarray, np.ndarray, np.ndarray],
    origin: tuple[float, float],
    cell: tuple[float, float],
    active: np.ndarray,
    config: WarpConfig,
) -> np.ndarray:
    """(ny, nx, 2) float32 backward flow at the centres of a grid of cells (cv2.resize's convention).

    Node (i, j) sits at photo pixel (origin_x + (j + 0.5) cell_x - 0.5, origin_y + (i + 0.5) cell_y - 0.5);
    only `active` (ny, nx) nodes are evaluated, the rest are 0.
    """
    flow = np.zeros((*active.shape, 2), np.float32)
    nodes = np.nonzero(active)
    xy = np.stack(
        [origin[0] + (nodes[1] + 0.5) * cell[0] - 0.5, origin[1] + (nodes[0] + 0.5) * cell[1] - 0.5], axis=1
    )
    with _THREADPOOLS.limit(limits=1, user_api="blas"):
        flow[nodes] = spline(xy, fast=True)  # mixed precision: < 0.05 px from float64
    if config.affine_below > 0:
        _affine_where_spline_folds(flow, active, nodes, xy, mesh, (cell[0] + cell[1]) / 2, config)
    return flow


def _refine_features(
    flow: np.ndarray, mask: np.ndarray, coarse: _CoarseField, source: np.ndarray, target: np.ndarray, config
) -> None:
    """Re-sample the field every `fine_step` pixels around eyes and mouth that open or close, in place.

    The coarse grid cannot hold a lid closing to a 2 px slit, or a lip seam opening: upsampled, the
    compression spreads over a whole cell (a half-closed eye). Around each feature whose opening
    changes by more than half a coarse cell (its source and target contour, padded) the field is
    evaluated finely and blended in with a soft edge.
    """
    if coarse.spline is None or not config.fine_step or 2 * config.fine_step > config.grid_step:
        return
    idx = face_mesh_indices()
    x0r, y0r, x1r, y1r = coarse.roi
    features = (
        (idx.right_eye_upper, idx.right_eye_lower),
        (idx.left_eye_upper, idx.left_eye_lower),
        (idx.inner_lip_upper, idx.inner_lip_lower),
    )
    for upper, lower in features:
        up, lo_ = as_array(upper[1:-1]), as_array(lower[1:-1])
        opening_change = np.abs(
            np.linalg.norm(target[lo_] - target[up], axis=1)
            - np.linalg.norm(source[lo_] - source[up], axis=1)
        )
        if opening_change.max() < 0.5 * config.grid_step:  # the coarse grid holds this much
            continue
        points = np.concatenate([source[as_array(upper + lower)], target[as_array(upper + lower)]])
        lo, hi = points.min(axis=0), points.max(axis=0)
        margin = 0.15 * float(hi[0] - lo[0]) + 2 * config.grid_step
        bx0, by0 = max(int(lo[0] - margin), x0r), max(int(lo[1] - margin), y0r)
        bx1, by1 = min(int(hi[0] + margin) + 1, x1r), min(int(hi[1] + margin) + 1, y1r)
        if bx1 - bx0 < 4 * config.grid_step or by1 - by0 < 4 * config.grid_step:
            continue
        nx = math.ceil((bx1 - bx0) / config.fine_step)
        ny = math.ceil((by1 - by0) / config.fine_step)
        cell = ((bx1 - bx0) / nx, (by1 - by0) / ny)
        fine = _sample_field(coarse.spline, coarse.mesh, (bx0, by0), cell, np.ones((ny, nx), bool), config)
        fine = cv2.resize(fine, (bx1 - bx0, by1 - by0), interpolation=cv2.INTER_LINEAR)
        ramp = float(config.grid_step)  # blend from the coarse field over one coarse cell at the edges
        ys = np.minimum(np.arange(by1 - by0), np.arange(by1 - by0)[::-1])[:, None]
        xs = np.minimum(np.arange(bx1 - bx0), np.arange(bx1 - bx0)[::-1])[None, :]
        weight = np.clip((np.minimum(xs, ys) - ramp) / ramp, 0.0, 1.0).astype(np.float32)[..., None]
        box = (slice(by0, by1), slice(bx0, bx1))
        flow[box] = (1.0 - weight) * flow[box] + weight * fine * mask[box][..., None]


def _affine_where_spline_folds(
    flow: np.ndarray,
    mask: np.ndarray,
    nodes: tuple[np.ndarray, np.ndarray],
    xy: np.ndarray,
    mesh: tuple[np.ndarray, np.ndarray, np.ndarray],
    spacing: float,
    config: WarpConfig,
) -> None:
    """Replace the spline, in place, by the piecewise-affine map around nodes where it (nearly) folds.

    The spline overshoots where control points close together move very differently (a closing
    eyelid over the static lower lid): its Jacobian determinant drops below `affine_below` there, or
    rises above 1 / `affine_below` where it squeezes a whole eye into the slit.
    Around those nodes (two coarse cells further, blended over a soft edge) the piecewise-affine map of
    `affine_mesh` takes over; it has no overshoot and cannot fold while the mesh's triangles keep their
    orientation, which `apply_safety` ensures.
    """
    det = jacobian_determinant(flow, spacing=spacing)
    weak = (((det < config.affine_below) | (det > 1.0 / config.affine_below)) & (mask > 0)).astype(np.uint8)
    if not weak.any():
        return
    reach = max(int(round(2 * config.grid_step / spacing)), 1)  # two coarse cells, in this grid's cells
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    weight = cv2.dilate(weak, kernel).astype(np.float32)
    weight = cv2.GaussianBlur(weight, (2 * reach + 1, 2 * reach + 1), reach / 2.0)
    weight = np.clip(weight * 1.5, 0.0, 1.0)
    blend = weight[nodes] > 0
    affine = piecewise_affine(mesh[0], mesh[1], xy[blend], triangles=mesh[2]) - xy[blend]
    rows, cols = nodes[0][blend], nodes[1][blend]
    w = weight[rows, cols][:, None]
    flow[rows, cols] = (1.0 - w) * flow[rows, cols] + w * np.nan_to_num(affine).astype(np.float32)


def _resolved(config: WarpConfig | None, source: np.ndarray) -> WarpConfig:
    """The config with the automatic grid_step and fine_step filled in for this face."""
    config = config or WarpConfig()
    step = config.grid_step or int(np.clip(round(_face_height(source) / 64.0), 6, 12))
    fine = config.fine_step if config.fine_step is not None else max(2, round(3 * step / 8))
    return dataclasses.replace(config, grid_step=step, fine_step=fine)


def dense_backward_flow(
    source: np.ndarray,
    target: np.ndarray,
    shape: tuple[int, int],
    config: WarpConfig | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The masked dense backward flow that moves `source` landmarks to `target` (after `apply_safety`).

    Args:
        source, target: (478, 2|3) landmarks in pixels of an image of `shape` (height, width).
    Returns:
        flow (H, W, 2) float32 pixels (0 outside the mask), mask (H, W) float32 in [0, 1].
    """
    src = _xy(source, "source")
    config = _resolved(config, src)
    safe = apply_safety(src, target, config)
    coarse = _coarse_field(src, safe, shape, config)
    flow, mask, _ = _full_resolution(coarse, shape)
    _refine_features(flow, mask, coarse, src, safe, config)
    return flow, mask


def _full_resolution(coarse: _CoarseField, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, tuple]:
    x0, y0, x1, y1 = coarse.roi
    flow = np.zeros((*shape, 2), np.float32)
    mask = np.zeros(shape, np.float32)
    region = (slice(y0, y1), slice(x0, x1))
    flow[region] = cv2.resize(coarse.flow, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    mask[region] = cv2.resize(coarse.mask, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    return flow, mask, region


def warp_face(
    image: np.ndarray,
    source: np.ndarray,
    target: np.ndarray,
    config: WarpConfig | None = None,
) -> WarpResult:
    """Warp the photo so the face's `source` landmarks move to `target` (full resolution, feathered).

    Args:
        image: (H, W, 3) uint8 RGB photo.
        source: (478, 2|3) the photo's landmarks in pixels (Face.landmarks).
        target: (478, 2|3) where they should go (e.g. from the blendshape basis).
        config: WarpConfig; the default is the tuned one.
    Returns:
        WarpResult with the edited photo, the flow, the mask, the safe target and fold diagnostics.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be an (H, W, 3) uint8 RGB array, got {image.shape} {image.dtype}.")
    clock = [time.perf_counter()]
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        clock.append(time.perf_counter())
        timings[name] = 1000.0 * (clock[-1] - clock[-2])

    src = _xy(source, "source")
    config = _resolved(config, src)
    safe = apply_safety(src, target, config)
    lap("safety")
    shape = image.shape[:2]
    coarse = _coarse_field(src, safe, shape, config)
    lap("field")
    flow, mask, region = _full_resolution(coarse, shape)
    lap("upsample")
    _refine_features(flow, mask, coarse, src, safe, config)
    lap("refine")
    x0, y0, x1, y1 = coarse.roi
    map_x = flow[region][..., 0] + np.arange(x0, x1, dtype=np.float32)[None, :]
    map_y = flow[region][..., 1] + np.arange(y0, y1, dtype=np.float32)[:, None]
    out = image.copy()
    out[region] = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    lap("remap")

    # Fold check on the flow actually used, every other pixel (the fine regions hold 2 px detail).
    det = jacobian_determinant(flow[region][::2, ::2], spacing=2.0)
    face = mask[region][::2, ::2] > 0.01
    area = max(int(face.sum()), 1)
    raw_folds = float((det[face] <= 0).sum() / area)
    opening = _enlarged_opening(src, safe, coarse.roi, image.shape[:2])
    if opening is not None:
        face &= ~opening[::2, ::2]
    folds = float((det[face] <= 0).sum() / area)
    min_det = float(det[face].min()) if face.any() else 1.0
    if folds > 0:
        logger.info("The warp folds over on %.2f%% of the face (min Jacobian %.3f).", 100 * folds, min_det)
    lap("folds")
    timings["total"] = 1000.0 * (clock[-1] - clock[0])
    return WarpResult(
        image=out,
        flow=flow,
        mask=mask,
        target=safe,
        fold_fraction=folds,
        min_jacobian=min_det,
        raw_fold_fraction=raw_folds,
        timings=timings,
    )


def _enlarged_opening(
    source: np.ndarray, target: np.ndarray, roi: tuple[int, int, int, int], shape: tuple[int, int]
) -> np.ndarray | None:
    """(h, w) bool over `roi`: the target mouth opening (grown 2 px) when the warp enlarged it, else None."""
    loop = as_array(face_mesh_indices().inner_lip_loop)
    area_s, area_t = (abs(cv2.contourArea(p[loop].astype(np.float32))) for p in (source, target))
    if area_t <= area_s:
        return None
    x0, y0, x1, y1 = roi
    canvas = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(canvas, [np.round(target[loop] - [x0, y0]).astype(np.int32)], 1)
    return cv2.dilate(canvas, np.ones((5, 5), np.uint8)).astype(bool)
