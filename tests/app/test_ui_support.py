"""`assistant.ui_support`: photo opening, pictures for the screen, turn summaries, session zips, status."""

from __future__ import annotations

import io
import socket
import zipfile

import cv2
import numpy as np
import pytest

from assistant import ui_support as ui
from assistant.conversation import SessionError
from assistant.session import Assistant
from editor.editor import Editor, ExpressionCheck
from editor.errors import FaceSelectionError, ImageLoadError, NoFaceError
from editor.identity import IdentityResult


@pytest.fixture(scope="module")
def editor(analyzer) -> Editor:
    return Editor(analyzer=analyzer)


@pytest.fixture
def assistant(editor) -> Assistant:
    return Assistant(editor=editor)


@pytest.fixture(scope="module")
def two_faces(sample_rgb) -> np.ndarray:
    smaller = np.pad(cv2.resize(sample_rgb, (384, 384)), ((64, 64), (0, 0), (0, 0)), constant_values=255)
    return np.hstack([sample_rgb, smaller])


def test_open_photo_loads_the_largest_face(assistant, sample_rgb):
    photo = ui.open_photo(assistant, "sample")
    assert photo.face_index == 0 and len(photo.faces) == 1 and not photo.downscaled
    assert np.array_equal(assistant.original, sample_rgb)
    assert photo.message.startswith("Photo loaded (512×512).")


def test_open_photo_brings_a_huge_photo_down_and_says_so(assistant, sample_rgb):
    huge = cv2.resize(sample_rgb, (2600, 2600))
    photo = ui.open_photo(assistant, huge, max_side=1000)
    assert assistant.original.shape == (1000, 1000, 3) and photo.downscaled
    assert photo.original_size == (2600, 2600) and "1000×1000 copy" in photo.message


def test_several_faces_are_listed_and_one_can_be_chosen(assistant, two_faces):
    photo = ui.open_photo(assistant, two_faces)
    assert len(photo.faces) == 2 and photo.face_index == 0 and "I found 2 faces" in photo.message
    chosen = ui.choose_face(assistant, photo, 1)
    assert chosen.face_index == 1 and assistant.face_index == 1 and "face 2" in chosen.message
    with pytest.raises(FaceSelectionError, match="no face 3"):
        ui.choose_face(assistant, photo, 2)
    with pytest.raises(FaceSelectionError):
        ui.open_photo(assistant, two_faces, face_index=5)


def test_bad_photos_raise_friendly_errors_and_keep_the_previous_one(assistant, sample_rgb):
    ui.open_photo(assistant, "sample")
    with pytest.raises(ImageLoadError, match="not an image"):
        ui.open_photo(assistant, b"hello, world", name="notes.txt")
    with pytest.raises(NoFaceError):
        ui.open_photo(assistant, np.full((300, 300, 3), 128, np.uint8))
    assert np.array_equal(assistant.original, sample_rgb)


def test_numbered_faces_draws_a_box_per_face(two_faces, analyzer):
    faces = analyzer.analyze(two_faces)
    boxed = ui.numbered_faces(two_faces, faces, chosen=1)
    assert boxed.shape == two_faces.shape and not np.array_equal(boxed, two_faces)
    for face, colour in zip(faces, (ui._OTHER, ui._CHOSEN), strict=True):
        x, y, w, h = (int(round(v)) for v in face.box)
        edge = boxed[y + h // 2, max(0, x - 1) : x + 3]  # the box's left side
        assert (np.abs(edge.astype(int) - colour).sum(axis=1) < 60).any()


def test_wipe_puts_before_left_and_after_right():
    before = np.zeros((50, 100, 3), np.uint8)
    after = np.full((50, 100, 3), 200, np.uint8)
    out = ui.wipe(before, after, 0.3)
    assert (out[:, :25] == 0).all() and (out[:, 35:] == 200).all()
    assert (out[:, 30] == 255).all()  # the divide
    assert np.array_equal(ui.wipe(before, after, 0.0), after)
    assert np.array_equal(ui.wipe(before, after, 1.0), before)


def test_steps_gif_animates_the_frames_faithfully(sample_rgb):
    from PIL import Image, ImageSequence

    frames = [np.clip(sample_rgb.astype(int) + 12 * k, 0, 255).astype(np.uint8) for k in range(4)]
    gif = Image.open(io.BytesIO(ui.steps_gif(frames, frame_ms=80)))
    decoded = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)]
    assert len(decoded) == 6  # forward, then back without repeating the ends
    for shown, frame in zip(decoded[:4], frames, strict=True):
        assert np.abs(shown.astype(int) - frame).mean() < 6
    assert gif.info["duration"] == 80


def test_display_copy_limits_the_longest_side(sample_rgb):
    assert ui.display_copy(sample_rgb, 256).shape == (256, 256, 3)
    assert ui.display_copy(sample_rgb) is sample_rgb


def test_identity_badge_tells_the_truth():
    same = ui.identity_badge(IdentityResult(0.91, "sface", 0.41, True, True))
    assert same.colour == "green" and "same person" in same.label and "0.91" in same.label
    assert "0.410" in same.detail and "calibrated" in same.detail
    other = ui.identity_badge(IdentityResult(0.2, "sface", 0.41, False, True))
    assert other.colour == "red" and "different person" in other.label
    unsure = ui.identity_badge(IdentityResult(0.5, "arcface:x.onnx", 0.3, True, False))
    assert unsure.colour == "orange" and "uncalibrated" in unsure.detail
    assert ui.identity_badge(None) is None


def test_expression_readout_puts_measurable_big_changes_first():
    check = ExpressionCheck(
        attribute="happy", strength=0.7, change=0.2, appeared=True,
        blendshapes={"mouthSmileLeft": (0.1, 0.5, 1.0), "cheekSquintLeft": (0.0, 0.9, 1.0),
                     "mouthDimpleLeft": (0.1, 0.15, 1.0)},
    )  # fmt: skip
    readout = ui.expression_readout(check)
    assert readout.verdict == "visible"
    assert [s.name for s in readout.shapes] == ["mouthSmileLeft", "mouthDimpleLeft", "cheekSquintLeft"]
    assert readout.shapes[-1].measurable is False
    unseen = ExpressionCheck("squint", 0.5, {"cheekSquintLeft": (0, 0, 1.0)}, None, None)
    assert ui.expression_readout(unseen).verdict == "not measurable"


def test_summarize_turn_on_a_real_turn(assistant):
    ui.open_photo(assistant, "sample")
    turn = assistant.run("make her look slightly disgusted")
    summary = ui.summarize_turn(turn)
    assert summary.understood == ("disgusted +0.30 · 5 steps",) and summary.command is None
    assert summary.showing == ("disgusted +0.30 · 5 steps",) and summary.parser == "offline"
    assert summary.identity.colour == "green" and summary.expression[0].attribute == "disgusted"
    chatter = assistant.run("thanks!")
    again = ui.summarize_turn(chatter, previous=turn)  # the same picture: nothing new to measure
    assert not again.changed and again.identity is None and again.expression == ()
    undone = ui.summarize_turn(assistant.run("undo"), previous=chatter)
    assert undone.changed and undone.command == "undo" and undone.showing == ("original photo",)
    assert undone.identity is None  # the original photo is not judged against itself


def test_session_zip_round_trip(assistant, editor):
    ui.open_photo(assistant, "sample")
    edited = assistant.run("raise her eyebrows")
    data = ui.session_zip(assistant)
    assert set(zipfile.ZipFile(io.BytesIO(data)).namelist()) >= {"session.json", "original.png"}
    restored = ui.load_session_zip(data, editor=editor)
    assert np.array_equal(restored.current, edited.image)
    assert ui.describe_loaded(restored).faces


def test_bad_session_zips_are_refused(editor):
    with pytest.raises(SessionError, match="not a zip"):
        ui.load_session_zip(b"plain bytes", editor=editor)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../evil.txt", "x")
    with pytest.raises(SessionError, match="no session.json"):
        ui.load_session_zip(buffer.getvalue(), editor=editor)


def test_llm_status_offline_and_an_unreachable_endpoint():
    from assistant.parsing.offline import default_parser

    status = ui.llm_status(default_parser(), environ={})
    assert status.mode == "offline" and status.reachable is None and "FACECHAT_LLM_BASE_URL" in status.detail
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reachable, detail = ui.probe_endpoint(f"http://127.0.0.1:{port}/v1", timeout=1.0)
    assert reachable is False and "does not answer" in detail


def test_fallback_reason_reads_the_parser_note(assistant):
    turn = assistant.run("make her smile")
    assert ui.fallback_reason(turn) is None
    noted = turn.__class__(**{**turn.__dict__, "notes": (f"{ui.FALLBACK_PREFIX}: timeout",)})
    assert ui.fallback_reason(noted) == "timeout"


def test_plain_words_name_attributes_without_numbers():
    from editor.requests import EditRequest

    requests = [
        EditRequest(attribute="disgusted", strength=0.3),
        EditRequest(attribute="brow_raise", strength=1.0),
    ]
    assert ui.state_words(requests) == "slightly disgusted and very raised eyebrows"
    assert ui.attribute_words("brow_raise") == "brow raise" and ui.state_words([]) == "the original photo"
