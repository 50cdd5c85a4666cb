"""Shared plumbing of the CLI commands that look at faces: one analyzer, faces chosen by index."""

from __future__ import annotations

import functools
import logging
import sys

import numpy as np

from editor.errors import FaceSelectionError, NoFaceError
from editor.face import Face, FaceAnalyzer
from editor.images import SAMPLE_NAME, load_image

logger = logging.getLogger(__name__)


@functools.cache
def analyzer() -> FaceAnalyzer:
    """The process-wide face analyzer (models load once)."""
    return FaceAnalyzer()


def image_argument_help() -> str:
    return f"photo file (JPEG, PNG, ...) or '{SAMPLE_NAME}' for the built-in sample photo"


def load_photo(path: str) -> np.ndarray:
    """Load a photo named on the command line (``sample`` is the built-in one)."""
    return load_image(path)


def choose_face(faces: list[Face], index: int | None, label: str, option: str) -> Face:
    """The face a command works on.

    With several faces and no index, the choice would be a guess that changes the answer, so the command
    stops and lists the faces; with one face it is used; an index out of range is an error.

    Raises:
        NoFaceError, FaceSelectionError: with messages that say what to do.
    """
    if not faces:
        raise NoFaceError(
            f"No face was found in {label}. Use a photo with one clearly visible face, looking roughly "
            "toward the camera."
        )
    if index is None:
        if len(faces) == 1:
            return faces[0]
        listing = "; ".join(
            f"{face.index}: at x={face.box[0]:.0f} y={face.box[1]:.0f}, {face.size:.0f} px" for face in faces
        )
        raise FaceSelectionError(
            f"{label} has {len(faces)} faces ({listing}); say which one with {option} N (0 is the largest)."
        )
    if not 0 <= index < len(faces):
        raise FaceSelectionError(
            f"{label} has {len(faces)} face{'s' if len(faces) != 1 else ''}; {option} must be between 0 "
            f"and {len(faces) - 1}, got {index}."
        )
    return faces[index]


def note(message: str) -> None:
    """A one-line note for the user on stderr (stdout stays machine-readable with --json)."""
    sys.stderr.write(f"facechat: {message}\n")
