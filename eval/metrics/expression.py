"""Expression metrics: FaceLandmarker blendshapes before / after, the face region, landmark distance.

All inputs are `editor.face.Face` measurements (FaceLandmarker's 52 blendshape scores, 0..1, and 478
landmarks in pixels). FaceLandmarker cannot see some motions (cheekSquint, noseSneer, mouthLowerDown,
eyeWide: EXPRESSION-NOTES.md); `eval.suite_schema` refuses expectations on those, and the emotion
classifier and the distance to a real photo of the expression stand in for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import cv2
import numpy as np

from editor.face import Face
from editor.geometry.calibrate_happy import align_to, smile_error
from editor.warp import WarpConfig, face_polygon

#: The face oval scaled by this is the region the geometry warp may change (its feathered mask's edge).
EDIT_REGION_SCALE = WarpConfig().mask_scale


def blendshape_changes(
    before: Mapping[str, float], after: Mapping[str, float], names: Iterable[str]
) -> dict[str, float]:
    """``after - before`` of each named blendshape score (missing scores count as 0); each in [-1, 1]."""
    return {name: float(after.get(name, 0.0)) - float(before.get(name, 0.0)) for name in names}


def mean_change(before: Mapping[str, float], after: Mapping[str, float], names: Sequence[str]) -> float:
    """Mean change of ``names`` (``nan`` when ``names`` is empty)."""
    if not names:
        return float("nan")
    return float(np.mean(list(blendshape_changes(before, after, names).values())))


def face_region_mask(face: Face, shape: tuple[int, ...], scale: float = EDIT_REGION_SCALE) -> np.ndarray:
    """(H, W) bool mask of the face oval scaled by ``scale`` about its centre: True where an edit may act.

    The default is the outer edge of the geometry warp's feathered mask (`editor.warp.WarpConfig`), so
    a pixel outside it that changed is a locality failure of the edit.
    """
    polygon = np.round(face_polygon(face.landmarks, scale)).astype(np.int32)
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [polygon], 1)
    return mask.astype(bool)


def nearest_face(faces: Sequence[Face], original: Face) -> Face | None:
    """The face whose box centre is closest to ``original``'s (an edit does not move the head)."""
    if not faces:
        return None
    centre = original.box[:2] + original.box[2:] / 2
    return min(faces, key=lambda f: float(np.linalg.norm(f.box[:2] + f.box[2:] / 2 - centre)))


def landmark_distance(measured: Face, reference: Face, unit: Face) -> float:
    """Mean 2D distance of ``measured``'s 478 landmarks to ``reference``'s, in ``unit``'s inter-iris units.

    ``reference`` is first mapped onto ``measured`` by a 3D similarity fitted on rigid points (forehead,
    nose, inner eye corners), so head motion between two photos does not count, only expression
    (the same measure as editor/geometry/calibrate_happy.py; 0.045 for a London neutral photo vs the
    same person's real smile).
    """
    aligned = align_to(reference.landmarks.astype(np.float64), measured.landmarks.astype(np.float64))
    return smile_error(measured.landmarks.astype(np.float64), aligned, unit.landmarks.astype(np.float64))
