"""Expression motion on a face: similarity fit, exact transfer through head pose, directions in pixels."""

from __future__ import annotations

import numpy as np
import pytest

from editor.geometry.basis import load_basis
from editor.geometry.motion import (
    RIGID_POINTS,
    Similarity,
    face_similarity,
    fit_similarity,
    landmark_motion,
    target_landmarks,
)

CHIN, LEFT_MOUTH_CORNER = 152, 291


def _rotation(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    y, p, r = np.radians([yaw_deg, pitch_deg, roll_deg])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry


def _posed_face(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0, scale: float = 180.0) -> Similarity:
    return Similarity(scale, _rotation(yaw, pitch, roll), np.array([640.0, 600.0, 0.0]))


def test_fit_similarity_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    source = rng.normal(size=(30, 3))
    truth = _posed_face(25, -10, 5, scale=3.5)
    fitted = fit_similarity(source, truth.apply(source))
    assert fitted.scale == pytest.approx(3.5)
    assert np.allclose(fitted.rotation, truth.rotation)
    assert np.allclose(fitted.translation, truth.translation)
    with pytest.raises(ValueError, match="coincident"):
        fit_similarity(np.ones((5, 3)), np.ones((5, 3)))


@pytest.mark.parametrize("yaw, pitch", [(0, 0), (35, 0), (-35, 10), (0, -15)])
def test_motion_transfers_exactly_through_head_pose(yaw, pitch):
    basis = load_basis()
    pose = _posed_face(yaw, pitch)
    landmarks = pose.apply(basis.neutral.astype(np.float64))
    weights = {"jawOpen": 0.5, "mouthSmileLeft": 0.8}
    expected = pose.apply(basis.neutral + basis.displacement(weights))
    assert np.allclose(target_landmarks(landmarks, weights), expected, atol=1e-6)
    assert face_similarity(landmarks).scale == pytest.approx(180.0)


def test_no_weights_no_motion_and_directions_in_pixels():
    basis = load_basis()
    landmarks = _posed_face().apply(basis.neutral.astype(np.float64))
    assert np.array_equal(target_landmarks(landmarks, {}), landmarks)
    jaw = landmark_motion(landmarks, {"jawOpen": 1.0})
    assert jaw[CHIN, 1] > 0.2 * 180  # down the image by more than a fifth of the inter-iris distance
    smile = landmark_motion(landmarks, {"mouthSmileLeft": 1.0})
    assert smile[LEFT_MOUTH_CORNER, 0] > 0 and smile[LEFT_MOUTH_CORNER, 1] < 0  # image right and up


def test_rigid_points_barely_move_under_any_blendshape():
    basis = load_basis()
    rigid = list(RIGID_POINTS)
    moving = [n for n in basis.names if n not in ("jawOpen", "tongueOut")]
    for name in moving:
        motion = np.linalg.norm(basis.displacements[basis.index(name)][rigid], axis=1)
        assert motion.max() < 0.08, name  # in inter-iris units


def test_bad_landmarks_raise_a_helpful_error():
    with pytest.raises(ValueError, match=r"\(478, 3\)"):
        target_landmarks(np.zeros((468, 2)), {"jawOpen": 1.0})
    with pytest.raises(KeyError, match="Unknown blendshape"):
        target_landmarks(_posed_face().apply(load_basis().neutral.astype(np.float64)), {"smile": 1.0})


def test_on_a_real_face(sample_face):
    target = target_landmarks(sample_face.landmarks, {"jawOpen": 0.5})
    moved = target[CHIN, 1] - sample_face.landmarks[CHIN, 1]
    assert 0.05 * sample_face.interocular < moved < 0.5 * sample_face.interocular
