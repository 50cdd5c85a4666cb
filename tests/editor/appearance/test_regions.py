"""Region masks from the landmarks: where they reach, where they never reach."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from editor.appearance import regions as R
from editor.landmark_indices import as_array, face_mesh_indices
from synthetic_faces import inside as _inside

IDX = face_mesh_indices()


def inside(polygon: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The filled polygon grown by one pixel (rasterisations differ at the outline)."""
    return cv2.dilate(_inside(polygon, shape).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)


def strictly_inside(polygon: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The filled polygon shrunk by one pixel."""
    return cv2.erode(_inside(polygon, shape).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)


def test_polygon_mask_is_zero_outside_its_box_and_inside_option_never_spills():
    square = np.array([[20, 20], [60, 20], [60, 60], [20, 60]], float)
    soft = R.polygon_mask([square], (100, 100), feather=3.0)
    assert soft.full()[:10].sum() == 0 and soft.full()[40, 40] == pytest.approx(1.0, abs=1e-3)
    strict = R.polygon_mask([square], (100, 100), feather=3.0, inside=True).full()
    assert strict[~inside(square, (100, 100))].max() < 0.05 and strict[40, 40] > 0.99


def test_mask_algebra_minus_union_multiply():
    a = R.polygon_mask([np.array([[10, 10], [50, 10], [50, 50], [10, 50]], float)], (80, 80))
    b = R.polygon_mask([np.array([[30, 30], [70, 30], [70, 70], [30, 70]], float)], (80, 80))
    assert (a.union(b).full() >= np.maximum(a.full(), b.full()) - 1e-6).all()
    assert a.minus(b).full()[40, 40] == 0 and a.minus(b).full()[15, 15] == pytest.approx(1.0)
    assert (a * b).full()[15, 15] == 0 and (a * b).full()[40, 40] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "other_box", [(30, 25, 70, 60), (0, 0, 90, 80), (5, 5, 15, 12), (60, 55, 90, 80), (52, 0, 90, 20)]
)
def test_minus_and_union_over_overlapping_contained_and_disjoint_boxes_match_the_whole_photo_algebra(
    other_box,
):
    rng = np.random.default_rng(1)
    shape = (80, 90)
    a = R.RegionMask(rng.random((40, 40), np.float32) * (rng.random((40, 40)) > 0.3), (10, 12, 50, 52), shape)
    x0, y0, x1, y1 = other_box
    b = R.RegionMask(rng.random((y1 - y0, x1 - x0), np.float32), other_box, shape)
    minus = a.minus(b)
    assert minus.box == a.box
    assert np.allclose(minus.full(), a.full() * (1.0 - b.full()), atol=1e-6)
    assert np.allclose(a.union(b).full(), np.maximum(a.full(), b.full()), atol=1e-6)
    assert np.array_equal(a.alpha, R.RegionMask(a.alpha.copy(), a.box, shape).alpha)  # a itself untouched


def test_pixel_indices_visit_the_regions_pixels_in_the_order_boolean_indexing_of_its_box_does():
    rng = np.random.default_rng(2)
    photo = rng.integers(0, 255, (60, 70, 3), np.uint8)
    region = R.RegionMask((rng.random((25, 33)) > 0.6).astype(np.float32), (30, 20, 63, 45), (60, 70))
    indices = region.pixel_indices()
    assert len(indices) == region.support
    assert np.array_equal(photo.reshape(-1, 3)[indices], region.crop(photo)[region.alpha > 0])


def test_lips_mask_stays_on_the_lips_and_off_the_mouth_opening(open_mouth):
    image, face = open_mouth
    lips = R.lips_mask(face.landmarks, image.shape[:2]).full()
    outer = face.landmarks[as_array(IDX.outer_lip_upper + tuple(reversed(IDX.outer_lip_lower[1:-1]))), :2]
    opening = face.landmarks[as_array(IDX.inner_lip_loop), :2]
    assert lips[~inside(outer, image.shape[:2])].max() < 0.05  # nothing on the skin
    assert lips[strictly_inside(opening, image.shape[:2])].max() < 0.01  # nothing on the teeth
    assert lips.sum() > 100


def test_iris_mask_is_inside_the_eye_opening(synthetic):
    image, face = synthetic
    for side in ("left", "right"):
        iris = R.iris_mask(face.landmarks, image.shape[:2], side)
        eye = inside(face.landmarks[as_array(IDX.eye_loop(side)), :2], image.shape[:2])
        assert iris.support > 20 and iris.full()[~eye].max() < 0.01  # the lids' rasterisation differs


def test_skin_mask_covers_the_cheeks_not_eyes_or_lips(synthetic):
    image, face = synthetic
    skin = R.skin_mask(face.landmarks, image).full()
    cheek = face.landmarks[R.CHEEK_POINTS[0], :2].astype(int)
    assert skin[cheek[1], cheek[0]] > 0.8
    lips = face.landmarks[as_array(IDX.outer_lip_upper + tuple(reversed(IDX.outer_lip_lower[1:-1]))), :2]
    assert skin[strictly_inside(lips, image.shape[:2])].max() < 0.05
    for side in ("left", "right"):
        assert (
            skin[strictly_inside(face.landmarks[as_array(IDX.eye_loop(side)), :2], image.shape[:2])].max()
            < 0.05
        )
    assert skin[5:20, 5:20].max() == 0  # grey background far away


def test_eyelid_and_beard_regions_sit_above_the_eye_and_below_the_nose(synthetic):
    image, face = synthetic
    lid = R.eyelid_mask(face.landmarks, image.shape[:2], "left")
    ys = np.nonzero(lid.full())[0]
    assert ys.max() <= face.landmarks[as_array(IDX.left_eye_lower), 1].max() + 2
    assert ys.mean() < face.landmarks[473, 1]
    beard = R.beard_mask(face.landmarks, image.shape[:2]).full()
    middle = beard[:, int(face.landmarks[4, 0])]  # the column through the nose tip
    assert np.nonzero(middle)[0].min() > face.landmarks[4, 1]  # the moustache starts under the nose
    assert beard[int(face.landmarks[152, 1]) - 5, int(face.landmarks[152, 0])] > 0.5
