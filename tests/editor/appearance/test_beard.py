"""Beard on synthetic faces: hairs only in the beard region, darker, denser with strength, along the head."""

from __future__ import annotations

import numpy as np
import pytest

from editor.appearance import beard
from editor.appearance.effect import Refusal
from editor.appearance.regions import beard_mask
from editor.images import to_lab


def test_hairs_grow_only_inside_the_beard_region_and_darken_it(synthetic):
    image, face = synthetic
    applied = beard.apply(image, face.landmarks, 1.0, None)
    region = beard_mask(face.landmarks, image.shape[:2]).full()
    moved = (applied.image != image).any(axis=-1)
    assert moved.sum() > 500 and not (moved & (region == 0)).any()
    inside = region > 0.8
    before, after = to_lab(image)[..., 0][inside], to_lab(applied.image)[..., 0][inside]
    assert after.mean() < before.mean() - 5
    # Hairs, not a flat tint: the region's lightness varies more than before.
    assert after.std() > 1.5 * before.std()
    # Nothing on the lips.
    outer, inner = face.landmarks[[0, 17], :2], face.landmarks[[13, 14], :2]
    lips = np.round((outer + inner) / 2).astype(int)  # the middle of each lip
    assert np.array_equal(applied.image[lips[:, 1], lips[:, 0]], image[lips[:, 1], lips[:, 0]])


def test_more_strength_grows_more_and_longer_hair(synthetic):
    image, face = synthetic
    inside = beard_mask(face.landmarks, image.shape[:2]).full() > 0.8
    darkening = [
        to_lab(image)[..., 0][inside].mean()
        - to_lab(beard.apply(image, face.landmarks, s, None).image)[..., 0][inside].mean()
        for s in (0.3, 1.0, 2.0)
    ]
    assert 0 < darkening[0] < darkening[1] < darkening[2]


def test_hair_colour_comes_from_the_brows():
    image = np.full((400, 400, 3), 200, np.uint8)
    from editor.appearance.regions import brow_mask
    from synthetic_faces import synthetic_landmarks

    landmarks = synthetic_landmarks()
    brows = brow_mask(landmarks, image.shape[:2]).full() > 0.5
    image[brows] = (150, 60, 20)  # ginger brows
    colour = beard.hair_colour(image, landmarks)
    expected = to_lab(np.array([[[150, 60, 20]]], np.uint8))[0, 0]
    assert np.allclose(colour[1:], expected[1:], atol=2) and colour[0] <= 45


@pytest.mark.parametrize("roll", [0.0, 30.0])
def test_hairs_point_down_the_face_even_when_the_head_is_tilted(synthetic, roll):
    image, face = synthetic
    angle = np.radians(roll)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre = face.landmarks[:, :2].mean(axis=0)
    landmarks = face.landmarks.copy()
    landmarks[:, :2] = (face.landmarks[:, :2] - centre) @ rotation.T + centre
    chin = landmarks[[152], :2] - 0.2 * (landmarks[[152], :2] - landmarks[[17], :2])
    direction = beard._growth(landmarks, chin, 70.0)[0]
    down = rotation @ np.array([0.0, 1.0])
    assert direction @ down > 0.95


def test_shaving_is_refused_with_a_sentence(synthetic):
    image, face = synthetic
    with pytest.raises(Refusal, match="can't shave"):
        beard.apply(image, face.landmarks, -1.0, None)
