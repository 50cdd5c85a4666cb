"""Read a face's expression as blendshape weights, relative to an estimate of that person's neutral face.

The landmarks are taken into the canonical frame (head pose factored out by a similarity on rigid
points) and explained jointly as

    canonical landmarks = prior mean + identity modes @ a + blendshape basis @ w

solved by bounded, regularised least squares (`scipy.optimize.lsq_linear`): ``w`` (the expression, each
in [0, 1]) is drawn toward FaceLandmarker's own blendshape scores (which are trained to ignore identity,
but cannot see some motions: EXPRESSION-NOTES.md), ``a`` (who the person is) toward 0 in units of the
prior's spread. The landmark motion decides where the scores are blind (the lower lip of a real smile,
cheeks); the scores decide where identity and expression look alike (a wide mouth or a smile).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import lsq_linear

from editor.geometry.basis import BlendshapeBasis, load_basis
from editor.transfer.prior import NeutralPrior, canonical_landmarks, load_prior

#: Blendshapes that are not expression (gaze) or that landmarks cannot show (the tongue): never transferred.
EXCLUDED_PREFIXES: tuple[str, ...] = ("eyeLook", "tongueOut")


@dataclass(frozen=True)
class FitConfig:
    """Weights of the expression fit (chosen on London calibration people: `eval.bench_transfer`)."""

    score_weight: float = 0.05  # pull of w toward FaceLandmarker's scores (canonical units per weight)
    identity_weight: float = 0.1  # pull of the identity coefficients toward 0, per prior sigma
    depth_weight: float = 0.5  # z residuals count this much (MediaPipe's depth is the noisiest axis)
    upper: float = 1.0  # largest weight of any blendshape


def expression_shapes(basis: BlendshapeBasis | None = None) -> tuple[str, ...]:
    """The basis blendshapes an expression is read in (gaze and tongue left out)."""
    basis = basis or load_basis()
    return tuple(n for n in basis.names if not n.startswith(EXCLUDED_PREFIXES))


def measure_expression(
    landmarks: np.ndarray,
    scores: Mapping[str, float],
    *,
    basis: BlendshapeBasis | None = None,
    prior: NeutralPrior | None = None,
    config: FitConfig | None = None,
) -> dict[str, float]:
    """The expression on a face as basis weights, name -> weight in [0, ``config.upper``].

    Args:
        landmarks: (478, 3) the face's landmarks, image pixels (`editor.face.Face.landmarks`).
        scores: FaceLandmarker's blendshape scores of the face (`Face.blendshapes`), 0..1.
    """
    basis, prior, config = basis or load_basis(), prior or load_prior(), config or FitConfig()
    names = expression_shapes(basis)
    rows = [basis.index(n) for n in names]
    scale = np.array([1.0, 1.0, config.depth_weight])  # (3,) per-axis residual weight
    residual = ((canonical_landmarks(landmarks, basis) - prior.mean) * scale).reshape(-1)  # (1434,)
    shapes = (basis.displacements[rows] * scale).reshape(len(rows), -1).T  # (1434, M)
    modes = (prior.components * scale).reshape(len(prior.sigma), -1).T  # (1434, K)
    m, k = len(rows), len(prior.sigma)
    prior_w = np.array([float(scores.get(n, 0.0)) for n in names])  # (M,)
    system = np.block(
        [
            [shapes, modes],
            [config.score_weight * np.eye(m), np.zeros((m, k))],
            [np.zeros((k, m)), np.diag(config.identity_weight / np.maximum(prior.sigma, 1e-6))],
        ]
    )  # (1434 + M + K, M + K)
    target = np.concatenate([residual, config.score_weight * prior_w, np.zeros(k)])
    lower = np.concatenate([np.zeros(m), np.full(k, -np.inf)])
    upper = np.concatenate([np.full(m, config.upper), np.full(k, np.inf)])
    solution = lsq_linear(system, target, bounds=(lower, upper), method="bvls").x
    return {name: float(w) for name, w in zip(names, solution[:m], strict=True)}
