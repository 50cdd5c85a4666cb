"""Judging turns: each expectation kind passes and fails on the right numbers (no models needed)."""

from __future__ import annotations

import numpy as np
import pytest

from editor.face import Face
from editor.requests import Command, EditRequest, ParseResult
from eval.expectations import FAIL, NA, PASS, TurnFacts, judge_turn, monotonic_check
from eval.measure import EditMeasure, PhotoMeasure
from eval.runner import make_parser
from eval.suite_schema import Expect


def _face(**shapes: float) -> Face:
    return Face(
        box=np.array([10, 10, 100, 100], np.float32),
        score=1.0,
        points5=np.zeros((5, 2), np.float32),
        landmarks=np.zeros((478, 3), np.float32),
        blendshapes=shapes,
        pose=np.eye(4, dtype=np.float32),
        yaw=0.0,
        pitch=0.0,
        roll=0.0,
    )


def _photo(emotion: dict[str, float] | None = None, **shapes: float) -> PhotoMeasure:
    probabilities = {
        "angry": 0.0,
        "disgust": 0.0,
        "fear": 0.0,
        "happy": 0.0,
        "sad": 0.0,
        "surprise": 0.0,
        "neutral": 1.0,
    } | (emotion or {})
    return PhotoMeasure(face=_face(**shapes), emotion=probabilities)


def _measure(identity: float | None = 0.9, **extra) -> EditMeasure:
    values = dict(
        identity=identity,
        identity_scorer="sface",
        identity_threshold=0.409,
        identity_calibrated=True,
        lpips_outside=0.0,
        changed_fraction=0.0,
        mean_abs_change_outside=0.0,
        psnr_db=30.0,
        ssim=0.9,
    )
    return EditMeasure(**(values | extra))


def _facts(after: PhotoMeasure, *, previous: PhotoMeasure | None = None, edited=True, **extra) -> TurnFacts:
    original = _photo(mouthSmileLeft=0.1, mouthSmileRight=0.1, browDownLeft=0.2)
    values = dict(
        parse=ParseResult(requests=(EditRequest(attribute="happy", strength=0.7),)),
        state=(EditRequest(attribute="happy", strength=0.7),),
        reply="Editing her: happy.",
        error=None,
        changed=True,
        edited=edited,
        latency_ms=500.0,
        before_original=original,
        before_previous=previous or original,
        after=after,
        measure=_measure(),
    )
    return TurnFacts(**(values | extra))


def _status(expect: dict, facts: TurnFacts, kind: str) -> str:
    return next(c.status for c in judge_turn(Expect.model_validate(expect), facts) if c.kind == kind)


SMILE = _photo({"happy": 0.6, "neutral": 0.4}, mouthSmileLeft=0.5, mouthSmileRight=0.3, browDownLeft=0.21)


@pytest.mark.parametrize(
    ("spec", "status"),
    [
        ({"up": ["mouthSmileLeft", "mouthSmileRight"], "margin": 0.25}, PASS),  # mean +0.30
        ({"up": ["mouthSmileLeft", "mouthSmileRight"], "margin": 0.35}, FAIL),
        ({"down": ["mouthSmileLeft"], "margin": 0.05}, FAIL),
        ({"unchanged": ["browDownLeft"], "margin": 0.05}, PASS),  # +0.01
        ({"unchanged": ["browDownLeft", "mouthSmileRight"], "margin": 0.05}, FAIL),  # +0.2 on one
        ({"up": ["mouthSmileLeft"], "margin": 0.05, "versus": "previous"}, FAIL),  # no change vs previous
    ],
)
def test_blendshape_expectations(spec, status):
    assert _status({"blendshapes": spec}, _facts(SMILE, previous=SMILE), "blendshapes") == status


def test_emotion_expectations():
    facts = _facts(SMILE)
    assert _status({"emotion": {"class": "happy", "rise": 0.5}}, facts, "emotion") == PASS
    assert _status({"emotion": {"class": "happy", "rise": 0.7}}, facts, "emotion") == FAIL
    assert _status({"emotion": {"class": "happy", "min": 0.5, "top": True}}, facts, "emotion") == PASS
    assert _status({"emotion": {"class": "sad", "top": True}}, facts, "emotion") == FAIL


def test_identity_latency_and_unmeasurable_checks():
    assert _status({"identity": "calibrated"}, _facts(SMILE), "identity") == PASS
    assert _status({"identity": {"min": 0.95}}, _facts(SMILE), "identity") == FAIL
    assert _status({"identity": "calibrated"}, _facts(SMILE, edited=False), "identity") == NA
    assert _status({"identity": "calibrated"}, _facts(SMILE, measure=_measure(None)), "identity") == FAIL
    assert _status({"latency_ms": 400}, _facts(SMILE), "latency") == FAIL
    no_face = PhotoMeasure(face=None, emotion=None)
    assert _status({"blendshapes": {"up": ["mouthSmileLeft"]}}, _facts(no_face), "blendshapes") == NA


def test_parse_state_command_reply_and_change_checks():
    facts = _facts(SMILE)
    assert _status({"requests": [{"attribute": "happy", "strength": 0.7}]}, facts, "requests") == PASS
    assert _status({"requests": [{"attribute": "happy", "strength": 1.0}]}, facts, "requests") == FAIL
    assert _status({"state": [{"attribute": "happy", "range": [0.5, 0.8]}]}, facts, "state") == PASS
    assert _status({"command": "none"}, facts, "command") == PASS
    assert _status({"command": {"name": "undo"}}, facts, "command") == FAIL
    undo = _facts(SMILE, parse=ParseResult(command=Command(name="undo")))
    assert _status({"command": {"name": "undo"}}, undo, "command") == PASS
    assert _status({"reply_contains": "HAPPY"}, facts, "reply") == PASS
    assert _status({"changed": False}, facts, "changed") == FAIL
    assert _status({}, _facts(SMILE, error="No face found."), "error") == FAIL
    assert _status({"error": True}, _facts(SMILE, error="No face found."), "error") == PASS


def test_locality_and_reference_checks():
    moved = _facts(SMILE, measure=_measure(changed_fraction=0.05, lpips_outside=0.02))
    assert _status({"locality": {"max_changed_fraction": 0.01}}, moved, "locality") == FAIL
    assert _status({"locality": {"max_lpips_outside": 0.05}}, moved, "locality") == PASS
    closer = _facts(SMILE, measure=_measure(reference_landmarks_edit=0.03, reference_landmarks_original=0.04))
    farther = _facts(
        SMILE, measure=_measure(reference_landmarks_edit=0.05, reference_landmarks_original=0.04)
    )
    spec = {"reference": {"name": "happy"}}
    assert _status(spec, closer, "reference") == PASS
    assert _status(spec, farther, "reference") == FAIL
    assert _status(spec, _facts(SMILE), "reference") == NA


def test_monotonic_check():
    assert monotonic_check([0.3, 0.7, 1.0], [0.1, 0.2, 0.19]).status == PASS  # within the 0.02 slack
    assert monotonic_check([0.3, 0.7, 1.0], [0.1, 0.3, 0.2]).status == FAIL
    assert monotonic_check([1.0, 0.3], [0.3, 0.1]).status == PASS  # sorted by strength


def test_llm_without_configuration_is_a_clear_error(monkeypatch):
    pytest.importorskip("langchain_core")
    from editor.errors import FacechatError

    for name in ("FACECHAT_LLM_BASE_URL", "FACECHAT_LLM_API_KEY", "FACECHAT_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(FacechatError, match="FACECHAT_LLM_BASE_URL"):
        make_parser(True)
