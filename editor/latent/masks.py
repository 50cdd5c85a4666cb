"""Where a latent edit may act: the attribute's region (from the shared appearance masks) in photo space,
and the same region as the pipeline's binary inpainting mask on the aligned crop.

The regions are the appearance backend's (`editor.appearance.regions`, `editor.appearance.hair`): the
latent backend builds none of its own, only names them (``prompts/latent.yaml`` says which one an
attribute uses).
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

import cv2
import numpy as np

from editor.appearance import regions
from editor.appearance.hair import hair_mask
from editor.appearance.regions import RegionMask
from editor.landmark_indices import face_mesh_indices

RegionBuilder = Callable[[np.ndarray, np.ndarray], RegionMask]


def _face(landmarks: np.ndarray, image: np.ndarray) -> RegionMask:
    """The face oval, a little grown (age, skin, expressions)."""
    unit = regions.interocular(landmarks)
    return regions.face_oval_mask(landmarks, image.shape[:2], grow=0.05 * unit, feather=0.08 * unit)


def _mouth(landmarks: np.ndarray, image: np.ndarray) -> RegionMask:
    """The lips with the mouth opening and the skin around them (the beard area)."""
    unit = regions.interocular(landmarks)
    idx = face_mesh_indices()
    outer = regions.points(landmarks, idx.outer_lip_upper + tuple(reversed(idx.outer_lip_lower[1:-1])))
    lips = regions.polygon_mask([outer], image.shape[:2], grow=0.15 * unit, feather=0.06 * unit)
    return lips.union(regions.beard_mask(landmarks, image.shape[:2]))


#: Region name (as ``prompts/latent.yaml`` names it) -> builder ``(landmarks (478, 2|3), image) -> mask``.
REGIONS: MappingProxyType[str, RegionBuilder] = MappingProxyType(
    {
        "hair": lambda landmarks, image: hair_mask(landmarks, image),
        "lips": lambda landmarks, image: regions.lips_mask(landmarks, image.shape[:2]),
        "eyes": lambda landmarks, image: regions.eye_band_mask(landmarks, image.shape[:2]),
        "beard": lambda landmarks, image: regions.beard_mask(landmarks, image.shape[:2]),
        "face": _face,
        "mouth": _mouth,
    }
)


def region_mask(name: str, landmarks: np.ndarray, image: np.ndarray) -> RegionMask:
    """The region ``name`` of the face with ``landmarks`` in ``image`` ((H, W, 3) uint8 RGB)."""
    try:
        builder = REGIONS[name]
    except KeyError:
        raise KeyError(f"Unknown latent region {name!r}; use one of: {', '.join(REGIONS)}.") from None
    return builder(landmarks, image)


def crop_mask(region: RegionMask, matrix: np.ndarray, size: int, *, grow: float = 0.03) -> np.ndarray:
    """The region on the aligned crop, as the pipeline's inpainting mask (1 = repaint).

    Binary (inpainting pipelines threshold their mask anyway), grown by ``grow`` of the crop side so the
    pipeline repaints a little more than the feathered paste-back keeps.

    Args:
        region: the region in photo space.
        matrix: (2, 3) photo -> crop affine map (`editor.alignment.AlignedCrop.matrix`).
        size: the crop side.

    Returns:
        (size, size) float32 in {0, 1}.
    """
    x0, y0 = region.box[:2]
    to_crop = np.asarray(matrix, np.float64).copy()
    to_crop[:, 2] += to_crop[:, :2] @ np.array([x0, y0], np.float64)  # region-box pixels -> crop pixels
    warped = cv2.warpAffine(
        region.alpha, to_crop, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )  # (size, size)
    binary = (warped > 0.05).astype(np.uint8)
    side = 2 * max(1, round(grow * size)) + 1
    binary = cv2.dilate(binary, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side)))
    return binary.astype(np.float32)
