"""Age (negative: younger): the prototype transform of Burt & Perrett (1995) and Tiddeman et al. (2001).

The asset (`editor.appearance.build_age_prototypes`, from the London set's calibration people) holds
the differences between an older and a younger prototype face per `YEARS_PER_UNIT` years: landmark
offsets, a CIELAB colour difference and a texture ratio (local high-frequency amplitude), all in the
canonical frame. An edit at strength s (1.0 = 20 years older, -0.5 = 10 years younger):

1. moves the landmarks by s x the shape difference (mapped from the frame by the face's similarity)
   and warps the photo with the project's landmark warp (sagging jaw and cheeks when older, a fuller
   face when younger);
2. maps the colour and texture differences from the frame onto the warped face (piecewise-affinely on
   the face mesh), adds s x the colour difference (scaled by the person's face lightness over the
   prototypes', so dark skin is not greyed), and multiplies the photo's OWN fine detail by the
   texture ratio to the power s, so wrinkles and coarser skin grow where age puts them and the
   person's own pores, freckles and lines stay theirs (younger: that detail is damped, skin smoother).

Everything outside the warped face mesh and the warp's mask is the input, bit for bit.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from editor.appearance.build_age_prototypes import ASSET, DETAIL_SIGMA
from editor.appearance.effect import Applied, paste_rgb
from editor.appearance.regions import RegionMask, points
from editor.completion import frame
from editor.images import from_lab, to_lab
from editor.landmark_indices import face_mesh_indices
from editor.warp import dense_backward_flow

__all__ = ["AgePrototypes", "apply", "load_prototypes"]

#: Largest |strength| honoured (the prototypes are about 16 years apart; beyond 2 units is guesswork).
MAX_AMOUNT = 2.0
#: The texture gain is kept within these bounds at any strength.
GAIN_RANGE = (0.35, 3.0)
#: Landmark motions below this (pixels) are not warped.
MIN_MOTION = 0.3


class AgePrototypes:
    """The age asset's arrays (see `editor.appearance.build_age_prototypes`)."""

    def __init__(self, path: Path = ASSET) -> None:
        if not path.is_file():
            raise FileNotFoundError(
                f"The age prototypes {path} are missing; build them with "
                "`python -m editor.appearance.build_age_prototypes --data <london>`."
            )
        with np.load(path) as stored:
            self.mean_shape = stored["mean_shape"].astype(np.float64)  # (478, 2) frame px
            self.shape_delta = stored["shape_delta"].astype(np.float64)  # (478, 2) frame px per unit
            size = frame.FRAME_SIZE
            ratio = cv2.resize(stored["texture_log_ratio"].astype(np.float32), (size, size), cv2.INTER_LINEAR)
            coverage = stored["coverage"].astype(np.float32) / 255.0
            # One (F, F, 5) map: L a b difference, log texture ratio, coverage (soft at the mesh edge).
            weight = np.clip((coverage - 0.5) / 0.4, 0.0, 1.0)
            self.maps = np.concatenate(
                [stored["colour_delta"].astype(np.float32), ratio[..., None], weight[..., None]], axis=-1
            )
            self.meta = json.loads(str(stored["meta"]))


@lru_cache(maxsize=1)
def load_prototypes() -> AgePrototypes:
    """The shipped age prototypes (read once)."""
    return AgePrototypes()


def apply(image: np.ndarray, landmarks: np.ndarray, strength: float, value: str | None) -> Applied:
    """Older by ``strength`` x 20 years (negative: younger) on (H, W, 3) uint8 RGB ``image``."""
    prototypes = load_prototypes()
    amount = float(np.clip(strength, -MAX_AMOUNT, MAX_AMOUNT))
    source = np.asarray(landmarks, np.float64)[:, :2]
    scale, rotation, _ = frame.to_frame_similarity(source)  # photo -> frame similarity
    target = source + amount * prototypes.shape_delta @ rotation / scale  # (478, 2) photo px
    shape = image.shape[:2]
    warped, warp_alpha = image, None
    if np.abs(target - source).max() > MIN_MOTION:
        warped, warp_alpha = _warp(image, source, target)
    box = box_face = _face_box(target, shape)
    x0, y0, x1, y1 = box
    maps = _maps(prototypes, target, box)  # (h, w, 5)
    alpha = maps[..., 4]
    crop = warped[y0:y1, x0:x1]
    lab = to_lab(crop)  # (h, w, 3)
    lightness = lab[..., 0]
    base = cv2.GaussianBlur(lightness, (0, 0), DETAIL_SIGMA / scale)
    gain = np.clip(np.exp(amount * maps[..., 3]), *GAIN_RANGE)
    lab[..., 0] = base + (lightness - base) * (1.0 + alpha * (gain - 1.0))
    lab += (alpha * amount * _tone(lightness, alpha, prototypes))[..., None] * maps[..., :3]
    edited = crop * (1 - alpha[..., None]) + np.clip(from_lab(lab), 0, 255) * alpha[..., None]  # (h, w, 3)
    # The region: the warp's mask and the mapped face, over the box holding both.
    if warp_alpha is not None:
        rows, columns = np.nonzero(warp_alpha.any(axis=1))[0], np.nonzero(warp_alpha.any(axis=0))[0]
        if len(rows):
            wx0, wy0, wx1, wy1 = columns[0], rows[0], columns[-1] + 1, rows[-1] + 1
            box = (min(x0, wx0), min(y0, wy0), max(x1, wx1), max(y1, wy1))
    bx0, by0, bx1, by1 = (int(v) for v in box)
    region_alpha = np.zeros((by1 - by0, bx1 - bx0), np.float32)
    if warp_alpha is not None:
        region_alpha[:] = warp_alpha[by0:by1, bx0:bx1]
    inner = (slice(y0 - by0, y1 - by0), slice(x0 - bx0, x1 - bx0))
    np.maximum(region_alpha[inner], alpha, out=region_alpha[inner])
    region = RegionMask(region_alpha, (bx0, by0, bx1, by1), shape)
    # The warped photo where the warp reaches, the recoloured face over it: uint8 copies (a float
    # copy of the whole box would cost more than the colour work).
    out = image.copy()
    np.copyto(out[by0:by1, bx0:bx1], warped[by0:by1, bx0:bx1], where=(region_alpha > 0)[..., None])
    face = RegionMask(alpha, box_face, shape)
    return Applied(paste_rgb(out, face, edited), region, "older" if amount >= 0 else "younger")


def _tone(lightness: np.ndarray, alpha: np.ndarray, prototypes: AgePrototypes) -> float:
    """The person's face lightness over the prototypes' (clipped to 0.3..1.5): a darker skin takes a
    proportionally smaller colour difference (shading deepens skin by a ratio, not by a fixed amount)."""
    face = alpha[::4, ::4] > 0.5
    if not face.any():
        return 1.0
    own = float(np.median(lightness[::4, ::4][face]))
    return float(np.clip(own / prototypes.meta["face_lightness"], 0.3, 1.5))


def _maps(prototypes: AgePrototypes, landmarks: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """(h, w, 5) the frame maps over the photo ``box``, sampled at half resolution (they are smooth)."""
    x0, y0, x1, y1 = box
    half = (x0 // 2, y0 // 2, (x1 + 1) // 2, (y1 + 1) // 2)
    small = frame.frame_to_photo(prototypes.maps, landmarks / 2.0, prototypes.mean_shape, half, step=6)
    size = (half[2] - half[0]) * 2, (half[3] - half[1]) * 2
    full = cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)  # (2h', 2w', 5)
    dx, dy = x0 - 2 * half[0], y0 - 2 * half[1]
    return np.ascontiguousarray(full[dy : dy + y1 - y0, dx : dx + x1 - x0])


def _warp(image: np.ndarray, source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(warped photo, (H, W) mask) of the project's landmark warp, resampled bicubically: the bilinear
    resampling of `editor.warp.warp_face` softens pore-level detail by a quarter, which would undo the
    texture the prototypes add."""
    flow, mask = dense_backward_flow(source, target, image.shape[:2])  # (H, W, 2), (H, W)
    rows, columns = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    out = image.copy()
    if not len(rows):
        return out, mask
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, columns[0], columns[-1] + 1
    map_x = flow[y0:y1, x0:x1, 0] + np.arange(x0, x1, dtype=np.float32)[None, :]
    map_y = flow[y0:y1, x0:x1, 1] + np.arange(y0, y1, dtype=np.float32)[:, None]
    out[y0:y1, x0:x1] = cv2.remap(image, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return out, mask


def _face_box(landmarks: np.ndarray, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The face oval's pixel box (the frame maps reach no further)."""
    oval = points(landmarks, face_mesh_indices().face_oval)
    x0, y0 = np.floor(oval.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(oval.max(axis=0)).astype(int) + 3
    height, width = shape
    return max(0, x0), max(0, y0), min(width, x1), min(height, y1)
