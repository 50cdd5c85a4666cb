"""Following one face through a clip: detected once, then measured where the last frame left it.

A photo's analysis finds faces with YuNet (on the whole photo, then on a crop to check the way up) and
places landmarks with FaceLandmarker on a square crop around YuNet's box. In a clip the face is where
the previous frame's landmarks put it, so `FaceTracker` detects only when it has no face to follow (the
first frame, after a frame without a face, or when FaceLandmarker finds none where it was): the
detected face's box and five key points are stored relative to its rigid landmarks (an `Anchor`), and
on the next frames they are carried along with the rigid landmarks by a 2D similarity and handed to
`FaceAnalyzer.measure` (no detection: two thirds of a frame's analysis time on the 720p benchmark).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from editor.editor import face_region
from editor.face import Face, FaceAnalyzer
from editor.geometry.motion import RIGID_POINTS, Similarity, fit_similarity
from editor.landmark_indices import CHIN, FOREHEAD_TOP

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Anchor:
    """A detected face's YuNet box and key points, with the rigid landmarks they are carried by.

    Attributes:
        rigid: (R, 2) the detected face's `RIGID_POINTS` landmarks (pixels).
        box: (4,) YuNet's x, y, width, height.
        points5: (5, 2) YuNet's key points.
        score: YuNet's confidence.
    """

    rigid: np.ndarray
    box: np.ndarray
    points5: np.ndarray
    score: float

    @classmethod
    def of(cls, face: Face) -> Anchor:
        """The anchor of a face `FaceAnalyzer.analyze` found."""
        return cls(
            rigid=_rigid(face.landmarks),
            box=np.asarray(face.box, np.float64),
            points5=np.asarray(face.points5, np.float64),
            score=float(face.score),
        )

    def moved(self, landmarks: np.ndarray) -> Similarity:
        """The 2D similarity taking the anchor's rigid landmarks onto those of ``landmarks`` (478, 2|3)."""
        return fit_similarity(self.rigid, _rigid(landmarks))

    def box_on(self, landmarks: np.ndarray) -> np.ndarray:
        """(4,) the anchor's box carried onto the face with ``landmarks``: centre moved, sides scaled."""
        move = self.moved(landmarks)
        centre = self.box[:2] + self.box[2:] / 2
        size = self.box[2:] * move.scale
        return np.concatenate([move.apply(centre[None])[0] - size / 2, size])

    def points_on(self, landmarks: np.ndarray) -> np.ndarray:
        """(5, 2) the anchor's key points carried onto the face with ``landmarks``."""
        return self.moved(landmarks).apply(self.points5)


class FaceTracker:
    """The face of each frame of a clip, in order; `reset` when the clip is cut or the face is gone.

    ``follow=False`` detects in every frame (around the previous frame's face first, as before tracking
    existed: the reference the benchmark compares with).
    """

    def __init__(self, analyzer: FaceAnalyzer, *, follow: bool = True) -> None:
        self.analyzer, self.follow = analyzer, follow
        self.previous: Face | None = None
        self.anchor: Anchor | None = None
        self.detections = 0  # frames on which YuNet ran (the rest were followed)

    def reset(self) -> None:
        """Forget the face (the next frame is searched whole)."""
        self.previous = self.anchor = None

    def __call__(self, frame: np.ndarray) -> Face | None:
        """The tracked face on this (H, W, 3) uint8 RGB frame, or None when it has none."""
        face = self._followed(frame) if self.follow else None
        if face is None:
            face = self._detected(frame)
            self.anchor = Anchor.of(face) if face is not None else None
        self.previous = face
        return face

    def _followed(self, frame: np.ndarray) -> Face | None:
        """FaceLandmarker where the previous frame's face was (None: nothing to follow or not found)."""
        if self.previous is None or self.anchor is None:
            return None
        landmarks = self.previous.landmarks
        up = landmarks[FOREHEAD_TOP, :2] - landmarks[CHIN, :2]  # the midline: which way up the face is
        face = self.analyzer.measure(
            frame,
            self.anchor.box_on(landmarks),
            score=self.anchor.score,
            quarter_turns=0 if up[1] <= 0 else 2,
        )
        if face is None:
            logger.debug("video: the tracked face was lost; detecting again")
            return None
        return replace(face, points5=self.anchor.points_on(face.landmarks).astype(np.float32))

    def _detected(self, frame: np.ndarray) -> Face | None:
        """YuNet and FaceLandmarker: around the previous frame's face first, then in the whole frame;
        the face nearest the previous one when there are several."""
        self.detections += 1
        if self.previous is not None:
            x0, y0, x1, y1 = face_region(self.previous, frame.shape[:2])
            near = self.analyzer.analyze(frame[y0:y1, x0:x1])
            if near:
                return _nearest([face.translated(x0, y0) for face in near], self.previous)
        faces = self.analyzer.analyze(frame)
        if not faces:
            return None
        return faces[0] if self.previous is None else _nearest(faces, self.previous)


def _rigid(landmarks: np.ndarray) -> np.ndarray:
    return np.asarray(landmarks, np.float64)[list(RIGID_POINTS), :2]


def _nearest(faces: list[Face], previous: Face) -> Face:
    centre = previous.box[:2] + previous.box[2:] / 2
    return min(faces, key=lambda f: float(np.linalg.norm(f.box[:2] + f.box[2:] / 2 - centre)))
