"""Training data for the Flow VAE: colour transfer, flips, loading a pair folder, label directions."""

from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
import pytest
import torch

from editor.fvae.data import hflip, load_pairs, reinhard_transfer
from editor.fvae.labels import MIN_REAL_PAIRS, Labels, fit_labels
from editor.fvae.model import FlowVAE, FVAEConfig
from editor.images import save_image

TINY = FVAEConfig(
    image_size=32, latent_size=4, latent_channels=4, base_channels=4, max_channels=8, mask_channels=2
)


def test_reinhard_transfer_takes_the_target_colour_statistics():
    rng = np.random.default_rng(0)
    source = rng.integers(60, 120, (32, 32, 3), dtype=np.uint8)
    target = np.clip(rng.normal(170, 20, (32, 32, 3)), 0, 255).astype(np.uint8)
    moved = reinhard_transfer(source, target)
    lab = [cv2.cvtColor(x, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(float) for x in (moved, target)]
    assert np.allclose(lab[0].mean(0), lab[1].mean(0), atol=2.0)
    assert np.allclose(lab[0].std(0), lab[1].std(0), atol=2.0)


def test_hflip_mirrors_images_and_negates_horizontal_flow():
    source, target = torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 4)
    flow = torch.zeros(1, 2, 4, 4)
    flow[0, 0, :, 0], flow[0, 1, :, 0] = 0.5, 0.25  # the left column moves right and down
    s, t, f = hflip(source, target, flow)
    assert torch.equal(s[..., 0], source[..., -1]) and torch.equal(t[..., -1], target[..., 0])
    assert torch.all(f[0, 0, :, -1] == -0.5) and torch.all(f[0, 1, :, -1] == 0.25)


@pytest.fixture
def pair_folder(tmp_path):
    """A hand-made pair folder: 12 synthetic and MIN_REAL_PAIRS real training pairs, 2 validation pairs."""
    rng = np.random.default_rng(1)
    (tmp_path / "images").mkdir()
    (tmp_path / "flows").mkdir()
    rows = []
    for i in range(12 + MIN_REAL_PAIRS + 2):
        kind = "synthetic" if i < 12 else "real"
        split = "val" if i >= 12 + MIN_REAL_PAIRS else "train"
        for end in ("src", "tgt"):
            save_image(
                rng.integers(0, 255, (32, 32, 3), dtype=np.uint8), tmp_path / "images" / f"{i}_{end}.png"
            )
        flow = None
        if kind == "synthetic":
            flow = f"flows/{i}.npy"
            np.save(tmp_path / flow, np.full((32, 32, 2), 0.01 * i, np.float16))
        attribute = ("happy", "sad")[i % 2] if kind == "synthetic" else "happy"
        strength = 1.0 if kind == "synthetic" else (1.0 if i % 2 else -1.0)
        rows.append(
            {
                "id": str(i),
                "face_id": f"p/{i}",
                "split": split,
                "kind": kind,
                "photo_state": "neutral",
                "source": f"images/{i}_src.png",
                "target": f"images/{i}_tgt.png",
                "flow": flow,
                "label": attribute,
                "requests": [{"attribute": attribute, "strength": strength, "steps": 1}],
                "source_requests": [],
            }
        )
    (tmp_path / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def test_load_pairs_reads_one_split(pair_folder):
    train = load_pairs([pair_folder], "train")
    assert len(train) == 12 + MIN_REAL_PAIRS and train.sources.shape == (len(train), 3, 32, 32)
    assert int(train.has_flow.sum()) == 12
    source, target, flow = train.batch(torch.tensor([3]))
    assert flow.shape == (1, 2, 32, 32) and float(flow.mean()) == pytest.approx(0.03, abs=1e-3)
    assert len(load_pairs([pair_folder], "val")) == 2
    with pytest.raises(ValueError, match="No test pairs"):
        load_pairs([pair_folder], "test")


def test_fit_labels_of_the_pixel_vae_baseline_keep_the_pairs_flows(pair_folder):
    """The rgb baseline decodes images, no flow: its labels still get directions, and the average flows
    of the synthetic pairs' own flows (a 45-minute training run crashed here at its last step)."""
    torch.manual_seed(0)
    rgb = FlowVAE(dataclasses.replace(TINY, decoder_output="rgb")).eval()
    labels = fit_labels(rgb, load_pairs([pair_folder], "train"))
    assert "real" in labels.sources["happy"] and labels.directions["happy"].shape == (4, 4, 4)
    assert labels.average_flows["happy"].shape == (32, 32, 2)
    assert "happy@synthetic" not in labels.average_flows


def test_fit_labels_and_round_trip(pair_folder, tmp_path):
    torch.manual_seed(0)
    labels = fit_labels(FlowVAE(TINY).eval(), load_pairs([pair_folder], "train"))
    assert {"happy", "sad", "happy@synthetic"} <= set(labels.directions)
    assert labels.directions["happy"].shape == (4, 4, 4)
    assert "real" in labels.sources["happy"] and labels.average_flows["sad"].shape == (32, 32, 2)
    labels.save(tmp_path)
    again = Labels.load(tmp_path)
    assert np.allclose(again.directions["sad"], labels.directions["sad"], atol=1e-4)
    with pytest.raises(KeyError, match="knows"):
        again.direction("glasses")
