"""Fixtures of the completion tests."""

from __future__ import annotations

import numpy as np
import pytest

from synthetic_faces import synthetic_landmarks


@pytest.fixture
def face_points() -> np.ndarray:
    """(478, 2) a synthetic face whose lips are closed (0.6 px apart)."""
    return synthetic_landmarks(lip_gap=0.6)
