"""Alignment: pure geometry, tested on its own (round trips, exact inverses, untouched outside)."""

from __future__ import annotations

import numpy as np
import pytest

from editor.alignment import (
    ARCFACE_TEMPLATE_112,
    EDIT_SIZES,
    align_face,
    face_template,
    feathered_mask,
    invert_affine,
    paste_back,
    similarity_transform,
    transform_points,
)


def _rotation_scale(angle_deg: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    angle = np.radians(angle_deg)
    linear = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return np.hstack([linear, np.array(shift)[:, None]])


def test_similarity_transform_recovers_a_known_transform():
    truth = _rotation_scale(17.0, 2.3, (40.0, -12.0))
    source = np.random.default_rng(1).uniform(0, 100, (5, 2))
    target = transform_points(source, truth)
    assert np.allclose(similarity_transform(source, target), truth, atol=1e-9)


def test_similarity_transform_never_mirrors():
    source = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    mirrored = source * np.array([-1.0, 1.0])
    linear = similarity_transform(source, mirrored)[:, :2]
    assert np.linalg.det(linear) > 0


def test_similarity_transform_rejects_bad_input():
    with pytest.raises(ValueError):
        similarity_transform(np.zeros((5, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="identical"):
        similarity_transform(np.zeros((5, 2)), np.ones((5, 2)))


def test_invert_affine_is_exact():
    matrix = _rotation_scale(-33.0, 0.4, (3.0, 7.5))
    points = np.random.default_rng(2).uniform(-50, 50, (20, 2))
    back = transform_points(transform_points(points, matrix), invert_affine(matrix))
    assert np.allclose(back, points, atol=1e-9)


def test_template_scales_and_zooms_about_the_centre():
    assert np.allclose(face_template(112), ARCFACE_TEMPLATE_112)
    assert np.allclose(face_template(224), ARCFACE_TEMPLATE_112 * 2)
    wide = face_template(112, expand=2.0)
    assert np.allclose(wide - 56, (ARCFACE_TEMPLATE_112 - 56) / 2)


@pytest.mark.parametrize("size", EDIT_SIZES)
def test_key_points_land_on_the_template_and_landmarks_map_back(sample_rgb, sample_face, size):
    crop = align_face(sample_rgb, sample_face.points5, size)
    assert crop.image.shape == (size, size, 3)
    in_crop = transform_points(sample_face.points5, crop.matrix)
    # Five points cannot all sit exactly on a template: within 3% of the crop side.
    assert np.abs(in_crop - face_template(size, 1.6)).max() < 0.03 * size
    landmarks_back = transform_points(transform_points(sample_face.landmarks, crop.matrix), crop.inverse)
    assert np.allclose(landmarks_back, sample_face.landmarks[:, :2], atol=1e-6)


def test_crop_then_paste_back_reproduces_the_photo(sample_rgb, sample_face):
    crop = align_face(sample_rgb, sample_face.points5, 512)
    pasted = paste_back(sample_rgb, crop.image, crop.inverse)
    difference = np.abs(pasted.astype(int) - sample_rgb.astype(int))
    # The face crop is upsampled (~1.5x) on the way in: interpolation error only, no shift.
    assert difference.mean() < 0.6
    assert np.percentile(difference, 99.5) < 12


def test_paste_back_leaves_everything_outside_the_footprint_bit_exact(sample_rgb, sample_face):
    crop = align_face(sample_rgb, sample_face.points5, 256)
    edited = np.full_like(crop.image, 255)
    pasted = paste_back(sample_rgb, edited, crop.inverse)
    footprint = paste_back(np.zeros_like(sample_rgb), np.full_like(crop.image, 255), crop.inverse)
    untouched = footprint.max(axis=2) == 0
    assert untouched.mean() > 0.5
    assert np.array_equal(pasted[untouched], sample_rgb[untouched])
    # Inside, the edit shows: the centre of the face is now white.
    centre = transform_points(np.array([[128.0, 128.0]]), crop.inverse)[0].round().astype(int)
    assert tuple(pasted[centre[1], centre[0]]) == (255, 255, 255)


def test_feathered_mask_is_one_inside_zero_at_the_edge_and_smooth():
    mask = feathered_mask(128)
    assert mask.shape == (128, 128) and mask.dtype == np.float32
    assert mask[64, 64] == pytest.approx(1.0)
    assert mask[0, 64] == 0.0 and mask[64, 127] == 0.0
    assert np.abs(np.diff(mask[64])).max() < 0.15  # no hard edge
