"""Head pose from the 478 landmarks: a similarity transform from the canonical face to the photo.

The canonical face is the shipped neutral face of the blendshape basis (`editor.geometry.basis`): x
toward the image's right, y down, z away from the camera, in interocular units with the iris midpoint
at the origin. MediaPipe's landmarks carry z on the same pixel scale as x and y, so an orthogonal
Procrustes fit (Umeyama 1991) of the rigid points (eye corners, nose bridge, forehead, temples) gives
the head's rotation, scale and position; projecting a canonical-space object through it puts that
object on the face at the head's pose (orthographic, which suits a face at portrait distance).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from editor.geometry.basis import load_basis

__all__ = ["HeadPose", "canonical_face", "head_pose"]

#: Landmarks that do not move with expressions: eye corners, nose bridge and ridge, forehead, temples.
RIGID_POINTS = (33, 133, 362, 263, 168, 6, 197, 195, 10, 151, 9, 127, 356, 162, 389, 21, 251, 70, 300)


@lru_cache(maxsize=1)
def canonical_face() -> np.ndarray:
    """(478, 3) float64 canonical neutral face (interocular units, iris midpoint at the origin)."""
    return load_basis().neutral.astype(np.float64)


@dataclass(frozen=True)
class HeadPose:
    """Canonical face -> photo: ``photo = scale * rotation @ canonical + translation``.

    Attributes:
        rotation: (3, 3) float64 proper rotation (det +1).
        scale: pixels per interocular unit.
        translation: (3,) float64 pixels (x, y, z).
    """

    rotation: np.ndarray
    scale: float
    translation: np.ndarray

    def project(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) canonical points -> (..., 3) photo points (x, y pixels; z pixels, larger is farther)."""
        return self.scale * points @ self.rotation.T + self.translation

    def facing(self, direction: np.ndarray) -> float:
        """How much a canonical ``direction`` (3,) faces the camera: -z of its rotated unit vector."""
        turned = self.rotation @ (np.asarray(direction, np.float64) / np.linalg.norm(direction))
        return float(-turned[2])

    @property
    def yaw(self) -> float:
        """Degrees the head is turned, > 0 when its front turns toward the image's right."""
        front = self.rotation @ np.array([0.0, 0.0, -1.0])  # the canonical face looks toward -z
        return float(np.degrees(np.arctan2(front[0], -front[2])))


def head_pose(landmarks: np.ndarray) -> HeadPose:
    """The similarity that best maps the canonical face's rigid points onto ``landmarks`` (478, 3) px.

    Landmarks without depth (z all 0) give a pose with the head facing the camera.
    """
    source = canonical_face()[list(RIGID_POINTS)]  # (N, 3)
    target = np.asarray(landmarks, np.float64)[list(RIGID_POINTS)]
    if target.shape[1] == 2:
        target = np.concatenate([target, np.zeros((len(target), 1))], axis=1)
    mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
    s, t = source - mu_s, target - mu_t  # (N, 3) centred
    if not np.any(t[:, 2]):
        # No depth: fit the 2-D similarity and keep the head facing the camera.
        u, sigma, vt = np.linalg.svd(t[:, :2].T @ s[:, :2])
        d = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
        rotation = np.eye(3)
        rotation[:2, :2] = u @ d @ vt
        scale = float(np.trace(np.diag(sigma) @ d) / (s[:, :2] ** 2).sum())
    else:
        u, sigma, vt = np.linalg.svd(t.T @ s)  # Umeyama: cross-covariance target x source
        d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
        rotation = u @ d @ vt
        scale = float(np.trace(np.diag(sigma) @ d) / (s**2).sum())
    translation = mu_t - scale * rotation @ mu_s
    return HeadPose(rotation, scale, translation)
