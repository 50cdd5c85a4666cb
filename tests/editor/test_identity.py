"""Identity scoring: SFace by default, ArcFace loaded through insightface, calibrated thresholds."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from editor.errors import ConfigError
from editor.identity import (
    ARCFACE_ENV,
    THRESHOLD_ENV,
    UNCALIBRATED_ARCFACE_THRESHOLD,
    IdentityScorer,
)
from editor.images import load_image
from editor.model_files import SHIPPED_MODELS


@pytest.fixture(scope="module")
def sface() -> IdentityScorer:
    return IdentityScorer()


def _tiny_arcface(path, size: int = 112, seed: int = 0) -> np.ndarray:
    """Write an ONNX model with ArcFace's signature: (N, 3, size, size) image -> (N, 512) embedding.

    It embeds the per-channel mean of the normalised image through a fixed random (3, 512) matrix, so the
    expected output of any crop can be computed in numpy. Returns the matrix.
    """
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    weight = np.random.default_rng(seed).normal(size=(3, 512)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["data"], ["pooled"], name="pool"),
            helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten"),
            helper.make_node("MatMul", ["flat", "weight"], ["fc1"], name="embed"),
        ],
        "tiny_arcface",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["N", 3, size, size])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, ["N", 512])],
        initializer=[numpy_helper.from_array(weight, "weight")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return weight


def test_sface_is_the_calibrated_default(sface):
    assert sface.name == "sface"
    assert sface.calibrated
    table = json.loads((resources.files("editor") / "data" / "identity_calibration.json").read_text())
    entry = next(e for e in table["models"] if e["scorer"] == "sface")
    assert entry["model_sha256"] == SHIPPED_MODELS["sface"].sha256
    assert sface.threshold == pytest.approx(entry["threshold"])
    assert 0.2 < sface.threshold < 0.8


def test_sface_embeddings_are_unit_and_stable(sface, sample_rgb, sample_face):
    embedding = sface.embed(sample_rgb, sample_face)
    assert embedding.shape == (128,) and embedding.dtype == np.float32
    assert np.linalg.norm(embedding) == pytest.approx(1.0, abs=1e-5)
    assert sface.similarity(embedding, sface.embed(sample_rgb, sample_face)) == pytest.approx(1.0, abs=1e-6)


def test_sface_says_same_person_for_a_mirror_and_different_for_noise(
    sface, analyzer, sample_rgb, sample_face
):
    mirrored = np.ascontiguousarray(sample_rgb[:, ::-1])
    result = sface.compare(sample_rgb, sample_face, mirrored, analyzer.analyze_one(mirrored))
    assert result.same_person and result.similarity > 0.8
    assert result.scorer == "sface" and "same person" in result.describe()
    noise = np.random.default_rng(0).integers(0, 255, (112, 112, 3), dtype=np.uint8)
    aligned = sface.aligned_crop(sample_rgb, sample_face)
    assert not sface.judge(
        sface.similarity(sface.embed_aligned(aligned), sface.embed_aligned(noise))
    ).same_person


def test_threshold_overrides(monkeypatch):
    assert IdentityScorer(threshold=0.5).threshold == 0.5
    monkeypatch.setenv(THRESHOLD_ENV, "0.61")
    scorer = IdentityScorer()
    assert scorer.threshold == pytest.approx(0.61) and not scorer.calibrated
    monkeypatch.setenv(THRESHOLD_ENV, "high")
    with pytest.raises(ConfigError, match="not a number"):
        IdentityScorer()


def test_arcface_loads_through_insightface_and_preprocesses_like_arcface(tmp_path, sample_rgb, sample_face):
    pytest.importorskip("insightface")
    model = tmp_path / "tiny_arcface.onnx"
    weight = _tiny_arcface(model)
    scorer = IdentityScorer(arcface_model=model)
    assert scorer.name == "arcface:tiny_arcface.onnx"
    assert not scorer.calibrated and scorer.threshold == UNCALIBRATED_ARCFACE_THRESHOLD
    crop = scorer.aligned_crop(sample_rgb, sample_face)
    embedding = scorer.embed_aligned(crop)
    # ArcFace preprocessing: RGB, (pixel - 127.5) / 127.5.
    expected = ((crop.astype(np.float32) - 127.5) / 127.5).mean(axis=(0, 1)) @ weight
    assert embedding.shape == (512,)
    assert np.allclose(embedding, expected / np.linalg.norm(expected), atol=1e-4)


def test_arcface_from_the_environment(monkeypatch, tmp_path):
    pytest.importorskip("insightface")
    model = tmp_path / "w600k_r50.onnx"
    _tiny_arcface(model)
    monkeypatch.setenv(ARCFACE_ENV, str(model))
    assert IdentityScorer().name == "arcface:w600k_r50.onnx"


def test_bad_arcface_paths_are_config_errors(tmp_path):
    pytest.importorskip("insightface")
    with pytest.raises(ConfigError, match="does not exist"):
        IdentityScorer(arcface_model=tmp_path / "nope.onnx")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="could not be loaded"):
        IdentityScorer(arcface_model=garbage)
    wrong = tmp_path / "wrong_size.onnx"
    _tiny_arcface(wrong, size=128)
    with pytest.raises(ConfigError, match="not an ArcFace recognition model"):
        IdentityScorer(arcface_model=wrong)


@pytest.mark.data
def test_real_people(sface, analyzer, london):
    def load(kind, person):
        image = load_image(london / kind / f"{person}.jpg")
        return image, analyzer.analyze_one(image)

    neutral_a, smiling_a, neutral_b = load("neutral", "001"), load("smiling", "001"), load("neutral", "002")
    assert sface.compare(*neutral_a, *smiling_a).same_person
    assert not sface.compare(*neutral_a, *neutral_b).same_person
