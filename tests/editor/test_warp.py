"""The landmark-driven warp: anchors, safety, fold detection (synthetic faces + one real face).

What is painted after the warp (mouth interior, lash lines, detail) is tested in tests/editor/completion.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from editor.landmark_indices import as_array
from editor.warp import (
    WarpConfig,
    apply_safety,
    control_points,
    dense_backward_flow,
    face_polygon,
    untangle,
    warp_face,
)
from synthetic_faces import CENTRE, IDX, inside, open_mouth_target, synthetic_landmarks, textured_image

# --- index sets -------------------------------------------------------------------------------------


def test_index_chains_come_from_mediapipe_and_face_each_other():
    assert len(IDX.face_oval) == 36 and IDX.face_oval[0] == 10
    assert IDX.inner_lip_upper[0] == IDX.inner_lip_lower[0] == 78
    assert IDX.inner_lip_upper[-1] == IDX.inner_lip_lower[-1] == 308
    assert 13 in IDX.inner_lip_upper and 14 in IDX.inner_lip_lower
    assert len(IDX.inner_lip_loop) == 20 and len(set(IDX.inner_lip_loop)) == 20
    assert len(IDX.right_eye_upper) == len(IDX.right_eye_lower) == 9 and 159 in IDX.right_eye_upper
    assert IDX.right_iris[0] == 468 and IDX.left_iris[0] == 473 and len(IDX.eyelids) == 32


# --- identity, landing, anchors -----------------------------------------------------------------------


def test_zero_displacement_returns_the_identical_image():
    image = textured_image()
    pts = synthetic_landmarks()
    result = warp_face(image, pts, pts)
    np.testing.assert_array_equal(result.image, image)
    assert not result.flow.any()
    assert result.fold_fraction == 0.0 and not result.folded


def test_a_moved_region_lands_where_asked():
    """A dot in the middle of the face follows the landmarks around it to the requested place."""
    pts = synthetic_landmarks()
    dot = np.round(synthetic_landmarks()[4])  # the nose
    image = np.full((420, 400, 3), 128, np.uint8)
    cv2.circle(image, tuple(int(v) for v in dot), 4, (0, 0, 0), -1, lineType=cv2.LINE_AA)
    shift = np.array([6.0, -4.0])
    weight = np.exp(-np.sum((pts - dot) ** 2, axis=1) / (2 * 30.0**2))  # a smooth bump of motion
    target = pts + weight[:, None] * shift
    result = warp_face(image, pts, target, WarpConfig())

    def centroid(img):
        weight = np.clip(128.0 - img[..., 0].astype(float), 0, None)  # the dot only
        ys, xs = np.mgrid[: img.shape[0], : img.shape[1]]
        return np.array([(xs * weight).sum(), (ys * weight).sum()]) / weight.sum()

    np.testing.assert_allclose(centroid(result.image), dot + shift, atol=0.5)
    assert result.fold_fraction == 0.0


def test_pixels_outside_the_anchor_ring_never_change():
    image = textured_image()
    pts = synthetic_landmarks()
    rng = np.random.default_rng(2)
    target = pts + rng.normal(0, 3.0, pts.shape)  # jitter every point, oval included
    target[as_array(IDX.face_oval)] += 8.0  # and push the outline hard
    config = WarpConfig()
    result = warp_face(image, pts, target, config)
    ring = inside(face_polygon(pts, min(config.anchor_scales)), image.shape[:2])
    assert (result.image != image).any()
    np.testing.assert_array_equal(result.image[~ring], image[~ring])
    assert not result.flow[~ring].any()
    assert not result.mask[~ring].any()


def test_mask_is_one_on_the_inner_face_and_feathered_to_zero():
    pts = synthetic_landmarks()
    _, mask = dense_backward_flow(pts, pts, (420, 400))
    assert mask.dtype == np.float32 and mask.min() >= 0 and mask.max() <= 1
    eyes_mouth = as_array((*IDX.inner_lip_loop, *IDX.eye_loop("left"), *IDX.eye_loop("right")))
    assert (mask[pts[eyes_mouth, 1].round().astype(int), pts[eyes_mouth, 0].round().astype(int)] > 0.99).all()
    oval = face_polygon(pts, 1.0)
    values = mask[np.clip(oval[:, 1].round().astype(int), 0, 419), oval[:, 0].round().astype(int)]
    assert 0.0 < values.mean() < 1.0  # the outline lies on the feathered ramp


def test_config_rejects_a_mask_reaching_past_the_anchors():
    with pytest.raises(ValueError, match="mask_scale"):
        WarpConfig(mask_scale=1.4, anchor_scales=(1.35, 1.6))


def test_bad_landmark_shapes_are_rejected():
    pts = synthetic_landmarks()
    with pytest.raises(ValueError, match="478"):
        warp_face(textured_image(), pts[:468], pts[:468])
    with pytest.raises(ValueError, match="uint8"):
        warp_face(textured_image().astype(np.float32), pts, pts)


# --- safety -------------------------------------------------------------------------------------------


def _gaps(points: np.ndarray, upper, lower) -> np.ndarray:
    return points[as_array(lower[1:-1]), 1] - points[as_array(upper[1:-1]), 1]


def test_lips_never_cross_after_clamping():
    pts = synthetic_landmarks(lip_gap=6.0)
    target = pts.copy()
    target[as_array(IDX.inner_lip_lower[1:-1]), 1] -= 25.0  # the lower lip pushed through the upper
    assert (_gaps(target, IDX.inner_lip_upper, IDX.inner_lip_lower) < 0).all()
    safe = apply_safety(pts, target)
    gaps = _gaps(safe, IDX.inner_lip_upper, IDX.inner_lip_lower)
    mouth_width = pts[308, 0] - pts[78, 0]
    assert (
        gaps >= 0.97 * 0.02 * mouth_width
    ).all()  # the default lip_min_gap (across a slightly tilted mouth)
    result = warp_face(textured_image(), pts, target)
    assert result.raw_fold_fraction < 1e-3  # a few pixels at most where the lips meet


def test_clamping_leaves_an_uncrossed_target_alone():
    pts = synthetic_landmarks(lip_gap=2.0)
    target = open_mouth_target(pts, 20.0)
    safe = apply_safety(pts, target, WarpConfig(untangle=False))  # the clamps alone
    lips = as_array((*IDX.inner_lip_upper, *IDX.inner_lip_lower))
    np.testing.assert_allclose(safe[lips], target[lips])


def test_eyelids_never_cross_and_their_motion_scales():
    pts = synthetic_landmarks()
    target = pts.copy()
    target[as_array(IDX.right_eye_upper[1:-1]), 1] += 30.0  # upper lid far below the lower one
    safe = apply_safety(pts, target)
    assert (_gaps(safe, IDX.right_eye_upper, IDX.right_eye_lower) > 0).all()
    target = pts.copy()
    target[as_array(IDX.left_eye_upper), 1] -= 4.0  # open the eye
    half = apply_safety(pts, target, WarpConfig(eyelid_scale=0.5))
    lid = as_array(IDX.left_eye_upper)
    np.testing.assert_allclose(half[lid, 1], pts[lid, 1] - 2.0)


def test_only_the_iris_centres_are_control_points_and_they_move_only_with_the_gaze():
    pts = synthetic_landmarks()
    iris = as_array(IDX.left_iris)
    target = pts.copy()
    target[iris[1:]] += 5.0  # the outline alone (as lids moving over it would drag it): ignored
    np.testing.assert_allclose(apply_safety(pts, target)[iris], pts[iris])
    gaze = pts.copy()
    gaze[iris[0], 1] += 2.0  # the eye looks down: the whole iris goes with its centre
    np.testing.assert_allclose(apply_safety(pts, gaze)[iris], pts[iris] + [0.0, 2.0])
    to_pts, _ = control_points(pts, apply_safety(pts, gaze))
    assert np.any(np.all(np.isclose(to_pts, pts[473] + [0.0, 2.0]), axis=1))
    still = apply_safety(pts, gaze, WarpConfig(follow_gaze=False))
    np.testing.assert_allclose(still[iris], pts[iris])
    safe = apply_safety(pts, target)
    to_pts, from_pts = control_points(pts, safe)
    for i in IDX.right_iris[1:] + IDX.left_iris[1:]:
        assert not np.any(np.all(np.isclose(to_pts, pts[i]), axis=1))
    for i in (468, 473):
        assert np.any(np.all(np.isclose(to_pts, pts[i]), axis=1))
    # A lid closing over the iris centre releases it, so the lid can pass.
    target[as_array(IDX.left_eye_upper[1:-1]), 1] += 9.0
    to_pts, _ = control_points(pts, apply_safety(pts, target))
    assert not np.any(np.all(np.isclose(to_pts, pts[473]), axis=1))


def test_fold_over_is_detected_and_reported():
    pts = synthetic_landmarks()
    target = pts.copy()
    mid = CENTRE[0]
    face = np.linalg.norm((pts - CENTRE - [0, 30]) / [60, 80], axis=1) < 1  # the inner face, not the oval
    target[face & (pts[:, 0] < mid), 0] += 35.0  # left half through the right half
    target[face & (pts[:, 0] >= mid), 0] -= 35.0
    # Without the safety nets (mesh untangling, piecewise-affine fallback) the spline folds: reported.
    config = WarpConfig(untangle=False, affine_below=0.0)
    result = warp_face(textured_image(), pts, target, config)
    assert result.folded and result.fold_fraction > 0.01 and result.min_jacobian < 0
    # With them, the same request is rendered without folding (the crossing is pulled back).
    assert warp_face(textured_image(), pts, target, WarpConfig()).fold_fraction < 0.1 * result.fold_fraction


# --- the enlarged mouth opening ----------------------------------------------------------------------


def test_folds_inside_an_opened_mouth_are_not_counted():
    """Opening a closed mouth stretches the lip seam (it may fold); the completion stage paints there."""
    pts = synthetic_landmarks(lip_gap=0.6)
    result = warp_face(textured_image(), pts, open_mouth_target(pts, 24.0))
    assert result.fold_fraction < 1e-3
    assert result.raw_fold_fraction >= result.fold_fraction


# --- one real photo -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_face_smile_warp_is_fold_free_and_keeps_the_background(sample_rgb, sample_face):
    pts = sample_face.landmarks[:, :2].astype(np.float64)
    width = np.linalg.norm(pts[291] - pts[61])
    target = pts.copy()
    for corner, side in ((61, -1.0), (291, 1.0)):
        weight = np.exp(-np.sum((pts - pts[corner]) ** 2, axis=1) / (0.35 * width) ** 2)
        target += weight[:, None] * np.array([side * 0.1 * width, -0.08 * width])
    result = warp_face(sample_rgb, pts, target)
    assert result.fold_fraction == 0.0
    ring = inside(face_polygon(pts, 1.35), sample_rgb.shape[:2])
    np.testing.assert_array_equal(result.image[~ring], sample_rgb[~ring])
    corner = np.round(pts[291]).astype(int)
    assert np.abs(result.image.astype(int) - sample_rgb.astype(int))[corner[1] - 5 : corner[1] + 5].max() > 10


# --- folds the landmarks themselves would cause -------------------------------------------------------


def _flipped_triangles(source: np.ndarray, target: np.ndarray) -> int:
    tri = IDX.triangles

    def area(p):
        a, b, c = (p[tri[:, k]] for k in range(3))
        return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])

    ref = area(source)
    judged = np.abs(ref) > 0.1 * np.median(np.abs(ref))
    return int((judged & (area(target) * np.sign(ref) < 0)).sum())


def test_untangle_removes_crossed_mesh_triangles_and_keeps_the_rest():
    pts = synthetic_landmarks()
    target = pts.copy()
    crossing = [IDX.face_oval[0], 151, 9]  # forehead points (a fan of mesh triangles around them)
    target[as_array(crossing), 1] += 120.0  # dragged down through the brows
    assert _flipped_triangles(pts, target) > 0
    untangled = untangle(pts, target)
    assert _flipped_triangles(pts, untangled) == 0
    far = np.linalg.norm(pts - pts[as_array(crossing)].mean(axis=0), axis=1) > 150
    far[as_array(crossing)] = False
    np.testing.assert_array_equal(untangled[far], target[far])


def test_untangle_keeps_a_corner_pull_whole_instead_of_tearing_it():
    """Contempt pulls a lip corner out into the cheek, the skin just outside it most (point 57): one
    cheek triangle folds. Relaxing only that fold's deformation keeps the pull; pulling its points back
    to the photo left the lip corner's rings ahead of them, turned over (a jagged, torn corner)."""
    pts = synthetic_landmarks()
    bump = np.exp(-np.sum((pts - pts[57]) ** 2, axis=1) / (2 * 14.0**2))  # (478,) a smooth pull
    target = pts + bump[:, None] * np.array([-20.0, -16.0])
    tri = IDX.triangles

    def oriented_areas(points):
        a, b, c = (points[tri[:, k]] for k in range(3))
        return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])

    reference = np.sign(oriented_areas(pts))
    assert _flipped_triangles(pts, target) > 0
    untangled = untangle(pts, target)
    assert (oriented_areas(untangled) * reference).min() > -1.0  # no triangle at all turned over
    corner = 61
    kept = np.linalg.norm(untangled[corner] - pts[corner]) / np.linalg.norm(target[corner] - pts[corner])
    assert kept > 0.8


def test_untangle_leaves_a_sliver_flipped_by_landmark_noise():
    """A sliver's orientation is noise: a real photo's lip-corner sliver flipping by a pixel made untangle
    pull back half of a dropped jaw in some frames of a video only (the mouth flickered open and shut)."""
    pts = synthetic_landmarks()
    target = open_mouth_target(pts, 6.0)  # a jaw drop with no fold in it
    np.testing.assert_array_equal(untangle(pts, target), target)
    base, apex = pts[288], 435  # the jaw sliver 288-401-435: 0.26 px high on a 22.8 px base
    along = (pts[401] - base) / np.linalg.norm(pts[401] - base)
    normal = np.array([-along[1], along[0]])
    height = float(np.dot(pts[apex] - base, normal))
    assert abs(height) < 0.05 * np.linalg.norm(pts[401] - base)  # a sliver by either measure
    target[apex] -= 3.0 * height * normal  # under a pixel across its base
    np.testing.assert_array_equal(untangle(pts, target), target)
    judged_anyway = untangle(pts, target, min_height_ratio=0.0, min_height_iris=0.0)
    assert np.abs(judged_anyway - target).max() > 0.3  # judging it would pull the point back


def test_closing_eyelids_do_not_fold():
    """A blink: the upper lid and the skin above it come down to the lower lid (a steep backward field)."""
    pts = synthetic_landmarks()
    image = textured_image()
    target = pts.copy()
    for upper, lower in (
        (IDX.right_eye_upper, IDX.right_eye_lower),
        (IDX.left_eye_upper, IDX.left_eye_lower),
    ):
        lid_drop = pts[as_array(lower[1:-1]), 1] - pts[as_array(upper[1:-1]), 1]
        target[as_array(upper[1:-1]), 1] += lid_drop
        centre = pts[as_array(upper)].mean(axis=0)
        above = (
            (np.abs(pts[:, 0] - centre[0]) < 18) & (pts[:, 1] < centre[1] - 4) & (pts[:, 1] > centre[1] - 30)
        )
        target[above, 1] += 0.5 * lid_drop.mean()
    result = warp_face(image, pts, target)
    spline_only = warp_face(image, pts, target, WarpConfig(affine_below=0.0))
    assert spline_only.fold_fraction > 0.005  # the spline alone folds over the closing lids ...
    assert result.fold_fraction < 0.05 * spline_only.fold_fraction  # ... the fallback leaves a few pixels
    gaps = _gaps(result.target, IDX.left_eye_upper, IDX.left_eye_lower)
    assert (gaps > 0).all() and (gaps < 0.1 * (pts[263, 0] - pts[362, 0])).all()  # closed, uncrossed


# --- real photos (../shared/data) ---------------------------------------------------------------------


@pytest.mark.data
@pytest.mark.slow
def test_london_smiles_rise_without_folds_or_background_motion(london, analyzer):
    from editor.geometry.motion import target_landmarks
    from editor.images import load_image

    smile = {
        "mouthSmileLeft": 0.6,
        "mouthSmileRight": 0.6,
        "mouthLowerDownLeft": 0.8,
        "mouthLowerDownRight": 0.8,
    }
    for path in sorted((london / "neutral").glob("*.jpg"))[:3]:
        photo = load_image(path)
        face = analyzer.analyze_one(photo)
        result = warp_face(photo, face.landmarks, target_landmarks(face.landmarks, smile))
        assert result.fold_fraction < 2e-4, path.name  # at most a few pixels at a mouth corner
        ring = inside(face_polygon(face.landmarks, 1.35), photo.shape[:2])
        np.testing.assert_array_equal(result.image[~ring], photo[~ring])
        after = analyzer.analyze_one(result.image).blendshapes
        rise = sum(after[k] - face.blendshapes[k] for k in ("mouthSmileLeft", "mouthSmileRight")) / 2
        assert rise > 0.15, f"{path.name}: mouthSmile rose by only {rise:.2f}"
