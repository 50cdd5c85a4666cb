"""The held-out split, the registered real pairs, the photo-size field the completion stage reads, and
resumable training."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from editor.alignment import align_face, feathered_mask
from editor.face import Face
from editor.fvae.edit import moved_landmarks, warp_photo
from editor.fvae.model import FlowVAE, FVAEConfig
from editor.fvae.real_pairs import register_pair
from editor.fvae.splits import fvae_split, held_out_people
from editor.fvae.train import STATE_FILE, TrainConfig, train
from editor.geometry.motion import RIGID_POINTS
from editor.images import save_image

TINY = FVAEConfig(
    image_size=32, latent_size=4, latent_channels=4, base_channels=4, max_channels=8, mask_channels=2
)


def test_held_out_people_never_train_nor_validate():
    held = sorted(held_out_people())
    assert len(held) == 27 and all(face_id.startswith("london/") for face_id in held)
    assert {fvae_split(face_id, hashed) for face_id in held for hashed in ("train", "val", "test")} == {
        "test"
    }
    assert fvae_split("canada/001", "val") == "val" and fvae_split("canada/001", "test") == "train"


def test_moved_landmarks_invert_a_backward_flow():
    flow = np.zeros((40, 50, 2), np.float32)
    flow[..., 0] = -3.0  # every target pixel samples the source 3 px to its left: content moves right
    points = np.array([[10.0, 10.0, 1.0], [20.0, 30.0, 2.0]])
    moved = moved_landmarks(points, flow)
    assert np.allclose(moved[:, 0], points[:, 0] + 3.0) and np.allclose(moved[:, 1:], points[:, 1:])


def test_warp_photo_gives_the_completion_stage_a_photo_size_field(sample_rgb, sample_face):
    crop = align_face(sample_rgb, sample_face.points5, 32)
    border = feathered_mask(32)
    crop_flow = np.zeros((32, 32, 2), np.float32)
    crop_flow[12:20, 12:20, 1] = 1.0
    warped = warp_photo(sample_rgb, crop, crop_flow * border[..., None], border)
    assert warped.image.shape == sample_rgb.shape and warped.flow.shape == (*sample_rgb.shape[:2], 2)
    assert warped.mask.max() > 0.9 and warped.mask[0, 0] == 0.0 and warped.flow[0, 0].tolist() == [0.0, 0.0]
    scale = np.linalg.norm(crop.inverse[:, 0])  # photo pixels per crop pixel
    assert np.abs(warped.flow).max() == pytest.approx(scale, rel=0.05)
    zero = warp_photo(sample_rgb, crop, np.zeros_like(crop_flow), border)
    assert np.array_equal(zero.image, sample_rgb)


def test_register_pair_maps_the_second_photo_onto_the_first_on_rigid_points(sample_rgb, sample_face):
    matrix = np.array([[0.9, -0.1, 30.0], [0.1, 0.9, 10.0]])  # the "smiling" photo: moved and turned
    import cv2

    moved_photo = cv2.warpAffine(sample_rgb, matrix, sample_rgb.shape[1::-1], flags=cv2.INTER_LINEAR)
    landmarks = sample_face.landmarks.copy()
    landmarks[:, :2] = landmarks[:, :2] @ matrix[:, :2].T.astype(np.float32) + matrix[:, 2].astype(np.float32)
    moved = replace(sample_face, landmarks=landmarks)
    pair = register_pair(sample_rgb, sample_face, moved_photo, moved, 64)
    rigid = list(RIGID_POINTS)
    assert np.abs(pair.neutral_landmarks[rigid] - pair.smiling_landmarks[rigid]).max() < 0.05
    assert np.abs(pair.neutral.astype(float) - pair.smiling.astype(float))[16:48, 16:48].mean() < 6.0
    assert isinstance(moved, Face)


@pytest.fixture
def small_folder(tmp_path):
    """12 synthetic training pairs and 4 validation pairs of made-up people, 32 x 32."""
    rng = np.random.default_rng(0)
    (tmp_path / "images").mkdir()
    (tmp_path / "flows").mkdir()
    rows = []
    for i in range(16):
        for end in ("src", "tgt"):
            save_image(
                rng.integers(0, 255, (32, 32, 3), dtype=np.uint8), tmp_path / "images" / f"{i}_{end}.png"
            )
        np.save(tmp_path / "flows" / f"{i}.npy", np.full((32, 32, 2), 0.01 * (i % 3), np.float16))
        rows.append(
            {
                "id": str(i),
                "face_id": f"p/{i}",
                "split": "val" if i >= 12 else "train",
                "kind": "synthetic",
                "photo_state": "neutral",
                "source": f"images/{i}_src.png",
                "target": f"images/{i}_tgt.png",
                "flow": f"flows/{i}.npy",
                "label": "happy",
                "requests": [{"attribute": "happy", "strength": 0.5 * (i % 3), "steps": 1}],
                "source_requests": [],
            }
        )
    (tmp_path / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def test_a_stopped_run_resumes_where_it_stopped(small_folder, tmp_path):
    config = TrainConfig(
        epochs=2,
        batch_size=4,
        mask_epochs=1,
        save_every=1,
        patience=5,
        expression_supervision=1.0,
        kl_warmup_steps=4,
    )
    state = tmp_path / "state"
    first = train([small_folder], tmp_path / "a", model_config=TINY, config=config, state_dir=state)
    assert (state / STATE_FILE).is_file() and [
        r["epoch"] for r in first["curves"] if r["stage"] == "flow"
    ] == [1, 2]
    saved = torch.load(state / STATE_FILE, weights_only=False)
    assert saved["epoch"] == 3 and saved["best_state"] is not None
    longer = replace(config, epochs=3)
    again = train([small_folder], tmp_path / "b", config=longer, state_dir=state, resume=True)
    epochs = [r["epoch"] for r in again["curves"] if r["stage"] == "flow"]
    assert epochs == [1, 2, 3] and (tmp_path / "b" / "labels.json").is_file()
    with pytest.raises(FileNotFoundError, match="Nothing to resume"):
        train([small_folder], tmp_path / "c", config=config, state_dir=tmp_path / "none", resume=True)


def test_a_new_run_starts_from_a_checkpoints_weights(small_folder, tmp_path):
    """--init-from: continuation training on new pairs starts from the given weights, not from scratch."""
    config = TrainConfig(epochs=1, batch_size=4, mask_epochs=1, patience=5, lr=0.0)  # lr 0: weights stay
    first = tmp_path / "first"
    train([small_folder], first, model_config=TINY, config=config)
    shipped = FlowVAE.from_pretrained(first)
    scratch = train([small_folder], tmp_path / "scratch", model_config=TINY, config=replace(config, seed=7))
    started = train([small_folder], tmp_path / "b", config=replace(config, seed=7), init_from=first)
    again = FlowVAE.from_pretrained(tmp_path / "b")
    for name, tensor in shipped.state_dict().items():
        torch.testing.assert_close(again.state_dict()[name], tensor)
    fresh = FlowVAE.from_pretrained(tmp_path / "scratch").state_dict()
    assert any(not torch.equal(fresh[n], t) for n, t in shipped.state_dict().items())
    assert started["parameters"] == scratch["parameters"]
    # training.json says where the run started, with the run that made that folder.
    summary = json.loads((tmp_path / "b" / "training.json").read_text())
    assert summary["started_from"]["folder"] == str(first)
    first_summary = json.loads((first / "training.json").read_text())
    assert summary["started_from"]["best_epoch"]["epoch"] == first_summary["best_epoch"]["epoch"]
    assert summary["started_from"]["started_from"] is None  # `first` started from scratch
    assert scratch["started_from"] is None
    with pytest.raises(ValueError, match="not both"):
        train(
            [small_folder],
            tmp_path / "c",
            config=config,
            state_dir=tmp_path / "s",
            resume=True,
            init_from=first,
        )
