"""Hair colour, with a hair mask built from what can be had offline (no face-parsing network).

The mask: around the head (a box from the face oval), at about 200 px, OpenCV's GrabCut separates
hair from everything else, seeded by the landmarks and two colour models: the face's skin (sampled
on the cheeks, `regions.skin_model`) and the background (sampled along the top and sides of the
box). Pixels above and beside the face that fit neither model are sure hair; the face oval and pixels
that fit the skin or background models are sure not-hair. The binary result is brought back to full
resolution and softened at its boundary by a guided filter on the photo (a fast alpha matting), so
strands and flyaways blend instead of ending in a cut-out edge.

Recolouring keeps the hair's luminance structure: the mean colour moves to the dye, lightness
offsets are stretched for lighter colours and compressed for darker ones, so strands stay strands.
"""

from __future__ import annotations

import cv2
import numpy as np

from editor.appearance.colour import HAIR, recolour, target
from editor.appearance.effect import Applied, paste
from editor.appearance.regions import (
    RegionMask,
    features_mask,
    interocular,
    mahalanobis,
    points,
    polygon_mask,
    skin_model,
)
from editor.images import to_lab
from editor.landmark_indices import face_mesh_indices

#: Colour used when the request names none.
DEFAULT_COLOUR = "brown"
#: Long side of the GrabCut working image, pixels.
WORK_SIDE = 200
#: GrabCut iterations.
ITERATIONS = 3
#: Mahalanobis distance under which a pixel fits the skin / background colour model.
FITS = 2.5


def apply(image: np.ndarray, landmarks: np.ndarray, strength: float, value: str | None) -> Applied:
    """Hair of colour ``value`` at ``strength`` (its size; a colour has no opposite) on ``image``."""
    name, goal = target(HAIR, value, DEFAULT_COLOUR)
    region = hair_mask(landmarks, image)
    amount = float(min(abs(strength), 1.0))
    lab = to_lab(region.crop(image))  # (h, w, 3)
    mean_l = float((lab[..., 0] * region.alpha).sum() / max(region.area, 1e-6))
    contrast = float(np.clip(goal[0] / max(mean_l, 1.0), 0.5, 2.5))
    new = recolour(lab, region.alpha, goal, amount, contrast=contrast, chroma_texture=0.3)
    return Applied(paste(image, region, new), region, name, goal)


def head_box(landmarks: np.ndarray, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) around the head: the face oval grown for hair above, beside and below it."""
    oval = points(landmarks, face_mesh_indices().face_oval)
    (x0, y0), (x1, y1) = oval.min(axis=0), oval.max(axis=0)
    width, height = x1 - x0, y1 - y0
    box = (x0 - 0.7 * width, y0 - 0.75 * height, x1 + 0.7 * width, y1 + 0.5 * height)
    h, w = shape
    return (
        max(0, int(box[0])),
        max(0, int(box[1])),
        min(w, int(np.ceil(box[2]))),
        min(h, int(np.ceil(box[3]))),
    )


def hair_mask(landmarks: np.ndarray, image: np.ndarray) -> RegionMask:
    """The head hair as a soft mask (eyebrows, lashes and the face excluded).

    Args:
        landmarks: (478, 2|3) pixels.
        image: (H, W, 3) uint8 RGB.
    """
    shape = image.shape[:2]
    x0, y0, x1, y1 = head_box(landmarks, shape)
    crop = image[y0:y1, x0:x1]
    scale = min(1.0, WORK_SIDE / max(crop.shape[:2]))
    small = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)  # (h, w, 3)
    local = (np.asarray(landmarks, np.float64)[:, :2] - (x0, y0)) * scale  # (478, 2) in small pixels
    labels = _seeds(local, small, landmarks, image)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    if (labels == cv2.GC_FGD).sum() < 10 or ((labels == cv2.GC_BGD) | (labels == cv2.GC_PR_BGD)).sum() < 10:
        return RegionMask(np.zeros((y1 - y0, x1 - x0), np.float32), (x0, y0, x1, y1), shape)
    bgr = np.ascontiguousarray(small[..., ::-1])
    cv2.setRNGSeed(0)  # GrabCut's k-means starts from OpenCV's global RNG: the same photo, the same mask
    cv2.grabCut(bgr, labels, None, bgd, fgd, ITERATIONS, cv2.GC_INIT_WITH_MASK)
    hard = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.float32)  # (h, w)
    hard = _largest_parts(hard)
    alpha = cv2.resize(hard, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)  # full resolution
    unit = interocular(landmarks)
    guide = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    radius = max(2, int(0.08 * unit))
    alpha = cv2.ximgproc.guidedFilter(guide, alpha, radius, 1e-3)
    alpha = np.clip((alpha - 0.15) / 0.7, 0.0, 1.0).astype(np.float32)
    alpha[alpha < 1e-3] = 0.0
    mask = RegionMask(alpha, (x0, y0, x1, y1), shape)
    mask = mask.minus(features_mask(landmarks, shape)).minus(_face_skin(landmarks, image))
    return mask.minus(_skin_like(mask, landmarks, image))


def _seeds(local: np.ndarray, small: np.ndarray, landmarks: np.ndarray, image: np.ndarray) -> np.ndarray:
    """(h, w) uint8 GrabCut labels from the landmarks and the skin / background colour models."""
    height, width = small.shape[:2]
    idx = face_mesh_indices()
    oval = local[list(idx.face_oval)]
    unit = np.linalg.norm(local[468] - local[473])
    lab = to_lab(small)  # (h, w, 3)
    skin_mean, skin_inverse = skin_model(landmarks, image)
    skin = mahalanobis(lab, skin_mean, skin_inverse) < FITS
    border = max(2, int(0.03 * max(height, width)))
    edge = np.concatenate([lab[:border].reshape(-1, 3), lab[:, :border].reshape(-1, 3),
                           lab[:, -border:].reshape(-1, 3)])  # fmt: skip
    back_mean = edge.mean(axis=0)
    back_inverse = np.linalg.inv(np.cov(edge.T) + np.diag([16.0, 4.0, 4.0])).astype(np.float32)
    background = mahalanobis(lab, back_mean, back_inverse) < FITS

    labels = np.full((height, width), cv2.GC_PR_BGD, np.uint8)
    centre = oval.mean(axis=0)
    top = oval[:, 1].min()
    # Probably hair: an ellipse over the head and beside the face, down to the jaw.
    head = np.zeros((height, width), np.uint8)
    axes = (int(0.95 * (oval[:, 0].max() - oval[:, 0].min())), int(1.0 * (centre[1] - top) + 0.9 * unit))
    cv2.ellipse(head, (int(centre[0]), int(centre[1])), axes, 0, 180, 360, 1, -1)
    lower = np.zeros_like(head)
    cv2.ellipse(lower, (int(centre[0]), int(centre[1])), (axes[0], int(0.9 * axes[1])), 0, 0, 180, 1, -1)
    labels[(head | lower).astype(bool)] = cv2.GC_PR_FGD
    # Sure hair: just above the forehead and at the temples, where the colour is neither skin nor background.
    crown = np.zeros_like(head)
    band = np.concatenate([oval, (oval - centre) * 1.25 + centre])  # a ring just outside the oval
    ring = np.zeros_like(head)
    cv2.fillPoly(ring, [np.round((oval - centre) * 1.3 + centre).astype(np.int32)], 1)
    cv2.fillPoly(ring, [np.round(oval).astype(np.int32)], 0)
    crown[: int(local[list(idx.right_eye_upper)][:, 1].min())] = 1
    del band
    sure_hair = ring.astype(bool) & crown.astype(bool) & ~skin & ~background
    labels[sure_hair] = cv2.GC_FGD
    # Sure not hair: the face, the background-coloured pixels, the box's top edge.
    face = np.zeros_like(head)
    cv2.fillPoly(face, [np.round(oval).astype(np.int32)], 1)
    labels[face.astype(bool)] = cv2.GC_BGD
    labels[background & (labels != cv2.GC_FGD)] = cv2.GC_BGD
    labels[:border] = np.where(labels[:border] == cv2.GC_FGD, cv2.GC_FGD, cv2.GC_BGD)
    labels[skin & (labels != cv2.GC_FGD)] = cv2.GC_BGD  # bare forehead above the oval, ears, neck
    return labels


def _largest_parts(mask: np.ndarray) -> np.ndarray:
    """Keep connected parts of a (h, w) 0/1 mask holding at least 5% of its largest part's area."""
    count, parts, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 2:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.zeros(count, bool)
    keep[1:] = areas >= 0.05 * areas.max()
    return keep[parts].astype(np.float32)


def _skin_like(mask: RegionMask, landmarks: np.ndarray, image: np.ndarray) -> RegionMask:
    """Pixels of ``mask``'s box whose colour fits the skin model (within 2 sigma: 1, beyond 3.5: 0)."""
    lab = to_lab(mask.crop(image))  # (h, w, 3)
    mean, inverse = skin_model(landmarks, image)
    fits = np.clip((3.5 - mahalanobis(lab, mean, inverse)) / 1.5, 0.0, 1.0).astype(np.float32)
    return RegionMask(fits * (mask.alpha > 0), mask.box, mask.shape)


def _face_skin(landmarks: np.ndarray, image: np.ndarray) -> RegionMask:
    """The face oval, except what is clearly hair over it: pixels far from the skin model AND darker
    than the skin (a dark fringe stays hair; forehead highlights, which are lighter, stay skin)."""
    unit = interocular(landmarks)
    oval = polygon_mask(
        [points(landmarks, face_mesh_indices().face_oval)], image.shape[:2], feather=0.03 * unit
    )
    lab = to_lab(oval.crop(image))  # (h, w, 3)
    mean, inverse = skin_model(landmarks, image)
    unlike = np.clip(0.5 * mahalanobis(lab, mean, inverse) - 1.5, 0.0, 1.0)  # 0 within 3 sigma, 1 beyond 5
    darker = np.clip((mean[0] - 12.0 - lab[..., 0]) / 8.0, 0.0, 1.0)  # 1 when 20 L below the skin
    return RegionMask((oval.alpha * (1.0 - unlike * darker)).astype(np.float32), oval.box, oval.shape)
