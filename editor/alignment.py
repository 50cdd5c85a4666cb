"""Face alignment: aligned square crops with their exact inverse, and feathered paste-back.

Pure functions on numpy arrays. A crop is defined by a (2, 3) affine matrix from photo pixels to crop
pixels (a similarity: rotation, uniform scale, translation) fitted from five facial key points to a
template; its inverse maps crop pixels back to the photo, so an edited crop (or its landmarks) goes back
exactly where it came from.

The template is ArcFace's standard five-point layout for 112x112 crops (the alignment SFace and ArcFace
were trained on), scaled to the crop size and optionally zoomed out (``expand``) to include the whole
head for editing.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from editor.landmark_indices import as_array, face_mesh_indices

#: ArcFace / SFace alignment template, (5, 2) pixel positions in a 112x112 crop: the subject's right eye
#: (image left), left eye, nose tip, right mouth corner, left mouth corner.
ARCFACE_TEMPLATE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)
#: Crop sizes the editing backends work at.
EDIT_SIZES = (128, 256, 512)
#: Zoom-out used for editing crops: the ArcFace framing widened so chin, forehead and cheeks fit.
EDIT_EXPAND = 1.6


def eye_centres(landmarks: np.ndarray) -> np.ndarray:
    """(2, 2) centres of the subject's right and left eye openings of (478, 2|3) landmarks, pixels."""
    idx = face_mesh_indices()
    points = np.asarray(landmarks, np.float64)[:, :2]
    return np.stack([points[as_array(idx.eye_loop(side))].mean(axis=0) for side in ("right", "left")])


@dataclass(frozen=True)
class FaceAxes:
    """A face's own frame, from its eye centres.

    Attributes:
        across: (2,) unit vector from the subject's right eye to the left.
        down: (2,) unit vector perpendicular to it, toward the mouth of an upright face.
        unit: distance between the eye centres, pixels (the face's unit of length).
        centre: (2,) midpoint of the eye centres, pixels.
    """

    across: np.ndarray
    down: np.ndarray
    unit: float
    centre: np.ndarray


def face_axes(landmarks: np.ndarray) -> FaceAxes:
    """The `FaceAxes` of (478, 2|3) landmarks."""
    right, left = eye_centres(landmarks)
    unit = float(np.linalg.norm(left - right))
    across = (left - right) / max(unit, 1e-9)
    return FaceAxes(
        across=across, down=np.array([-across[1], across[0]]), unit=unit, centre=(right + left) / 2
    )


@dataclass(frozen=True)
class AlignedCrop:
    """A square face crop and the transforms between it and the photo.

    Attributes:
        image: (size, size, 3) uint8 RGB crop.
        matrix: (2, 3) float64 affine map photo pixels -> crop pixels.
        inverse: (2, 3) float64 affine map crop pixels -> photo pixels.
        size: side of the crop, pixels.
    """

    image: np.ndarray
    matrix: np.ndarray
    inverse: np.ndarray
    size: int


def face_template(size: int, expand: float = 1.0) -> np.ndarray:
    """The five-point template for a ``size`` x ``size`` crop, zoomed out by ``expand`` (>= 1).

    Returns:
        (5, 2) float64 crop pixel positions.
    """
    if expand <= 0:
        raise ValueError(f"expand must be positive, got {expand}")
    centered = ARCFACE_TEMPLATE_112 / 112.0 - 0.5  # in crop units, centred on the crop
    return (centered / expand + 0.5) * size


def umeyama(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity between two (N, D) point sets, without reflection (Umeyama 1991).

    Returns:
        (scale, rotation (D, D), translation (D,)) with target ≈ scale * source @ rotation.T + translation.

    Raises:
        ValueError: the source points are all identical.
    """
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    source_c, target_c = source - source_mean, target - target_mean
    variance = (source_c**2).sum() / len(source)
    if variance < 1e-12:
        raise ValueError("the source points are all identical; cannot fit a similarity transform")
    u, singular, vt = np.linalg.svd(target_c.T @ source_c / len(source))  # (D, D) covariance
    sign = np.ones(source.shape[1])
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1.0
    rotation = u @ np.diag(sign) @ vt
    scale = float((singular * sign).sum() / variance)
    return scale, rotation, target_mean - scale * rotation @ source_mean


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping ``source`` onto ``target``.

    Args:
        source: (N, 2) points, N >= 2.
        target: (N, 2) points.

    Returns:
        (2, 3) float64 matrix M with target ≈ source @ M[:, :2].T + M[:, 2].
    """
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if source.shape != target.shape or source.ndim != 2 or source.shape[1] != 2 or len(source) < 2:
        raise ValueError(f"need two matching (N, 2) point sets, got {source.shape} and {target.shape}")
    scale, rotation, translation = umeyama(source, target)
    return np.hstack([scale * rotation, translation[:, None]])


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a (2, 3) affine matrix, as (2, 3)."""
    full = np.vstack([np.asarray(matrix, dtype=np.float64), [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a (2, 3) affine map to (N, 2) points (or the x, y of (N, 3) points); returns (N, 2)."""
    points = np.asarray(points, dtype=np.float64)[:, :2]
    return points @ matrix[:, :2].T + matrix[:, 2]


def align_face(
    image: np.ndarray, points5: np.ndarray, size: int = 256, *, expand: float = EDIT_EXPAND
) -> AlignedCrop:
    """Cut an aligned square crop of the face whose key points are ``points5``.

    Args:
        image: (H, W, 3) uint8 RGB photo.
        points5: (5, 2) key points in photo pixels, in template order (see `ARCFACE_TEMPLATE_112`).
        size: crop side in pixels (128, 256 and 512 are the editing sizes; 112 with ``expand=1`` is
            the identity models' input).
        expand: zoom-out relative to the ArcFace framing (1.0 = ArcFace's tight crop).

    Returns:
        The crop and both transforms. Parts of the crop outside the photo repeat the border pixels.
    """
    matrix = similarity_transform(points5, face_template(size, expand))
    crop = warp_affine(image, matrix, (size, size))
    return AlignedCrop(image=crop, matrix=matrix, inverse=invert_affine(matrix), size=size)


def warp_affine(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resample ``image`` through the (2, 3) forward map ``matrix`` into an image of ``size`` (w, h).

    Uses area-style prefiltering when shrinking (so small crops of big photos do not alias) and
    bilinear interpolation otherwise.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if scale >= 0.5:
        return cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # Shrinking: cut the part of the photo the output covers (plus a margin), shrink it with INTER_AREA
    # to twice the output resolution, then do the (now mild) affine warp. Same result as shrinking the
    # whole photo, at a fraction of the cost on large photos.
    height, width = image.shape[:2]
    corners = transform_points(
        np.array([[0, 0], [size[0], 0], [0, size[1]], [size[0], size[1]]]), invert_affine(matrix)
    )
    margin = 2.0 / scale
    x0, y0 = np.maximum(np.floor(corners.min(axis=0) - margin).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(corners.max(axis=0) + margin).astype(int), (width, height))
    if x1 - x0 < 2 or y1 - y0 < 2:  # the output lies outside the photo: nothing to prefilter
        return cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    region = image[y0:y1, x0:x1]
    factor = 2.0 * scale
    small_size = (max(1, round(region.shape[1] * factor)), max(1, round(region.shape[0] * factor)))
    small = cv2.resize(region, small_size, interpolation=cv2.INTER_AREA)
    # (3, 3) photo -> small-region pixels.
    to_small = np.diag([small_size[0] / region.shape[1], small_size[1] / region.shape[0], 1.0])
    to_small[:2, 2] = -np.array([x0, y0]) * np.diag(to_small)[:2]
    combined = np.vstack([matrix, [0, 0, 1]]) @ np.linalg.inv(to_small)
    return cv2.warpAffine(small, combined[:2], size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def feathered_mask(size: int, *, inset: float = 0.06, feather: float = 0.08) -> np.ndarray:
    """A (size, size) float32 weight in [0, 1]: 1 inside a rounded square, fading to 0 at the crop edge.

    Args:
        inset: fraction of the side left fully transparent at each edge.
        feather: width of the fade, as a fraction of the side.
    """
    coords = (np.arange(size, dtype=np.float32) + 0.5) / size
    distance_to_edge = np.minimum(coords, 1.0 - coords)  # (size,)
    ramp = np.clip((distance_to_edge - inset) / max(feather, 1e-6), 0.0, 1.0)
    ramp = ramp * ramp * (3.0 - 2.0 * ramp)  # smoothstep
    return np.outer(ramp, ramp).astype(np.float32)


def paste_back(
    photo: np.ndarray, crop: np.ndarray, inverse: np.ndarray, mask: np.ndarray | None = None
) -> np.ndarray:
    """Blend an edited crop back into the full-resolution photo through the crop's inverse transform.

    Only the crop's footprint on the photo is touched; every pixel outside it, and wherever the mask is
    0, is returned bit-for-bit.

    Args:
        photo: (H, W, 3) uint8 RGB original photo.
        crop: (S, S, 3) uint8 RGB edited crop.
        inverse: (2, 3) crop -> photo affine map (`AlignedCrop.inverse`).
        mask: (S, S) float weights in [0, 1] in crop space; `feathered_mask(S)` when None.

    Returns:
        A new (H, W, 3) uint8 array.
    """
    size = crop.shape[0]
    if mask is None:
        mask = feathered_mask(size)
    height, width = photo.shape[:2]
    corners = transform_points(np.array([[0, 0], [size, 0], [0, size], [size, size]]), inverse)
    x0, y0 = np.floor(corners.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    result = photo.copy()
    if x1 <= x0 or y1 <= y0:
        return result
    # (2, 3) crop -> region-of-interest pixels.
    to_region = inverse.copy()
    to_region[:, 2] -= (x0, y0)
    region_size = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(
        crop, to_region, region_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    weight = cv2.warpAffine(
        mask.astype(np.float32),
        to_region,
        region_size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )[:, :, None]  # (h, w, 1)
    region = photo[y0:y1, x0:x1].astype(np.float32)
    blended = region + weight * (warped.astype(np.float32) - region)
    result[y0:y1, x0:x1] = np.where(weight > 0, np.clip(blended + 0.5, 0, 255), region).astype(np.uint8)
    return result
