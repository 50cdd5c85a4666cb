"""A reference photo's expression as an `EditRequest`, and that expression re-created on another face.

`reference_request` measures the face in a reference photo (`measure_expression`: blendshape weights
relative to an estimate of that person's neutral face, head pose factored out) and returns
``EditRequest(attribute="reference", strength, expression=...)``: the ordinary request type, so the
conversation stack, undo, sliders and saved sessions handle a transfer like any other edit.
`transfer_weights` is what the geometry backend renders for it on a target face: the reference's
weights times the strength, minus the target's own expression (so the target ends up showing the
reference's expression, not the sum of the two). The motion, warp, completion stage and identity gate
are the geometry backend's, so the target keeps its own face.
"""

from __future__ import annotations

import logging

from editor import vocabulary as vocab
from editor.errors import FaceSelectionError, NoFaceError
from editor.face import Face, FaceAnalyzer
from editor.images import ImageSource, load_image
from editor.requests import EditRequest
from editor.transfer.measure import measure_expression

logger = logging.getLogger(__name__)

#: Weights below this are left out of a measured expression (the fit's noise on a neutral face).
MIN_WEIGHT = 0.02


def reference_face(faces: list[Face], face_index: int | None) -> Face:
    """The face of a reference photo to copy from.

    One face is used; several need an index (which expression to copy changes the result); none, or an
    index out of range, is an error that says what to do.

    Raises:
        NoFaceError, FaceSelectionError.
    """
    if not faces:
        raise NoFaceError(
            "No face was found in the reference photo. Use a reference with one clearly visible face, "
            "looking roughly toward the camera."
        )
    if face_index is None:
        if len(faces) > 1:
            raise FaceSelectionError(
                f"The reference photo shows {len(faces)} faces; say whose expression to copy with "
                f"--reference-face N (reference_face=N in Python; 0 is the largest, up to {len(faces) - 1})."
            )
        return faces[0]
    if not 0 <= face_index < len(faces):
        raise FaceSelectionError(
            f"The reference photo shows {len(faces)} face{'s' if len(faces) != 1 else ''}; the reference "
            f"face must be between 0 and {len(faces) - 1}, got {face_index}."
        )
    return faces[face_index]


def reference_expression(face: Face) -> tuple[tuple[str, float], ...]:
    """A face's measured expression as (blendshape, weight) pairs, weights rounded to 1e-4."""
    weights = measure_expression(face.landmarks, face.blendshapes)
    return tuple((name, round(w, 4)) for name, w in weights.items() if w >= MIN_WEIGHT)


def reference_request(
    image: ImageSource,
    *,
    analyzer: FaceAnalyzer,
    strength: float = 1.0,
    face_index: int | None = None,
) -> EditRequest:
    """``EditRequest(attribute="reference", ...)`` carrying the expression of the face in ``image``.

    Args:
        image: the reference photo (path, bytes, PIL, numpy, "sample").
        analyzer: the face analyzer to measure it with.
        strength: 1.0 = as strong as in the photo, 0.5 half as strong.
        face_index: which face when the reference shows several.

    Raises:
        ImageLoadError, NoFaceError, FaceSelectionError: with sentences that say what to do.
    """
    face = reference_face(analyzer.analyze(load_image(image)), face_index)
    expression = reference_expression(face)
    logger.info("reference expression: %s", ", ".join(f"{n} {w:.2f}" for n, w in expression[:8]))
    return EditRequest(attribute=vocab.REFERENCE, strength=strength, expression=expression)


def transfer_weights(face: Face, request: EditRequest) -> dict[str, float]:
    """Weights that take ``face`` from its own expression to the request's, scaled by its strength.

    Positive weights add motion, negative ones take back what the face shows (bounded by what was
    measured on it); shapes that change by less than `MIN_WEIGHT` are left alone.
    """
    wanted = dict(request.expression or ())
    own = measure_expression(face.landmarks, face.blendshapes)
    weights = {}
    for name in set(wanted) | {n for n, w in own.items() if w >= MIN_WEIGHT}:
        change = request.strength * wanted.get(name, 0.0) - own.get(name, 0.0)
        if abs(change) >= MIN_WEIGHT:
            weights[name] = change
    return weights
