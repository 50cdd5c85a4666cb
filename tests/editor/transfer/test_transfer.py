"""A reference photo's expression copied onto a face through the geometry backend (identity-gated)."""

from __future__ import annotations

import numpy as np
import pytest

from editor.editor import Editor
from editor.errors import FaceSelectionError, NoFaceError
from editor.geometry.calibrate_happy import align_to, smile_error
from editor.images import load_image
from editor.transfer import reference_face, reference_request, transfer_weights


@pytest.fixture(scope="module")
def editor(analyzer):
    return Editor(analyzer=analyzer)


def test_reference_photo_errors_say_what_to_do(analyzer, sample_rgb):
    with pytest.raises(NoFaceError, match="reference photo"):
        reference_request(np.full((200, 200, 3), 128, np.uint8), analyzer=analyzer)
    pair = np.concatenate([sample_rgb, sample_rgb[:, ::-1]], axis=1)
    with pytest.raises(FaceSelectionError, match="2 faces.*--reference-face"):
        reference_request(pair, analyzer=analyzer)
    assert reference_request(pair, analyzer=analyzer, face_index=1).attribute == "reference"
    with pytest.raises(FaceSelectionError, match="between 0 and 0"):
        reference_face(analyzer.analyze(sample_rgb), 3)


def test_copying_an_expression_moves_the_face_toward_the_reference(
    editor, analyzer, sample_rgb, surprised_sample
):
    request = reference_request(surprised_sample, analyzer=analyzer)
    weights = dict(request.expression)
    assert weights.get("jawOpen", 0) > 0.05 and weights.get("browInnerUp", 0) > 0.05
    outcome = editor.render(sample_rgb, [request], steps=2)
    assert outcome.applied and outcome.identity.same_person and len(outcome.frames) == 2
    original = analyzer.analyze_one(sample_rgb).landmarks.astype(np.float64)
    target = align_to(analyzer.analyze_one(surprised_sample).landmarks.astype(np.float64), original)
    after = align_to(outcome.face_after.landmarks.astype(np.float64), original)
    assert smile_error(after, target, original) < 0.7 * smile_error(original, target, original)


def test_strength_scales_the_copy_and_the_face_own_expression_is_taken_away(
    analyzer, sample_rgb, surprised_sample
):
    request = reference_request(surprised_sample, analyzer=analyzer)
    face = analyzer.analyze_one(sample_rgb)
    full, half = (
        transfer_weights(face, request),
        transfer_weights(face, request.model_copy(update={"strength": 0.5})),
    )
    # the copy scales with strength; what the face already shows is taken away at every strength (half
    # of this reference's jaw drop can be less than the open-mouthed sample's own)
    jaw = dict(request.expression)["jawOpen"]
    assert full["jawOpen"] > 0
    assert full["jawOpen"] - half.get("jawOpen", 0.0) == pytest.approx(0.5 * jaw, abs=0.03)
    own = transfer_weights(face, reference_request(sample_rgb, analyzer=analyzer))
    assert max(abs(w) for w in own.values()) < 0.05 if own else True  # copying itself changes ~nothing


@pytest.mark.data
def test_a_real_smile_copied_from_another_person_raises_the_smile(editor, analyzer, london):
    target = load_image(london / "neutral" / "003.jpg")
    request = reference_request(london / "smiling" / "006.jpg", analyzer=analyzer)
    outcome = editor.render(target, [request], steps=0)
    before = analyzer.analyze_one(target).blendshapes
    after = outcome.face_after.blendshapes
    assert outcome.identity.same_person
    assert (
        after["mouthSmileLeft"] + after["mouthSmileRight"]
        > before["mouthSmileLeft"] + before["mouthSmileRight"] + 0.1
    )
