"""Paste a generated crop back into the full-resolution photo, only through the region's feathered mask."""

from __future__ import annotations

import cv2
import numpy as np

from editor.appearance.regions import RegionMask


def paste_region(photo: np.ndarray, crop: np.ndarray, inverse: np.ndarray, region: RegionMask) -> np.ndarray:
    """A copy of ``photo`` with ``crop`` blended in where ``region`` is (and the crop reaches).

    The crop is resampled through its inverse transform onto the region's box only; the weight is the
    region's alpha times the crop's footprint. Every pixel where that weight is 0 (outside the region,
    outside the crop) is the photo's, bit for bit.

    Args:
        photo: (H, W, 3) uint8 RGB, full resolution.
        crop: (S, S, 3) uint8 RGB, the generated aligned crop.
        inverse: (2, 3) crop -> photo affine map (`editor.alignment.AlignedCrop.inverse`).
        region: the feathered region, in photo space.

    Returns:
        A new (H, W, 3) uint8 array.
    """
    out = photo.copy()
    x0, y0, x1, y1 = region.box
    if x1 <= x0 or y1 <= y0 or region.support == 0:
        return out
    to_box = np.asarray(inverse, np.float64).copy()
    to_box[:, 2] -= (x0, y0)  # crop pixels -> region-box pixels
    box_size = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(crop, to_box, box_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    footprint = cv2.warpAffine(
        np.ones(crop.shape[:2], np.float32), to_box, box_size, flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=0.0,
    )  # fmt: skip
    weight = (region.alpha * footprint)[:, :, None]  # (h, w, 1) in [0, 1]
    slot = out[y0:y1, x0:x1]
    base = slot.astype(np.float32)
    blended = np.clip(base + weight * (warped.astype(np.float32) - base) + 0.5, 0, 255).astype(np.uint8)
    inside = weight[:, :, 0] > 0
    slot[inside] = blended[inside]
    return out
