"""The Flow VAE's routing: the benchmark's decision rule (eval.bench_fvae.decide) and the file the
registry reads (editor.backends.fvae.routed_attributes)."""

from __future__ import annotations

import json

from editor.backends.fvae import ROUTING_FILE, routed_attributes
from eval.bench_fvae import decide


def _edits(read: float, motion: float, identity: float) -> dict:
    return {"read_as_target": read, "motion_median": motion, "identity_median": identity}


def _smile(error: float, lpips: float, error_unedited: float = 0.03, lpips_unedited: float = 0.2) -> dict:
    return {
        "landmark_error_edited_median": error,
        "lpips_edited_median": lpips,
        "landmark_error_unedited_median": error_unedited,
        "lpips_unedited_median": lpips_unedited,
    }


def test_decide_routes_only_where_the_fvae_wins_and_keeps_identity():
    edits = {
        "fvae": {
            "happy@1": _edits(0.2, 0.08, 0.95),
            "sad@1": _edits(0.5, 0.05, 0.9),
            "angry@1": _edits(0.6, 0.05, 0.2),  # wins on the classifier, loses the person
            "surprised@1": _edits(0.6, 0.001, 0.99),  # "wins" without moving the face
        },
        "geometry": {
            "happy@1": _edits(0.5, 0.07, 0.94),
            "sad@1": _edits(0.3, 0.05, 0.9),
            "angry@1": _edits(0.3, 0.05, 0.9),
            "surprised@1": _edits(0.3, 0.05, 0.9),
        },
    }
    smiles = {"fvae": {"1": _smile(0.020, 0.18)}, "geometry": {"1": _smile(0.022, 0.19)}}
    result = decide(edits, smiles, threshold=0.4)
    assert result["routed"] == ["happy", "sad"]
    assert "identity" in result["verdicts"]["angry"]["reason"]
    assert not result["verdicts"]["surprised"]["fvae"]
    no_better_than_no_edit = {
        "fvae": {"1": _smile(0.020, 0.18, error_unedited=0.019)},
        "geometry": smiles["geometry"],
    }
    assert "happy" not in decide(edits, no_better_than_no_edit, threshold=0.4)["routed"]


def test_routed_attributes_need_the_file_and_the_checkpoint(tmp_path):
    assert routed_attributes(tmp_path) == frozenset()
    (tmp_path / ROUTING_FILE).write_text(json.dumps({"routed": ["happy"]}))
    assert routed_attributes(tmp_path) == frozenset()  # no weights: nothing routed
    (tmp_path / "model.safetensors").write_bytes(b"")
    assert routed_attributes(tmp_path) == {"happy"}
