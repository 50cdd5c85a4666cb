"""Eye colour on a synthetic face whose irises are flat, dark and pupil-less, as dark brown ones look."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from editor.appearance import eyes
from editor.appearance.regions import iris_circle
from editor.images import to_lab


@pytest.fixture(scope="module")
def dark_irises(synthetic):
    """The synthetic face with both irises painted one flat dark brown (no pupil, no texture)."""
    image, face = synthetic
    image = image.copy()
    for side in ("right", "left"):
        centre, radius = iris_circle(face.landmarks, side)
        cv2.circle(image, tuple(int(round(v)) for v in centre), int(round(radius)), (52, 34, 26), -1)
    return image, face


def _rings(image, face, side, bands):
    """Median L* of the iris pixels in each (inner, outer) band of radii around the iris centre."""
    centre, radius = iris_circle(face.landmarks, side)
    ys, xs = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    distance = np.hypot(xs - centre[0], ys - centre[1]) / radius
    lightness = to_lab(image)[..., 0]
    return [float(np.median(lightness[(distance >= a) & (distance < b)])) for a, b in bands]


def test_a_dark_iris_turned_blue_keeps_a_dark_pupil_and_gains_a_limbal_ring(dark_irises):
    image, face = dark_irises
    edited = eyes.apply(image, face.landmarks, 1.0, "blue").image
    pupil, middle, rim = _rings(edited, face, "right", [(0.0, 0.2), (0.45, 0.65), (0.85, 0.97)])
    before_pupil, before_middle = _rings(image, face, "right", [(0.0, 0.2), (0.45, 0.65)])
    assert middle > before_middle + 12  # the iris itself went lighter
    assert pupil < before_pupil + 3  # the pupil stayed as dark as it was
    assert rim < middle - 4  # a darker ring at the edge


def test_a_flat_iris_gets_radial_fibres_and_a_textured_one_keeps_its_own(dark_irises, synthetic):
    image, face = dark_irises
    centre, radius = iris_circle(face.landmarks, "right")
    ys, xs = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    distance = np.hypot(xs - centre[0], ys - centre[1]) / radius
    band = (distance > 0.45) & (distance < 0.65)  # mid-iris: clear of pupil and ring

    def spread(picture):
        values = to_lab(picture)[..., 0][band]
        return 1.4826 * float(np.median(np.abs(values - np.median(values))))

    flat = eyes.apply(image, face.landmarks, 1.0, "green").image
    assert spread(image) < 1.0 and spread(flat) > 2.5
    textured = image.copy()
    noise = np.random.default_rng(0).normal(0, 12, image.shape[:2])[..., None]
    textured[band] = np.clip(textured[band] + noise[band], 0, 255).astype(np.uint8)
    own = spread(textured)
    assert own > eyes.FIBRE_SPREAD
    assert abs(spread(eyes.apply(textured, face.landmarks, 1.0, "green").image) - own) < 0.35 * own
