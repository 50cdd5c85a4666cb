"""Dense flow-field utilities shared by the geometry warp and the Flow VAE backend.

Convention (used everywhere in facechat): a flow is a BACKWARD flow, an (H, W, 2) float32 array of
(dx, dy) displacements in pixels, such that the warped image is

    out[y, x] = image[y + flow[y, x, 1], x + flow[y, x, 0]]

i.e. each output pixel says where in the source to read from. Pixel centres sit at integer
coordinates (x = 0 is the centre of the first column), as in OpenCV.

Normalised coordinates are those of `torch.nn.functional.grid_sample`: -1 and +1 are the outer edges
of the image (`align_corners=False`, the torch default) or the centres of the outer pixels
(`align_corners=True`). Normalised flows are stored (H, W, 2) like pixel flows; `to_channels_first`
turns one into the (2, H, W) layout a network predicts.
"""

from __future__ import annotations

import cv2
import numpy as np

_INTERPOLATIONS = {"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC, "nearest": cv2.INTER_NEAREST}


def _check_flow(flow: np.ndarray, name: str = "flow") -> None:
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"{name} must be an (H, W, 2) array of (dx, dy), got shape {flow.shape}.")


def identity_grid(height: int, width: int) -> np.ndarray:
    """(H, W, 2) float32 absolute pixel coordinates (x, y) of each pixel centre."""
    xs = np.arange(width, dtype=np.float32)
    ys = np.arange(height, dtype=np.float32)
    grid = np.empty((height, width, 2), np.float32)
    grid[..., 0] = xs[None, :]
    grid[..., 1] = ys[:, None]
    return grid


def _pixel_scale(size: tuple[int, int], align_corners: bool) -> np.ndarray:
    """Normalised units per pixel along (x, y) for an image of size (height, width)."""
    height, width = size
    if align_corners:
        if height < 2 or width < 2:
            raise ValueError("align_corners=True needs an image at least 2 pixels on each side.")
        return np.array([2.0 / (width - 1), 2.0 / (height - 1)], np.float32)
    return np.array([2.0 / width, 2.0 / height], np.float32)


def pixels_to_normalized(
    coords: np.ndarray, size: tuple[int, int], *, align_corners: bool = False
) -> np.ndarray:
    """Absolute pixel coordinates (..., 2) of (x, y) -> grid_sample coordinates in [-1, 1] (same shape).

    `size` is the (height, width) of the image the coordinates refer to.
    """
    scale = _pixel_scale(size, align_corners)
    offset = 0.0 if align_corners else 0.5
    return (np.asarray(coords, np.float32) + offset) * scale - 1.0


def normalized_to_pixels(
    coords: np.ndarray, size: tuple[int, int], *, align_corners: bool = False
) -> np.ndarray:
    """grid_sample coordinates (..., 2) in [-1, 1] -> absolute pixel (x, y); inverse of the above."""
    scale = _pixel_scale(size, align_corners)
    offset = 0.0 if align_corners else 0.5
    return (np.asarray(coords, np.float32) + 1.0) / scale - offset


def flow_to_normalized(flow: np.ndarray, *, align_corners: bool = False) -> np.ndarray:
    """(H, W, 2) pixel displacements -> (H, W, 2) displacements in normalised units of the same image."""
    _check_flow(flow)
    return flow.astype(np.float32) * _pixel_scale(flow.shape[:2], align_corners)


def flow_from_normalized(flow: np.ndarray, *, align_corners: bool = False) -> np.ndarray:
    """(H, W, 2) displacements in normalised units -> pixel displacements of an image of that size."""
    _check_flow(flow)
    return flow.astype(np.float32) / _pixel_scale(flow.shape[:2], align_corners)


def to_channels_first(flow: np.ndarray) -> np.ndarray:
    """(H, W, 2) -> (2, H, W), the layout of a network's flow output."""
    _check_flow(flow)
    return np.ascontiguousarray(flow.transpose(2, 0, 1))


def to_channels_last(flow: np.ndarray) -> np.ndarray:
    """(2, H, W) -> (H, W, 2)."""
    if flow.ndim != 3 or flow.shape[0] != 2:
        raise ValueError(f"Expected a (2, H, W) flow, got shape {flow.shape}.")
    return np.ascontiguousarray(flow.transpose(1, 2, 0))


def resize_flow(flow: np.ndarray, size: tuple[int, int], *, interpolation: str = "linear") -> np.ndarray:
    """Resample a pixel flow to another resolution, rescaling its values (flow upsampling of FVAE).

    A flow predicted at (h, w) for a photo of (H, W): the field is interpolated with pixel centres
    aligned (OpenCV's half-pixel convention) and dx is multiplied by W / w, dy by H / h, so a constant
    shift of 1 low-res pixel becomes W / w full-res pixels.

    Args:
        flow: (h, w, 2) float pixel flow.
        size: (H, W) of the output.
        interpolation: "linear" (default) or "cubic".
    Returns:
        (H, W, 2) float32 pixel flow.
    """
    _check_flow(flow)
    height, width = size
    if height < 1 or width < 1:
        raise ValueError(f"The target size must be positive, got {size}.")
    h, w = flow.shape[:2]
    resized = cv2.resize(
        flow.astype(np.float32), (width, height), interpolation=_INTERPOLATIONS[interpolation]
    )
    resized[..., 0] *= width / w
    resized[..., 1] *= height / h
    return resized


def sampling_map(flow: np.ndarray) -> np.ndarray:
    """(H, W, 2) backward flow -> (H, W, 2) absolute source coordinates (x + dx, y + dy)."""
    _check_flow(flow)
    return identity_grid(*flow.shape[:2]) + flow.astype(np.float32)


def warp_image(
    image: np.ndarray,
    flow: np.ndarray,
    *,
    interpolation: str = "linear",
    border: str = "replicate",
) -> np.ndarray:
    """Backward-warp an image with a pixel flow of the same size: out[p] = image[p + flow[p]].

    Args:
        image: (H, W) or (H, W, C) array, any dtype cv2.remap accepts (uint8, float32, ...).
        flow: (H, W, 2) float pixel flow.
        interpolation: "linear", "cubic" or "nearest".
        border: "replicate" (default; edges extend) or "constant" (zeros outside the image).
    Returns:
        An array of the image's shape and dtype. A zero flow returns the image unchanged.
    """
    _check_flow(flow)
    if image.shape[:2] != flow.shape[:2]:
        raise ValueError(
            f"The flow ({flow.shape[0]}x{flow.shape[1]}) must match the image ({image.shape[0]}x"
            f"{image.shape[1]}); resize it first with resize_flow."
        )
    coords = sampling_map(flow)
    border_mode = {"replicate": cv2.BORDER_REPLICATE, "constant": cv2.BORDER_CONSTANT}[border]
    return cv2.remap(
        image, coords[..., 0], coords[..., 1], _INTERPOLATIONS[interpolation], borderMode=border_mode
    )


def compose_flows(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The single flow equal to warping by `first` and then warping that result by `second`.

    warp_image(warp_image(img, first), second) ~= warp_image(img, compose_flows(first, second)),
    with one resampling instead of two: composed(p) = second(p) + first(p + second(p)).
    Both are (H, W, 2) pixel flows of the same size; returns (H, W, 2) float32.
    """
    _check_flow(first, "first")
    _check_flow(second, "second")
    if first.shape != second.shape:
        raise ValueError(f"Flows to compose must have the same shape, got {first.shape} and {second.shape}.")
    coords = sampling_map(second)
    carried = cv2.remap(
        first.astype(np.float32),
        coords[..., 0],
        coords[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return second.astype(np.float32) + carried


def invert_flow(flow: np.ndarray, *, iterations: int = 20) -> np.ndarray:
    """The flow of the inverse mapping: backward <-> forward, by fixed-point iteration.

    For a backward flow b (out[p] = img[p + b(p)]) returns f with f(q) = -b(q + f(q)): f moves each
    source pixel to where it lands in the output. Exact (to interpolation) where the mapping is
    one-to-one and moderately smooth (|grad b| < 1); where it folds there is no inverse and the result
    is one of the candidates. Both (H, W, 2) pixel flows; returns float32.
    """
    _check_flow(flow)
    backward = flow.astype(np.float32)
    grid = identity_grid(*flow.shape[:2])
    inverse = -backward
    for _ in range(iterations):
        coords = grid + inverse
        inverse = -cv2.remap(
            backward, coords[..., 0], coords[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
    return inverse


def scale_flow(flow: np.ndarray, factor: float | np.ndarray) -> np.ndarray:
    """Multiply a flow by a scalar or an (H, W) weight map (e.g. a feathered mask, or i/K for step i of K)."""
    _check_flow(flow)
    factor = np.asarray(factor, np.float32)
    if factor.ndim == 2:
        factor = factor[..., None]
    return flow.astype(np.float32) * factor


def jacobian_determinant(flow: np.ndarray, spacing: float = 1.0) -> np.ndarray:
    """det of d(p + flow(p))/dp at every sample: <= 0 where the backward map folds over.

    Args:
        flow: (H, W, 2) pixel flow sampled every `spacing` pixels (1 for a full-resolution flow; the
            grid step for a coarse one whose values are in full-resolution pixels).
    Returns:
        (H, W) float32; 1 for a zero flow, > 1 where the warp shrinks content, < 1 where it stretches.
    """
    _check_flow(flow)
    f = flow.astype(np.float32)
    dfx_dy, dfx_dx = np.gradient(f[..., 0], spacing)
    dfy_dy, dfy_dx = np.gradient(f[..., 1], spacing)
    return (1.0 + dfx_dx) * (1.0 + dfy_dy) - dfx_dy * dfy_dx


def warp_image_torch(image, flow, *, align_corners: bool = False, padding_mode: str = "border"):
    """torch variant of `warp_image` for a batch: grid_sample with a pixel flow.

    Args:
        image: (B, C, H, W) float tensor.
        flow: (B, 2, H, W) float tensor of (dx, dy) pixel displacements (same convention as above).
    Returns:
        (B, C, H, W) tensor, differentiable in both arguments.
    """
    import torch
    import torch.nn.functional as F

    if image.ndim != 4 or flow.ndim != 4 or flow.shape[1] != 2 or image.shape[-2:] != flow.shape[-2:]:
        raise ValueError(
            f"Expected image (B, C, H, W) and flow (B, 2, H, W) of the same H, W; got {tuple(image.shape)}"
            f" and {tuple(flow.shape)}."
        )
    height, width = image.shape[-2:]
    ys, xs = torch.meshgrid(
        torch.arange(height, dtype=flow.dtype, device=flow.device),
        torch.arange(width, dtype=flow.dtype, device=flow.device),
        indexing="ij",
    )
    x = xs + flow[:, 0]  # (B, H, W) absolute source x in pixels
    y = ys + flow[:, 1]
    if align_corners:
        grid = torch.stack((2 * x / (width - 1) - 1, 2 * y / (height - 1) - 1), dim=-1)
    else:
        grid = torch.stack(((2 * x + 1) / width - 1, (2 * y + 1) / height - 1), dim=-1)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode=padding_mode, align_corners=align_corners)
