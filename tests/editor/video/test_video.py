"""Video edits end to end on a clip made in the test: frame timing, audio copied, faceless frames."""

from __future__ import annotations

import numpy as np
import pytest

av = pytest.importorskip("av")

from editor.editor import Editor  # noqa: E402
from editor.requests import EditRequest  # noqa: E402
from editor.video import VideoError, edit_video, iter_frames, probe, write_frames  # noqa: E402
from editor.video.synthetic import synthetic_clip  # noqa: E402


@pytest.fixture(scope="module")
def clip(tmp_path_factory, sample_rgb):
    """6 frames, 360x480 at 25 fps, of the sample photo swaying, frame 3 without a face, an AAC tone."""
    return synthetic_clip(sample_rgb, tmp_path_factory.mktemp("clip") / "in.mp4", frames=6, faceless={3})


def _audio_packets(path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size]


def test_an_edited_clip_keeps_timing_and_audio_and_passes_faceless_frames(clip, tmp_path, analyzer):
    out = tmp_path / "out.mp4"
    report = edit_video(clip, out, [EditRequest(attribute="surprised", strength=1.0)],
                        editor=Editor(analyzer=analyzer), progress=False)  # fmt: skip
    before, after = probe(clip), probe(out)
    assert report.frames == 6 and after.frames == 6 and after.fps == before.fps == 25
    assert (after.width, after.height) == (480, 360)
    assert _audio_packets(out) == _audio_packets(clip) != []  # copied packet for packet
    assert report.faceless == [3] and report.scale == 1.0 and len(report.frame_ms) == 6
    frames_in, frames_out = list(iter_frames(clip)), list(iter_frames(out))
    assert np.abs(frames_out[3].astype(int) - frames_in[3]).max() <= 3  # grey frame: only codec noise
    changed = np.abs(frames_out[1].astype(int) - frames_in[1]).mean(axis=2) > 12
    assert 0.001 < changed.mean() < 0.2  # the face changed, the frame as a whole did not


def test_a_portrait_phone_clip_is_edited_upright_and_keeps_its_display_rotation(
    tmp_path, sample_rgb, analyzer
):
    clip = synthetic_clip(
        sample_rgb, tmp_path / "phone.mp4", frames=2, size=(480, 360), rotation=-90, audio=False
    )
    info = probe(clip)
    assert (info.width, info.height, info.rotation) == (480, 360, -90.0)  # stored landscape, shown portrait
    out = tmp_path / "out.mp4"
    report = edit_video(clip, out, [EditRequest(attribute="happy", strength=1.0)],
                        editor=Editor(analyzer=analyzer), progress=False)  # fmt: skip
    assert report.faceless == [] and probe(out).rotation == -90.0
    upright = np.rot90(next(iter_frames(out)), -1)  # (480, 360, 3) as a player shows it
    assert analyzer.analyze(np.ascontiguousarray(upright))


def test_step_frames_become_an_mp4(tmp_path):
    frames = [np.full((65, 81, 3), 40 * i, np.uint8) for i in range(4)]  # odd sides are padded
    path = write_frames(frames, tmp_path / "steps.mp4", fps=4)
    info = probe(path)
    assert (info.width, info.height, info.frames, info.fps) == (82, 66, 4, 4.0)
    with pytest.raises(VideoError, match="no frames"):
        write_frames([], tmp_path / "empty.mp4")


def test_unreadable_videos_are_one_sentence(tmp_path):
    with pytest.raises(VideoError, match="does not exist"):
        probe(tmp_path / "missing.mp4")
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(VideoError, match="could not be read"):
        probe(tmp_path / "bad.mp4")


def test_output_containers_by_suffix(clip, tmp_path):
    from editor.video.io import edit_frames

    assert edit_frames(clip, tmp_path / "same.mkv", lambda frame: frame) == 6
    assert probe(tmp_path / "same.mkv").has_audio
    with pytest.raises(VideoError, match=r"\.mp4, \.mov, \.mkv"):
        edit_frames(clip, tmp_path / "same.avi", lambda frame: frame)
