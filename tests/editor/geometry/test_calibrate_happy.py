"""The happy calibration: recovers a known recipe from synthetic pairs; errors are in inter-iris units."""

from __future__ import annotations

import numpy as np
import pytest

from editor.geometry.basis import load_basis
from editor.geometry.calibrate_happy import align_to, calibrate, lip_parting, smile_error
from editor.geometry.motion import Similarity


def _pose(rng: np.random.Generator) -> Similarity:
    angles = rng.uniform(-0.2, 0.2, size=3)
    cx, cy, cz = np.cos(angles)
    sx, sy, sz = np.sin(angles)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return Similarity(rng.uniform(150, 250), rz @ ry @ rx, rng.uniform(400, 900, size=3))


def test_calibration_recovers_a_known_smile_recipe_across_head_motion():
    basis = load_basis()
    rng = np.random.default_rng(1)
    truth = {"mouthSmile": 0.3, "mouthDimple": 0.5}  # a closed-lip smile: the lips stay together
    weights = {f"{g}{side}": w for g, w in truth.items() for side in ("Left", "Right")}
    motion = basis.displacement(weights)
    pairs = {}
    for i in range(12):
        shape = basis.neutral + rng.normal(scale=0.003, size=basis.neutral.shape)  # a person's own face
        pairs[f"{i:03d}"] = (_pose(rng).apply(shape), _pose(rng).apply(shape + motion))  # head moved between
    result = calibrate(pairs)
    fitted = result["fitted_group_weights"]
    for group, value in truth.items():
        assert fitted[group] == pytest.approx(value, abs=0.03), group
    assert fitted["cheekSquint"] < 0.03 and fitted["mouthStretch"] < 0.03
    assert result["test_error"]["fitted"]["mean"] < 0.2 * result["test_error"]["no_edit"]["mean"]
    assert result["test_people"] == 4 and result["fit_people"] == {"closed_lip": 8, "all": 8}
    # The all-smiles fit may also use lip-parting shapes; here it should not need them.
    assert result["fitted_all_smiles_group_weights"]["jawOpen"] < 0.03


def test_lip_parting_tells_open_from_closed_smiles():
    basis = load_basis()
    neutral = basis.neutral.astype(np.float64) * 200
    opened = neutral + 200 * basis.displacement({"jawOpen": 0.3})
    assert lip_parting(neutral, neutral) == pytest.approx(0.0, abs=1e-9)
    assert lip_parting(neutral, opened) > 0.1


def test_align_and_error_units():
    basis = load_basis()
    neutral = Similarity(100.0, np.eye(3), np.zeros(3)).apply(basis.neutral.astype(np.float64))
    moved = Similarity(130.0, np.eye(3), np.array([40.0, -20.0, 5.0])).apply(basis.neutral.astype(np.float64))
    assert np.allclose(align_to(moved, neutral), neutral, atol=1e-6)
    shifted = neutral + np.array([5.0, 0.0, 0.0])  # every point 5 px off, inter-iris 100 px
    assert smile_error(shifted, neutral, neutral) == pytest.approx(0.05)
