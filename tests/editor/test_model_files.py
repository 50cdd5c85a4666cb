"""Shipped model files are located in their packages and refused when their checksum differs."""

from __future__ import annotations

import pytest

from editor.errors import ModelFileError
from editor.model_files import SHIPPED_MODELS, sha256_of, shipped_model_path, verify_file


@pytest.mark.parametrize("name", sorted(SHIPPED_MODELS))
def test_every_shipped_model_is_present_and_verified(name):
    path = shipped_model_path(name)
    assert path.is_file()
    assert sha256_of(path) == SHIPPED_MODELS[name].sha256


def test_a_changed_file_is_refused(tmp_path):
    model = tmp_path / "model.onnx"
    model.write_bytes(b"original")
    good = sha256_of(model)
    assert verify_file(model, good, what="test model", remedy="Reinstall.") == model
    tampered = tmp_path / "tampered.onnx"
    tampered.write_bytes(b"tampered")
    with pytest.raises(ModelFileError, match="corrupt or a different version. Reinstall."):
        verify_file(tampered, good, what="test model", remedy="Reinstall.")


def test_missing_file_and_unknown_model(tmp_path):
    with pytest.raises(ModelFileError, match="is missing"):
        verify_file(tmp_path / "absent.onnx", "0" * 64, what="test model", remedy="Reinstall.")
    with pytest.raises(ModelFileError, match="Unknown shipped model"):
        shipped_model_path("stylegan")


def test_opencv_is_the_pinned_4_x_release():
    import cv2

    # opencv 5.0 breaks SFace (see RESOURCES.md); every cv2 distribution is pinned to 4.14.
    assert cv2.__version__.startswith("4.14"), cv2.__version__
    assert hasattr(cv2, "FaceDetectorYN") and hasattr(cv2, "FaceRecognizerSF")
