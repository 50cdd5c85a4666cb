"""Tiny random-weight diffusers pipelines (inpainting and InstructPix2Pix), built once per test session."""

from __future__ import annotations

import pytest

from editor.latent.prompts import INPAINT, INSTRUCT


@pytest.fixture(scope="session")
def tiny_pipelines(tmp_path_factory) -> dict[str, object]:
    """family -> folder of a tiny pipeline written by ``save_pretrained`` (skipped without diffusers)."""
    pytest.importorskip("diffusers")
    pytest.importorskip("transformers")
    import torch

    from editor.latent.tiny import build_tiny_pipeline

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny convolutions: one thread beats two contended ones on a small CI box
    root = tmp_path_factory.mktemp("tiny_pipelines")
    yield {family: build_tiny_pipeline(family, root / family) for family in (INPAINT, INSTRUCT)}
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def inpaint_folder(tiny_pipelines):
    return tiny_pipelines[INPAINT]


@pytest.fixture(scope="session")
def instruct_folder(tiny_pipelines):
    return tiny_pipelines[INSTRUCT]
