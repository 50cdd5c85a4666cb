"""Shared fixtures: the built-in sample photo, one face analyzer per test session, optional shared data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

#: ../shared/data next to the repository, or $FACECHAT_SHARED_DATA; tests that need it are skipped without.
SHARED_DATA = Path(
    os.environ.get("FACECHAT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


@pytest.fixture(scope="session")
def sample_rgb() -> np.ndarray:
    """The built-in sample photo, (512, 512, 3) uint8 RGB."""
    from editor.images import sample_image

    return sample_image()


@pytest.fixture(scope="session")
def analyzer():
    """One real FaceAnalyzer (YuNet + MediaPipe) shared by the whole test session."""
    from editor.face import FaceAnalyzer

    with FaceAnalyzer() as face_analyzer:
        yield face_analyzer


@pytest.fixture(scope="session")
def sample_face(analyzer, sample_rgb):
    """The analysed face of the sample photo."""
    return analyzer.analyze_one(sample_rgb)


@pytest.fixture(scope="session")
def london() -> Path:
    """../shared/data/london (81 people, neutral and smiling); skips the test when absent."""
    path = SHARED_DATA / "london"
    if not (path / "neutral").is_dir():
        pytest.skip(f"shared data not found at {path}")
    return path


@pytest.fixture(scope="session")
def surprised_sample(analyzer, sample_rgb) -> np.ndarray:
    """The sample photo edited to look surprised (strength 1.2): a reference with a known, strong
    expression (rendered once per test session)."""
    from editor.editor import Editor
    from editor.requests import EditRequest

    edit = Editor(analyzer=analyzer).render(
        sample_rgb, [EditRequest(attribute="surprised", strength=1.2)], steps=0
    )
    return edit.image
