"""Pixel-level image quality: PSNR, SSIM, and locality (the background must not move).

Images are (H, W, 3) RGB, uint8 or float in [0, 1] (see `eval.metrics.lpips.to_unit_float`); every
figure is computed on the [0, 1] scale, so uint8 and float inputs give the same numbers.

Locality compares an original photo and its edit outside a face mask (1 = face, where an edit may
change pixels; 0 = background, which must stay as it was). LPIPS outside the mask is measured on a
composite: the edit with the original's face pasted back through the mask, against the original. An
edit that leaves every background pixel alone therefore scores exactly 0, however much the face
changed; a plain LPIPS map restricted to the background would instead see the face through VGG's
receptive fields.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from editor.images import working_copy
from eval.metrics.lpips import MetricInputError, lpips_distance, to_unit_float

logger = logging.getLogger(__name__)

#: Longest side at which `locality` measures LPIPS by default: LPIPS-VGG costs about 4 s for a
#: 512 x 512 pair on two CPU cores, 0.3 s at 256.
LOCALITY_LPIPS_SIDE = 256
#: A background pixel counts as changed when a channel moved by more than this (8-bit grey levels).
CHANGE_THRESHOLD = 8.0
#: SSIM window size (Gaussian weights, sigma 1.5, as Wang et al. 2004); images need at least this side.
SSIM_WINDOW = 7


def _pair(image0: np.ndarray, image1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both images as (H, W, 3) float32 in [0, 1], checked to have the same shape."""
    a, b = to_unit_float(image0), to_unit_float(image1)
    if a.shape != b.shape:
        raise MetricInputError(
            f"The two images must have the same size; got {a.shape} and {b.shape}. Resize one to the other."
        )
    return a, b


def psnr(image0: np.ndarray, image1: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB over all pixels and channels; ``math.inf`` for identical images.

    Typical: 30-40 dB for a mild JPEG, under 15 dB for unrelated photos.
    """
    a, b = _pair(image0, image1)
    if np.array_equal(a, b):
        return math.inf
    return float(peak_signal_noise_ratio(a, b, data_range=1.0))


def ssim(image0: np.ndarray, image1: np.ndarray) -> float:
    """Mean structural similarity (Wang et al. 2004: Gaussian window, sigma 1.5), channels averaged.

    Returns:
        A value in [-1, 1]: 1 for identical images, about 0 for unrelated ones.
    """
    a, b = _pair(image0, image1)
    if min(a.shape[:2]) < SSIM_WINDOW:
        raise MetricInputError(
            f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels; got {a.shape}."
        )
    value = structural_similarity(
        a, b, data_range=1.0, channel_axis=-1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    return float(value)


@dataclass(frozen=True)
class LocalityScores:
    """How much an edit changed the photo outside the face mask."""

    #: LPIPS-VGG of the original vs the edit with the original face pasted back; 0 = untouched.
    lpips_outside: float
    #: Mean |edit - original| over background pixels and channels, in 8-bit levels (0..255).
    mean_abs_change: float
    #: Share of background pixels with a channel moved by more than the threshold, 0..1.
    changed_fraction: float
    #: Largest change of any background pixel and channel, 8-bit levels.
    max_abs_change: float
    #: Share of the image that counts as background (weight 1 - mask), 0..1.
    background_fraction: float
    #: Longest side of the images LPIPS was measured at, pixels.
    lpips_side: int

    def as_dict(self) -> dict[str, float]:
        """The scores as a plain dict, for metrics.json."""
        return asdict(self)


def _mask_weights(mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """(H, W) face mask (bool, or float in [0, 1]) as float32 face weights, checked against ``shape``."""
    mask = np.asarray(mask)
    if mask.shape != shape[:2]:
        raise MetricInputError(
            f"The face mask must be (H, W) = {shape[:2]}, the images' size; got {mask.shape}."
        )
    if mask.dtype == bool:
        return mask.astype(np.float32)
    weights = mask.astype(np.float32)
    if not np.isfinite(weights).all() or weights.min() < 0.0 or weights.max() > 1.0:
        raise MetricInputError(
            "A float face mask must lie in [0, 1] (1 = face); rescale it, or pass a bool mask."
        )
    return weights


def locality(
    original: np.ndarray,
    edited: np.ndarray,
    face_mask: np.ndarray,
    *,
    lpips_side: int | None = LOCALITY_LPIPS_SIDE,
    change_threshold: float = CHANGE_THRESHOLD,
) -> LocalityScores:
    """Change outside the face: how far an edit moved the background.

    Args:
        original, edited: (H, W, 3) RGB, uint8 or float in [0, 1], the same size.
        face_mask: (H, W) bool or float in [0, 1]; 1 where the edit may change the photo (the face,
            with any margin the caller wants), 0 for background. Soft masks weight pixels by 1 - mask.
        lpips_side: measure LPIPS with both images shrunk (area average) to this longest side;
            ``None`` for full resolution. Pixel statistics always use full resolution.
        change_threshold: 8-bit levels a background channel must move by to count as changed.

    Returns:
        `LocalityScores`; all zero when the background is untouched.

    Raises:
        MetricInputError: mismatched sizes, a bad mask, or a mask with no background at all.
    """
    a, b = _pair(original, edited)
    face = _mask_weights(face_mask, a.shape)[:, :, None]  # (H, W, 1) 1 = face
    background = 1.0 - face
    total = float(background.sum())
    if total <= 0.0:
        raise MetricInputError("The face mask covers the whole image: there is no background to measure.")
    diff = np.abs(b - a) * 255.0  # (H, W, 3) in 8-bit levels
    mean_abs = float((diff * background).sum() / (3.0 * total))
    changed = (diff.max(axis=2, keepdims=True) > change_threshold).astype(np.float32)
    changed_fraction = float((changed * background).sum() / total)
    max_abs = float(diff[background[:, :, 0] > 0].max())
    composite = b * background + a * face  # the edit, with the original face restored
    side = max(a.shape[:2]) if lpips_side is None else min(lpips_side, max(a.shape[:2]))
    a8 = np.round(a * 255.0).astype(np.uint8)
    c8 = np.round(composite * 255.0).astype(np.uint8)
    lpips_value = lpips_distance(working_copy(a8, side)[0], working_copy(c8, side)[0])
    return LocalityScores(
        lpips_outside=lpips_value,
        mean_abs_change=mean_abs,
        changed_fraction=changed_fraction,
        max_abs_change=max_abs,
        background_fraction=total / (a.shape[0] * a.shape[1]),
        lpips_side=side,
    )
