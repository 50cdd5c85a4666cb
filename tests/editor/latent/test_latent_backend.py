"""The latent backend on tiny random-weight pipelines: masked sampling, paste-back, the identity gate."""

from __future__ import annotations

import numpy as np
import pytest

from editor.backends.registry import build_registry
from editor.editor import Editor
from editor.errors import ConfigError
from editor.identity import IdentityScorer
from editor.latent import progress
from editor.latent.backend import GENERATIVE_MARGIN, LatentBackend
from editor.latent.config import ENABLE_HINT, LatentConfig
from editor.latent.masks import region_mask
from editor.requests import EditRequest

GLASSES = EditRequest(attribute="glasses", strength=0.7, steps=2)


@pytest.fixture(scope="module")
def scorer() -> IdentityScorer:
    return IdentityScorer()


def _passing(folder, scorer) -> LatentBackend:
    """A backend whose own check lets every sample through (``identity_threshold=-1``)."""
    return LatentBackend(LatentConfig(model=folder, identity_threshold=-1.0, tries=1), scorer=scorer)


@pytest.mark.parametrize("family", ["inpaint", "instruct"])
def test_a_passing_sample_changes_only_the_region_and_reports_progress(
    tiny_pipelines, scorer, sample_rgb, sample_face, family
):
    backend = _passing(tiny_pipelines[family], scorer)
    steps: list[tuple[int, int]] = []
    with progress.reporting(lambda done, total, text: steps.append((done, total))):
        edit = backend.edit(sample_rgb, sample_face, [GLASSES])
    region = region_mask("eyes", sample_face.landmarks, sample_rgb).full() > 0
    assert edit.image.shape == sample_rgb.shape and edit.image.dtype == np.uint8
    assert np.array_equal(edit.image[~region], sample_rgb[~region])  # bit-identical outside the mask
    assert np.any(edit.image[region] != sample_rgb[region])
    assert edit.identity is not None and edit.identity.same_person and edit.identity.threshold == -1.0
    assert steps[0] == (0, 2) and steps[-1] == (2, 2)  # steps = denoising steps
    assert edit.diagnostics["samples"] == 1 and len(edit.frames) == 1


def test_random_weights_are_refused_and_the_original_comes_back_with_a_sentence(
    inpaint_folder, analyzer, scorer, sample_rgb
):
    config = LatentConfig(model=inpaint_folder, max_seconds=0.0)  # one sample, then the budget is spent
    editor = Editor(
        analyzer=analyzer, scorer=scorer, registry=build_registry("latent", latent=config), gate_tries=2
    )
    samples: list[int] = []
    with progress.reporting(lambda done, total, text: samples.append(done) if done == 0 else None):
        outcome = editor.render(sample_rgb, [GLASSES])
    assert outcome.image is sample_rgb and outcome.applied == () and outcome.frames == ()
    assert outcome.identity is not None and not outcome.identity.same_person
    assert outcome.identity.threshold == pytest.approx(scorer.threshold + GENERATIVE_MARGIN)
    (note,) = outcome.notes
    assert "without changing who the person is" in note and "left unchanged" in note
    assert "identity score fell to" in note and "sface" in note
    assert outcome.timings["renders"] == 3 and len(samples) == 1  # the gate's renders; the time budget


@pytest.mark.slow
def test_with_the_gates_forced_open_the_editor_keeps_everything_outside_the_region(
    instruct_folder, analyzer, sample_rgb
):
    config = LatentConfig(model=instruct_folder, identity_threshold=-1.0, tries=1)
    registry = build_registry("latent", latent=config)
    editor = Editor(analyzer=analyzer, scorer=IdentityScorer(threshold=-1.0), registry=registry)
    outcome = editor.render(sample_rgb, [EditRequest(attribute="beard", strength=-0.7, steps=2)])
    assert [r.attribute for r in outcome.applied] == ["beard"] and outcome.backends == ("latent",)
    region = region_mask("beard", outcome.face.landmarks, sample_rgb).full() > 0
    assert np.array_equal(outcome.image[~region], sample_rgb[~region])
    assert np.any(outcome.image[region] != sample_rgb[region])


@pytest.mark.slow
def test_the_fixed_seed_makes_a_turn_reproducible_and_retries_take_other_seeds(
    inpaint_folder, scorer, sample_rgb, sample_face
):
    first = _passing(inpaint_folder, scorer).edit(sample_rgb, sample_face, [GLASSES])
    again = _passing(inpaint_folder, scorer).edit(sample_rgb, sample_face, [GLASSES])
    assert np.array_equal(first.image, again.image)
    strict = LatentBackend(LatentConfig(model=inpaint_folder, identity_threshold=2.0, tries=2), scorer=scorer)
    refused = strict.edit(sample_rgb, sample_face, [GLASSES])
    assert refused.diagnostics["samples"] == 2 and not refused.identity.same_person
    weaker = strict.edit(sample_rgb, sample_face, [GLASSES], scale=0.5)  # the gate's retry: the next seeds
    assert weaker.diagnostics["samples"] == 2 and weaker.diagnostics["seed"] in (2.0, 3.0)
    assert not np.array_equal(weaker.image, refused.image)


def test_without_a_model_the_backend_is_absent_and_says_how_to_enable_it():
    with pytest.raises(ConfigError, match="FACECHAT_LATENT_MODEL"):
        LatentBackend(LatentConfig())
    assert build_registry("latent", latent=LatentConfig()).missing == ENABLE_HINT
