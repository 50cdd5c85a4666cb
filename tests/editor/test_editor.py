"""The Editor end to end on the real sample photo: routing, identity, expression check, notes."""

from __future__ import annotations

import numpy as np
import pytest

from editor.editor import Editor, face_region
from editor.face import Face
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


def test_unsupported_attribute_is_explained_not_applied(analyzer, sample_rgb):
    from editor.backends.geometry import GeometryBackend
    from editor.backends.registry import BackendRegistry

    expressions_only = Editor(analyzer=analyzer, registry=BackendRegistry([GeometryBackend()]))
    outcome = expressions_only.render(sample_rgb, [EditRequest(attribute="glasses", strength=0.7)])
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


def test_the_edit_works_on_the_face_region_and_leaves_the_rest_of_a_large_photo_alone(editor, sample_rgb):
    canvas = np.full((1536, 2048, 3), 90, np.uint8)
    canvas[700:1212, 1200:1712] = sample_rgb  # the sample portrait inside a wider photo
    request = [EditRequest(attribute="happy", strength=1.0, steps=2)]
    wide, alone = editor.render(canvas, request), editor.render(sample_rgb, request)
    x0, y0, x1, y1 = face_region(wide.face, canvas.shape[:2])
    assert (x1 - x0) * (y1 - y0) < 0.1 * canvas.shape[0] * canvas.shape[1]
    outside = np.ones(canvas.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(wide.image[outside], canvas[outside])
    difference = np.abs(wide.image[700:1212, 1200:1712].astype(np.int16) - alone.image).sum(axis=2)
    change = np.abs(alone.image.astype(np.int16) - sample_rgb).sum(axis=2)
    assert difference.mean() < 0.3 * change.mean()  # the same edit as on the portrait alone (landmarks
    # differ by a fraction of a pixel between the two photos)
    assert [f.shape for f in wide.frames] == [(384, 512, 3)] * 2  # previews of the whole photo
    assert wide.identity.same_person and wide.face_after.box[0] > 1200  # in the photo's coordinates


def test_an_edit_in_place_gives_the_same_photo_as_one_into_a_copy(editor, sample_rgb):
    request = [EditRequest(attribute="happy", strength=0.8)]
    copied = editor.render(sample_rgb, request, steps=0)
    photo = sample_rgb.copy()
    editor.analyze(photo)  # cached for this very array, which the edit then changes
    in_place = editor.render(photo, request, steps=0, in_place=True)
    assert in_place.image is photo and np.array_equal(photo, copied.image)
    assert not np.array_equal(photo, sample_rgb)
    assert all(ref() is not photo for ref, _ in editor._by_object.values())  # its analysis is forgotten


def test_the_originals_embedding_is_taken_on_a_worker_while_the_edit_renders(analyzer, sample_rgb):
    import threading

    from editor.identity import IdentityScorer

    threads: list[str] = []

    class Recording(IdentityScorer):
        def embed(self, image, face):
            threads.append(threading.current_thread().name)
            return super().embed(image, face)

    editor = Editor(analyzer=analyzer, scorer=Recording())
    outcome = editor.render(sample_rgb.copy(), [EditRequest(attribute="happy", strength=0.7)], steps=0)
    assert outcome.identity.same_person
    assert threads[0].startswith("facechat-embed") and threads[1] == threading.current_thread().name


def test_the_readout_uses_the_lower_lip_when_that_is_what_moved(editor, sample_rgb):
    requests = [
        EditRequest(attribute="brow_raise", strength=0.7),
        EditRequest(attribute="mouth_open", strength=0.5),
    ]
    outcome = editor.render(sample_rgb, requests)
    mouth = next(check for check in outcome.expression if check.attribute == "mouth_open")
    before, after, _ = mouth.blendshapes["mouthLowerDownRight"]
    assert after - before > 0.2 and "mouthLowerDownRight" not in mouth.unseen
    assert mouth.appeared is True  # it read `appeared: false` while this very score rose


def test_blind_spots_count_only_when_they_moved_and_are_named_when_not(editor, sample_face):
    class Targets:
        name = "targets"

        def targets(self, request, face):
            return {"jawOpen": 1.0, "mouthLowerDownLeft": 1.0, "noseSneerLeft": 1.0}

    request = EditRequest(attribute="mouth_open", strength=0.5)
    groups = [(Targets(), [request])]

    def scored(**scores):
        return Face(**{**sample_face.__dict__, "blendshapes": {**sample_face.blendshapes, **scores}})

    still = scored(jawOpen=0.0, mouthLowerDownLeft=0.0, noseSneerLeft=0.0)
    lip = editor._expression_check(request, still, scored(jawOpen=0.02, mouthLowerDownLeft=0.4), groups)
    assert lip.appeared is True and lip.change == pytest.approx(0.21) and lip.unseen == ("noseSneerLeft",)
    jaw = editor._expression_check(request, still, scored(jawOpen=0.02, mouthLowerDownLeft=0.0), groups)
    assert jaw.appeared is False and jaw.change == pytest.approx(0.02)
    assert jaw.unseen == ("mouthLowerDownLeft", "noseSneerLeft")
