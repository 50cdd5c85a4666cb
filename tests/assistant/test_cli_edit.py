"""`facechat edit` and `facechat chat`, run in-process on the sample photo."""

from __future__ import annotations

import io
import json
import os

import numpy as np
from PIL import Image

from assistant.cli import main
from editor.images import load_image, sample_image


def test_edit_writes_the_photo_the_steps_and_json(tmp_path, capsys):
    out, gif = tmp_path / "out.png", tmp_path / "steps.gif"
    code = main(["edit", "sample", "raise her eyebrows", "-o", str(out), "--gif", str(gif), "--json"])
    assert code == 0
    record = json.loads(capsys.readouterr().out)
    assert [r["attribute"] for r in record["requests"]] == ["brow_raise"]
    assert record["identity"]["scorer"] == "sface" and record["identity"]["same_person"] is True
    assert record["output"] == str(out) and record["frames"] >= 1
    edited = load_image(out)
    assert edited.shape == (512, 512, 3) and not np.array_equal(edited, sample_image())
    with Image.open(gif) as animation:
        assert animation.n_frames >= 2


def test_an_edit_that_shows_no_steps_renders_none_and_gives_the_same_photo(tmp_path, capsys):
    with_steps, without = tmp_path / "with.png", tmp_path / "without.png"
    main(
        [
            "edit",
            "sample",
            "make her smile",
            "-o",
            str(with_steps),
            "--gif",
            str(tmp_path / "s.gif"),
            "--json",
        ]
    )
    assert json.loads(capsys.readouterr().out)["frames"] >= 1
    main(["edit", "sample", "make her smile", "-o", str(without), "--json"])
    assert json.loads(capsys.readouterr().out)["frames"] == 0  # no --gif, --mp4 or --frames: no previews
    assert np.array_equal(load_image(with_steps), load_image(without))


def test_edit_that_cannot_be_done_exits_1_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out.png"
    # Every attribute has a built-in backend; with the expressions-only backend a beard has none.
    assert main(["edit", "sample", "give him a beard", "--backend", "geometry", "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert "beard" in captured.out and "nothing was edited" in captured.err
    assert not out.exists()


def test_edit_of_a_bad_file_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_text("not a photo")
    assert main(["edit", str(bad), "smile"]) == 1
    err = capsys.readouterr().err
    assert "not an image" in err and "Traceback" not in err


def test_chat_runs_turns_and_saves_the_session(tmp_path, capsys, monkeypatch):
    session = tmp_path / "session"
    monkeypatch.setattr("sys.stdin", io.StringIO("make her smile\nundo\nshow me the steps\nquit\n"))
    assert main(["chat", "sample", "--session", str(session)]) == 0
    out = capsys.readouterr().out
    assert "happy" in out and "Undid" in out and "Session saved" in out
    assert {p.name for p in session.iterdir()} >= {"session.json", "original.png", "current.png"}
    monkeypatch.setattr("sys.stdin", io.StringIO("redo\n"))
    assert main(["chat", "--session", str(session), "--resume"]) == 0
    assert "Redid" in capsys.readouterr().out


def test_chat_prints_the_paths_of_the_a_b_candidates(tmp_path, capsys, monkeypatch):
    session = tmp_path / "session"
    said = "make her smile, but I'm not sure how much\nthe first\nstop\nquit\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(said))
    assert main(["chat", "sample", "--session", str(session)]) == 0
    out = capsys.readouterr().out
    folder = tmp_path / "session-choices"
    assert f"  A: {folder / 'A.png'}" in out and f"  B: {folder / 'B.png'}" in out
    a, b = load_image(folder / "A.png"), load_image(folder / "B.png")
    assert a.shape == (512, 512, 3) and not np.array_equal(a, b)
    assert "Chose" in out and "my estimate from your 1 answer" in out
    assert {p.name for p in session.iterdir()} >= {"session.json", "current.png"}  # no stray files


def test_the_default_output_keeps_a_jpeg_a_jpeg():
    from assistant.cli_edit import default_output

    assert (
        str(default_output("me.JPG")) == "me_edited.jpg"
        and str(default_output("sample")) == "sample_edited.png"
    )
    assert str(default_output("scan.tiff")) == "scan_edited.png"


def test_edit_says_where_it_wrote_and_writes_ordinary_modes(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    previous = os.umask(0o022)
    try:
        assert main(["edit", "sample", "raise her eyebrows", "--gif", "steps.gif"]) == 0
    finally:
        os.umask(previous)
    out = capsys.readouterr().out
    assert f"Saved the edited photo to {tmp_path / 'sample_edited.png'}." in out
    assert f"animated GIF to {tmp_path / 'steps.gif'}" in out
    assert {oct(p.stat().st_mode & 0o777) for p in tmp_path.iterdir()} == {"0o644"}
