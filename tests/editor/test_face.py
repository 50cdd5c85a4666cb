"""Face analysis with the real shipped models (YuNet + MediaPipe FaceLandmarker)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from editor.errors import FaceSelectionError, NoFaceError
from editor.face import NUM_LANDMARKS, pose_angles
from editor.images import load_image


def test_sample_has_one_measured_smiling_face(analyzer, sample_rgb):
    faces = analyzer.analyze(sample_rgb)
    assert len(faces) == 1
    face = faces[0]
    assert face.landmarks.shape == (NUM_LANDMARKS, 3)
    x, y, w, h = face.box
    inside = (
        (face.landmarks[:, 0] > x - 0.2 * w)
        & (face.landmarks[:, 0] < x + 1.2 * w)
        & (face.landmarks[:, 1] > y - 0.3 * h)
        & (face.landmarks[:, 1] < y + 1.2 * h)
    )
    assert inside.mean() > 0.98
    assert len(face.blendshapes) == 52 and "_neutral" in face.blendshapes
    assert face.blendshapes["mouthSmileLeft"] > 0.5 and face.blendshapes["mouthSmileRight"] > 0.5
    assert abs(face.yaw) < 15 and abs(face.roll) < 15
    assert face.pose.shape == (4, 4)
    assert 30 < face.interocular < 60  # the astronaut's face is about 90 px wide


def test_landmarks_follow_the_image_scale(analyzer, sample_rgb, sample_face):
    doubled = cv2.resize(sample_rgb, (1024, 1024), interpolation=cv2.INTER_CUBIC)
    face = analyzer.analyze_one(doubled)
    error = np.linalg.norm(face.landmarks[:, :2] / 2 - sample_face.landmarks[:, :2], axis=1)
    assert np.median(error) < 1.0  # pixels of the original
    assert face.interocular == pytest.approx(2 * sample_face.interocular, rel=0.05)


def test_mirrored_photo_mirrors_landmarks_and_swaps_sides(analyzer, sample_rgb, sample_face):
    mirrored = np.ascontiguousarray(sample_rgb[:, ::-1])
    face = analyzer.analyze_one(mirrored)
    width = sample_rgb.shape[1]
    # The subject's right iris centre (468) of the mirror image is the mirror of the left one (473).
    assert abs((width - face.landmarks[468, 0]) - sample_face.landmarks[473, 0]) < 3
    assert face.yaw * sample_face.yaw <= 0 or abs(face.yaw - sample_face.yaw) < 5


def test_several_faces_are_ordered_and_selectable(analyzer, sample_rgb):
    small = cv2.resize(sample_rgb, (256, 256), interpolation=cv2.INTER_AREA)
    group = np.full((512, 800, 3), 90, np.uint8)
    group[:, :512] = sample_rgb
    group[100:356, 530:786] = small
    faces = analyzer.analyze(group)
    assert len(faces) == 2
    assert [f.index for f in faces] == [0, 1]
    assert faces[0].size > faces[1].size
    assert faces[1].box[0] > 512  # the small copy is on the right
    chosen = analyzer.analyze_one(group)
    assert chosen.index == 0 and any("2 faces found" in w for w in chosen.warnings)
    assert analyzer.analyze_one(group, index=1).box[0] > 512
    with pytest.raises(FaceSelectionError, match="has 2 usable faces"):
        analyzer.analyze_one(group, index=2)


def test_no_face_and_too_small_face_are_clear_errors(analyzer, sample_rgb):
    with pytest.raises(NoFaceError, match="No face was found"):
        analyzer.analyze_one(np.full((300, 400, 3), 128, np.uint8))
    tiny = cv2.resize(sample_rgb, (160, 160), interpolation=cv2.INTER_AREA)  # face about 28 px
    with pytest.raises(NoFaceError, match="too small"):
        analyzer.analyze_one(tiny)


def test_analyze_rejects_non_rgb_arrays(analyzer):
    with pytest.raises(TypeError, match="uint8 RGB"):
        analyzer.analyze(np.zeros((64, 64), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        analyzer.analyze(np.zeros((64, 64, 3), np.float32))


@pytest.mark.parametrize(
    ("yaw", "pitch", "roll"), [(0, 0, 0), (20, 0, 0), (0, -15, 0), (0, 0, 30), (25, 10, -12)]
)
def test_pose_angles_invert_the_composition(yaw, pitch, roll):
    def rx(a):
        c, s = np.cos(np.radians(a)), np.sin(np.radians(a))
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])

    def ry(a):
        c, s = np.cos(np.radians(a)), np.sin(np.radians(a))
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])

    def rz(a):
        c, s = np.cos(np.radians(a)), np.sin(np.radians(a))
        return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])

    pose = np.eye(4)
    pose[:3, :3] = 1.7 * rz(-roll) @ ry(yaw) @ rx(pitch)  # scaled, as MediaPipe's matrices can be
    assert np.allclose(pose_angles(pose), (yaw, pitch, roll), atol=1e-6)


@pytest.mark.data
def test_real_smiles_score_higher_than_their_neutral_twins(analyzer, london):
    # Some London "smiling" photos are faint closed-mouth smiles that FaceLandmarker scores near 0 (66 of
    # 81 people rise by more than 0.1 over the whole set); the first 12 people include two of those.
    people = sorted(p.stem for p in (london / "neutral").glob("*.jpg"))[:12]
    higher, rises = 0, []
    for person in people:
        neutral = analyzer.analyze_one(load_image(london / "neutral" / f"{person}.jpg"))
        smiling = analyzer.analyze_one(load_image(london / "smiling" / f"{person}.jpg"))
        assert neutral.landmarks.shape == (NUM_LANDMARKS, 3)

        def smile(face):
            return (face.blendshapes["mouthSmileLeft"] + face.blendshapes["mouthSmileRight"]) / 2

        higher += smile(smiling) > smile(neutral) + 0.1
        rises.append(smile(smiling) - smile(neutral))
    assert higher >= 0.75 * len(people)
    assert np.mean(rises) > 0.25


def test_an_upside_down_face_is_measured_upright_and_mapped_back(analyzer, sample_rgb, sample_face):
    turned = np.ascontiguousarray(sample_rgb[::-1, ::-1])  # 180°: pixel (x, y) -> (511 - x, 511 - y)
    face = analyzer.analyze_one(turned)
    unturned = 511 - face.landmarks[:, :2]
    assert np.median(np.linalg.norm(unturned - sample_face.landmarks[:, :2], axis=1)) < 2.0
    assert np.max(np.linalg.norm(511 - face.points5 - sample_face.points5, axis=1)) < 6.0  # YuNet's own noise
    assert abs(abs(face.roll - sample_face.roll) - 180) < 5  # the true roll, not the upright mesh's ~0°
    assert face.blendshapes["mouthSmileLeft"] > 0.5  # the expression is read off the upright crop
    mouth, brows = face.landmarks[13, 1], face.landmarks[[105, 334], 1].mean()
    assert mouth < brows  # upside down: the mouth is above the brows on screen


def test_quarter_turned_faces_keep_their_landmarks(analyzer, sample_rgb, sample_face):
    turned = np.ascontiguousarray(np.rot90(sample_rgb))  # counter-clockwise: (x, y) -> (y, 511 - x)
    face = analyzer.analyze_one(turned)
    unturned = np.stack([511 - face.landmarks[:, 1], face.landmarks[:, 0]], axis=1)
    assert np.median(np.linalg.norm(unturned - sample_face.landmarks[:, :2], axis=1)) < 4.0
    assert 60 < abs(face.roll) < 120
