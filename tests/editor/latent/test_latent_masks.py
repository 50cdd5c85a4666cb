"""Latent regions (the shared appearance masks), the pipeline's crop mask, paste-back, strength mapping."""

from __future__ import annotations

import numpy as np
import pytest

from editor.alignment import align_face
from editor.appearance.regions import eye_band_mask
from editor.latent.backend import sampler_settings
from editor.latent.masks import REGIONS, crop_mask, region_mask
from editor.latent.paste import paste_region
from editor.latent.prompts import INPAINT, INSTRUCT


@pytest.fixture(scope="module")
def synthetic(sample_rgb, sample_face):
    """The sample photo and its analysed face."""
    return sample_rgb, sample_face


def test_the_eye_band_covers_both_eyes_and_brows_but_not_the_mouth(synthetic):
    image, face = synthetic
    band = eye_band_mask(face.landmarks, image.shape[:2]).full()
    for index, least in ((468, 0.99), (473, 0.99), (33, 0.9), (263, 0.9), (105, 0.5), (334, 0.5)):
        x, y = face.landmarks[index, :2]  # iris centres, outer eye corners (full), brows (at least soft)
        assert band[int(round(y)), int(round(x))] >= least, index
    for index in (13, 14, 152):  # lips, chin
        x, y = face.landmarks[index, :2]
        assert band[int(round(y)), int(round(x))] == 0.0, index


@pytest.mark.parametrize("name", sorted(set(REGIONS) - {"hair"}))
def test_every_region_is_a_soft_mask_on_the_face(synthetic, name):
    image, face = synthetic
    region = region_mask(name, face.landmarks, image)
    assert region.support > 300 and region.alpha.min() >= 0 and region.alpha.max() == 1


def test_the_crop_mask_is_the_region_on_the_aligned_crop(synthetic):
    image, face = synthetic
    region = region_mask("eyes", face.landmarks, image)
    crop = align_face(image, face.points5, 64)
    mask = crop_mask(region, crop.matrix, 64)
    assert mask.shape == (64, 64) and set(np.unique(mask)) <= {0.0, 1.0}
    eyes = np.round(crop.matrix[:, :2] @ face.points5[:2].T + crop.matrix[:, 2:]).astype(int).T  # (2, 2)
    assert all(mask[y, x] == 1.0 for x, y in eyes)
    assert 0.05 < mask.mean() < 0.6  # a band, not the whole crop


def test_paste_back_changes_only_the_region(synthetic):
    image, face = synthetic
    region = region_mask("beard", face.landmarks, image)
    crop = align_face(image, face.points5, 64)
    generated = np.full((64, 64, 3), (0, 255, 0), np.uint8)
    pasted = paste_region(image, generated, crop.inverse, region)
    inside = region.full() > 0
    assert np.array_equal(pasted[~inside], image[~inside])  # bit-identical outside the region
    core = region.full() > 0.99
    assert core.any() and np.all(pasted[core][:, 1] > 200)  # the generated colour, where the mask is full


def test_the_strength_mapping_runs_the_requested_steps_and_matches_the_usual_defaults_at_1():
    for magnitude in (0.05, 0.3, 0.7, 1.0, 1.4, 2.0):
        for steps in (1, 2, 5, 25):
            settings = sampler_settings(INPAINT, magnitude, steps)
            assert settings.denoising_steps == int(settings.num_inference_steps * settings.strength) == steps
    at_one = sampler_settings(INPAINT, 1.0, 25)
    assert at_one.strength == pytest.approx(0.8) and at_one.guidance_scale == pytest.approx(7.5)
    assert sampler_settings(INPAINT, 1.4, 10).strength == 1.0
    instruct = sampler_settings(INSTRUCT, 1.0, 20)
    assert (instruct.num_inference_steps, instruct.guidance_scale) == (20, 7.5)
    assert instruct.image_guidance_scale == 1.5
    weaker = sampler_settings(INSTRUCT, 0.3, 20)
    assert weaker.guidance_scale < 7.5 and weaker.image_guidance_scale > 1.5  # closer to the photo
