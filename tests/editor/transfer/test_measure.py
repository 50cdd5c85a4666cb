"""Reading an expression relative to a neutral estimate: the prior, the fit, the request it becomes."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from editor.geometry.basis import load_basis
from editor.geometry.motion import Similarity
from editor.requests import EditRequest
from editor.transfer.measure import expression_shapes, measure_expression
from editor.transfer.prior import build_prior, canonical_landmarks, load_prior, read_prior, save_prior


def _posed(points: np.ndarray) -> np.ndarray:
    """Canonical (478, 3) points put into an image: scaled to ~120 px between the irises, turned, moved."""
    angle = np.radians(8.0)
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    return Similarity(120.0, rotation, np.array([300.0, 260.0, 0.0])).apply(points)


def test_canonical_landmarks_undo_the_head_pose():
    basis = load_basis()
    canonical = canonical_landmarks(_posed(basis.neutral.astype(np.float64)), basis)
    assert np.abs(canonical - basis.neutral).max() < 1e-4


def test_shipped_prior_has_orthonormal_modes_and_positive_spread():
    prior = load_prior()
    modes = prior.components.reshape(len(prior.sigma), -1)  # (K, 1434)
    assert np.allclose(modes @ modes.T, np.eye(len(prior.sigma)), atol=1e-4)
    assert np.all(prior.sigma > 0) and np.all(np.diff(prior.sigma) <= 1e-6)
    assert prior.provenance["people"] and "003" not in prior.provenance["people"]  # a held-out person


def test_prior_round_trips_through_its_file(tmp_path):
    basis = load_basis()
    rng = np.random.default_rng(0)
    faces = [_posed(basis.neutral + rng.normal(0, 0.01, basis.neutral.shape)) for _ in range(8)]
    prior = build_prior(faces, components=3, provenance={"people": ["a"]})
    save_prior(tmp_path / "prior.npz", prior)
    again = read_prior(tmp_path / "prior.npz")
    assert np.array_equal(again.components, prior.components) and again.provenance == {"people": ["a"]}


def test_fit_recovers_an_expression_put_on_the_mean_neutral_face():
    basis, prior = load_basis(), load_prior()
    truth = {"mouthSmileLeft": 0.6, "mouthSmileRight": 0.6, "jawOpen": 0.3, "browInnerUp": 0.4}
    face = prior.mean + basis.displacement(truth)  # (478, 3) canonical
    measured = measure_expression(_posed(face), {}, basis=basis, prior=prior)
    assert set(measured) == set(expression_shapes(basis))
    for name, weight in truth.items():
        assert measured[name] == pytest.approx(weight, abs=0.12), name
    others = [w for n, w in measured.items() if n not in truth]
    assert np.median(others) < 0.02


def test_neutral_mean_face_reads_as_no_expression():
    prior = load_prior()
    measured = measure_expression(_posed(prior.mean.astype(np.float64)), {})
    assert max(measured.values()) < 0.05


def test_only_reference_requests_carry_an_expression_and_others_serialise_as_before():
    request = EditRequest(attribute="reference", strength=0.5, expression=(("jawOpen", 0.3),))
    assert EditRequest.model_validate_json(request.model_dump_json()) == request
    assert "expression" not in EditRequest(attribute="happy", strength=0.5).model_dump()
    with pytest.raises(ValidationError, match="Only 'reference'"):
        EditRequest(attribute="happy", strength=0.5, expression=(("jawOpen", 0.3),))
    with pytest.raises(ValidationError, match="weight"):
        EditRequest(attribute="reference", strength=0.5, expression=(("jawOpen", float("nan")),))
