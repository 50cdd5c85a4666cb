"""Synthesised mouth interior for warps that part the lips.

A warp can only move pixels: when it opens a closed mouth, the gap between the lips is filled by the
lip seam stretched across it (smeared lips). This module paints what a parted mouth shows instead:
a dark interior graded from the shadow under the upper lip to a dimly lit tongue at the bottom,
darker toward the corners, with an optional soft band of upper teeth, all tinted from the person's
own lip colour and composited with a soft edge inside the TARGET inner-lip polygon.

It paints only where the opening is new: target pixels whose source position was already inside the
source mouth opening, and that the warp does not stretch much, keep their real content (teeth,
tongue); a closed mouth's seam stretched open, or real teeth stretched tall, are painted over. Nothing
outside the target inner-lip polygon (plus its edge blur of a pixel or two) changes.

Decision (issue 4, "synthesise or cap"): we synthesise and do not cap; the result says how much was
painted (`mouth_alpha`), so a caller can cap strength itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from editor.flow import jacobian_determinant
from editor.landmark_indices import as_array, face_mesh_indices


@dataclass(frozen=True)
class MouthConfig:
    """Look of the synthesised interior. Lengths are fractions of the mouth width (inner corners)."""

    darkness: float = 0.16  # interior brightness relative to the lip colour, at its darkest
    teeth: float = 0.85  # opacity of the upper-teeth hint (0 = no teeth)
    teeth_height: float = 0.10  # tallest visible band of upper teeth
    teeth_from: float = 0.05  # teeth start to show when the opening reaches this height ...
    teeth_full: float = 0.14  # ... and are fully shown from this opening height
    edge_softness: float = 0.012  # Gaussian sigma of the interior's edge
    stretch_from: float = 0.35  # real interior stretched to 1/0.35 of its area or more is painted over ...
    stretch_to: float = 0.7  # ... and kept where stretched less than 1/0.7
    min_area_growth: float = 0.01  # full opacity once the opening grew by this area (fraction of width^2)


def _loop(points: np.ndarray, upper: tuple[int, ...], lower: tuple[int, ...]) -> np.ndarray:
    return points[as_array(upper + tuple(reversed(lower[1:-1])))]


def _fill(shape: tuple[int, int], polygon: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Anti-aliased (h, w) float32 coverage of a polygon given in photo pixels, in a box at `origin`."""
    canvas = np.zeros(shape, np.uint8)
    pts = np.round((polygon - origin) * 16).astype(np.int32)
    cv2.fillPoly(canvas, [pts], 255, lineType=cv2.LINE_AA, shift=4)
    return canvas.astype(np.float32) / 255.0


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    """0 at edge0, 1 at edge1 (either order), smooth in between."""
    span = edge1 - edge0
    t = np.clip((x - edge0) / (span if abs(span) > 1e-9 else 1e-9), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def synthesize_mouth_interior(
    image: np.ndarray,
    source: np.ndarray,
    target: np.ndarray,
    flow: np.ndarray,
    config: MouthConfig | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Paint a mouth interior where the warp opened the lips.

    Args:
        image: (H, W, 3) uint8 RGB, the ALREADY WARPED photo.
        source: (478, 2) landmarks of the original photo, pixels.
        target: (478, 2) landmarks the warp moved them to (after editor.warp.apply_safety).
        flow: (H, W, 2) float32 backward flow the photo was warped with.
        config: MouthConfig.
    Returns:
        (image, alpha): the composited (H, W, 3) uint8 photo (a new array) and the (H, W) float32
        opacity in [0, 1] that was painted (all zero when the target opening is not larger).
    """
    config = config or MouthConfig()
    height, width = image.shape[:2]
    alpha_full = np.zeros((height, width), np.float32)
    idx = face_mesh_indices()
    poly_t = _loop(target, idx.inner_lip_upper, idx.inner_lip_lower)
    poly_s = _loop(source, idx.inner_lip_upper, idx.inner_lip_lower)
    left, right = target[idx.inner_lip_upper[0]], target[idx.inner_lip_upper[-1]]
    mouth_w = float(np.linalg.norm(right - left))
    area_t, area_s = (abs(cv2.contourArea(p.astype(np.float32))) for p in (poly_t, poly_s))
    growth = area_t - area_s
    gate = float(np.clip(growth / (config.min_area_growth * mouth_w * mouth_w + 1e-9), 0.0, 1.0))
    if gate <= 0.0 or mouth_w < 2.0:
        return image.copy(), alpha_full

    pad = 0.1 * mouth_w + 4
    both = np.concatenate([poly_t, poly_s])
    x0, y0 = (max(int(math.floor(v - pad)), 0) for v in both.min(axis=0))
    x1 = min(int(math.ceil(both[:, 0].max() + pad)) + 1, width)
    y1 = min(int(math.ceil(both[:, 1].max() + pad)) + 1, height)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return image.copy(), alpha_full
    box = (y1 - y0, x1 - x0)
    origin = np.array([x0, y0], np.float64)

    # Where to paint: inside the target opening, softly, except where real interior maps back without
    # being stretched (a seam stretched open, or teeth stretched tall, has a Jacobian determinant << 1).
    sigma = max(config.edge_softness * mouth_w, 0.5)
    k = 2 * math.ceil(2 * sigma) + 1  # a short kernel: the soft edge ends 2 sigma outside the polygon
    inside_t = cv2.GaussianBlur(_fill(box, poly_t, origin), (k, k), sigma)
    region = (slice(y0, y1), slice(x0, x1))
    map_x = flow[region][..., 0] + np.arange(box[1], dtype=np.float32)[None, :]
    map_y = flow[region][..., 1] + np.arange(box[0], dtype=np.float32)[:, None]
    inside_s = _fill(box, poly_s, origin)
    real = cv2.remap(inside_s, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    unstretched = _smoothstep(config.stretch_from, config.stretch_to, jacobian_determinant(flow[region]))
    real = cv2.GaussianBlur(real * unstretched, (k, k), sigma)
    alpha = gate * inside_t * (1.0 - real)

    # Mouth frame: s along the corners (0..1), h across, down-oriented like the outer lips.
    u = (right - left) / mouth_w
    n = np.array([-u[1], u[0]])
    outer_upper, outer_lower = (
        target[as_array(c)].mean(axis=0) for c in (idx.outer_lip_upper, idx.outer_lip_lower)
    )
    lips_down = outer_lower - outer_upper
    if n @ lips_down < 0:
        n = -n
    xs = np.arange(x0, x1, dtype=np.float64)[None, :] - left[0]
    ys = np.arange(y0, y1, dtype=np.float64)[:, None] - left[1]
    s = (xs * u[0] + ys * u[1]) / mouth_w
    h = xs * n[0] + ys * n[1]

    def edge(chain: tuple[int, ...]) -> np.ndarray:
        rel = target[as_array(chain)] - left
        return np.interp(s, rel @ u / mouth_w, rel @ n)

    h_up, h_low = edge(idx.inner_lip_upper), edge(idx.inner_lip_lower)
    opening = np.maximum(h_low - h_up, 1.0)
    v = np.clip((h - h_up) / opening, 0.0, 1.0)  # 0 under the upper lip, 1 on the lower lip
    across = np.sin(np.pi * np.clip(s, 0.0, 1.0))  # 0 at the corners, 1 in the middle

    outer = _fill(box, _loop(target, idx.outer_lip_upper, idx.outer_lip_lower), origin)
    ring = np.clip(outer - inside_t, 0, 1)  # the lips themselves
    patch = image[region].astype(np.float32)
    weight = ring.sum()
    lip = (patch * ring[..., None]).sum(axis=(0, 1)) / weight if weight > 1 else patch.reshape(-1, 3).mean(0)

    shade = config.darkness * (0.45 + 1.6 * v * v) * (0.55 + 0.45 * across)
    colour = lip[None, None, :] * shade[..., None]
    if config.teeth > 0:
        band = np.minimum(0.45 * opening, config.teeth_height * mouth_w)
        depth = (h - h_up) / np.maximum(band, 1.0)  # 0 at the upper lip, 1 at the teeth's edge
        tooth = _smoothstep(1.1, 0.75, depth) * (depth > -0.2)
        tooth *= _smoothstep(config.teeth_from * mouth_w, config.teeth_full * mouth_w, opening)
        tooth *= _smoothstep(0.05, 0.3, np.minimum(s, 1.0 - s))
        luma = float(lip @ np.array([0.299, 0.587, 0.114]))
        enamel = np.clip(1.6 * luma, 120.0, 235.0) * np.array([1.0, 0.95, 0.86])  # ivory, lit like the lips
        lit = (0.75 + 0.25 * _smoothstep(0.0, 0.3, depth)) * (0.55 + 0.45 * across)
        teeth_rgb = enamel[None, None, :] * lit[..., None]
        t = (config.teeth * tooth)[..., None]
        colour = colour * (1 - t) + teeth_rgb * t

    a = alpha[..., None]
    out = image.copy()
    out[region] = np.clip(patch * (1 - a) + colour * a + 0.5, 0, 255).astype(np.uint8)
    alpha_full[region] = alpha
    return out, alpha_full
