"""The shipped blendshape basis: loads, documented shapes and frame, names, and physically sensible motion."""

from __future__ import annotations

import numpy as np
import pytest

from editor.errors import ModelFileError
from editor.geometry.basis import load_basis, read_basis, save_basis

# The 52 names MediaPipe FaceLandmarker returns (copied from a real run of the shipped .task model).
MEDIAPIPE_NAMES = [
    "_neutral",
    "browDownLeft",
    "browDownRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    "cheekPuff",
    "cheekSquintLeft",
    "cheekSquintRight",
    "eyeBlinkLeft",
    "eyeBlinkRight",
    "eyeLookDownLeft",
    "eyeLookDownRight",
    "eyeLookInLeft",
    "eyeLookInRight",
    "eyeLookOutLeft",
    "eyeLookOutRight",
    "eyeLookUpLeft",
    "eyeLookUpRight",
    "eyeSquintLeft",
    "eyeSquintRight",
    "eyeWideLeft",
    "eyeWideRight",
    "jawForward",
    "jawLeft",
    "jawOpen",
    "jawRight",
    "mouthClose",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthFunnel",
    "mouthLeft",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthPucker",
    "mouthRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "noseSneerLeft",
    "noseSneerRight",
]

CHIN, NOSE_TIP = 152, 1
LEFT_MOUTH_CORNER, RIGHT_MOUTH_CORNER = 291, 61  # the subject's left / right (image right / left)
LEFT_UPPER_LID, RIGHT_UPPER_LID = 386, 159
RIGHT_IRIS, LEFT_IRIS = 468, 473


@pytest.fixture(scope="module")
def basis():
    return load_basis()


def test_shapes_dtypes_and_size(basis):
    assert basis.neutral.shape == (478, 3) and basis.neutral.dtype == np.float32
    assert basis.displacements.shape == (52, 478, 3) and basis.displacements.dtype == np.float32
    assert np.isfinite(basis.displacements).all()
    assert basis.attach_error_px.shape == (478,)
    assert {"anny_version", "build_script_sha256", "metres_per_unit"} <= set(basis.provenance)


def test_names_match_mediapipe_by_name(basis):
    assert len(set(basis.names)) == 52
    assert set(basis.names) - set(MEDIAPIPE_NAMES) == {"tongueOut"}
    assert set(MEDIAPIPE_NAMES) - set(basis.names) == {"_neutral"}


def test_canonical_frame_is_iris_centred_unit_ipd_image_convention(basis):
    n = basis.neutral
    assert np.allclose((n[RIGHT_IRIS] + n[LEFT_IRIS]) / 2, 0, atol=1e-5)
    assert np.linalg.norm(n[LEFT_IRIS] - n[RIGHT_IRIS]) == pytest.approx(1.0, abs=1e-4)
    assert n[LEFT_IRIS, 0] > n[RIGHT_IRIS, 0]  # subject's left is image right (+x)
    assert n[CHIN, 1] > n[NOSE_TIP, 1] > 0  # y down: nose below the eyes, chin below the nose
    assert n[NOSE_TIP, 2] < n[LEFT_IRIS, 2]  # z away from camera: the nose tip is closest


def test_attachment_is_tight(basis):
    assert float(np.median(basis.attach_error_px)) < 0.5
    assert float(basis.attach_error_px.max()) < 8.0


def test_jaw_open_moves_the_chin_down_and_not_the_forehead(basis):
    d = basis.displacements[basis.index("jawOpen")]
    assert d[CHIN, 1] > 0.2  # more than a fifth of the inter-iris distance down
    assert abs(d[10, 1]) < 0.02  # forehead stays


def test_smile_left_moves_the_subjects_left_corner_out_and_up(basis):
    d = basis.displacements[basis.index("mouthSmileLeft")]
    assert d[LEFT_MOUTH_CORNER, 0] > 0.05  # outward = +x for the subject's left
    assert d[LEFT_MOUTH_CORNER, 1] < -0.05  # up = -y
    assert np.linalg.norm(d[RIGHT_MOUTH_CORNER]) < 0.25 * np.linalg.norm(d[LEFT_MOUTH_CORNER])
    mirrored = basis.displacements[basis.index("mouthSmileRight")][RIGHT_MOUTH_CORNER]
    assert mirrored[0] < -0.05 and mirrored[1] < -0.05


def test_blink_lowers_the_upper_lid_of_its_own_eye(basis):
    left = basis.displacements[basis.index("eyeBlinkLeft")]
    assert left[LEFT_UPPER_LID, 1] > 0.1
    assert abs(left[RIGHT_UPPER_LID, 1]) < 0.02


def test_displacement_sums_weights_by_name(basis):
    both = basis.displacement({"mouthSmileLeft": 0.5, "mouthSmileRight": 0.5, "_neutral": 1.0})
    expected = 0.5 * (
        basis.displacements[basis.index("mouthSmileLeft")]
        + basis.displacements[basis.index("mouthSmileRight")]
    )
    assert np.allclose(both, expected)
    with pytest.raises(KeyError, match="Unknown blendshape"):
        basis.displacement({"smile": 1.0})


def test_round_trip_and_bad_file(basis, tmp_path):
    path = tmp_path / "b.npz"
    save_basis(path, basis)
    again = read_basis(path)
    assert again.names == basis.names and np.array_equal(again.displacements, basis.displacements)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="rebuild"):
        read_basis(tmp_path / "bad.npz")


def test_left_and_right_shapes_mirror_each_other(basis):
    """anny is symmetric: each Left shape, mirrored, should match its Right twin (landmarks paired by
    their mirrored neutral positions)."""
    from scipy.spatial import cKDTree

    neutral = basis.neutral.astype(np.float64)
    flip = np.array([-1.0, 1.0, 1.0])
    _, mirror = cKDTree(neutral).query(neutral * flip)
    pairs = [n[: -len("Left")] for n in basis.names if n.endswith("Left")]
    assert len(pairs) == 20  # 20 Left/Right pairs (jawLeft/jawRight and mouthLeft/mouthRight included)
    for base in pairs:
        left = basis.displacements[basis.index(base + "Left")][mirror] * flip
        right = basis.displacements[basis.index(base + "Right")]
        asymmetry = np.linalg.norm(left - right, axis=1).mean() / np.linalg.norm(right, axis=1).mean()
        assert asymmetry < 0.25, base
