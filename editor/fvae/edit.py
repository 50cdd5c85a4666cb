"""Editing with a trained Flow VAE: the paper's Algorithm 1 and 2, flow upsampling and paste-back.

- Algorithm 1 (expression edit): Z_edit = Z(S) + (i / K) * sum_j s_j * d_j for steps i = 1..K, where
  d_j = Z_target - Z_source of request j's label (`editor.fvae.labels`) and s_j its signed strength;
  several requests compose in latent space. Each step's flow is g(S, Z_i) - g(S, Z(S)): the model's own
  reconstruction flow of the unedited source (small, but not exactly zero) is taken out, so strength 0
  changes nothing and the background stays still.
- Algorithm 2 (interpolation between two photos A, B of the same person): Z_i = Z_A + (i / K)(Z_B - Z_A);
  (with a pair encoder each photo walks from its own Z(S) to the latent of the other photo given it);
  A and B are each warped by g(., Z_i) and blended with weights (1 - i/K) M(A, Z_i) and (i/K) M(B, Z_i),
  the confidence masks.
- Flow upsampling: the predicted crop flow is carried to the full-resolution photo through the crop's
  inverse similarity transform (phi(p) = A^-1 f(M p), M the photo -> crop map, A its linear part, f the
  crop flow in crop pixels sampled bilinearly at M p) and the PHOTO's own pixels are resampled once;
  no pixel is upsampled. The flow is feathered to zero at the crop's border (`feathered_mask`), which is
  the paste-back: pixels outside the crop's footprint are returned bit-for-bit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from editor.alignment import AlignedCrop, align_face, feathered_mask
from editor.face import Face
from editor.flow import flow_from_normalized, resize_flow, to_channels_last, warp_image
from editor.fvae import shipped_checkpoint
from editor.fvae.data import to_tensor
from editor.fvae.labels import Labels
from editor.fvae.model import FlowVAE
from editor.requests import EditRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CropFlow:
    """A flow on an aligned crop.

    Attributes:
        crop: the aligned crop the flow belongs to (its matrices map to and from the photo).
        flow: (S, S, 2) float32 backward flow in crop pixels.
        confidence: (S, S) float32 in 0..1, M(S, Z), or None.
    """

    crop: AlignedCrop
    flow: np.ndarray
    confidence: np.ndarray | None = None


def photo_flow(crop_flow: np.ndarray, crop: AlignedCrop, shape: tuple[int, int]) -> tuple[tuple, np.ndarray]:
    """Carry a crop flow to the photo (flow upsampling through the crop's inverse transform).

    Args:
        crop_flow: (S, S, 2) backward flow in crop pixels.
        crop: the aligned crop (matrix: photo -> crop).
        shape: (H, W) of the photo.
    Returns:
        ((y0, y1, x0, x1), (h, w, 2) float32 photo-pixel flow on that region); zero outside the crop.
    """
    region = _footprint(crop, shape)
    qx, qy = _crop_coordinates(crop, region)  # (h, w) crop coordinates of each photo pixel
    sampled = cv2.remap(
        crop_flow.astype(np.float32), qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )  # (h, w, 2) crop-pixel flow at M p
    return region, _to_photo_vectors(sampled, crop)


def _footprint(crop: AlignedCrop, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1): the photo pixels the crop covers (one pixel of margin), within the photo."""
    size = crop.size
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], np.float64)
    footprint = corners @ crop.inverse[:, :2].T + crop.inverse[:, 2]
    height, width = shape
    x0, y0 = np.maximum(np.floor(footprint.min(0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(footprint.max(0)).astype(int) + 1, (width, height))
    return int(y0), int(y1), int(x0), int(x1)


def _to_photo_vectors(flow: np.ndarray, crop: AlignedCrop) -> np.ndarray:
    """(h, w, 2) crop-pixel vectors -> photo-pixel vectors (A^-1, the inverse's linear part, applied)."""
    return cv2.transform(flow, crop.inverse[:, :2].astype(np.float32))


@dataclass(frozen=True)
class PhotoWarp:
    """A crop flow applied to the whole photo.

    Attributes:
        image: (H, W, 3) uint8 the warped photo (bit-identical outside the crop's footprint).
        flow: (H, W, 2) float32 backward flow in photo pixels (zero outside the footprint).
        mask: (H, W) float32 in 0..1, the feathered crop-border mask carried into the photo (the
            counterpart of the geometry warp's face mask, for the completion stage).
    """

    image: np.ndarray
    flow: np.ndarray
    mask: np.ndarray


def warp_photo(image: np.ndarray, crop: AlignedCrop, crop_flow: np.ndarray, border: np.ndarray) -> PhotoWarp:
    """Warp the full-resolution ``image`` by a crop flow (S, S, 2) in crop pixels, already feathered to
    zero at the crop border; ``border`` (S, S[, 1]) is that feathered mask."""
    shape = image.shape[:2]
    y0, y1, x0, x1 = _footprint(crop, shape)
    qx, qy = _crop_coordinates(crop, (y0, y1, x0, x1))
    stacked = np.dstack([crop_flow, border.reshape(crop.size, crop.size)]).astype(np.float32)  # (S, S, 3)
    sampled = cv2.remap(stacked, qx, qy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    region = _to_photo_vectors(np.ascontiguousarray(sampled[..., :2]), crop)  # (h, w, 2) photo pixels
    out = _remapped(image, region, (y0, y1, x0, x1))
    flow = np.zeros((*shape, 2), np.float32)
    flow[y0:y1, x0:x1] = region
    mask = np.zeros(shape, np.float32)
    mask[y0:y1, x0:x1] = sampled[..., 2]
    return PhotoWarp(out, flow, mask)


def _crop_coordinates(crop: AlignedCrop, region: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(h, w) crop x and y coordinates of every photo pixel of ``region`` (y0, y1, x0, x1)."""
    y0, y1, x0, x1 = region
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    m = crop.matrix.astype(np.float32)
    return m[0, 0] * xs + m[0, 1] * ys + m[0, 2], m[1, 0] * xs + m[1, 1] * ys + m[1, 2]


def moved_landmarks(landmarks: np.ndarray, flow: np.ndarray, *, iterations: int = 8) -> np.ndarray:
    """Where a backward ``flow`` (H, W, 2) takes each point: q with q + flow(q) = p, by fixed-point steps.

    Args:
        landmarks: (N, 2|3) pixels (z, when present, is kept).
    Returns:
        (N, 2|3) float64 moved landmarks.
    """
    points = np.asarray(landmarks, np.float64)
    p = points[:, :2]
    q = p.copy()
    for _ in range(iterations):
        q = p - _bilinear(flow, q)
    out = points.copy()
    out[:, :2] = q
    return out


def _bilinear(field: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 2) bilinear samples of an (H, W, 2) field at (N, 2) x, y points (clamped to the image)."""
    height, width = field.shape[:2]
    x = np.clip(points[:, 0], 0, width - 1.001)
    y = np.clip(points[:, 1], 0, height - 1.001)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    top = field[y0, x0] * (1 - fx) + field[y0, x0 + 1] * fx
    bottom = field[y0 + 1, x0] * (1 - fx) + field[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def apply_crop_flow(image: np.ndarray, crop: AlignedCrop, crop_flow: np.ndarray) -> np.ndarray:
    """Warp the full-resolution ``image`` by a crop flow (feathered to zero at the crop border).

    Returns a new (H, W, 3) uint8 image; pixels outside the crop's footprint are unchanged.
    """
    (y0, y1, x0, x1), flow = photo_flow(crop_flow, crop, image.shape[:2])
    return _remapped(image, flow, (y0, y1, x0, x1))


def _remapped(image: np.ndarray, flow: np.ndarray, region: tuple[int, int, int, int]) -> np.ndarray:
    """A copy of ``image`` whose ``region`` (y0, y1, x0, x1) is resampled by the (h, w, 2) pixel flow."""
    y0, y1, x0, x1 = region
    out = image.copy()
    map_x = flow[..., 0] + np.arange(x0, x1, dtype=np.float32)[None, :]
    map_y = flow[..., 1] + np.arange(y0, y1, dtype=np.float32)[:, None]
    out[y0:y1, x0:x1] = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


class FlowEditor:
    """A trained Flow VAE with its label directions, ready to edit photos (CPU, eval mode).

    Args:
        model: the Flow VAE.
        labels: its label directions (`editor.fvae.labels.Labels`).
        subtract_identity: take out g(S, Z(S)) (see the module docstring).
    """

    def __init__(self, model: FlowVAE, labels: Labels, *, subtract_identity: bool = True) -> None:
        self.model = model.eval()
        self.labels = labels
        self.subtract_identity = subtract_identity
        self.size = model.config.image_size
        self.border_mask = feathered_mask(self.size)[
            ..., None
        ]  # (S, S, 1) fades the flow out at the crop border

    @classmethod
    def from_pretrained(cls, folder: str | Path | None = None, **kwargs) -> FlowEditor:
        """Load a checkpoint folder (default: the shipped one)."""
        folder = Path(folder) if folder is not None else shipped_checkpoint()
        return cls(FlowVAE.from_pretrained(folder), Labels.load(folder), **kwargs)

    def supports(self, attribute: str) -> bool:
        return attribute in self.labels.directions

    # ------------------------------------------------------------------ pieces

    def align(self, image: np.ndarray, face: Face) -> AlignedCrop:
        """The model's aligned crop of ``face`` (size x size, the editing framing)."""
        return align_face(image, face.points5, self.size)

    def preview_copy(self, image: np.ndarray, face: Face, side: int) -> tuple[np.ndarray, float, AlignedCrop]:
        """(the photo shrunk to at most ``side`` pixels, the factor, the model's crop of it)."""
        factor = min(1.0, side / max(image.shape[:2]))
        small = (
            image
            if factor == 1.0
            else cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        )
        return small, factor, align_face(small, face.points5 * factor, self.size)

    @torch.no_grad()
    def latent(self, crop: np.ndarray, target: np.ndarray | None = None) -> torch.Tensor:
        """Z(S) of a crop (1, C, h, w); with ``target``, the latent of that target for this source."""
        source = to_tensor(crop)[None]
        if target is None:
            return self.model.source_latent(source)
        return self.model.encode(to_tensor(target)[None], source)[0]

    def offset(self, requests: Sequence[EditRequest], scale: float = 1.0) -> torch.Tensor:
        """sum_j s_j g_j d_j of the requests, (1, C, h, w): Algorithm 1's full-strength latent move, each
        direction d_j times its calibrated strength gain g_j (`Labels.gains`)."""
        total = np.zeros(self.labels.latent_shape, np.float32)
        for request in requests:
            gain = self.labels.gain(request.attribute)
            total += scale * request.strength * gain * self.labels.direction(request.attribute)
        return torch.from_numpy(total)[None]

    @torch.no_grad()
    def flows(self, crop: np.ndarray, latents: Sequence[torch.Tensor], *, confidence: bool = False):
        """Crop flows g(S, Z) in crop pixels for each latent: list of (S, S, 2), and confidences (S, S)."""
        source = to_tensor(crop)[None]  # (1, 3, S, S)
        features = self.model.source_features(source)
        z = torch.cat(list(latents))  # (N, C, h, w)
        batch = source.expand(len(z), -1, -1, -1)
        features = [f.expand(len(z), -1, -1, -1) for f in features]
        flow = self.model.decode_flow(batch, z, features)  # (N, 2, S, S) normalised
        flows = [flow_from_normalized(to_channels_last(f.numpy())) for f in flow]
        masks = None
        if confidence:
            masks = [m[0].numpy() for m in self.model.confidence(batch, z, features)]
        return flows, masks

    # ------------------------------------------------------------------ Algorithm 1

    def edit_flows(
        self, crop: np.ndarray, requests: Sequence[EditRequest], *, steps: int = 1, scale: float = 1.0
    ) -> list[np.ndarray]:
        """Algorithm 1: the K crop flows (S, S, 2) in crop pixels for steps i = 1..K, feathered."""
        z_source = self.latent(crop)
        move = self.offset(requests, scale)
        latents = [z_source + move * (i / steps) for i in range(1, steps + 1)]
        if self.subtract_identity:
            latents.append(z_source)
        flows, _ = self.flows(crop, latents)
        if self.subtract_identity:
            rest = flows.pop()
            flows = [f - rest for f in flows]
        return [f * self.border_mask for f in flows]

    def edit(
        self,
        image: np.ndarray,
        face: Face,
        requests: Sequence[EditRequest],
        *,
        steps: int = 1,
        scale: float = 1.0,
        preview_side: int | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray], dict[str, float]]:
        """Edit the full-resolution photo; returns (edited image, K preview frames, timings in ms)."""
        clock = time.perf_counter()
        crop = self.align(image, face)
        timings = {"align": 1000 * (time.perf_counter() - clock)}
        flows = self.edit_flows(crop.image, requests, steps=steps, scale=scale)
        timings["network"] = 1000 * (time.perf_counter() - clock) - timings["align"]
        edited = apply_crop_flow(image, crop, flows[-1])
        timings["warp"] = 1000 * (time.perf_counter() - clock) - timings["align"] - timings["network"]
        frames: list[np.ndarray] = []
        if preview_side:
            small, _, small_crop = self.preview_copy(image, face, preview_side)
            frames = [apply_crop_flow(small, small_crop, f) for f in flows]
        timings["total"] = 1000 * (time.perf_counter() - clock)
        return edited, frames, timings

    # ------------------------------------------------------------------ Algorithm 2

    def interpolate(
        self,
        image_a: np.ndarray,
        face_a: Face,
        image_b: np.ndarray,
        face_b: Face,
        *,
        steps: int = 7,
        side: int = 512,
    ) -> list[np.ndarray]:
        """Algorithm 2: K + 1 frames (side x side crops) from photo A (i = 0) to photo B (i = K).

        A is aligned to the editing template; B is put into A's frame by the similarity on the rigid
        landmarks (`editor.fvae.real_pairs.register_pair`, the framing of the real training pairs), so
        what changes between the frames is the expression, not the framing. Both are warped by their flows
        toward Z_i (upsampled from the model's crop to ``side`` x ``side``) and blended by their
        confidence masks.
        """
        from editor.fvae.real_pairs import register_pair

        small = register_pair(image_a, face_a, image_b, face_b, self.size)  # the model's crops
        big = register_pair(image_a, face_a, image_b, face_b, side)
        crop_a, crop_b = small.neutral, small.smiling
        big_a, big_b = big.neutral.astype(np.float32), big.smiling.astype(np.float32)
        z_a, z_b = self.latent(crop_a), self.latent(crop_b)
        if self.model.config.encoder_input != "target":  # each branch walks from its own photo to the other
            z_ab, z_ba = self.latent(crop_a, crop_b), self.latent(crop_b, crop_a)
            latents_a = [z_a + (z_ab - z_a) * (i / steps) for i in range(steps + 1)]
            latents_b = [z_ba + (z_b - z_ba) * (i / steps) for i in range(steps + 1)]
        else:
            latents_a = latents_b = [z_a + (z_b - z_a) * (i / steps) for i in range(steps + 1)]
        flows_a, masks_a = self.flows(crop_a, latents_a, confidence=True)
        flows_b, masks_b = self.flows(crop_b, latents_b, confidence=True)
        frames = []
        for i in range(steps + 1):
            t = i / steps
            out_a = warp_image(big_a, resize_flow(flows_a[i], (side, side)))
            out_b = warp_image(big_b, resize_flow(flows_b[i], (side, side)))
            w_a = (1 - t) * cv2.resize(masks_a[i], (side, side))[..., None] + 1e-4 * (1 - t)
            w_b = t * cv2.resize(masks_b[i], (side, side))[..., None] + 1e-4 * t
            blended = (w_a * out_a + w_b * out_b) / (w_a + w_b)
            frames.append(np.clip(blended + 0.5, 0, 255).astype(np.uint8))
        return frames
