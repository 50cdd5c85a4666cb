"""The Flow VAE training-pair generator on the sample photo: files, exact flows, determinism, splits."""

from __future__ import annotations

import json

import numpy as np
import pytest

from editor.backends.geometry import GeometryBackend
from editor.flow import flow_from_normalized, warp_image
from editor.geometry.pairs import PairConfig, generate, list_photos, read_manifest, split_of
from editor.images import load_image, save_image
from editor.requests import EditRequest


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory, sample_rgb, sample_face):
    """A London-layout folder: the sample as 'neutral', its geometry 'happy' edit as 'smiling'."""
    root = tmp_path_factory.mktemp("people") / "tiny"
    (root / "neutral").mkdir(parents=True)
    (root / "smiling").mkdir()
    save_image(sample_rgb, root / "neutral" / "astro.png")
    smiling = GeometryBackend().edit(sample_rgb, sample_face, [EditRequest(attribute="happy", strength=1.0)])
    save_image(smiling.image, root / "smiling" / "astro.png")
    return root


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, data_folder, analyzer):
    out = tmp_path_factory.mktemp("pairs")
    config = PairConfig(pairs_per_photo=4, expressive_fraction=0.5)
    summary = generate([data_folder], out, seed=3, config=config, analyzer=analyzer)
    return out, summary


def test_manifest_has_every_kind_and_the_files_exist(dataset):
    out, summary = dataset
    rows = read_manifest(out)
    kinds = {row["kind"] for row in rows}
    assert {"synthetic", "real"} <= kinds and summary["pairs"]["real"] == 2
    for row in rows:
        source, target = load_image(out / row["source"]), load_image(out / row["target"])
        assert source.shape == target.shape == (128, 128, 3)
        if row["flow"] is not None:
            assert np.load(out / row["flow"]).shape == (128, 128, 2)
            assert row["weights"] and row["label"]
    real = sorted(row["label"] for row in rows if row["kind"] == "real")
    assert real == ["-happy", "happy"]


def test_flows_map_source_onto_target(dataset):
    out, _ = dataset
    for row in read_manifest(out):
        if row["flow"] is None:
            continue
        source = load_image(out / row["source"]).astype(np.float32)
        target = load_image(out / row["target"]).astype(np.float32)
        flow = flow_from_normalized(np.load(out / row["flow"]).astype(np.float32))
        warped = warp_image(source, flow)
        # The warp explains the change: what is left is resampling noise, far below the change itself.
        assert np.abs(warped - target).mean() < 0.5 * np.abs(source - target).mean() + 0.05


def test_same_seed_same_pairs(dataset, data_folder, analyzer, tmp_path):
    out, _ = dataset
    config = PairConfig(pairs_per_photo=4, expressive_fraction=0.5)
    generate([data_folder], tmp_path, seed=3, config=config, analyzer=analyzer)
    first, again = read_manifest(out), read_manifest(tmp_path)
    assert [r["requests"] for r in first] == [r["requests"] for r in again]
    row = next(r for r in first if r["flow"])
    assert np.array_equal(np.load(out / row["flow"]), np.load(tmp_path / row["flow"]))
    other = generate([data_folder], tmp_path / "other", seed=4, config=config, analyzer=analyzer)
    assert other["pairs"]["real"] == 2
    assert [r["requests"] for r in read_manifest(tmp_path / "other")] != [r["requests"] for r in first]


def test_splits_are_by_person_and_fixed():
    ids = [f"london/{i:03d}" for i in range(200)]
    splits = [split_of(i) for i in ids]
    assert splits == [split_of(i) for i in ids]
    shares = {s: splits.count(s) / len(ids) for s in ("train", "val", "test")}
    assert 0.6 < shares["train"] < 0.9 and shares["val"] > 0.03 and shares["test"] > 0.05


def test_person_rows_share_a_split(dataset):
    out, summary = dataset
    rows = read_manifest(out)
    assert {row["split"] for row in rows} == {split_of("tiny/astro")}
    assert json.loads((out / "splits.json").read_text())["people"] == {"tiny/astro": split_of("tiny/astro")}
    assert summary["seed"] == 3


def test_list_photos_reads_both_layouts(data_folder, tmp_path):
    photos = list_photos(data_folder)
    assert {(p.face_id, p.state) for p in photos} == {("tiny/astro", "neutral"), ("tiny/astro", "smiling")}
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "a.jpg").write_bytes((data_folder / "neutral" / "astro.png").read_bytes())
    assert [p.state for p in list_photos(flat)] == ["photo"]
