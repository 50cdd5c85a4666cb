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
