"""The canonical face frame: where expression detail lives, independent of any one person's shape.

A square frame of `FRAME_SIZE` pixels holding the mean neutral face shape (478 MediaPipe landmarks,
built from the calibration people by `editor.completion.build_assets`). Photos are mapped to and from
it piecewise-affinely on MediaPipe's face mesh, so a fold that sits beside the nose of the mean face
lands beside the nose of any face. The eye and mouth openings are holes of the mesh: nothing of the
frame maps into them.
"""

from __future__ import annotations

import cv2
import numpy as np

from editor.alignment import eye_centres, umeyama
from editor.interpolants import piecewise_affine
from editor.landmark_indices import face_mesh_indices

#: Side of the canonical frame in pixels.
FRAME_SIZE = 320
#: Where the two eye centres sit in the frame (x of the subject's right eye, x of the left, shared y),
#: as fractions of FRAME_SIZE: the whole face oval fits with a margin.
EYE_LAYOUT = (0.34, 0.66, 0.40)


def to_frame_similarity(landmarks: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(scale, rotation (2, 2), translation (2,)) taking the landmarks' eyes to `EYE_LAYOUT`."""
    eyes = eye_centres(landmarks)
    x_right, x_left, y = EYE_LAYOUT
    goal = np.array([[x_right, y], [x_left, y]]) * FRAME_SIZE

    # Two points fix a similarity; umeyama wants a spread, so add each pair's perpendicular point.
    def with_normal(pair: np.ndarray) -> np.ndarray:
        mid, half = pair.mean(axis=0), (pair[1] - pair[0]) / 2
        return np.vstack([pair, mid + np.array([-half[1], half[0]])])

    scale, rotation, translation = umeyama(with_normal(eyes), with_normal(goal))
    return scale, rotation, translation


def normalise_shape(landmarks: np.ndarray) -> np.ndarray:
    """(478, 2) landmarks moved into the frame by the similarity that puts their eyes at EYE_LAYOUT."""
    scale, rotation, translation = to_frame_similarity(landmarks)
    return scale * np.asarray(landmarks, np.float64)[:, :2] @ rotation.T + translation


def mean_shape(shapes: list[np.ndarray]) -> np.ndarray:
    """(478, 2) mean of several faces' landmarks, each first normalised into the frame."""
    if not shapes:
        raise ValueError("mean_shape needs at least one face's landmarks.")
    return np.mean([normalise_shape(s) for s in shapes], axis=0)


def photo_to_frame(
    image: np.ndarray, landmarks: np.ndarray, frame_shape: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Warp a photo's face into the canonical frame (for building assets).

    Args:
        image: (H, W, C) photo.
        landmarks: (478, 2|3) its landmarks, pixels.
        frame_shape: (478, 2) the canonical shape (`mean_shape`), frame pixels.
    Returns:
        (FRAME_SIZE, FRAME_SIZE, C) float32 warped face and the (FRAME_SIZE, FRAME_SIZE) bool mask of
        frame pixels covered by the face mesh (False in the eye and mouth openings and outside the face).
    """
    grid = np.stack(np.meshgrid(np.arange(FRAME_SIZE), np.arange(FRAME_SIZE)), axis=-1).reshape(-1, 2)
    mapped = piecewise_affine(
        frame_shape, np.asarray(landmarks, np.float64)[:, :2], grid, triangles=face_mesh_indices().triangles
    )
    valid = np.isfinite(mapped).all(axis=1)
    maps = np.nan_to_num(mapped, nan=-1.0).astype(np.float32).reshape(FRAME_SIZE, FRAME_SIZE, 2)
    warped = cv2.remap(
        np.asarray(image, np.float32),
        maps[..., 0],
        maps[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    if warped.ndim == 2:
        warped = warped[..., None]
    return warped, valid.reshape(FRAME_SIZE, FRAME_SIZE)


def frame_to_photo(
    frame_map: np.ndarray,
    landmarks: np.ndarray,
    frame_shape: np.ndarray,
    box: tuple[int, int, int, int],
    step: int,
) -> np.ndarray:
    """Sample a canonical-frame map at every pixel of a photo box (the inverse direction, for editing).

    The frame coordinate of each photo pixel is computed piecewise-affinely every `step` pixels and
    bilinearly upsampled (the maps are smooth), then the map is sampled there.

    Args:
        frame_map: (FRAME_SIZE, FRAME_SIZE) or (.., C) float32 map in the frame.
        landmarks: (478, 2|3) the photo's landmarks, pixels.
        frame_shape: (478, 2) the canonical shape.
        box: (x0, y0, x1, y1) photo pixels to fill.
        step: grid spacing in photo pixels.
    Returns:
        (y1 - y0, x1 - x0[, C]) float32: the map in the photo box, 0 where the face mesh does not reach.
    """
    x0, y0, x1, y1 = box
    xs = np.arange(x0, x1 + step, step, dtype=np.float64)
    ys = np.arange(y0, y1 + step, step, dtype=np.float64)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    mapped = piecewise_affine(
        np.asarray(landmarks, np.float64)[:, :2], frame_shape, grid, triangles=face_mesh_indices().triangles
    )
    coarse = np.nan_to_num(mapped, nan=-1e4).astype(np.float32).reshape(len(ys), len(xs), 2)
    # Upsample the coordinate field exactly: photo pixel x0 + j sits at coarse node j / step.
    width, height = x1 - x0, y1 - y0
    node_x = np.broadcast_to(np.arange(width, dtype=np.float32)[None, :] / step, (height, width))
    node_y = np.broadcast_to(np.arange(height, dtype=np.float32)[:, None] / step, (height, width))
    fine = cv2.remap(coarse, np.ascontiguousarray(node_x), np.ascontiguousarray(node_y), cv2.INTER_LINEAR)
    fine[(fine < -100).any(axis=-1)] = -1e4  # a node outside the mesh makes its neighbourhood outside
    return remap_channels(np.asarray(frame_map, np.float32), fine[..., 0], fine[..., 1])


def remap_channels(image: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    """cv2.remap (bilinear, 0 outside) for any number of channels (OpenCV takes at most 4 at once)."""
    if image.ndim == 2 or image.shape[2] <= 4:
        return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    parts = [
        cv2.remap(image[..., k : k + 3], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        for k in range(0, image.shape[2], 3)
    ]
    return np.concatenate([p if p.ndim == 3 else p[..., None] for p in parts], axis=-1)
