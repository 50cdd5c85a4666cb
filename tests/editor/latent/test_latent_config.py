"""The latent backend's configuration from the environment (no torch, diffusers or transformers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from editor.errors import ConfigError
from editor.latent.config import DEVICE_ENV, DTYPE_ENV, ENABLE_HINT, MODEL_ENV, LatentConfig


def test_unset_means_not_configured_on_cpu_in_float32():
    config = LatentConfig.from_env({})
    assert not config.configured and config.device == "cpu" and config.dtype == "float32"
    assert config.seed == 0  # a fixed seed by default: a turn is reproducible


def test_the_environment_names_model_device_and_dtype(tmp_path):
    config = LatentConfig.from_env({MODEL_ENV: str(tmp_path), DEVICE_ENV: "cuda:1", DTYPE_ENV: "Float16"})
    assert config.configured and config.model == Path(tmp_path)
    assert (config.device, config.dtype) == ("cuda:1", "float16")
    assert LatentConfig.from_env({MODEL_ENV: str(tmp_path)}, tries=5).tries == 5


def test_an_unknown_dtype_is_a_sentence():
    with pytest.raises(ConfigError, match="float32"):
        LatentConfig.from_env({DTYPE_ENV: "int4"})


def test_the_hint_says_what_to_set():
    assert f"{MODEL_ENV}=/path/to/diffusers/folder" in ENABLE_HINT and "facechat[latent]" in ENABLE_HINT
