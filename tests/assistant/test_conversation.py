"""The conversation state stack: merge, instead, more/less, undo/redo/reset, steps, save/load."""

from __future__ import annotations

import json
import os

import pytest

from assistant.conversation import SESSION_FILE, Conversation, SessionError
from editor.requests import Command, EditRequest, ParseResult


def edit(*pairs, instead=False, relative=(), keep=False):
    return ParseResult(
        requests=tuple(EditRequest(attribute=a, strength=s) for a, s in pairs),
        instead=instead,
        relative=relative,
        keep=keep,
    )


def cmd(name, factor=None):
    return ParseResult(command=Command(name=name, factor=factor))


def state(conversation):
    return {r.attribute: round(r.strength, 3) for r in conversation.edits}


def test_edits_merge_by_attribute_and_replace_absolute_values():
    c = Conversation()
    assert c.apply(edit(("happy", 0.7)), "smile").rerender
    c.apply(edit(("brow_raise", 0.5)))
    c.apply(edit(("happy", 0.3)))
    assert state(c) == {"happy": 0.3, "brow_raise": 0.5}
    assert len(c.states) == 4 and c.index == 3


def test_more_and_less_rescale_only_the_last_edit():
    c = Conversation()
    c.apply(edit(("happy", 0.7)))
    c.apply(edit(("brow_raise", 0.4)))
    c.apply(cmd("more", 1.5))
    assert state(c) == {"happy": 0.7, "brow_raise": 0.6}
    c.apply(cmd("less", 0.5))
    assert state(c) == {"happy": 0.7, "brow_raise": 0.3}


def test_more_with_nothing_to_rescale_says_so():
    outcome = Conversation().apply(cmd("more"))
    assert not outcome.rerender and "no edit" in outcome.reply.lower()


def test_instead_takes_the_previous_edit_back():
    c = Conversation()
    c.apply(edit(("glasses", 0.7)))
    c.apply(edit(("angry", 0.7)))
    c.apply(cmd("more"))
    c.apply(edit(("sad", 0.7), instead=True))
    assert state(c) == {"glasses": 0.7, "sad": 0.7}
    c.apply(edit(("surprised", 0.5), instead=True))
    assert state(c) == {"glasses": 0.7, "surprised": 0.5}


def test_instead_with_an_attribute_already_edited_replaces_it():
    c = Conversation()
    c.apply(edit(("age", 0.7)))
    c.apply(edit(("beard", 0.7)))
    c.apply(edit(("age", -0.7), instead=True))
    assert state(c) == {"age": -0.7, "beard": 0.7}


def test_relative_requests_rescale_an_existing_attribute_or_add():
    c = Conversation()
    c.apply(edit(("angry", 1.0)))
    c.apply(edit(("angry", -0.7), relative=("angry",)))
    assert 0.3 <= state(c)["angry"] < 1.0
    c.apply(edit(("happy", -0.5), relative=("happy",)))
    assert state(c)["happy"] == -0.5


def test_suppressing_an_edited_attribute_removes_it():
    c = Conversation()
    c.apply(edit(("happy", 0.7), ("brow_raise", 0.5)))
    c.apply(ParseResult(requests=(EditRequest(attribute="happy", strength=-0.7),), cancel=("happy",)))
    assert state(c) == {"brow_raise": 0.5}


def test_undo_redo_reset_walk_the_stack():
    c = Conversation()
    c.apply(edit(("happy", 0.7)))
    c.apply(edit(("mouth_open", 0.7)))
    c.apply(cmd("undo"))
    assert state(c) == {"happy": 0.7}
    c.apply(cmd("undo"))
    assert state(c) == {}
    assert "nothing to undo" in c.apply(cmd("undo")).reply.lower()
    c.apply(cmd("redo"))
    c.apply(cmd("redo"))
    assert state(c) == {"happy": 0.7, "mouth_open": 0.7}
    c.apply(cmd("reset"))
    assert state(c) == {}
    c.apply(cmd("undo"))
    assert state(c) == {"happy": 0.7, "mouth_open": 0.7}
    c.apply(cmd("undo"))
    c.apply(edit(("sad", 0.3), keep=True))  # a new edit drops the redo branch
    assert not c.can_redo() and state(c) == {"happy": 0.7, "sad": 0.3}


def test_show_steps_lists_turns_without_changing_state():
    c = Conversation()
    c.apply(edit(("disgusted", 0.3)), "make her slightly disgusted")
    c.apply(cmd("more", 1.25), "a bit more")
    outcome = c.apply(cmd("show_steps"), "show me the steps")
    assert not outcome.rerender
    assert outcome.steps_text is not None
    assert "make her slightly disgusted" in outcome.steps_text and "a bit more" in outcome.steps_text
    assert len(c.states) == 3


def test_empty_parse_keeps_state_and_passes_the_reply():
    c = Conversation()
    c.apply(edit(("happy", 0.7)))
    outcome = c.apply(ParseResult(reply="I only edit faces."))
    assert not outcome.rerender and outcome.reply == "I only edit faces."


def test_save_and_load_round_trip(tmp_path):
    c = Conversation()
    c.apply(edit(("happy", 0.7)), "smile")
    c.apply(edit(("glasses", 0.7)), "glasses")
    c.apply(cmd("undo"))
    path = c.save(tmp_path / "session")
    assert path.name == SESSION_FILE
    loaded = Conversation.load(tmp_path / "session")
    assert loaded.index == c.index and loaded.states == c.states
    assert loaded.apply(cmd("redo")).rerender and state(loaded) == {"happy": 0.7, "glasses": 0.7}


def test_a_crash_mid_write_leaves_the_previous_session(tmp_path, monkeypatch):
    c = Conversation()
    c.apply(edit(("happy", 0.7)))
    c.save(tmp_path)
    before = (tmp_path / SESSION_FILE).read_text()
    c.apply(edit(("sad", 0.5)))

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        c.save(tmp_path)
    assert (tmp_path / SESSION_FILE).read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == [SESSION_FILE]  # no temp file left behind


def test_load_errors_say_what_is_wrong(tmp_path):
    with pytest.raises(SessionError, match="No saved session"):
        Conversation.load(tmp_path)
    (tmp_path / SESSION_FILE).write_text("{not json")
    with pytest.raises(SessionError, match="not a valid"):
        Conversation.load(tmp_path)
    (tmp_path / SESSION_FILE).write_text(json.dumps({"version": 1, "index": 5, "states": [{}]}))
    with pytest.raises(SessionError, match="index"):
        Conversation.load(tmp_path)


def test_parsed_dialogue_end_to_end(parser):
    c = Conversation()
    for text in ("make her look slightly disgusted", "a bit more", "now raise her eyebrows", "undo"):
        c.apply(parser.parse(text), text)
    current = state(c)
    assert list(current) == ["disgusted"] and 0.3 < current["disgusted"] < 0.6


def test_cancel_removes_but_an_opposite_replaces():
    c = Conversation()
    c.apply(edit(("age", 0.7), ("glasses", 0.7)))
    c.apply(ParseResult(requests=(EditRequest(attribute="glasses", strength=-0.7),), cancel=("glasses",)))
    assert state(c) == {"age": 0.7}
    c.apply(edit(("age", -0.7)))  # "younger" after "older": an opposite, not a removal
    assert state(c) == {"age": -0.7}


def test_set_strength_applies_to_the_last_edit():
    c = Conversation()
    c.apply(edit(("sad", 0.7)))
    c.apply(edit(("happy", 0.4), keep=True))
    c.apply(ParseResult(set_strength=0.8), "make it 80%")
    assert state(c) == {"sad": 0.7, "happy": 0.8}
    assert "nothing" not in c.apply(cmd("undo")).reply.lower() and state(c) == {"sad": 0.7, "happy": 0.4}
    assert "no edit" in Conversation().apply(ParseResult(set_strength=0.5)).reply.lower()


def test_undo_with_instead_does_not_take_back_twice():
    c = Conversation()
    c.apply(edit(("angry", 0.7)))
    c.apply(edit(("glasses", 0.7)))
    both = ParseResult(
        requests=(EditRequest(attribute="sad", strength=0.7),),
        command=Command(name="undo"),
        instead=True,
        keep=True,
    )
    c.apply(both, "undo that and make her sad instead")
    assert state(c) == {"angry": 0.7, "sad": 0.7}
