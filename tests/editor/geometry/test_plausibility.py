"""Plausible at every strength: smooth brows, feature motion inside the range faces reach."""

from __future__ import annotations

import numpy as np

from editor.alignment import face_axes
from editor.geometry.basis import load_basis
from editor.geometry.plausibility import (
    MIN_LIP_SHARE,
    default_limits,
    feature_changes,
    keep_brow_shapes,
    keep_lip_order,
    plausible_fraction,
)
from editor.geometry.prototypes import prototype, saturate_weights
from editor.landmark_indices import LEFT_BROW_UPPER, RIGHT_BROW_UPPER, as_array, face_mesh_indices
from synthetic_faces import synthetic_landmarks


def test_a_wavy_brow_motion_becomes_a_smooth_arch_and_a_smooth_one_is_kept():
    source = synthetic_landmarks()
    wavy = source.copy()
    wavy[as_array(RIGHT_BROW_UPPER), 1] += np.array([-6.0, 6.0, -6.0, 6.0, -6.0])  # an M shape
    fixed = keep_brow_shapes(source, wavy)
    motion = fixed[as_array(RIGHT_BROW_UPPER), 1] - source[as_array(RIGHT_BROW_UPPER), 1]
    assert np.count_nonzero(np.diff(np.sign(np.diff(motion)))) <= 1  # the zig-zag is gone: one bend at most
    assert np.abs(motion).max() < 6.0
    lifted = source.copy()
    x = source[as_array(LEFT_BROW_UPPER), 0]
    lifted[as_array(LEFT_BROW_UPPER), 1] -= 2.0 + 0.1 * (x - x.min())  # a smooth (linear) raise
    np.testing.assert_allclose(keep_brow_shapes(source, lifted), lifted, atol=0.01)  # ~unchanged


def test_feature_changes_measure_what_moved():
    source = synthetic_landmarks(lip_gap=0.6)
    unit = 70.0  # the synthetic face's interocular distance is close to this
    target = source.copy()
    target[as_array(RIGHT_BROW_UPPER), 1] -= 7.0
    changes = feature_changes(source, target)
    assert changes["brow_right"] > 0.03 and abs(changes["brow_left"]) < 1e-9
    assert abs(changes["mouth_opening"]) < 1e-9
    assert changes["brow_right"] < 7.0 / unit


def test_an_edit_beyond_the_range_is_scaled_back_and_one_inside_is_not():
    source = synthetic_landmarks(lip_gap=0.6)
    limits = default_limits()
    high = limits.limits["brow_right"][1]
    unit = 2 * (70.0 / 2)  # interocular distance of the synthetic face, roughly
    modest, extreme = np.zeros_like(source), np.zeros_like(source)
    brows = as_array(RIGHT_BROW_UPPER + LEFT_BROW_UPPER)
    modest[brows, 1] = -0.5 * high * unit
    extreme[brows, 1] = -4.0 * high * unit
    assert plausible_fraction(source, modest) == (1.0, {})
    fraction, violated = plausible_fraction(source, extreme)
    assert 0.2 < fraction < 0.7 and {"brow_right", "brow_left"} <= set(violated)
    assert not limits.violations(feature_changes(source, source + fraction * extreme))


def _expression_target(source: np.ndarray, name: str, strength: float, unit: float = 70.0) -> np.ndarray:
    weights = saturate_weights({k: strength * v for k, v in prototype(name).items()})
    return source + unit * load_basis().displacement(weights)[:, :2]


def _down(points: np.ndarray, chain: tuple[int, ...] | list[int]) -> np.ndarray:
    """Positions along the face's down axis (the guard's own direction)."""
    return points[list(chain), :2] @ face_axes(synthetic_landmarks()).down


def test_rolled_in_lips_meet_instead_of_crossing_and_keep_some_of_their_red():
    idx = face_mesh_indices()
    source = synthetic_landmarks()
    raw = _expression_target(source, "lip_press", 2.0)
    crossed = _down(raw, idx.inner_lip_upper) - _down(raw, idx.inner_lip_lower)
    assert crossed.max() > 1.0  # anny's rolls put the upper lip's inner edge below the lower lip's
    fixed = keep_lip_order(source, raw)
    opening_before = _down(source, idx.inner_lip_lower) - _down(source, idx.inner_lip_upper)
    opening_after = _down(fixed, idx.inner_lip_lower) - _down(fixed, idx.inner_lip_upper)
    assert (opening_after >= np.minimum(opening_before, 0.0) - 1e-9).all()
    middle = len(idx.inner_lip_upper) // 2
    for outer, edge in (
        (idx.outer_lip_upper, idx.inner_lip_upper),
        (idx.outer_lip_lower, idx.inner_lip_lower),
    ):
        red_before = abs(_down(source, edge)[middle] - _down(source, outer)[middle])
        red_after = abs(_down(fixed, edge)[middle] - _down(fixed, outer)[middle])
        # (the guard measures the outer edge right over each inner point, this the same-index point)
        assert red_after >= 0.95 * MIN_LIP_SHARE * red_before
    # The rings between the contours stay between them: the upper lip's above the meeting line.
    ring = [i for i in (72, 73, 74, 11) if i not in idx.outer_lip_upper + idx.inner_lip_upper]
    assert ring
    assert (_down(fixed, ring) < _down(fixed, idx.inner_lip_upper[3:8]).max()).all()
    # The corners hold.
    corners = [
        idx.outer_lip_upper[0],
        idx.outer_lip_upper[-1],
        idx.inner_lip_upper[0],
        idx.inner_lip_upper[-1],
    ]
    np.testing.assert_array_equal(fixed[corners], raw[corners])


def test_lips_that_keep_their_order_come_back_unchanged():
    source = synthetic_landmarks()
    for name in ("happy", "mouth_open", "surprised"):
        target = _expression_target(source, name, 1.0)
        np.testing.assert_array_equal(keep_lip_order(source, target), target)
