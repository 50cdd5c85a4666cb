"""The face commands of the CLI, run in-process: output, exit status, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from assistant.cli import main


def test_analyze_sample_as_json(capsys):
    assert main(["analyze", "sample", "--json", "--top", "3"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["width"] == 512 and payload["face_count"] == 1
    face = payload["faces"][0]
    assert face["landmark_count"] == 478
    assert len(face["top_blendshapes"]) == 3
    assert set(face) >= {"box", "yaw", "pitch", "roll", "blendshapes"}


def test_analyze_defaults_to_the_sample_and_prints_text(capsys):
    assert main(["analyze"]) == 0
    out = capsys.readouterr().out
    assert "1 face" in out and "478 landmarks" in out and "yaw" in out and "mouthSmile" in out


def test_identity_of_a_photo_and_its_mirror(tmp_path, capsys, sample_rgb):
    mirror = tmp_path / "mirror.png"
    Image.fromarray(np.ascontiguousarray(sample_rgb[:, ::-1])).save(mirror)
    assert main(["identity", "sample", str(mirror), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["scorer"] == "sface" and payload["calibrated"] is True
    assert payload["same_person"] is True and payload["similarity"] > payload["threshold"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"just some text\n", "is not an image"),
        (b"", "is empty"),
    ],
)
def test_bad_files_give_one_line_and_exit_1(tmp_path, capsys, content, expected):
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    assert main(["analyze", str(path)]) == 1
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1 and "Traceback" not in err


def test_no_face_and_ambiguous_faces(tmp_path, capsys, sample_rgb):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (300, 300), (128, 128, 128)).save(blank)
    assert main(["analyze", str(blank)]) == 1
    assert "No face was found" in capsys.readouterr().err

    group = np.full((512, 1100, 3), 90, np.uint8)
    group[:, :512] = sample_rgb
    group[:, 560:1072] = sample_rgb[:, ::-1]
    path = tmp_path / "group.png"
    Image.fromarray(group).save(path)
    assert main(["analyze", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["face_count"] == 2 and "2 faces found" in captured.err
    assert main(["identity", str(path), "sample"]) == 1
    assert "say which one with --face-a" in capsys.readouterr().err
    assert main(["identity", str(path), "sample", "--face-a", "1"]) == 0
    assert main(["analyze", str(path), "--face", "7"]) == 1
    assert "must be between 0 and 1" in capsys.readouterr().err
