"""Appearance edits through the Editor on the real sample photo: identity-gated, local, composed."""

from __future__ import annotations

import numpy as np
import pytest

from editor.editor import Editor
from editor.requests import EditRequest


@pytest.fixture(scope="module")
def editor(analyzer) -> Editor:
    return Editor(analyzer=analyzer)


def test_lipstick_keeps_identity_and_touches_only_the_lips(editor, sample_rgb, sample_face):
    outcome = editor.render(sample_rgb, [EditRequest(attribute="lipstick", strength=1.0, value="red")])
    assert outcome.backends == ("appearance",) and outcome.identity.same_person
    moved = np.argwhere((outcome.image != sample_rgb).any(axis=-1))  # (N, 2) rows, cols
    lips = sample_face.landmarks[[61, 291, 0, 17], :2]
    assert len(moved) > 50
    assert moved[:, 1].min() >= lips[:, 0].min() - 2 and moved[:, 1].max() <= lips[:, 0].max() + 2
    assert moved[:, 0].min() >= lips[:, 1].min() - 4 and moved[:, 0].max() <= lips[:, 1].max() + 4


def test_expression_then_appearance_in_one_turn(editor, sample_rgb):
    outcome = editor.render(
        sample_rgb,
        [EditRequest(attribute="surprised", strength=0.6), EditRequest(attribute="eye_color", strength=1.0,
                                                                       value="green")],
    )  # fmt: skip
    assert outcome.backends == ("geometry", "appearance") and outcome.identity.same_person
    assert {r.attribute for r in outcome.applied} == {"surprised", "eye_color"}


@pytest.mark.parametrize(("attribute", "strength"), [("age", 1.0), ("age", -1.0), ("glasses", 1.0)])
def test_age_and_glasses_keep_identity_and_stay_on_the_face(
    editor, sample_rgb, sample_face, attribute, strength
):
    outcome = editor.render(sample_rgb, [EditRequest(attribute=attribute, strength=strength)])
    assert outcome.backends == ("appearance",) and outcome.identity.same_person and outcome.scale == 1.0
    moved = np.argwhere((outcome.image != sample_rgb).any(axis=-1))  # (N, 2) rows, cols
    assert len(moved) > 500
    x, y, width, height = sample_face.box
    assert moved[:, 1].min() >= x - 0.3 * width and moved[:, 1].max() <= x + 1.3 * width
    assert moved[:, 0].min() >= y - 0.3 * height and moved[:, 0].max() <= y + 1.3 * height


def test_removing_glasses_is_refused_and_changes_nothing(editor, sample_rgb):
    outcome = editor.render(sample_rgb, [EditRequest(attribute="glasses", strength=-0.7)])
    assert np.array_equal(outcome.image, sample_rgb)
    assert any("can't remove glasses" in note for note in outcome.notes)
