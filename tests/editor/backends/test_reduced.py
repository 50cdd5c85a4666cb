"""Huge face regions: the flow edit computed on a reduced view and carried back at full resolution."""

from __future__ import annotations

import tracemalloc

import cv2
import numpy as np
import pytest

from editor.backends import reduced
from editor.backends.geometry import GeometryBackend
from editor.editor import face_region
from editor.requests import EditRequest


@pytest.fixture(scope="module")
def textured(analyzer, sample_rgb):
    """The sample upscaled 4x with fine grain on top (detail an upscale alone lacks): photo, face."""
    photo = cv2.resize(sample_rgb, (2048, 2048), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    grain = np.random.default_rng(0).normal(0, 8, (2048, 2048, 1)).astype(np.float32)
    photo = np.clip(photo + grain, 0, 255).astype(np.uint8)
    face = analyzer.analyze_one(photo)
    x0, y0, x1, y1 = face_region(face, photo.shape[:2])
    return np.ascontiguousarray(photo[y0:y1, x0:x1]), face.translated(-x0, -y0)


@pytest.fixture(scope="module")
def backend() -> GeometryBackend:
    return GeometryBackend()


def _edit(backend, region, face, requests, side, monkeypatch):
    monkeypatch.setattr(reduced, "REDUCED_SIDE", side)
    tracemalloc.start()
    try:
        edit = backend.edit(region, face, requests, steps=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return edit.image, peak


@pytest.mark.parametrize(
    "requests",
    [
        [EditRequest(attribute="happy", strength=1.0)],
        [EditRequest(attribute="mouth_open", strength=1.0)],  # a painted mouth interior
        [EditRequest(attribute="eyes_closed", strength=1.0)],  # painted lash lines
    ],
    ids=["smile", "open mouth", "closed eyes"],
)
def test_a_reduced_view_edit_matches_the_full_resolution_edit_and_stays_sharp(
    backend, textured, requests, monkeypatch
):
    region, face = textured
    assert max(region.shape[:2]) > 600
    full, full_peak = _edit(backend, region, face, requests, 10**6, monkeypatch)
    small, small_peak = _edit(backend, region, face, requests, 400, monkeypatch)
    assert small.shape == region.shape and small.dtype == np.uint8
    difference = np.abs(small.astype(np.int16) - full).max(axis=2)
    change = np.abs(full.astype(np.int16) - region).max(axis=2)
    assert change.mean() > 0.3  # the edit did something
    assert difference.mean() < 0.25 * change.mean() and np.percentile(difference, 99) < 24

    def grain(image):  # the high-frequency texture: what an upsampled reduced photo would lose
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
        return float(np.abs(grey - cv2.GaussianBlur(grey, (0, 0), 2.0)).mean())

    assert grain(small) > 0.9 * grain(full)
    unchanged = change == 0
    assert np.array_equal(small[unchanged & (difference == 0)], region[unchanged & (difference == 0)])
    assert (small[unchanged] == region[unchanged]).all(axis=1).mean() > 0.99  # away from the face: copied
    assert small_peak < 0.6 * full_peak  # no full-size float arrays of the region


def test_only_regions_longer_than_the_reduced_side_are_reduced(monkeypatch):
    monkeypatch.setattr(reduced, "REDUCED_SIDE", 1600)
    assert reduced.reduced_size((1350, 1350)) is None and reduced.reduced_size((1600, 900)) is None
    assert reduced.reduced_size((4000, 3000)) == (1200, 1600)
    points = np.array([[0.0, 0.0], [3999.0, 2999.0]])
    assert np.allclose(reduced.to_reduced(points, (0.4, 0.4)), [[-0.3, -0.3], [1599.3, 1199.3]])


def test_carrying_back_an_edit_that_changed_nothing_copies_the_region():
    region = np.random.default_rng(1).integers(0, 256, (900, 700, 3), dtype=np.uint8)
    small = cv2.resize(region, (280, 360), interpolation=cv2.INTER_AREA)
    flow, shading = np.zeros((360, 280, 2), np.float32), np.zeros((360, 280), np.float32)
    nothing = np.zeros((360, 280), np.float32)
    out = reduced.apply_at_full_resolution(region, flow, shading, small, small, nothing)
    assert out is not region and np.array_equal(out, region)
