"""Loading pipeline folders: the family from model_index.json, one shared load, one error per bad folder."""

from __future__ import annotations

import json
import shutil

import pytest

from editor.latent.config import LatentConfig
from editor.latent.loading import LatentModelError, load_pipeline, read_index, shared_pipeline
from editor.latent.prompts import INPAINT, INSTRUCT
from editor.latent.tiny import SIZE


@pytest.mark.parametrize(
    ("family", "class_name"),
    [(INPAINT, "StableDiffusionInpaintPipeline"), (INSTRUCT, "StableDiffusionInstructPix2PixPipeline")],
)
def test_the_family_comes_from_model_index_and_the_load_is_shared(tiny_pipelines, family, class_name):
    folder = tiny_pipelines[family]
    index = read_index(folder)
    assert (index.class_name, index.family, index.path) == (class_name, family, folder)
    config = LatentConfig(model=folder)
    loaded = shared_pipeline(config)
    assert type(loaded.pipeline).__name__ == class_name and loaded.family == family
    assert loaded.size == SIZE and "num_inference_steps" in loaded.parameters
    assert str(loaded.pipeline.device) == "cpu" and loaded.pipeline.unet.dtype.is_floating_point
    assert shared_pipeline(LatentConfig(model=folder)) is loaded  # once per process


def _copy(folder, tmp_path, name):
    target = tmp_path / name
    shutil.copytree(folder, target)
    return target


def test_a_missing_folder_or_model_index_names_the_path(tmp_path):
    with pytest.raises(LatentModelError, match="does not exist") as missing:
        read_index(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(missing.value)
    with pytest.raises(LatentModelError, match="model_index.json") as empty:
        read_index(tmp_path)
    assert str(tmp_path) in str(empty.value)


@pytest.mark.parametrize("class_name", ["StableDiffusionPipeline", "NoSuchPipeline", None])
def test_a_class_that_does_not_edit_images_is_refused_by_name(inpaint_folder, tmp_path, class_name):
    folder = _copy(inpaint_folder, tmp_path, "wrong")
    index = json.loads((folder / "model_index.json").read_text())
    index["_class_name"] = class_name
    (folder / "model_index.json").write_text(json.dumps(index))
    with pytest.raises(LatentModelError) as error:
        load_pipeline(LatentConfig(model=folder))
    message = str(error.value)
    assert str(folder / "model_index.json") in message and repr(class_name) in message
    assert "StableDiffusionInpaintPipeline" in message  # says what would do


def test_unreadable_model_index_names_the_file(tmp_path):
    (tmp_path / "model_index.json").write_text("{not json")
    with pytest.raises(LatentModelError, match="cannot be read as JSON") as error:
        read_index(tmp_path)
    assert str(tmp_path / "model_index.json") in str(error.value)


def test_truncated_weights_give_one_error_naming_the_folder(inpaint_folder, tmp_path):
    folder = _copy(inpaint_folder, tmp_path, "truncated")
    weights = folder / "unet" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(LatentModelError, match="could not be loaded") as error:
        load_pipeline(LatentConfig(model=folder))
    assert str(folder) in str(error.value) and "truncated" in str(error.value)


def test_no_model_configured_says_how_to_configure_one():
    with pytest.raises(LatentModelError, match="FACECHAT_LATENT_MODEL"):
        load_pipeline(LatentConfig())


def test_a_tokenizer_saved_without_a_length_gets_its_text_encoders(inpaint_folder, tmp_path):
    folder = _copy(inpaint_folder, tmp_path, "unbounded")
    config_file = folder / "tokenizer" / "tokenizer_config.json"
    settings = json.loads(config_file.read_text())
    settings.pop("model_max_length")
    config_file.write_text(json.dumps(settings))
    loaded = load_pipeline(LatentConfig(model=folder))
    assert loaded.pipeline.tokenizer.model_max_length == 77
