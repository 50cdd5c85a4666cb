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
