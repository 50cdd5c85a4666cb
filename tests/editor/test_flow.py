"""Flow-field utilities: conventions, resampling, composition, warping (pure numpy/cv2, plus torch)."""

from __future__ import annotations

import numpy as np
import pytest

from editor import flow as F


def _smooth_image(height: int = 48, width: int = 64) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.stack([xs * 3.0, ys * 4.0, 100 + 40 * np.sin(xs / 7.0) * np.cos(ys / 5.0)], axis=-1)


def test_identity_grid_holds_pixel_coordinates():
    grid = F.identity_grid(3, 4)
    assert grid.shape == (3, 4, 2)
    assert grid[2, 3].tolist() == [3.0, 2.0]


def test_zero_flow_returns_the_identical_image():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    out = F.warp_image(image, np.zeros((37, 53, 2), np.float32))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, image)


def test_constant_flow_reads_from_the_shifted_position():
    image = _smooth_image()
    flow = np.zeros((48, 64, 2), np.float32)
    flow[..., 0], flow[..., 1] = 3.0, -2.0  # out[y, x] = image[y - 2, x + 3]
    out = F.warp_image(image, flow)
    np.testing.assert_allclose(out[5:, :-5], image[3:-2, 3:-2], atol=1e-4)


@pytest.mark.parametrize("align_corners", [False, True])
def test_pixel_normalised_round_trip(align_corners):
    rng = np.random.default_rng(1)
    coords = rng.uniform(-3, 70, (100, 2)).astype(np.float32)
    size = (48, 64)
    norm = F.pixels_to_normalized(coords, size, align_corners=align_corners)
    back = F.normalized_to_pixels(norm, size, align_corners=align_corners)
    np.testing.assert_allclose(back, coords, atol=1e-4)


def test_normalised_coordinates_follow_grid_sample():
    size = (10, 20)  # height, width
    edges = F.pixels_to_normalized(np.array([[-0.5, -0.5], [19.5, 9.5]]), size, align_corners=False)
    np.testing.assert_allclose(edges, [[-1, -1], [1, 1]], atol=1e-6)
    centres = F.pixels_to_normalized(np.array([[0, 0], [19, 9]]), size, align_corners=True)
    np.testing.assert_allclose(centres, [[-1, -1], [1, 1]], atol=1e-6)


@pytest.mark.parametrize("align_corners", [False, True])
def test_flow_normalisation_round_trip_and_scale(align_corners):
    rng = np.random.default_rng(2)
    flow = rng.normal(0, 5, (30, 40, 2)).astype(np.float32)
    norm = F.flow_to_normalized(flow, align_corners=align_corners)
    back = F.flow_from_normalized(norm, align_corners=align_corners)
    np.testing.assert_allclose(back, flow, rtol=1e-5, atol=1e-5)
    width = 40 - 1 if align_corners else 40
    np.testing.assert_allclose(norm[..., 0], flow[..., 0] * 2 / width, rtol=1e-5)


def test_channel_layouts_round_trip():
    flow = np.random.default_rng(3).normal(size=(5, 7, 2)).astype(np.float32)
    first = F.to_channels_first(flow)
    assert first.shape == (2, 5, 7)
    np.testing.assert_array_equal(F.to_channels_last(first), flow)


def test_upsampled_constant_shift_is_the_scaled_shift():
    low = np.zeros((32, 24, 2), np.float32)
    low[..., 0], low[..., 1] = 1.5, -0.75  # low-res pixels
    high = F.resize_flow(low, (128, 120))  # 4x taller, 5x wider
    assert high.shape == (128, 120, 2)
    np.testing.assert_allclose(high[..., 0], 1.5 * 5, rtol=1e-6)
    np.testing.assert_allclose(high[..., 1], -0.75 * 4, rtol=1e-6)


def test_upsampled_flow_warps_like_the_low_resolution_flow():
    """A smooth flow applied at low res and upsampled gives the same geometry at high res."""
    ys, xs = np.mgrid[0:64, 0:64].astype(np.float32)
    low = np.stack([2 * np.sin(ys / 10), 1.5 * np.cos(xs / 12)], axis=-1).astype(np.float32)
    high = F.resize_flow(low, (256, 256))
    # The high-res source position of a pixel centre equals the low-res one mapped to high res.
    for y, x in [(100, 60), (31, 200), (180, 180)]:
        ly, lx = (y + 0.5) / 4 - 0.5, (x + 0.5) / 4 - 0.5
        src_low = np.array([lx, ly]) + low[int(round(ly)), int(round(lx))]
        src_high = np.array([x, y]) + high[y, x]
        np.testing.assert_allclose((src_low + 0.5) * 4 - 0.5, src_high, atol=0.6)


def test_compose_flows_matches_two_warps():
    image = _smooth_image()
    ys, xs = np.mgrid[0:48, 0:64].astype(np.float32)
    first = np.stack([1.5 * np.sin(ys / 9), np.full_like(xs, 0.7)], axis=-1).astype(np.float32)
    second = np.stack([np.full_like(xs, -1.2), 1.3 * np.cos(xs / 11)], axis=-1).astype(np.float32)
    twice = F.warp_image(F.warp_image(image, first), second)
    once = F.warp_image(image, F.compose_flows(first, second))
    np.testing.assert_allclose(once[4:-4, 4:-4], twice[4:-4, 4:-4], atol=1.0)  # one vs two interpolations


def test_compose_constant_shifts_adds_them():
    a = np.zeros((10, 10, 2), np.float32)
    b = np.zeros((10, 10, 2), np.float32)
    a[..., 0], b[..., 1] = 2.0, -3.0
    np.testing.assert_allclose(F.compose_flows(a, b)[..., 0], 2.0)
    np.testing.assert_allclose(F.compose_flows(a, b)[..., 1], -3.0)


def test_jacobian_is_one_for_zero_flow_and_negative_for_a_fold():
    np.testing.assert_allclose(F.jacobian_determinant(np.zeros((8, 8, 2), np.float32)), 1.0)
    xs = np.mgrid[0:8, 0:8][1].astype(np.float32)
    mirror = np.stack([-2 * xs, np.zeros_like(xs)], axis=-1)  # p + flow = (-x, y): mirrored, folded
    assert (F.jacobian_determinant(mirror) < 0).all()
    coarse = np.stack([-0.5 * xs * 8, np.zeros_like(xs)], axis=-1)  # values in fine pixels, spacing 8
    np.testing.assert_allclose(F.jacobian_determinant(coarse, spacing=8.0), 0.5, atol=1e-6)


def test_scale_flow_by_a_weight_map():
    flow = np.ones((4, 5, 2), np.float32)
    weights = np.linspace(0, 1, 20, dtype=np.float32).reshape(4, 5)
    np.testing.assert_allclose(F.scale_flow(flow, weights)[..., 1], weights)
    np.testing.assert_allclose(F.scale_flow(flow, 0.25), 0.25)


def test_mismatched_shapes_are_rejected_with_a_clear_message():
    with pytest.raises(ValueError, match="resize_flow"):
        F.warp_image(np.zeros((10, 10, 3), np.uint8), np.zeros((5, 5, 2), np.float32))
    with pytest.raises(ValueError, match=r"\(H, W, 2\)"):
        F.warp_image(np.zeros((10, 10, 3), np.uint8), np.zeros((10, 10, 3), np.float32))


@pytest.mark.parametrize("align_corners", [False, True])
def test_torch_warp_matches_the_cv2_warp(align_corners):
    torch = pytest.importorskip("torch")
    image = _smooth_image()
    ys, xs = np.mgrid[0:48, 0:64].astype(np.float32)
    flow = np.stack([2 * np.sin(ys / 9), 1.5 * np.cos(xs / 11)], axis=-1).astype(np.float32)
    expected = F.warp_image(image, flow)
    batch_image = torch.from_numpy(image.transpose(2, 0, 1))[None]  # (1, 3, H, W)
    batch_flow = torch.from_numpy(F.to_channels_first(flow))[None]  # (1, 2, H, W)
    got = (
        F.warp_image_torch(batch_image, batch_flow, align_corners=align_corners)[0].numpy().transpose(1, 2, 0)
    )
    # cv2.remap interpolates with 1/32-pixel weights, hence the tolerance.
    np.testing.assert_allclose(got[3:-3, 3:-3], expected[3:-3, 3:-3], atol=0.25)


def test_inverting_a_smooth_flow_twice_and_composing_gives_identity():
    ys, xs = np.mgrid[0:64, 0:80].astype(np.float32)
    flow = np.stack([3 * np.sin(ys / 11), 2 * np.cos(xs / 13)], axis=-1).astype(np.float32)
    inverse = F.invert_flow(flow)
    # A pixel moved by the inverse lands where the backward flow reads it from: composition is identity.
    np.testing.assert_allclose(F.compose_flows(inverse, flow)[6:-6, 6:-6], 0, atol=0.05)
    np.testing.assert_allclose(F.invert_flow(inverse)[6:-6, 6:-6], flow[6:-6, 6:-6], atol=0.05)
