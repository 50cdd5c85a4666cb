"""Copying a reference photo's expression from the assistant: the words, the session, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.cli import main
from assistant.parsing.reference import mentions_reference, reference_strength
from assistant.session import Assistant
from editor.editor import Editor
from editor.images import save_image


@pytest.mark.parametrize(
    ("text", "strength"),
    [
        ("copy this expression", 1.0),
        ("make her smile like in this photo", 1.0),
        ("half as strong as in the photo", 0.5),
        ("make him look like the reference, but only slightly", 0.3),
        ("like in this picture at 30%", 0.3),
        ("give her the same smile as in the photo", 1.0),
    ],
)
def test_messages_that_point_at_the_reference_and_their_strength(text, strength):
    assert mentions_reference(text)
    assert reference_strength(text) == pytest.approx(strength)


@pytest.mark.parametrize("text", ["make her smile", "raise her eyebrows", "undo", "show me the steps"])
def test_ordinary_messages_do_not_point_at_a_reference(text):
    assert not mentions_reference(text)


@pytest.fixture(scope="module")
def editor(analyzer):
    return Editor(analyzer=analyzer)


@pytest.fixture(scope="module")
def reference(surprised_sample):
    return surprised_sample


def test_session_copies_the_reference_and_half_and_undo_work(editor, parser, sample_rgb, reference):
    session = Assistant(sample_rgb, editor=editor, parser=parser)
    turn = session.run("copy this expression")
    assert not turn.requests and "reference photo first" in turn.reply
    turn = session.run("make her look like in this photo", reference=reference)
    assert [r.attribute for r in turn.requests] == ["reference"] and turn.requests[0].strength == 1.0
    assert turn.identity.same_person and not np.array_equal(turn.image, sample_rgb)
    turn = session.run("half as strong as in the photo")
    assert turn.requests[0].strength == 0.5 and turn.requests[0].expression
    turn = session.run("make her angry")  # an emotion replaces the copied expression
    assert [r.attribute for r in turn.requests] == ["angry"]
    assert session.run("undo").requests[0].strength == 0.5


def test_a_reference_without_a_face_is_an_error_turn_and_the_session_survives(editor, parser, sample_rgb):
    session = Assistant(sample_rgb, editor=editor, parser=parser)
    turn = session.run("copy this expression", reference=np.full((200, 200, 3), 90, np.uint8))
    assert turn.error and "No face was found in the reference photo" in turn.error
    assert session.run("make her smile").requests[0].attribute == "happy"


def test_saved_session_keeps_the_copied_expression(editor, parser, sample_rgb, reference, tmp_path):
    session = Assistant(sample_rgb, editor=editor, parser=parser)
    session.run("copy this expression", reference=reference)
    session.save(tmp_path / "s")
    again = Assistant.load(tmp_path / "s", editor=editor, parser=parser)
    assert again.conversation.edits == session.conversation.edits
    assert np.array_equal(again.current, session.current)


def test_cli_edit_with_a_reference_writes_the_photo_and_the_steps_as_gif_and_mp4(
    tmp_path, reference, capsys, editor, monkeypatch
):
    pytest.importorskip("av")
    monkeypatch.setattr("assistant.session.shared_editor", lambda *args: editor)
    ref = save_image(reference, tmp_path / "ref.png")
    out, gif, mp4 = tmp_path / "out.png", tmp_path / "steps.gif", tmp_path / "steps.mp4"
    status = main(["edit", "sample", "copy this expression", "--reference", str(ref), "-o", str(out),
                   "--gif", str(gif), "--mp4", str(mp4), "--json"])  # fmt: skip
    record = json.loads(capsys.readouterr().out)
    assert status == 0 and record["requests"][0]["attribute"] == "reference"
    assert out.exists() and gif.exists() and record["mp4"] == str(mp4.resolve())
    from editor.video import probe

    assert probe(mp4).frames == record["frames"] + 1  # the original, then the K steps


def test_cli_video_edits_a_clip(tmp_path, sample_rgb, capsys, analyzer, monkeypatch):
    pytest.importorskip("av")
    from editor.video import probe
    from editor.video.synthetic import synthetic_clip

    monkeypatch.setattr("editor.video.pipeline.Editor", lambda: Editor(analyzer=analyzer))
    clip = synthetic_clip(sample_rgb, tmp_path / "in.mp4", frames=3)
    status = main(["video", str(clip), "make her look surprised", "-o", str(tmp_path / "out.mp4"), "--quiet"])
    assert status == 0 and "Edited 3 frames" in capsys.readouterr().out
    assert probe(tmp_path / "out.mp4").frames == 3
    assert main(["video", str(clip), "hello there", "-o", str(tmp_path / "x.mp4"), "--quiet"]) == 1


def test_cli_chat_copies_a_reference_and_writes_the_steps_as_gif_and_mp4(
    tmp_path, reference, capsys, editor, monkeypatch
):
    pytest.importorskip("av")
    from editor.video import probe

    monkeypatch.setattr("assistant.session.shared_editor", lambda *args: editor)
    said = iter(["copy this expression", "show me the steps as a video", "quit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(said))
    ref = save_image(reference, tmp_path / "ref.png")
    session = tmp_path / "s"
    assert main(["chat", "sample", "--session", str(session), "--reference", str(ref)]) == 0
    out = capsys.readouterr().out
    assert "Reference photo measured" in out and "steps:" in out
    steps = tmp_path / "s-steps"
    assert (steps / "steps.gif").exists() and probe(steps / "steps.mp4").frames >= 2
