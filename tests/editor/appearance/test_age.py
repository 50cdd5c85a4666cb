"""Age (the prototype transform) on synthetic faces: the shipped differences, texture where age puts it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from editor.appearance import age
from editor.images import to_lab
from synthetic_faces import skin_image, synthetic_landmarks


@pytest.fixture(scope="module")
def textured():
    """The synthetic face (100 px between the irises) with skin detail a wrinkle map can amplify."""
    points = synthetic_landmarks(unit=100.0) + (100.0, 100.0)  # (478, 2)
    big = skin_image(points, 620, 600)
    rng = np.random.default_rng(3)
    detail = cv2.GaussianBlur(rng.normal(0, 10, big.shape[:2]).astype(np.float32), (0, 0), 1.2)
    big = np.clip(big.astype(np.float32) + detail[..., None], 0, 255).astype(np.uint8)
    return big, points


def test_the_shipped_prototypes_hold_a_plausible_ageing():
    prototypes = age.load_prototypes()
    delta, meta = prototypes.shape_delta, prototypes.meta
    assert delta.shape == (478, 2) and prototypes.maps.shape[-1] == 5
    assert meta["years_per_unit"] == 20.0 and all(8 < gap < 25 for gap in meta["years_between_groups"])
    # Older: the jaw widens and drops (jowls) and the lower lip thins (its outer edge rises).
    assert delta[172, 0] < -1 and delta[397, 0] > 1 and delta[172, 1] > 1 and delta[397, 1] > 1
    assert delta[17, 1] - delta[14, 1] < -1
    # Texture ratios only raise detail (log ratio >= 0) and do so somewhere.
    assert prototypes.maps[..., 3].min() >= 0 and prototypes.maps[..., 3].max() > 0.1


def detail_energy(image: np.ndarray, centre: np.ndarray, radius: int = 12) -> float:
    lightness = to_lab(image)[..., 0]
    band = lightness - cv2.GaussianBlur(lightness, (0, 0), 1.5)
    x, y = np.round(centre).astype(int)
    return float((band[y - radius : y + radius, x - radius : x + radius] ** 2).mean())


def test_older_raises_fine_detail_where_the_prototypes_put_it_and_younger_lowers_it(textured):
    image, landmarks = textured
    prototypes = age.load_prototypes()
    # The face points where the older prototype's detail rises most (nasolabial folds, chin, cheeks).
    from editor.completion import frame

    sampled = frame.frame_to_photo(prototypes.maps[..., 3], landmarks, prototypes.mean_shape,
                                   (0, 0, image.shape[1], image.shape[0]), step=4)  # fmt: skip
    rough = np.array(np.unravel_index(np.argmax(cv2.GaussianBlur(sampled, (0, 0), 6)), sampled.shape))[::-1]
    before = detail_energy(image, rough)
    older = detail_energy(age.apply(image, landmarks, 1.0, None).image, rough)
    younger = detail_energy(age.apply(image, landmarks, -1.0, None).image, rough)
    assert older > 1.15 * before and younger < before / 1.1


def test_strength_scales_the_shape_change_and_its_sign_reverses_it(textured):
    image, landmarks = textured
    changes = {}
    for strength in (0.5, 1.0, -1.0):
        edited = age.apply(image, landmarks, strength, None)
        changes[strength] = np.abs(edited.image.astype(float) - image).mean()
        assert edited.colour == ("older" if strength > 0 else "younger")
        moved = (edited.image != image).any(axis=-1)
        assert not (moved & (edited.region.full() == 0)).any()
    assert 0 < changes[0.5] < changes[1.0]
    assert changes[-1.0] > 0.5 * changes[1.0]
