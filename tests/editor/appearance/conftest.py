"""A synthetic face (the shipped canonical face drawn skin-coloured) as a `Face`, for appearance tests."""

from __future__ import annotations

import numpy as np
import pytest

from editor.face import Face
from synthetic_faces import skin_image, synthetic_landmarks


def synthetic_face(lip_gap: float | None = None, unit: float = 70.0) -> tuple[np.ndarray, Face]:
    """((420, 400, 3) uint8 RGB image, its Face) with the landmarks known exactly."""
    points = synthetic_landmarks(lip_gap=lip_gap, unit=unit)  # (478, 2)
    landmarks = np.concatenate([points, np.zeros((len(points), 1))], axis=1).astype(np.float32)
    low, high = points.min(axis=0), points.max(axis=0)
    face = Face(
        box=np.array([*low, *(high - low)], np.float32), score=1.0,
        points5=points[[468, 473, 4, 61, 291]].astype(np.float32), landmarks=landmarks, blendshapes={},
        pose=np.eye(4, dtype=np.float32), yaw=0.0, pitch=0.0, roll=0.0,
    )  # fmt: skip
    return skin_image(points), face


@pytest.fixture(scope="module")
def synthetic() -> tuple[np.ndarray, Face]:
    """The synthetic face with closed lips."""
    return synthetic_face()


@pytest.fixture(scope="module")
def open_mouth() -> tuple[np.ndarray, Face]:
    """The synthetic face with the lips 12 px apart (a dark mouth opening between them)."""
    image, face = synthetic_face(lip_gap=12.0)
    return image, face
