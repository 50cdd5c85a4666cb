"""Backend choice: one registry per choice; auto adds the latent backend only where no built-in one serves."""

from __future__ import annotations

import pytest

from editor import vocabulary as vocab
from editor.backends.registry import BACKEND_CHOICES, build_registry
from editor.editor import Editor
from editor.errors import ConfigError
from editor.latent.config import ENABLE_HINT, MODEL_ENV, LatentConfig
from editor.latent.loading import LatentModelError
from editor.requests import EditRequest


def _names(registry) -> list[str]:
    return [b.name for b in registry.backends]


def test_auto_without_a_model_is_the_built_in_backends_and_says_how_to_enable_latent_edits():
    registry = build_registry("auto", latent=LatentConfig())
    assert _names(registry) == ["geometry", "appearance"] and registry.missing == ENABLE_HINT


def test_auto_with_a_model_serves_only_what_no_built_in_backend_does(inpaint_folder):
    registry = build_registry("auto", latent=LatentConfig(model=inpaint_folder))
    assert _names(registry) == ["geometry", "appearance", "latent"] and registry.missing == ""
    built_in = build_registry("auto", latent=LatentConfig())
    for item in vocab.ATTRIBUTES:
        chosen = registry.route(item.name)
        if built_in.route(item.name) is not None:
            assert chosen is not None and chosen.name != "latent", item.name
        elif item.family == vocab.APPEARANCE:
            assert chosen is not None and chosen.name == "latent", item.name  # glasses, age, beard, ...
        else:
            assert chosen is None, item.name  # expressions only when latent is asked for by name
    assert registry.route("happy").name == "geometry"


def test_latent_alone_serves_every_attribute_it_has_a_prompt_for(inpaint_folder):
    registry = build_registry("latent", latent=LatentConfig(model=inpaint_folder))
    assert _names(registry) == ["latent"]
    assert registry.route("happy").name == "latent" and registry.route("glasses").name == "latent"


def test_each_built_in_choice_is_that_backend_alone(monkeypatch):
    class FakeFVAE:
        name = "fvae"

    monkeypatch.setattr("editor.backends.fvae.FVAEBackend", FakeFVAE)
    assert _names(build_registry("geometry")) == ["geometry"]
    assert _names(build_registry("appearance")) == ["appearance"]
    assert _names(build_registry("fvae")) == ["fvae"]
    assert set(BACKEND_CHOICES) == {"auto", "geometry", "appearance", "latent", "fvae"}
    with pytest.raises(ConfigError, match="auto, geometry, appearance, latent, fvae"):
        build_registry("stylegan")


def test_a_broken_configured_folder_is_one_error_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv(MODEL_ENV, str(tmp_path))
    with pytest.raises(LatentModelError, match="model_index.json") as error:
        build_registry("auto")
    assert str(tmp_path) in str(error.value)


def test_the_editor_says_how_to_enable_latent_edits(analyzer):
    editor = Editor(analyzer=analyzer, registry=build_registry("latent", latent=LatentConfig()))
    note = editor.unsupported_note(EditRequest(attribute="glasses", strength=0.7))
    assert note.startswith("I can't do") and f"{MODEL_ENV}=/path/to/diffusers/folder" in note
    assert "I can change" not in note  # this editor can change nothing: no empty list is offered


def test_removals_a_built_in_backend_refuses_go_to_the_latent_backend(inpaint_folder):
    registry = build_registry("auto", latent=LatentConfig(model=inpaint_folder))
    built_in = build_registry("auto", latent=LatentConfig())
    for attribute in ("glasses", "beard"):
        remove = EditRequest(attribute=attribute, strength=-0.7)
        if built_in.route_request(remove) is None:  # the built-in backend draws it but cannot take it off
            assert registry.route_request(remove).name == "latent", attribute
        else:
            assert registry.route_request(remove).name != "latent", attribute


def test_a_refused_removal_says_how_to_enable_latent_edits(analyzer):
    editor = Editor(analyzer=analyzer, registry=build_registry("auto", latent=LatentConfig()))
    remove = EditRequest(attribute="glasses", strength=-0.7)
    if editor.registry.refusal(remove) is None:
        pytest.skip("a built-in backend takes glasses off")
    assert editor.unsupported_note(remove).endswith(ENABLE_HINT)
