"""The Flow VAE model on a tiny seeded configuration: shapes, the warp, the losses, save/load."""

from __future__ import annotations

import math
import os
import stat

import pytest
import torch

from editor.errors import ModelFileError
from editor.fvae.model import FlowVAE, FVAEConfig, flow_coherence, kl_divergence

TINY = FVAEConfig(
    image_size=32, latent_size=4, latent_channels=4, base_channels=4, max_channels=8, mask_channels=2
)


@pytest.fixture
def model() -> FlowVAE:
    torch.manual_seed(0)
    return FlowVAE(TINY)


def test_shapes_and_flow_bound(model):
    source, target = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    out = model(source, target, sample=False)
    assert out.mu.shape == out.logvar.shape == out.z.shape == (2, 4, 4, 4)
    assert out.flow.shape == (2, 2, 32, 32) and out.native_flow.shape == (2, 2, 16, 16)
    assert out.flow.abs().max() <= TINY.flow_scale
    assert out.prediction.shape == (2, 3, 32, 32)
    assert model.confidence(source, out.z).shape == (2, 1, 32, 32)


def test_warp_follows_the_flow_convention():
    image = torch.rand(1, 3, 8, 8)
    assert torch.allclose(FlowVAE.warp(image, torch.zeros(1, 2, 8, 8)), image, atol=1e-6)
    # A flow of +1 pixel in x (2 / width normalised units) reads each pixel's right neighbour.
    shift = torch.zeros(1, 2, 8, 8)
    shift[:, 0] = 2.0 / 8
    warped = FlowVAE.warp(image, shift)
    assert torch.allclose(warped[..., :-1], image[..., 1:], atol=1e-5)


def test_reparameterisation_uses_the_noise_and_the_mean():
    torch.manual_seed(0)
    mu, logvar = torch.zeros(1000, 4), torch.full((1000, 4), math.log(4.0))
    z = FlowVAE.reparameterize(mu, logvar)
    assert abs(float(z.std()) - 2.0) < 0.1
    assert kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4)) == 0


def test_coherence_is_zero_for_constant_flow_and_ignores_colour_edges():
    target = torch.rand(1, 3, 16, 16)
    assert float(flow_coherence(torch.full((1, 2, 16, 16), 0.1), target)) == pytest.approx(0.0, abs=1e-6)
    flow = torch.zeros(1, 2, 16, 16)
    flow[..., 8:] = 0.2  # the flow changes between columns 7 and 8
    flat = torch.full((1, 3, 16, 16), 0.5)
    edge = flat.clone()
    edge[..., 8:] = 1.0  # ... and so does the target's colour there
    assert float(flow_coherence(flow, edge)) < 0.01 * float(flow_coherence(flow, flat))


def test_training_step_lowers_the_loss(model):
    torch.manual_seed(1)
    smooth = torch.nn.functional.interpolate(torch.rand(4, 3, 8, 8), size=(32, 32), mode="bilinear")
    source = smooth  # (4, 3, 32, 32) smooth images, so a small shift is learnable from the pair
    target = FlowVAE.warp(source, torch.full((4, 2, 32, 32), 0.1))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(30):
        terms = model.losses(source, target)
        optimizer.zero_grad()
        terms["loss"].backward()
        optimizer.step()
        first = first if first is not None else float(terms["reconstruction"].detach())
    assert float(model.losses(source, target)["reconstruction"]) < 0.9 * first
    assert set(terms) == {"reconstruction", "kl", "coherence", "loss"}


def test_mask_loss_trains_only_the_mask(model):
    source, target = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    labels, _, _ = model.soft_labels(source, target)
    assert labels.shape == (2, 1, 32, 32) and float(labels.min()) >= 0 and float(labels.max()) <= 1
    model.mask_loss(source, target).backward()
    mask_ids = {id(p) for p in model.mask_parameters()}
    for parameter in model.parameters():
        has_grad = parameter.grad is not None and bool(parameter.grad.abs().sum() > 0)
        if id(parameter) not in mask_ids:
            assert not has_grad


def test_save_and_load_round_trip(model, tmp_path):
    model.eval()
    model.save_pretrained(tmp_path)
    loaded = FlowVAE.from_pretrained(tmp_path)
    assert loaded.config == model.config
    source, target = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    assert torch.equal(loaded(source, target, sample=False).flow, model(source, target, sample=False).flow)


def test_saved_weights_get_the_umasks_ordinary_mode(model, tmp_path):
    previous = os.umask(0o022)
    try:
        model.save_pretrained(tmp_path)
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "model.safetensors").stat().st_mode) == 0o644


def test_missing_files_say_what_to_do(tmp_path):
    with pytest.raises(ModelFileError, match="config.json"):
        FlowVAE.from_pretrained(tmp_path)


def test_rgb_baseline_and_paper_size():
    rgb = FlowVAE(FVAEConfig(**{**TINY.__dict__, "decoder_output": "rgb"}))
    out = rgb(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32))
    assert out.flow is None and out.prediction.shape == (1, 3, 32, 32)
    paper = FVAEConfig.paper()
    assert (paper.latent_channels, paper.latent_size, paper.image_size) == (1024, 4, 128)
    with pytest.raises(AssertionError, match="power of two"):
        FVAEConfig(image_size=100)


def test_flow_supervision_counts_only_pairs_with_ground_truth(model):
    source = torch.rand(2, 3, 32, 32)
    truth = torch.full((2, 2, 32, 32), 0.1)
    none = model.losses(source, source, truth, torch.tensor([False, False]))
    some = model.losses(source, source, truth, torch.tensor([True, False]))
    assert float(none["flow_supervision"]) == 0.0
    # The untrained flow is zero: the error is 0.1 normalised = 1.6 px on each of 2 x 32 x 32 values, / 2.
    assert float(some["flow_supervision"]) == pytest.approx(1.6**2 * 2 * 32 * 32 / 2, rel=1e-3)
