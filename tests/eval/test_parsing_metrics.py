"""Parsing metrics: strength bands, signs, values, commands, whole-turn and slot accuracy."""

from __future__ import annotations

import pytest

from editor.requests import Command, EditRequest
from eval.metrics.parsing import command_ok, score_requests, sign_ok, strength_ok, summarize


def req(attribute, strength, value=None):
    return EditRequest(attribute=attribute, strength=strength, value=value)


@pytest.mark.parametrize(
    ("predicted", "expected", "ok"),
    [
        (0.3, {"strength": 0.3}, True),
        (0.35, {"strength": 0.3}, True),  # same band
        (0.5, {"strength": 0.3}, False),
        (0.8, {"strength": 0.8}, True),
        (0.62, {"strength": 0.7}, True),
        (-0.7, {"strength": 0.7}, False),  # same band, wrong sign
        (0.52, {"strength": 0.55}, True),  # within tolerance
        (0.9, {"range": [0.75, 1.2]}, True),
        (0.7, {"range": [0.75, 1.2]}, False),
        (-0.2, {"sign": -1}, True),
    ],
)
def test_strength_ok(predicted, expected, ok):
    assert strength_ok(predicted, expected) is ok


def test_sign_and_command():
    assert sign_ok(-0.5, {"strength": -0.7}) and not sign_ok(0.5, {"sign": -1})
    assert command_ok(None, None) and not command_ok(Command(name="undo"), None)
    assert command_ok(Command(name="more", factor=2.0), {"name": "more", "factor": 2.0})
    assert not command_ok(Command(name="more", factor=1.25), {"name": "more", "factor": 2.0})
    assert not command_ok(Command(name="less"), {"name": "more"})


def test_whole_turn_and_slots():
    right = score_requests(
        [req("happy", 0.3), req("hair_color", 0.7, "red")],
        [
            {"attribute": "happy", "strength": 0.3},
            {"attribute": "hair_color", "strength": 0.7, "value": "red"},
        ],
    )
    assert right.whole and right.correct["attribute"] == 2 and right.correct["value"] == 1
    wrong_value = score_requests(
        [req("hair_color", 0.7, "blue")], [{"attribute": "hair_color", "value": "red"}]
    )
    assert not wrong_value.whole and wrong_value.correct["value"] == 0
    extra = score_requests([req("happy", 0.7), req("sad", 0.7)], [{"attribute": "happy", "strength": 0.7}])
    assert not extra.whole and extra.total["attribute"] == 2 and extra.correct["attribute"] == 1
    missing = score_requests([], [{"attribute": "happy", "strength": 0.7}])
    assert not missing.whole and missing.correct["attribute"] == 0
    instead = score_requests([], [], predicted_instead=False, expected_instead=True)
    assert not instead.whole
    summary = summarize([right, wrong_value, extra, missing])
    assert summary.turns == 4 and summary.whole_turn_accuracy == pytest.approx(0.25)
    assert summary.slot_counts["attribute"] == (4, 6)
    assert summary.slot_accuracy["command"] == pytest.approx(1.0)


def test_benchmark_files_are_big_enough_and_valid():
    from editor import vocabulary as vocab
    from eval.parsing_benchmark import load

    singles, dialogues = load("singles.yaml"), load("dialogues.yaml")
    assert len(singles) >= 150 and len(dialogues) >= 15
    for item in singles:
        for request in item["expect"].get("requests") or []:
            assert request["attribute"] in vocab.ATTRIBUTE_NAMES
    for dialogue in dialogues:
        for turn in dialogue["turns"]:
            for request in turn["state"]:
                assert request["attribute"] in vocab.ATTRIBUTE_NAMES


def test_the_llm_benchmark_never_credits_the_offline_fallback():
    from assistant.parsing.llm import FALLBACK_NOTE
    from editor.requests import ParseResult
    from eval.parsing_benchmark import _without_fallback

    smile = (EditRequest(attribute="happy", strength=0.7),)
    answers = {
        "model": ParseResult(requests=smile, parser="llm"),
        "fell back": ParseResult(requests=smile, notes=(f"{FALLBACK_NOTE}: timeout",)),
    }
    calls = []
    scored = _without_fallback(answers.__getitem__, calls)
    assert scored("model").requests == smile
    assert scored("fell back").requests == () and scored("fell back").parser == "llm"
    assert calls == [None, f"{FALLBACK_NOTE}: timeout", f"{FALLBACK_NOTE}: timeout"]
