"""The chat window's MP4 of the steps (`assistant.ui_support.steps_mp4`)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant import ui_support as ui


def test_steps_mp4_is_an_h264_video_of_every_step(tmp_path):
    pytest.importorskip("av")
    from editor.video import probe

    frames = [np.full((64, 96, 3), 30 * i, np.uint8) for i in range(5)]
    data = ui.steps_mp4(frames)
    (tmp_path / "steps.mp4").write_bytes(data)
    info = probe(tmp_path / "steps.mp4")
    assert data[4:8] == b"ftyp" and (info.frames, info.width, info.height) == (5, 96, 64)
