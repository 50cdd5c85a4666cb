"""Synthetic faces shared by the warp and completion tests: the shipped canonical neutral face drawn at a
known place, with a textured or skin-coloured image and a jaw-drop target."""

from __future__ import annotations

import cv2
import numpy as np

from editor.geometry.basis import load_basis
from editor.landmark_indices import as_array, face_mesh_indices

IDX = face_mesh_indices()


CENTRE = np.array([200.0, 175.0])  # where the test face's iris midpoint sits in the 420 x 400 image


def synthetic_landmarks(lip_gap: float | None = None, unit: float = 70.0) -> np.ndarray:
    """(478, 2) a realistic face layout: the shipped canonical neutral face, `unit` px between the irises.

    lip_gap: if given, the lower inner lip is moved so the lips are this many pixels apart at the middle.
    """
    pts = CENTRE + unit * load_basis().neutral[:, :2].astype(np.float64)
    if lip_gap is not None:
        pts[as_array(IDX.inner_lip_lower[1:-1]), 1] = pts[as_array(IDX.inner_lip_upper[1:-1]), 1] + lip_gap
    return pts


def textured_image(height: int = 420, width: int = 400) -> np.ndarray:
    rng = np.random.default_rng(1)
    noise = cv2.GaussianBlur(rng.uniform(0, 255, (height, width, 3)).astype(np.float32), (0, 0), 2.0)
    ys, xs = np.mgrid[0:height, 0:width]
    base = np.stack([xs * 0.4, ys * 0.4, np.full_like(xs, 120)], axis=-1)
    return np.clip(0.5 * noise + base, 0, 255).astype(np.uint8)


def inside(polygon: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    return mask.astype(bool)


def open_mouth_target(source: np.ndarray, amount: float) -> np.ndarray:
    """A jaw drop: the lower lip, chin and everything below the lip line down by up to `amount` pixels."""
    left, right = source[IDX.inner_lip_upper[0]], source[IDX.inner_lip_upper[-1]]
    half = (right[0] - left[0]) / 2
    dx = (source[:, 0] - (left[0] + half)) / half
    below = np.clip((source[:, 1] - left[1] + 1.0) / 4.0, 0.0, 1.0)  # 0 above the corners, 1 from 3 px below
    weight = below * np.exp(-((dx / 1.6) ** 2))
    upper = as_array(IDX.inner_lip_upper + IDX.outer_lip_upper)
    weight[upper] = 0.0
    lips = as_array(IDX.inner_lip_lower[1:-1] + IDX.outer_lip_lower[1:-1])
    weight[lips] = np.cos(np.clip(np.abs(dx[lips]), 0, 1) * np.pi / 2) ** 0.7
    target = source.copy()
    target[:, 1] += amount * weight
    return target


def skin_image(landmarks: np.ndarray, height: int = 420, width: int = 400) -> np.ndarray:
    """A skin-coloured face with faint texture and pink lips, on a grey background."""
    rng = np.random.default_rng(1)
    image = np.full((height, width, 3), (120, 120, 120), np.float32)
    oval = landmarks[as_array(IDX.face_oval)]
    face = np.zeros((height, width), np.uint8)
    cv2.fillPoly(face, [np.round(oval).astype(np.int32)], 1)
    image[face.astype(bool)] = (205, 160, 140)
    lips = landmarks[as_array(IDX.outer_lip_upper + tuple(reversed(IDX.outer_lip_lower[1:-1])))]
    lip_mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(lip_mask, [np.round(lips).astype(np.int32)], 1)
    image[lip_mask.astype(bool)] = (190, 100, 105)
    for side, iris in (("right", IDX.right_iris), ("left", IDX.left_iris)):  # eye whites and irises
        eye = np.zeros((height, width), np.uint8)
        cv2.fillPoly(eye, [np.round(landmarks[as_array(IDX.eye_loop(side))]).astype(np.int32)], 1)
        image[eye.astype(bool)] = (228, 225, 220)
        cv2.circle(image, tuple(int(v) for v in np.round(landmarks[iris[0]])), 5, (70, 50, 40), -1)
    image += cv2.GaussianBlur(rng.normal(0, 6, (height, width, 3)).astype(np.float32), (0, 0), 1.0)
    return np.clip(image, 0, 255).astype(np.uint8)
