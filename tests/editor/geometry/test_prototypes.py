"""Expression prototypes: cover the vocabulary, use known ARKit names, cite FACS, move faces sensibly."""

from __future__ import annotations

import numpy as np
import pytest

from editor import vocabulary
from editor.geometry import prototypes
from editor.geometry.basis import load_basis
from editor.geometry.prototypes import ACTION_UNITS, PROTOTYPES, facs_weights, happy_calibration, prototype

EMOTIONS = ("happy", "sad", "angry", "surprised", "fearful", "disgusted", "contempt")
LEFT_CORNER, RIGHT_CORNER, CHIN = 291, 61, 152
LEFT_BROW, RIGHT_BROW = 334, 105  # middle of each brow
LEFT_UPPER_LID, RIGHT_UPPER_LID = 386, 159


def _motion(weights: dict[str, float]) -> np.ndarray:
    return load_basis().displacement(weights)


def test_every_expression_attribute_has_a_prototype():
    expression = {a.name for a in vocabulary.ATTRIBUTES if a.family == vocabulary.EXPRESSION}
    # neutral is removal, measured on the photo; reference is a reference photo's measured expression
    assert set(PROTOTYPES) == expression - {"neutral", vocabulary.REFERENCE}
    assert set(EMOTIONS) <= set(PROTOTYPES)


@pytest.mark.parametrize("name", sorted(PROTOTYPES))
def test_prototypes_use_known_names_and_cite_a_source(name):
    known = set(load_basis().names)
    for calibrated in (False, True):
        weights = prototype(name, calibrated=calibrated)
        assert weights and set(weights) <= known
        assert all(np.isfinite(w) and 0 < w <= 2.0 for w in weights.values())  # saturated when summed
    assert "FACS" in PROTOTYPES[name].source
    codes = [code if isinstance(code, int) else int(code[1:]) for code in PROTOTYPES[name].units]
    assert set(codes) <= set(ACTION_UNITS)


def test_module_cites_facs_and_emfacs():
    doc = prototypes.__doc__
    assert "Ekman" in doc and "Friesen" in doc and "EMFACS" in doc and "ARFaceAnchor" in doc


def test_textbook_happy_is_au6_plus_au12():
    w = facs_weights("happy")
    assert w["mouthSmileLeft"] == w["mouthSmileRight"] == 1.0
    assert w["cheekSquintLeft"] == w["cheekSquintRight"] == 1.0


def test_unilateral_prototypes_touch_one_side_only():
    assert set(prototype("wink_left")) == {"eyeBlinkLeft"}
    assert set(prototype("wink_right")) == {"eyeBlinkRight"}
    assert all(name.endswith("Right") for name in prototype("contempt"))


def test_measured_shapes_leave_out_blind_spots():
    assert set(prototypes.measured_shapes("happy")) >= {"mouthSmileLeft", "mouthSmileRight"}
    assert not set(prototypes.measured_shapes("disgusted")) & prototypes.BLIND_SPOTS
    for name in PROTOTYPES:
        assert prototypes.measured_shapes(name), name  # every prototype has something to check


def test_unknown_attribute_says_which_exist():
    with pytest.raises(KeyError, match="expression attributes are"):
        prototype("glasses")


def test_happy_is_calibrated_and_beats_no_edit_on_held_out_people():
    calibration = happy_calibration()
    assert calibration is not None
    assert prototype("happy", calibrated=False) == facs_weights("happy")
    happy = prototype("happy")
    scale = prototypes.intensity("happy")
    fitted = prototypes.happy_recipes()["all_smiles"]
    for shape, weight in fitted.items():
        if not shape.startswith(("cheekSquint", "eyeSquint")):
            assert happy[shape] == pytest.approx(weight * scale)  # the all-smiles fit, at its intensity
    assert happy["cheekSquintLeft"] > fitted["cheekSquintLeft"] * scale  # with the eyes' AU6 added
    errors = calibration["test_error"]
    assert calibration["test_people"] >= 20
    assert errors["fitted"]["mean"] < errors["no_edit"]["mean"] < errors["textbook"]["mean"]


def test_prototype_motion_directions():
    y = 1  # canonical y points down
    happy = _motion(prototype("happy"))
    assert happy[LEFT_CORNER, y] < 0 and happy[RIGHT_CORNER, y] < 0  # corners up
    sad = _motion(prototype("sad"))
    assert sad[LEFT_CORNER, y] > 0 and sad[RIGHT_CORNER, y] > 0  # corners down
    closed_lids = _motion(prototype("eyes_closed"))[LEFT_UPPER_LID, y]
    # lids droop (41+64) a third of the way, not halfway: half-shut eyes read as asleep, not sad
    assert 0.1 * closed_lids < sad[LEFT_UPPER_LID, y] < 0.45 * closed_lids
    assert sad[473, y] > 0.01 and sad[468, y] > 0.01  # the eyes look down (AU64)
    assert abs(happy[473, y]) < 1e-6  # no other expression moves the irises
    surprised = _motion(prototype("surprised"))
    assert surprised[LEFT_BROW, y] < -0.03 and surprised[CHIN, y] > 0.1  # brows up, jaw drops
    angry = _motion(prototype("angry"))
    assert angry[LEFT_BROW, y] > 0.02 and angry[RIGHT_BROW, y] > 0.02  # brows down
    closed = _motion(prototype("eyes_closed"))
    assert closed[LEFT_UPPER_LID, y] > 0.1 and closed[RIGHT_UPPER_LID, y] > 0.1


def test_happy_recipes_side_by_side():
    recipes = prototypes.happy_recipes()
    assert set(recipes) == {"textbook", "closed_lip", "all_smiles"}
    assert recipes["closed_lip"] == happy_calibration()["fitted_weights"]
    known = set(load_basis().names)
    assert all(set(r) <= known for r in recipes.values())
    lips_apart = {
        key: _motion(r)[14, 1] - _motion(r)[13, 1] for key, r in recipes.items()
    }  # inner lower minus inner upper lip motion, y down: > 0 parts the lips
    assert abs(lips_apart["closed_lip"]) < 0.02 < lips_apart["all_smiles"]
