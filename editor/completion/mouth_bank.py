"""A bank of real mouth interiors (teeth, gums, tongue, cavity), each with the inner-lip contour it came from.

Built once from real open-mouth smiles by `editor.completion.build_assets` and shipped as a small
derived asset (editor/data/completion/mouth_bank.npz). Each example is stored in a mouth frame: the
photo rotated and scaled so the inner-lip corners lie on a horizontal line `MOUTH_WIDTH` pixels long,
at a fixed place in a `CROP_SIZE` crop. Examples are chosen at edit time by how well their opening's
shape fits the new one (`MouthBank.choose`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from editor.completion.assets import shipped_asset
from editor.images import from_lab, to_lab
from editor.landmark_indices import as_array, face_mesh_indices

logger = logging.getLogger(__name__)

BANK_FILE = "mouth_bank.npz"
#: Inner-lip corner distance in the mouth frame, pixels.
MOUTH_WIDTH = 128
#: (width, height) of a stored crop; the right inner corner sits at `CORNER_AT`.
CROP_SIZE = (176, 120)
CORNER_AT = (24.0, 40.0)
#: Interior pairs of the upper/lower inner-lip chains whose gaps describe an opening's shape.
_DESCRIPTOR_PAIRS = slice(1, -1)


def inner_lip_loop(landmarks: np.ndarray) -> np.ndarray:
    """(20, 2) the inner-lip polygon (upper chain right->left, then the lower chain back), pixels."""
    return np.asarray(landmarks, np.float64)[as_array(face_mesh_indices().inner_lip_loop), :2]


def mouth_frame(landmarks: np.ndarray) -> np.ndarray:
    """(2, 3) affine matrix taking photo pixels into the mouth frame of these landmarks."""
    idx = face_mesh_indices()
    points = np.asarray(landmarks, np.float64)[:, :2]
    right, left = points[idx.inner_lip_upper[0]], points[idx.inner_lip_upper[-1]]
    axis = left - right
    width = float(np.linalg.norm(axis))
    if width < 1e-6:
        raise ValueError("The mouth corners coincide: no mouth frame.")
    cos, sin = axis / width
    scale = MOUTH_WIDTH / width
    rotation = scale * np.array([[cos, sin], [-sin, cos]])  # the corner line becomes +x
    translation = np.asarray(CORNER_AT) - rotation @ right
    return np.hstack([rotation, translation[:, None]])


def loop_chains(loop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (11, 2) upper and (11, 2) lower chains, corner to corner, of a (20, 2) `inner_lip_loop`."""
    return loop[:11], np.vstack([loop[:1], loop[11:][::-1], loop[10:11]])


def opening_descriptor(loop_in_frame: np.ndarray) -> np.ndarray:
    """(9,) gaps between facing inner-lip points, in mouth-frame pixels: the opening's shape."""
    upper, lower = loop_chains(loop_in_frame)
    return (lower[:, 1] - upper[:, 1])[_DESCRIPTOR_PAIRS]


def lip_ring(shape: tuple[int, int], landmarks: np.ndarray, origin: np.ndarray | None = None) -> np.ndarray:
    """(h, w) bool: the red of the lips (outer loop minus inner loop) in a box whose corner is `origin`."""
    idx = face_mesh_indices()
    points = np.asarray(landmarks, np.float64)[:, :2] - (0.0 if origin is None else origin)
    outer = points[as_array(idx.outer_lip_upper + tuple(reversed(idx.outer_lip_lower[1:-1])))]
    inner = points[as_array(idx.inner_lip_loop)]
    canvas = np.zeros(shape, np.uint8)
    cv2.fillPoly(canvas, [np.round(outer).astype(np.int32)], 1)
    cv2.fillPoly(canvas, [np.round(inner).astype(np.int32)], 0)
    return canvas.astype(bool)


@dataclass(frozen=True)
class MouthExample:
    """One real mouth interior in the mouth frame.

    Attributes:
        crop: (CROP_SIZE[1], CROP_SIZE[0], 3) uint8 RGB.
        loop: (20, 2) float32 its inner-lip polygon in crop pixels.
        lip_lab: (3,) float32 mean CIELAB (L 0..100) of the lips around it (its skin tone, roughly).
        sclera_lab: (3,) float32 mean CIELAB of the whites of its person's eyes: the light it was lit by
            (NaN when the eyes could not be measured).
        face_id: who it came from (for attribution and for leaving a person out of their own edit).
    """

    crop: np.ndarray
    loop: np.ndarray
    lip_lab: np.ndarray
    sclera_lab: np.ndarray
    face_id: str

    @property
    def lip_rgb(self) -> np.ndarray:
        """(3,) float32 the mean lip colour as RGB (0..255)."""
        return from_lab(self.lip_lab.reshape(1, 1, 3)).reshape(3)

    @property
    def descriptor(self) -> np.ndarray:
        return opening_descriptor(self.loop)

    def teeth_stain(self) -> float:
        """How far the most yellow-brown teeth pixels stand out from the rest: the 99th percentile of
        CIELAB b* over the brighter half of the opening (the teeth) minus its median.

        Even teeth, white or evenly ivory, give 1-9; one brown tooth gives about 17. A bank example with a
        stained tooth would put that tooth into other people's smiles.
        """
        mask = np.zeros(self.crop.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(self.loop).astype(np.int32)], 1)
        mask = cv2.erode(mask, np.ones((3, 3), np.uint8))  # keep the lip edge out
        lab = to_lab(self.crop)[mask.astype(bool)]  # (N, 3)
        if len(lab) < 20:
            return 0.0
        teeth = lab[lab[:, 0] > np.median(lab[:, 0])]
        return float(np.percentile(teeth[:, 2], 99) - np.median(teeth[:, 2]))


def sclera_lab(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """(3,) float32 mean CIELAB of the whites of both eyes (NaN when too few pixels show).

    The sclera is near-white on everybody, so it tells the light (exposure and white balance) apart
    from skin tone: the reference for lighting borrowed teeth like the photo.
    """
    idx = face_mesh_indices()
    points = np.asarray(landmarks, np.float64)[:, :2]
    height, width = image.shape[:2]
    pixels = []
    for side, iris in (("right", idx.right_iris), ("left", idx.left_iris)):
        loop = points[as_array(idx.eye_loop(side))]
        x0, y0 = np.maximum(np.floor(loop.min(axis=0)).astype(int) - 1, 0)
        x1, y1 = np.minimum(np.ceil(loop.max(axis=0)).astype(int) + 2, [width, height])
        if x1 - x0 < 3 or y1 - y0 < 2:
            continue
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(mask, [np.round(loop - [x0, y0]).astype(np.int32)], 1)
        centre = points[iris[0]]
        radius = 1.15 * np.linalg.norm(points[list(iris[1:])] - centre, axis=1).mean()
        cv2.circle(mask, tuple(int(v) for v in np.round(centre - [x0, y0])), int(np.ceil(radius)), 0, -1)
        pixels.append(image[y0:y1, x0:x1][mask.astype(bool)])
    flat = np.concatenate(pixels) if pixels else np.zeros((0, 3))
    if len(flat) < 12:
        return np.full(3, np.nan, np.float32)
    lab = to_lab(flat.reshape(-1, 1, 3)).reshape(-1, 3)
    whites = lab[lab[:, 0] >= np.percentile(lab[:, 0], 60)]  # lashes and lid shadow left out
    return whites.mean(axis=0).astype(np.float32)


def extract_example(image: np.ndarray, landmarks: np.ndarray, face_id: str) -> MouthExample:
    """Cut the mouth of a photo into the mouth frame (for building the bank)."""
    matrix = mouth_frame(landmarks)
    crop = cv2.warpAffine(image, matrix, CROP_SIZE, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    points = np.asarray(landmarks, np.float64)[:, :2]
    in_frame = points @ matrix[:, :2].T + matrix[:, 2]
    ring = lip_ring(crop.shape[:2], in_frame)
    lab = to_lab(crop)[ring]
    return MouthExample(
        crop=crop,
        loop=inner_lip_loop(in_frame).astype(np.float32),
        lip_lab=lab.mean(axis=0) if len(lab) else np.array([50.0, 20.0, 10.0], np.float32),
        sclera_lab=sclera_lab(image, landmarks),
        face_id=face_id,
    )


class MouthBank:
    """The shipped mouth interiors, and the choice of the one that fits an opening."""

    def __init__(self, examples: list[MouthExample]) -> None:
        if not examples:
            raise ValueError("A mouth bank needs at least one example.")
        self.examples = examples
        self._descriptors = np.stack([e.descriptor for e in examples])  # (N, 9)
        self._light = np.stack([e.lip_lab[0] for e in examples])  # (N,)

    def __len__(self) -> int:
        return len(self.examples)

    def choose(
        self, descriptor: np.ndarray, lip_lightness: float, exclude: str | None = None
    ) -> MouthExample:
        """The example whose opening shape (and, secondarily, lip lightness) is closest.

        Args:
            descriptor: (9,) the target opening (`opening_descriptor`), mouth-frame pixels.
            lip_lightness: the target lips' mean L (0..100): prefers examples of a like skin tone.
            exclude: a face_id never to choose (the person being edited, in held-out evaluation).
        """
        shape_cost = np.sqrt(((self._descriptors - descriptor[None]) ** 2).mean(axis=1)) / MOUTH_WIDTH
        # An example opened less than the target must be stretched (blurs teeth): dearer than shrinking.
        smaller = np.maximum(descriptor.max() - self._descriptors.max(axis=1), 0) / MOUTH_WIDTH
        light_cost = np.abs(self._light - lip_lightness) / 100.0
        cost = shape_cost + 0.5 * smaller + 0.15 * light_cost
        if exclude is not None:
            cost = np.where([e.face_id == exclude for e in self.examples], np.inf, cost)
        return self.examples[int(np.argmin(cost))]

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            crops=np.stack([e.crop for e in self.examples]),
            loops=np.stack([e.loop for e in self.examples]),
            lip_lab=np.stack([e.lip_lab for e in self.examples]),
            sclera_lab=np.stack([e.sclera_lab for e in self.examples]),
            face_ids=np.array([e.face_id for e in self.examples]),
        )

    @classmethod
    def load(cls, path: Path) -> MouthBank:
        with np.load(path) as data:
            return cls(
                [
                    MouthExample(crop=c, loop=lo, lip_lab=lab, sclera_lab=sc, face_id=str(fid))
                    for c, lo, lab, sc, fid in zip(
                        data["crops"],
                        data["loops"],
                        data["lip_lab"],
                        data["sclera_lab"],
                        data["face_ids"],
                        strict=True,
                    )
                ]
            )


@cache
def shipped_bank() -> MouthBank:
    """The bank shipped in editor/data/completion (loaded once per process)."""
    return MouthBank.load(shipped_asset(BANK_FILE))
