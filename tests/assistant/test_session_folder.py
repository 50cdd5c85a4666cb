"""Session folders: written in one step, refused with a sentence when damaged, mixed or linked."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pytest

import assistant.session_folder as session_folder
from assistant.cli import main
from assistant.conversation import SessionError
from assistant.session import Assistant
from assistant.session_folder import MANIFEST_FILE, SessionFolder
from editor.editor import Editor


@pytest.fixture(scope="module")
def editor(analyzer) -> Editor:
    return Editor(analyzer=analyzer)


@pytest.fixture(scope="module")
def saved(editor, sample_rgb, tmp_path_factory):
    """A session folder of the sample photo with one edit, saved once for the module (copied per test)."""
    folder = tmp_path_factory.mktemp("saved") / "session"
    session = Assistant(sample_rgb, editor=editor)
    session.run("make her look slightly angry")
    session.save(folder)
    return folder


@pytest.fixture
def folder(saved, tmp_path):
    copy = tmp_path / "session"
    copy.mkdir()
    for path in saved.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    return copy


def _rewrite_manifest(folder):
    """Make the manifest match the folder's files again (a consistent, hostile folder)."""
    files = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.iterdir()
        if p.name != MANIFEST_FILE
    }
    (folder / MANIFEST_FILE).write_text(json.dumps({"version": 1, "files": files}))


def _refused(folder, editor, *words):
    with pytest.raises(SessionError) as raised:
        Assistant.load(folder, editor=editor)
    message = str(raised.value)
    assert all(word in message for word in words), message
    return message


def test_a_saved_folder_holds_its_files_and_a_manifest_and_loads(saved, editor, sample_rgb):
    names = {p.name for p in saved.iterdir()}
    assert names == {"session.json", "original.png", "current.png", "photo.json", MANIFEST_FILE}
    manifest = json.loads((saved / MANIFEST_FILE).read_text())
    assert set(manifest["files"]) == names - {MANIFEST_FILE}
    restored = Assistant.load(saved, editor=editor)
    assert np.array_equal(restored.original, sample_rgb) and restored.conversation.edits


def test_files_follow_the_umask(editor, sample_rgb, tmp_path):
    previous = os.umask(0o022)
    try:
        Assistant(sample_rgb, editor=editor).save(tmp_path / "s")
    finally:
        os.umask(previous)
    assert oct((tmp_path / "s").stat().st_mode & 0o777) == "0o755"
    assert {oct(p.stat().st_mode & 0o777) for p in (tmp_path / "s").iterdir()} == {"0o644"}


def test_a_file_from_another_save_is_refused_as_mixed(folder, editor, sample_rgb, tmp_path):
    other = Assistant(np.ascontiguousarray(sample_rgb[:, ::-1]), editor=editor)
    other.save(tmp_path / "other")
    (folder / "original.png").write_bytes((tmp_path / "other" / "original.png").read_bytes())
    _refused(folder, editor, "does not hold one save", "original.png", "comes from another")


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("photo.json", '{"face_index": "../../etc/passwd"}', ("photo.json",)),
        ("photo.json", "[]", ("photo.json",)),
        ("photo.json", '{"face_index": -1}', ("photo.json",)),
        ("photo.json", '{"face_index": 0, "path": "/etc"}', ("photo.json",)),
        ("session.json", "[" * 100_000 + "]" * 100_000, ("session.json", "nested too deeply")),
        (
            "session.json",
            '{"version": 1, "index": 0, "states": [{"edits": [{"attribute": 3}]}]}',
            ("session",),
        ),
        ("session.json", "\udcff\udcfe not text", ("session.json",)),
        (MANIFEST_FILE, '{"version": 1, "files": {"../x": "00"}}', ("manifest",)),
    ],
)
def test_damaged_files_are_refused_with_a_sentence(folder, editor, name, content, words):
    (folder / name).write_bytes(content.encode("utf-8", "surrogateescape"))
    _refused(folder, editor, *words)  # the file's own problem, not just "changed since the save"
    if name != MANIFEST_FILE:
        _rewrite_manifest(folder)  # consistent checksums: the schema alone must catch it
        _refused(folder, editor, *words)
    (folder / MANIFEST_FILE).unlink()  # an older facechat's folder: no checksums, the schema still applies
    if name != MANIFEST_FILE:
        _refused(folder, editor, *words)


def test_a_missing_or_non_file_photo_is_refused(folder, editor):
    (folder / "original.png").unlink()
    _refused(folder, editor, "original.png is missing")
    (folder / "original.png").mkdir()
    _refused(folder, editor, "original.png", "not a regular file")
    (folder / "original.png").rmdir()
    (folder / MANIFEST_FILE).unlink()
    _refused(folder, editor, "original.png is missing")  # photo.json says there was a photo


def test_a_photo_linked_from_outside_is_not_followed(folder, editor, tmp_path):
    outside = tmp_path / "elsewhere.png"
    outside.write_bytes((folder / "original.png").read_bytes())
    (folder / "original.png").unlink()
    (folder / "original.png").symlink_to(outside)
    _refused(folder, editor, "is a link")


def test_a_damaged_session_resumes_as_one_line_not_a_traceback(folder, capsys):
    (folder / "photo.json").write_text("[]")
    _rewrite_manifest(folder)
    assert main(["chat", "--session", str(folder), "--resume"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("facechat: error:") and "photo.json" in err and "internal error" not in err


def test_a_folder_of_other_files_is_not_replaced(editor, sample_rgb, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SessionError, match="not part of a facechat session"):
        Assistant(sample_rgb, editor=editor).save(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_saving_again_links_the_unchanged_original(folder, editor):
    session = Assistant.load(folder, editor=editor)
    before = (folder / "original.png").stat().st_ino
    session.save(folder)
    assert (folder / "original.png").stat().st_ino == before  # linked, not encoded again
    session.run("reset")
    session.save(folder)
    restored = Assistant.load(folder, editor=editor)
    assert restored.conversation.edits == () and np.array_equal(restored.original, session.original)


def test_without_an_atomic_exchange_an_interrupted_save_is_put_back(folder, editor, monkeypatch):
    monkeypatch.setattr(session_folder, "_exchange", lambda first, second: False)
    renames = []
    real_rename = os.rename

    def killed_after_the_first_rename(source, destination):
        real_rename(source, destination)
        renames.append(destination)
        if len(renames) == 1:
            raise KeyboardInterrupt  # the process dies between its two renames

    monkeypatch.setattr(os, "rename", killed_after_the_first_rename)
    session = Assistant.load(folder, editor=editor)
    with pytest.raises(KeyboardInterrupt):
        session.save(folder)
    monkeypatch.setattr(os, "rename", real_rename)
    assert not folder.exists()
    assert Assistant.load(folder, editor=editor).conversation.edits  # the previous save, whole


def test_leftovers_of_killed_saves_are_removed(folder, editor):
    dead = folder.parent / f".{folder.name}.new-999999999-abc"
    dead.mkdir()
    mine = folder.parent / f".{folder.name}.new-{os.getpid()}-abc"
    mine.mkdir()
    SessionFolder(folder).replace({"session.json": (folder / "session.json").read_bytes()})
    assert not dead.exists() and mine.exists()  # another thread of this process may be saving
