"""The geometry backend on the real sample photo: the requested motion appears, nothing else moves."""

from __future__ import annotations

import numpy as np
import pytest

from editor.backends.geometry import GeometryBackend
from editor.requests import EditRequest


@pytest.fixture(scope="module")
def backend() -> GeometryBackend:
    return GeometryBackend()


def test_brow_raise_lifts_the_brows_and_leaves_the_background(backend, analyzer, sample_rgb, sample_face):
    edit = backend.edit(sample_rgb, sample_face, [EditRequest(attribute="brow_raise", strength=1.0)], steps=3)
    assert edit.image.shape == sample_rgb.shape and len(edit.frames) == 3
    after = analyzer.analyze_one(edit.image)
    # FaceLandmarker reads the raise (its score also follows the forehead lines the completion adds) ...
    assert after.blendshapes["browInnerUp"] > sample_face.blendshapes["browInnerUp"] + 0.08
    # ... and the brows really moved up on the photo, by over 2% of the eye distance.
    from editor.landmark_indices import LEFT_BROW, RIGHT_BROW

    brows = list(RIGHT_BROW + LEFT_BROW)
    lift = (sample_face.landmarks[brows, 1] - after.landmarks[brows, 1]).mean()
    assert lift > 0.02 * sample_face.interocular
    # Corners of the photo (background, far from the face) are untouched.
    assert np.array_equal(edit.image[:60, :60], sample_rgb[:60, :60])
    assert np.array_equal(edit.image[-60:, -60:], sample_rgb[-60:, -60:])


def test_zero_strength_changes_nothing_visible(backend, sample_rgb, sample_face):
    edit = backend.edit(sample_rgb, sample_face, [EditRequest(attribute="happy", strength=0.0)], steps=1)
    assert np.abs(edit.image.astype(int) - sample_rgb.astype(int)).max() <= 1


def test_suppression_uses_what_the_photo_shows(backend, sample_face):
    # The astronaut smiles: "less happy" removes her measured smile; "less surprised" has nothing to remove.
    weights = backend.weights(sample_face, [EditRequest(attribute="happy", strength=-1.0)])
    assert weights["mouthSmileLeft"] == pytest.approx(-sample_face.blendshapes["mouthSmileLeft"])
    neutral = backend.weights(sample_face, [EditRequest(attribute="neutral", strength=1.0)])
    assert neutral["mouthSmileLeft"] < 0 and not any(name.startswith("eyeLook") for name in neutral)
    assert (
        backend.targets(EditRequest(attribute="happy", strength=-1.0), sample_face)["mouthSmileLeft"] == -1.0
    )


def test_requests_compose_in_blendshape_space(backend, sample_face):
    a = EditRequest(attribute="brow_raise", strength=0.5)
    b = EditRequest(attribute="mouth_open", strength=0.5)
    combined = backend.weights(sample_face, [a, b])
    separate = {**backend.weights(sample_face, [a]), **backend.weights(sample_face, [b])}
    assert combined.keys() == separate.keys()
    assert all(combined[k] == pytest.approx(separate[k]) for k in combined)  # disjoint shapes: just summed
    half = backend.weights(sample_face, [a, b], scale=0.5)
    # Saturation is concave: half the request is less than the whole, but at least half of it.
    assert all(combined[k] / 2 - 1e-9 <= half[k] < combined[k] for k in combined)


def test_weights_saturate_toward_anatomical_limits(backend, sample_face):
    """Strength 2 is a stronger expression than 1, not a doubled one, and never beyond the limits."""
    from editor.geometry.prototypes import ANATOMICAL_LIMITS, DEFAULT_LIMIT

    one = backend.weights(sample_face, [EditRequest(attribute="angry", strength=1.0)])
    two = backend.weights(sample_face, [EditRequest(attribute="angry", strength=2.0)])
    five = backend.weights(sample_face, [EditRequest(attribute="surprised", strength=2.0)] * 3)
    for name in one:
        assert one[name] < two[name] < 2 * one[name]
    for name, weight in five.items():
        assert weight < ANATOMICAL_LIMITS.get(name, DEFAULT_LIMIT)


def test_a_dropped_jaw_on_the_sample_shows_teeth_and_a_cavity_not_a_grey_blue_band(
    backend, sample_rgb, sample_face
):
    """The astronaut smiles with her teeth showing; opening her mouth wide fills the opening with warm,
    light teeth and a dark cavity (stretching her own teeth made a grey-blue streaked band)."""
    from editor.completion.mouth_bank import inner_lip_loop

    request = [EditRequest(attribute="mouth_open", strength=1.0)]
    edit = backend.edit(sample_rgb, sample_face, request, steps=0)
    weights = backend.weights(sample_face, request)
    target, _ = backend.plausible_target(sample_face, weights)
    loop = inner_lip_loop(target)
    mask = np.zeros(sample_rgb.shape[:2], np.uint8)
    import cv2

    cv2.fillPoly(mask, [np.round(loop).astype(np.int32)], 1)
    mask = cv2.erode(mask, np.ones((3, 3), np.uint8)).astype(bool)
    assert mask.sum() > 150  # the mouth opened
    pixels = edit.image[mask].astype(float)
    red, green, blue = pixels.mean(axis=0)
    assert red > blue and green >= 0.85 * blue  # not blue-grey
    luma = pixels @ [0.299, 0.587, 0.114]
    assert np.percentile(luma, 90) > 120 and (luma < 75).sum() >= 10  # light teeth, a dark cavity


def test_a_strong_edit_stays_plausible_and_says_so_when_held_back(backend, sample_face):
    """Strength 2 anger plus lowered brows: the brows stay smooth arches inside the plausible range."""
    from editor.geometry.plausibility import default_limits, feature_changes

    requests = [
        EditRequest(attribute="angry", strength=2.0),
        EditRequest(attribute="brow_lower", strength=2.0),
    ]
    weights = backend.weights(sample_face, requests)
    notes: list[str] = []
    target, fraction = backend.plausible_target(sample_face, weights, notes)
    assert not default_limits().violations(feature_changes(sample_face.landmarks, target))
    assert (fraction < 1.0) == bool(notes)


def test_preview_frames_are_completed_like_the_edit(backend, sample_rgb, sample_face):
    """The steps GIF shows the same teeth and folds as the result: its last frame is the edit itself
    when the photo is no larger than the preview size (the sample is 512 px)."""
    request = [EditRequest(attribute="mouth_open", strength=1.0)]
    edit = backend.edit(sample_rgb, sample_face, request, steps=3, preview_side=512)
    plain = backend.edit(sample_rgb, sample_face, request, steps=0)
    assert len(edit.frames) == 3
    assert np.abs(edit.frames[-1].astype(int) - plain.image.astype(int)).max() <= 1
    assert np.abs(edit.frames[0].astype(int) - sample_rgb.astype(int)).mean() > 0.05  # a first step


def test_taking_away_the_photo_s_own_smile_is_never_held_back(backend, sample_face):
    """'neutral' removes the astronaut's broad smile: a big mouth-width change, but toward her own
    neutral face, so the plausibility check (which guards what is ADDED) lets all of it through."""
    weights = backend.weights(sample_face, [EditRequest(attribute="neutral", strength=1.0)])
    notes: list[str] = []
    _, fraction = backend.plausible_target(sample_face, weights, notes)
    assert fraction == 1.0 and not notes
