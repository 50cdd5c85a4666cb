"""Following a face through a clip: detected once, measured where it was, detected again when lost."""

from __future__ import annotations

import math

import numpy as np
import pytest

from editor.face import Face
from editor.video.synthetic import swaying_frame
from editor.video.tracking import Anchor, FaceTracker

SIZE = (360, 480)


def _face(landmarks: np.ndarray, box: np.ndarray, points5: np.ndarray) -> Face:
    return Face(box=box.astype(np.float32), score=0.9, points5=points5.astype(np.float32),
                landmarks=landmarks.astype(np.float32), blendshapes={}, pose=np.eye(4, dtype=np.float32),
                yaw=0.0, pitch=0.0, roll=0.0)  # fmt: skip


def test_the_anchor_moves_its_box_and_points_with_the_rigid_landmarks():
    rng = np.random.default_rng(0)
    landmarks = np.c_[rng.uniform(100, 200, (478, 2)), rng.normal(0, 5, 478)]
    box, points5 = np.array([110.0, 120.0, 80.0, 90.0]), rng.uniform(120, 180, (5, 2))
    anchor = Anchor.of(_face(landmarks, box, points5))
    assert np.allclose(anchor.box_on(landmarks), box, atol=1e-3)
    angle, scale, shift = math.radians(10), 1.2, np.array([15.0, -7.0])
    turn = scale * np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    moved = landmarks.copy()
    moved[:, :2] = landmarks[:, :2] @ turn.T + shift
    centre = (box[:2] + box[2:] / 2) @ turn.T + shift
    carried = anchor.box_on(moved)
    assert np.allclose(carried[:2] + carried[2:] / 2, centre, atol=1e-3)
    assert np.allclose(carried[2:], box[2:] * scale, atol=1e-3)
    assert np.allclose(anchor.points_on(moved), points5 @ turn.T + shift, atol=1e-3)


@pytest.fixture(scope="module")
def frames(sample_rgb) -> list[np.ndarray]:
    """Five frames of the sample photo swaying (0.08 s apart), the fourth without a face."""
    out = [swaying_frame(sample_rgb, i / 12, SIZE) for i in range(5)]
    out[3] = np.full_like(out[0], 128)
    return out


def test_a_face_is_detected_once_and_followed_then_detected_again_after_it_is_gone(frames, analyzer):
    tracker = FaceTracker(analyzer)
    faces = [tracker(frame) for frame in frames]
    assert faces[3] is None and all(face is not None for i, face in enumerate(faces) if i != 3)
    assert tracker.detections == 3  # frame 0, the faceless frame 3 (searched whole), frame 4
    for frame, face in zip(frames[:3], faces[:3], strict=True):
        detected = analyzer.analyze(frame)[0]
        error = np.linalg.norm(face.landmarks[:, :2] - detected.landmarks[:, :2], axis=1).mean()
        assert error < 0.03 * detected.interocular  # measured where it is, as detection would
        # YuNet's own key points wander by a few pixels from frame to frame
        assert np.abs(face.points5 - detected.points5).max() < 0.15 * detected.interocular


def test_detecting_every_frame_is_still_possible(frames, analyzer):
    tracker = FaceTracker(analyzer, follow=False)
    assert all(tracker(frame) is not None for frame in frames[:3]) and tracker.detections == 3


def test_measure_finds_no_face_in_an_empty_box(analyzer):
    grey = np.full((*SIZE, 3), 128, np.uint8)
    assert analyzer.measure(grey, np.array([100.0, 100.0, 120.0, 120.0]), quarter_turns=0) is None
