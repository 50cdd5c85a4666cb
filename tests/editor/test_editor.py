"""The Editor end to end on the real sample photo: routing, identity, expression check, notes."""

from __future__ import annotations

import numpy as np
import pytest

from editor.editor import Editor
from editor.requests import EditRequest


@pytest.fixture(scope="module")
def editor(analyzer) -> Editor:
    return Editor(analyzer=analyzer)


def test_expression_edit_is_measured_and_keeps_identity(editor, sample_rgb):
    outcome = editor.render(sample_rgb, [EditRequest(attribute="surprised", strength=0.8, steps=4)])
    assert outcome.image.shape == sample_rgb.shape and not np.array_equal(outcome.image, sample_rgb)
    assert len(outcome.frames) == 4 and outcome.backends == ("geometry",)
    assert outcome.identity.same_person and outcome.identity.scorer == "sface"
    assert outcome.scale == 1.0
    (check,) = outcome.expression
    assert check.attribute == "surprised" and check.appeared is True and check.change > 0.05
    assert outcome.timings["total"] > 0


def test_unsupported_attribute_is_explained_not_applied(editor, sample_rgb):
    outcome = editor.render(sample_rgb, [EditRequest(attribute="glasses", strength=0.7)])
    assert outcome.image is sample_rgb and outcome.applied == () and outcome.identity is None
    assert "glasses" in outcome.notes[0] and "happy" in outcome.notes[0]


def test_identity_gate_backs_off_when_the_threshold_is_unreachable(analyzer, sample_rgb):
    from editor.identity import IdentityScorer

    strict = Editor(analyzer=analyzer, scorer=IdentityScorer(threshold=0.9999), gate_tries=2)
    outcome = strict.render(sample_rgb, [EditRequest(attribute="mouth_open", strength=1.0)])
    assert outcome.scale < 1.0
    assert any("recognisable" in note or "without changing who" in note for note in outcome.notes)


def test_an_upside_down_face_is_edited_where_its_mouth_is(editor, sample_rgb):
    request = [EditRequest(attribute="happy", strength=1.0, steps=1)]
    upright = editor.render(sample_rgb, request)
    turned = editor.render(np.ascontiguousarray(sample_rgb[::-1, ::-1]), request)
    back = turned.image[::-1, ::-1].astype(np.int16)
    change = np.abs(back - sample_rgb).sum(axis=2)
    landmarks = upright.face.landmarks
    top, bottom = landmarks[:, 1].min(), landmarks[:, 1].max()
    mouth_rows = slice(int(top + 0.65 * (bottom - top)), int(bottom))
    brow_rows = slice(int(top), int(top + 0.35 * (bottom - top)))
    assert change[mouth_rows].mean() > 3 * change[brow_rows].mean()  # the mouth moved, not the brows
    assert np.abs(back - upright.image).mean() < 0.5  # the same edit as on the upright photo, turned
    assert turned.identity.same_person and turned.expression[0].appeared is True
