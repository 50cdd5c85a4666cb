"""The completion stage end to end on synthetic faces: smile shading, compression furrows, lash lines."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from editor.completion import CompletionConfig, CompletionStage
from editor.completion.detail import DetailConfig, saturate_beyond_typical
from editor.landmark_indices import LEFT_BROW, RIGHT_BROW, as_array
from editor.warp import face_polygon, warp_face
from synthetic_faces import IDX, inside, skin_image, synthetic_landmarks, textured_image


def complete(image, source, target, stage=None, **kwargs):
    warped = warp_face(image, source, target)
    stage = stage or CompletionStage()
    return warped, stage.complete(
        warped.image, image, source, warped.target, warped.flow, warped.mask, **kwargs
    )


def test_nothing_changes_without_motion_or_smile(face_points):
    image = skin_image(face_points)
    _, done = complete(image, face_points, face_points)
    np.testing.assert_array_equal(done.image, image)
    assert not done.shading.any() and not done.mouth_alpha.any()


def test_smile_shading_deepens_the_folds_scales_with_strength_and_stays_on_the_face(face_points):
    image = skin_image(face_points)
    shading = {s: complete(image, face_points, face_points, smile=s)[1].shading for s in (-1.0, 0.3, 1.0)}
    face = inside(face_polygon(face_points), image.shape[:2])
    assert not shading[1.0][~inside(face_polygon(face_points, 1.3), image.shape[:2])].any()
    # Beside the nose wings, toward the mouth corners: the nasolabial folds darken.
    folds = np.zeros(image.shape[:2], bool)
    for wing, corner in ((129, 61), (358, 291)):
        a, b = face_points[wing], face_points[corner]
        for t in np.linspace(0.2, 0.8, 7):
            x, y = np.round(a + t * (b - a)).astype(int)
            folds[y - 2 : y + 3, x - 2 : x + 3] = True
    assert shading[1.0][folds].mean() < -0.01
    assert abs(shading[0.3][face]).mean() < 0.5 * abs(shading[1.0][face]).mean()
    np.testing.assert_allclose(shading[-1.0], -shading[1.0], atol=1e-5)  # taking a smile away


def test_a_typical_smile_carries_the_whole_typical_shading_and_stronger_ones_saturate(face_points):
    """Smile level 1 (happy at strength 1) gets the real smiles' shading in full; beyond, it saturates."""
    image = skin_image(face_points)
    face = inside(face_polygon(face_points), image.shape[:2])
    depth = {
        s: abs(complete(image, face_points, face_points, smile=s)[1].shading[face]).mean()
        for s in (0.5, 1.0, 2.0, 4.0)
    }
    assert depth[1.0] == pytest.approx(2.0 * depth[0.5], rel=0.02)  # linear up to a typical smile
    assert depth[1.0] < depth[2.0] < depth[4.0] <= 1.4 * depth[1.0] * 1.02  # then toward the limit
    assert saturate_beyond_typical(1.0, 1.4) == 1.0
    assert saturate_beyond_typical(1.001, 1.4) - 1.0 == pytest.approx(0.001, rel=0.01)  # smooth at 1
    assert saturate_beyond_typical(-3.0, 1.4) == pytest.approx(-saturate_beyond_typical(3.0, 1.4))


def brow_raise(points: np.ndarray, lift: float) -> np.ndarray:
    target = points.copy()
    target[list(RIGHT_BROW + LEFT_BROW), 1] -= lift
    return target


def forehead_band(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    brows = points[list(RIGHT_BROW + LEFT_BROW)]
    top = points[as_array(IDX.face_oval)][:, 1].min()
    band = np.zeros(shape, bool)
    x0, x1 = int(brows[:, 0].min()), int(brows[:, 0].max())
    band[int(top + 4) : int(brows[:, 1].min() - 8), x0:x1] = True
    return band


def test_a_brow_raise_lines_the_forehead_and_a_translation_does_not(face_points):
    image = skin_image(face_points)
    band = forehead_band(face_points, image.shape[:2])
    _, raised = complete(image, face_points, brow_raise(face_points, 8.0))
    profile = raised.shading[band].reshape(-1)
    assert profile.min() < -0.04  # dark furrows ...
    rows = raised.shading[band.any(axis=1)][:, band.any(axis=0)].mean(axis=1)
    assert np.ptp(rows) > 0.02  # ... that vary down the forehead: lines across it
    _, moved = complete(image, face_points, face_points + [3.0, -2.0])  # the whole face moves, rigidly
    assert moved.shading[band].min() > -0.01 * DetailConfig().forehead_gain


def test_a_brow_raise_folds_the_whole_forehead_into_several_lines_not_one_crease(face_points):
    # The warp compresses skin only in a band above the brows; real foreheads fold all over.
    image = skin_image(face_points)
    band = forehead_band(face_points, image.shape[:2])
    _, raised = complete(image, face_points, brow_raise(face_points, 8.0))
    rows = raised.shading[band.any(axis=1)][:, band.any(axis=0)].mean(axis=1)
    furrows = _runs(rows < 0.25 * rows.min())
    assert len(furrows) >= 2
    # No single crease carries the fold (before the fold was spread: one line at -0.14, nothing else).
    depths = sorted(rows[a:b].min() for a, b in furrows)
    assert depths[1] < 0.3 * depths[0]


def test_forehead_lines_deepen_with_their_own_gain_and_the_lines_between_the_brows_do_not(face_points):
    image = skin_image(face_points)
    band = forehead_band(face_points, image.shape[:2])
    # The inner brows pulled together (a brow lowerer) make the vertical lines between them only.
    frown = face_points.copy()
    frown[RIGHT_BROW[-1], 0] += 4.0
    frown[LEFT_BROW[-1], 0] -= 4.0
    shading = {}
    for gain in (1.0, 2.0):
        stage = CompletionStage(CompletionConfig(detail=DetailConfig(forehead_gain=gain)))
        raised = complete(image, face_points, brow_raise(face_points, 3.0), stage=stage)[1].shading
        frowned = complete(image, face_points, frown, stage=stage)[1].shading
        shading[gain] = (-raised[band].mean(), frowned)
    assert shading[2.0][0] > 1.6 * shading[1.0][0] > 0  # a slight raise: well below saturation
    assert shading[1.0][1].min() < -0.01
    assert shading[2.0][1].min() == pytest.approx(shading[1.0][1].min(), rel=0.05)  # the deepest line


def chin_box(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Between the lower lip's bottom (17) and the chin's tip (152), a mouth's width across."""
    box = np.zeros(shape, bool)
    half = 0.5 * (points[291, 0] - points[61, 0])
    x0, x1 = int(points[17, 0] - half), int(points[17, 0] + half)
    box[int(points[17, 1] + 3) : int(points[152, 1]), x0:x1] = True
    return box


def test_a_raised_chin_dimples_in_pits_and_a_brow_raise_or_a_translation_leaves_the_chin_alone(face_points):
    image = skin_image(face_points)
    chin = chin_box(face_points, image.shape[:2])
    raised = face_points.copy()
    lower_face = face_points[:, 1] > face_points[17, 1] + 4  # the chin and the jaw below the lower lip
    raised[lower_face, 1] -= 0.6 * (face_points[lower_face, 1] - face_points[17, 1] - 4)  # bunched up
    shading = complete(image, face_points, raised)[1].shading
    pits = shading[chin] < -0.01
    assert pits.any()
    count, _ = cv2.connectedComponents((shading < -0.01).astype(np.uint8) * chin.astype(np.uint8))
    assert count - 1 >= 3  # separate pits, not one crease
    for target in (brow_raise(face_points, 8.0), face_points + [3.0, -2.0]):
        assert complete(image, face_points, target)[1].shading[chin].min() > -0.005


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    edges = np.flatnonzero(np.diff(np.r_[0, flags.astype(int), 0]))
    return list(zip(edges[::2], edges[1::2], strict=True))


def test_closed_eyes_get_a_dark_lash_line_only_along_the_slit():
    pts = synthetic_landmarks()
    image = textured_image()
    image[...] = np.clip(image.astype(int) + 60, 0, 255).astype(np.uint8)  # light skin
    for side in ("right", "left"):  # dark lashes along each upper lid
        upper = pts[as_array(IDX.right_eye_upper if side == "right" else IDX.left_eye_upper)]
        cv2.polylines(image, [np.round(upper).astype(np.int32)], False, (20, 15, 10), 2)
    target = pts.copy()
    for upper, lower in (
        (IDX.right_eye_upper, IDX.right_eye_lower),
        (IDX.left_eye_upper, IDX.left_eye_lower),
    ):
        target[as_array(upper[1:-1]), 1] = pts[as_array(lower[1:-1]), 1]  # lids meet (clamped to a slit)
    no_detail = CompletionConfig(detail=None)
    warped, closed = complete(image, pts, target, CompletionStage(no_detail))
    _, plain = complete(image, pts, target, CompletionStage(CompletionConfig(detail=None, lids=None)))
    changed = np.any(closed.image != plain.image, axis=-1)
    slits = np.zeros(image.shape[:2], np.uint8)
    for side in ("right", "left"):
        slits |= inside(warped.target[as_array(IDX.eye_loop(side))], image.shape[:2]).astype(np.uint8)
    near = cv2.dilate(slits, np.ones((11, 11), np.uint8)).astype(bool)
    assert changed.any() and not changed[~near].any()
    assert closed.image[changed].mean() < plain.image[changed].mean() - 20  # darker: lash colour
    half_open = pts.copy()
    half_open[as_array(IDX.left_eye_upper[1:-1]), 1] += 2.0  # a slight squint: nothing painted
    np.testing.assert_array_equal(
        complete(image, pts, half_open, CompletionStage(no_detail))[1].image,
        complete(image, pts, half_open, CompletionStage(CompletionConfig(detail=None, lids=None)))[1].image,
    )


def test_the_shipped_smile_map_deepens_the_folds_and_lifts_the_cheeks():
    """The mean real smile (London calibration pairs): darker beside the nose wings, lighter on the cheeks."""
    from editor.completion.detail import shipped_detail

    maps = shipped_detail()
    shape, smile = maps.shape.astype(float), maps.maps[..., 0] + maps.maps[..., 1]

    def around(point: np.ndarray, radius: int = 3) -> float:
        x, y = np.round(point).astype(int)
        return float(smile[y - radius : y + radius + 1, x - radius : x + radius + 1].mean())

    folds = [around(0.6 * shape[wing] + 0.4 * shape[corner]) for wing, corner in ((129, 61), (358, 291))]
    cheeks = [around(shape[i]) for i in (50, 280)]  # the cheek apples
    assert max(folds) < -0.01 and min(cheeks) > max(folds)
    lips = inside(
        shape[as_array(IDX.outer_lip_upper + tuple(reversed(IDX.outer_lip_lower[1:-1])))], smile.shape
    )
    assert not smile[lips].any()  # no shading on the lips, nor in the mouth
