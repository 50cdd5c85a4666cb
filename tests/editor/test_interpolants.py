"""Scattered-data interpolants behind the warp: thin-plate spline and piecewise affine."""

from __future__ import annotations

import numpy as np
import pytest

from editor.interpolants import ThinPlateSpline, piecewise_affine


def _points(n: int = 60, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 500, (n, 2))


def test_spline_interpolates_its_control_values():
    pts = _points()
    values = np.random.default_rng(1).normal(0, 5, (60, 2))
    spline = ThinPlateSpline.fit(pts, values)
    np.testing.assert_allclose(spline(pts), values, atol=1e-6)
    np.testing.assert_allclose(spline(pts, fast=True), values, atol=0.05)


def test_spline_reproduces_an_affine_field_everywhere():
    pts = _points()
    affine = np.array([[0.1, -0.05], [0.02, 0.2]])
    spline = ThinPlateSpline.fit(pts, pts @ affine + [3, -2])
    query = _points(200, seed=2) * 1.2 - 50
    np.testing.assert_allclose(spline(query), query @ affine + [3, -2], atol=1e-6)
    np.testing.assert_allclose(spline.weights, 0, atol=1e-9)


def test_spline_rejects_too_few_or_collinear_points():
    with pytest.raises(ValueError, match="N >= 3"):
        ThinPlateSpline.fit(np.zeros((2, 2)), np.zeros((2, 2)))
    line = np.stack([np.arange(5.0), np.arange(5.0)], axis=1)
    with pytest.raises(ValueError, match="collinear"):
        ThinPlateSpline.fit(line, np.zeros((5, 2)))


def test_piecewise_affine_is_exact_for_an_affine_map_and_nan_outside():
    pts = _points()
    mapped = pts @ np.array([[1.1, 0.1], [-0.2, 0.9]]) + [5, 7]
    query = np.array([[250.0, 250.0], [200.0, 300.0], [-100.0, -100.0]])
    out = piecewise_affine(pts, mapped, query)
    np.testing.assert_allclose(out[:2], query[:2] @ np.array([[1.1, 0.1], [-0.2, 0.9]]) + [5, 7], atol=1e-9)
    assert np.isnan(out[2]).all()


def test_piecewise_affine_passes_through_its_control_points():
    pts = _points()
    mapped = pts + np.random.default_rng(3).normal(0, 4, pts.shape)
    np.testing.assert_allclose(piecewise_affine(pts, mapped, pts), mapped, atol=1e-9)


def test_piecewise_affine_handles_many_queries_on_near_degenerate_triangles():
    rng = np.random.default_rng(4)
    pts = np.concatenate(
        [_points(200), _points(200, seed=5) + rng.normal(0, 1e-3, (200, 2))]
    )  # near-duplicates
    mapped = pts + rng.normal(0, 2, pts.shape)
    ys, xs = np.mgrid[100:400:2, 100:400:2]
    query = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64)
    out = piecewise_affine(pts, mapped, query)
    assert np.isfinite(out).all()
    assert np.abs(out - query).max() < 20


def test_fast_evaluation_stays_exact_near_conflicting_close_points():
    """Two points 0.5 px apart moving 15 px apart (a closing lid's corner) give huge weights."""
    pts = _points(300)
    values = np.zeros((302, 2))
    pts = np.concatenate([pts, [[250.0, 250.0], [250.0, 250.5]]])
    values[-1] = [0.0, 15.0]
    spline = ThinPlateSpline.fit(pts, values, smoothing=1e-6)
    assert np.abs(spline.weights).max() > 1e4
    query = _points(2000, seed=7)
    np.testing.assert_allclose(spline(query, fast=True), spline(query), atol=0.05)
