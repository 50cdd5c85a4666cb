"""EditRequest, Command and ParseResult reject anything outside the vocabulary and its ranges."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from editor import vocabulary as vocab
from editor.requests import Command, EditRequest, ParseResult


def test_steps_default_by_family():
    assert EditRequest(attribute="happy", strength=0.3).steps == vocab.DEFAULT_STEPS["expression"]
    assert EditRequest(attribute="glasses", strength=0.7).steps == vocab.DEFAULT_STEPS["appearance"]
    assert EditRequest(attribute="happy", strength=0.3, steps=9).steps == 9


@pytest.mark.parametrize(
    "fields",
    [
        {"attribute": "hapy", "strength": 0.5},
        {"attribute": "Happy", "strength": 0.5},
        {"attribute": "happy", "strength": 2.5},
        {"attribute": "happy", "strength": -3},
        {"attribute": "happy", "strength": 0.5, "steps": 0},
        {"attribute": "happy", "strength": 0.5, "steps": 1000},
        {"attribute": "happy", "strength": 0.5, "value": "red"},
        {"attribute": "hair_color", "strength": 0.5, "value": "plaid"},
        {"attribute": "happy", "strength": 0.5, "colour": "red"},
    ],
)
def test_edit_request_rejects(fields):
    with pytest.raises(ValidationError):
        EditRequest(**fields)


def test_colour_values_are_canonicalised():
    assert EditRequest(attribute="hair_color", strength=0.7, value="Ginger").value == "red"


def test_edit_request_is_frozen_and_scaled_clips():
    request = EditRequest(attribute="angry", strength=1.5)
    with pytest.raises(ValidationError):
        request.strength = 0.1
    assert request.scaled(2.0).strength == vocab.MAX_STRENGTH
    assert request.scaled(0.5).strength == pytest.approx(0.75)


def test_command_factors():
    assert Command(name="more").factor > 1
    assert 0 < Command(name="less").factor < 1
    assert Command(name="undo").factor is None
    for bad in ({"name": "more", "factor": 0.5}, {"name": "less", "factor": 2}, {"name": "undo", "factor": 2},
                {"name": "explode"}, {"name": "more", "factor": 10}):  # fmt: skip
        with pytest.raises(ValidationError):
            Command(**bad)


def test_parse_result_consistency_and_json():
    request = EditRequest(attribute="happy", strength=0.7)
    with pytest.raises(ValidationError):
        ParseResult(requests=(request, request))
    with pytest.raises(ValidationError):
        ParseResult(requests=(request,), relative=("sad",))
    result = ParseResult(requests=(request,), command=Command(name="undo"), reply="ok")
    payload = result.to_json_dict()
    assert payload["requests"][0]["attribute"] == "happy"
    assert payload["command"] == {"name": "undo", "factor": None, "count": 1}
    assert payload["reply"] == "ok"
    assert ParseResult().is_empty and not result.is_empty
