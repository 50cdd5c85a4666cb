"""The appearance backend on a synthetic face: local edits, colour toward the goal, honest refusals."""

from __future__ import annotations

import numpy as np
import pytest

from editor.appearance import AppearanceBackend
from editor.appearance.colour import delta_e, weighted_mean
from editor.backends import Backend
from editor.backends.registry import default_registry
from editor.images import to_lab
from editor.requests import EditRequest

CASES = [("lipstick", "red"), ("lipstick", "pink"), ("eye_color", "green"), ("eye_color", "blue"),
         ("tan", None), ("makeup", None), ("glasses", None), ("age", None),
         ("beard", None)]  # fmt: skip


@pytest.fixture(scope="module")
def backend() -> AppearanceBackend:
    return AppearanceBackend()


def test_is_a_backend_registered_after_the_expression_backend(backend):
    assert isinstance(backend, Backend)
    registry = default_registry()
    names = [b.name for b in registry.backends]
    assert names.index("geometry") < names.index("appearance")
    for attribute in ("lipstick", "eye_color", "tan", "makeup", "glasses", "age", "beard"):
        assert registry.route(attribute).name == "appearance"
    assert registry.route("happy").name == "geometry"


@pytest.mark.parametrize(("attribute", "value"), CASES)
def test_pixels_outside_the_region_are_bit_identical(backend, synthetic, attribute, value):
    image, face = synthetic
    edit = backend.edit(image, face, [EditRequest(attribute=attribute, strength=1.0, value=value)])
    assert edit.image.shape == image.shape and edit.image.dtype == np.uint8
    moved = (edit.image != image).any(axis=-1)
    assert moved.sum() > 20
    from editor.appearance.backend import EFFECTS

    region = EFFECTS[attribute](image, face.landmarks, 1.0, value).region.full()
    assert not (moved & (region == 0)).any()


@pytest.mark.parametrize(("attribute", "value"), [c for c in CASES if c[1] is not None])
def test_colour_moves_toward_the_value_more_at_full_strength(backend, synthetic, attribute, value):
    image, face = synthetic
    gains = []
    for strength in (0.5, 1.0):
        edit = backend.edit(image, face, [EditRequest(attribute=attribute, strength=strength, value=value)])
        gains.append(edit.diagnostics[f"{attribute}.delta_e_gain"])
        assert edit.diagnostics[f"{attribute}.pixels"] > 0
    assert 0 < gains[0] < gains[1]
    assert (
        edit.diagnostics[f"{attribute}.delta_e_after"] < 0.5 * edit.diagnostics[f"{attribute}.delta_e_before"]
    )


def test_tan_darkens_and_warms_paler_lightens(backend, synthetic):
    image, face = synthetic
    from editor.appearance.regions import skin_mask

    alpha = skin_mask(face.landmarks, image)
    before = weighted_mean(to_lab(alpha.crop(image)), alpha.alpha)
    tanned = backend.edit(image, face, [EditRequest(attribute="tan", strength=1.0)]).image
    paler = backend.edit(image, face, [EditRequest(attribute="tan", strength=-1.0)]).image
    after_tan = weighted_mean(to_lab(alpha.crop(tanned)), alpha.alpha)
    after_pale = weighted_mean(to_lab(alpha.crop(paler)), alpha.alpha)
    assert after_tan[0] < before[0] - 3 and after_tan[2] > before[2] + 3
    assert after_pale[0] > before[0] + 3


def test_a_clear_tan_is_one_skin_class_darker_not_two(backend, synthetic):
    """Strength 1.0 lowers the skin's Individual Typology Angle by about one class (13-18 deg)."""
    image, face = synthetic
    from editor.appearance.regions import skin_mask

    alpha = skin_mask(face.landmarks, image)
    core = alpha.alpha > 0.9  # the skin itself, not its feathered edge

    def typology_angle(picture: np.ndarray) -> float:
        lightness, _, yellow = to_lab(alpha.crop(picture))[core].mean(axis=0)
        return float(np.degrees(np.arctan2(lightness - 50.0, yellow)))

    tanned = backend.edit(image, face, [EditRequest(attribute="tan", strength=1.0)]).image
    assert 10.0 < typology_angle(image) - typology_angle(tanned) < 20.0


def test_negative_lipstick_desaturates(backend, synthetic):
    image, face = synthetic
    edit = backend.edit(image, face, [EditRequest(attribute="lipstick", strength=-1.0)])
    from editor.appearance.regions import lips_mask

    lips = lips_mask(face.landmarks, image.shape[:2])
    chroma = [np.hypot(*weighted_mean(to_lab(lips.crop(x)), lips.alpha)[1:]) for x in (image, edit.image)]
    assert chroma[1] < chroma[0] - 3


def test_removing_makeup_is_refused_with_a_sentence(backend, synthetic):
    image, face = synthetic
    edit = backend.edit(image, face, [EditRequest(attribute="makeup", strength=-0.7)])
    assert np.array_equal(edit.image, image)
    assert any("can't remove makeup" in note for note in edit.notes)


def test_requests_compose_and_a_missing_colour_is_named(backend, synthetic):
    image, face = synthetic
    requests = [
        EditRequest(attribute="lipstick", strength=1.0),
        EditRequest(attribute="eye_color", strength=1.0, value="green"),
    ]
    edit = backend.edit(image, face, requests, steps=3, preview_side=100)
    assert {"lipstick.delta_e_gain", "eye_color.delta_e_gain"} <= set(edit.diagnostics)
    assert any("used red" in note for note in edit.notes)
    assert len(edit.frames) == 3 and max(edit.frames[0].shape[:2]) == 100


def test_scale_backs_the_edit_off(backend, synthetic):
    image, face = synthetic
    request = [EditRequest(attribute="lipstick", strength=1.0, value="red")]
    full = backend.edit(image, face, request).diagnostics["lipstick.delta_e_change"]
    half = backend.edit(image, face, request, scale=0.5).diagnostics["lipstick.delta_e_change"]
    assert half < 0.75 * full


def test_delta_e_is_euclidean_in_lab():
    assert delta_e(np.array([50.0, 0, 0]), np.array([53.0, 4.0, 0])) == pytest.approx(5.0)


def test_hair_mask_finds_a_dark_cap_above_the_forehead_and_not_the_face(synthetic):
    import cv2

    from editor.appearance.hair import hair_mask

    image, face = synthetic
    image = image.copy()
    top = face.landmarks[10, :2]
    unit = float(np.linalg.norm(face.landmarks[468, :2] - face.landmarks[473, :2]))
    hair = np.zeros(image.shape[:2], np.uint8)
    centre, axes = (int(top[0]), int(top[1] + 0.6 * unit)), (int(1.4 * unit), int(1.5 * unit))
    cv2.ellipse(hair, centre, axes, 0, 180, 360, 1, -1)
    rng = np.random.default_rng(0)
    strands = np.clip(rng.normal(45, 12, image.shape), 0, 255).astype(np.uint8)
    from editor.appearance.regions import face_oval_mask

    cap = hair.astype(bool) & (face_oval_mask(face.landmarks, image.shape[:2]).full() == 0)
    image[cap] = strands[cap]
    mask = hair_mask(face.landmarks, image).full()
    assert (mask[cap] > 0.5).mean() > 0.6
    cheek = face.landmarks[50, :2].astype(int)
    nose = face.landmarks[4, :2].astype(int)
    assert mask[cheek[1], cheek[0]] == 0 and mask[nose[1], nose[0]] == 0
    edit = AppearanceBackend().edit(
        image, face, [EditRequest(attribute="hair_color", strength=1.0, value="blonde")]
    )
    assert edit.diagnostics["hair_color.delta_e_gain"] > 10
    moved = (edit.image != image).any(axis=-1)
    # Outside the mask only hair the mask missed may move (loose strands): never the face or the rest.
    assert not (moved & (mask == 0) & ~cap).any()


def test_age_glasses_and_beard_compose_in_one_turn(backend, synthetic):
    image, face = synthetic
    requests = [EditRequest(attribute="age", strength=1.0), EditRequest(attribute="beard", strength=1.0),
                EditRequest(attribute="glasses", strength=1.0, value="round")]  # fmt: skip
    edit = backend.edit(image, face, requests)
    assert all(edit.diagnostics[f"{name}.pixels"] > 0 for name in ("age", "beard", "glasses"))
    alone = backend.edit(image, face, requests[2:]).image
    glasses_only = (alone != image).any(axis=-1)
    # The glasses are drawn last, over the aged face: where they cover, the result is theirs.
    assert (edit.image != image).any(axis=-1).sum() > glasses_only.sum()
