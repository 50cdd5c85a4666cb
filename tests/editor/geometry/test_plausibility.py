"""Plausible at every strength: smooth brows, feature motion inside the range faces reach."""

from __future__ import annotations

import numpy as np

from editor.geometry.plausibility import (
    default_limits,
    feature_changes,
    keep_brow_shapes,
    plausible_fraction,
)
from editor.landmark_indices import LEFT_BROW_UPPER, RIGHT_BROW_UPPER, as_array
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
