"""Streamed video decoding and encoding with PyAV (FFmpeg's libraries, shipped inside the ``av`` wheel).

`VideoStream` decodes frame by frame (never the whole clip in memory) and hands the audio packets
through untouched: `edit_frames` reads an input, passes each video frame through a function and writes
an H.264 MP4 with the input's frame timing (same time base and presentation times, so the same frame
rate, constant or variable) and the input's audio stream copied packet for packet (no re-encoding).
A clip with a display rotation (a phone's portrait video: landscape pixels, "show turned by 90°") is
edited upright and written back as stored, with the same display rotation.
`write_frames` encodes a list of stills (the K steps of an edit) as an MP4.

Frames are (H, W, 3) uint8 RGB arrays throughout.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from editor.errors import FacechatError

logger = logging.getLogger(__name__)

#: Output containers by file suffix (H.264 video in each; .mkv takes any audio codec as it is).
CONTAINERS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
#: H.264 quality (x264's constant rate factor: 0 lossless, 18 visually lossless, 23 its default).
DEFAULT_CRF = 18


class VideoError(FacechatError, ValueError):
    """A video could not be read or written (missing, not a video, no video stream, odd codec)."""


def _av():
    try:
        import av
    except ImportError as error:  # the `video` extra is not installed
        raise VideoError(
            "Video needs PyAV: install the video extra (pip install 'facechat[video]')."
        ) from error
    return av


@dataclass(frozen=True)
class VideoInfo:
    """What a video holds.

    Attributes:
        width, height: frame size in pixels.
        fps: average frame rate (frames per second).
        frames: the container's frame count (0 when it does not say).
        has_audio: whether there is an audio stream (it is copied unchanged).
        duration_s: length in seconds (0.0 when unknown).
        rotation: display rotation in degrees, counterclockwise (FFmpeg's display matrix; -90 for most
            portrait phone clips); ``width`` and ``height`` are the stored frame's.
    """

    width: int
    height: int
    fps: float
    frames: int
    has_audio: bool
    duration_s: float
    rotation: float = 0.0


def probe(path: str | Path) -> VideoInfo:
    """`VideoInfo` of a video file. Raises `VideoError`."""
    av = _av()
    with _open(av, path) as container:
        video = container.streams.video[0]
        duration = float(container.duration / 1_000_000) if container.duration else 0.0
        return VideoInfo(
            width=video.codec_context.width,
            height=video.codec_context.height,
            fps=float(video.average_rate or video.guessed_rate or 0),
            frames=int(video.frames or 0),
            has_audio=bool(container.streams.audio),
            duration_s=duration,
            rotation=_display_rotation(container),
        )


def iter_frames(path: str | Path) -> Iterator[np.ndarray]:
    """The video's frames one at a time, (H, W, 3) uint8 RGB (streamed)."""
    av = _av()
    with _open(av, path) as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")


def edit_frames(
    source: str | Path,
    target: str | Path,
    process: Callable[[np.ndarray], np.ndarray],
    *,
    crf: int = DEFAULT_CRF,
) -> int:
    """Decode ``source``, write ``process(frame)`` for every frame to ``target``; returns the count.

    ``target`` is .mp4, .mov or .mkv (`CONTAINERS`). The output keeps the input's time base and
    presentation times (so its frame rate) and copies the first audio stream's packets unchanged.
    ``process`` gets each frame upright and must return it at the same size.

    Raises:
        VideoError: the input cannot be read, or the output cannot hold what is copied (an audio codec
            MP4 does not take: write .mkv).
    """
    av = _av()
    target = Path(target)
    container_format = _container_format(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _open(av, source) as peek:
        rotation = _display_rotation(peek)
    with _open(av, source) as inp:
        try:
            with av.open(str(target), mode="w", format=container_format) as out:
                return _copy_edited(av, inp, out, process, rotation, crf)
        except av.error.FFmpegError as error:
            audio = inp.streams.audio[0].codec_context.name if inp.streams.audio else "none"
            raise VideoError(
                f"Writing {target} failed ({error}). The input's audio ({audio}) is copied as it is; if "
                "this container cannot hold it, write an .mkv file instead."
            ) from error


def _copy_edited(av, inp, out, process: Callable[[np.ndarray], np.ndarray], rotation: float, crf: int) -> int:
    """Demux ``inp``, edit and encode its video into ``out``, copy its audio packets; returns the count."""
    video_in = inp.streams.video[0]
    audio_in = inp.streams.audio[0] if inp.streams.audio else None
    rate = video_in.average_rate or video_in.guessed_rate or Fraction(25)
    video_out = _video_stream(out, video_in.codec_context.width, video_in.codec_context.height, rate, crf)
    video_out.time_base = video_in.time_base
    if rotation and hasattr(video_out, "set_display_rotation"):
        video_out.set_display_rotation(rotation)
    turns = round(rotation / 90) % 4  # np.rot90 turns counterclockwise, as the display matrix does
    audio_out = out.add_stream_from_template(audio_in) if audio_in is not None else None
    count = 0
    for packet in inp.demux(*[s for s in (video_in, audio_in) if s is not None]):
        if packet.stream.type == "audio":
            if packet.dts is not None:
                packet.stream = audio_out
                out.mux(packet)
            continue
        for frame in packet.decode():
            stored = frame.to_ndarray(format="rgb24")  # (H, W, 3) as stored
            edited = np.rot90(
                process(np.ascontiguousarray(np.rot90(stored, turns))), -turns
            )  # edited upright
            encoded = av.VideoFrame.from_ndarray(np.ascontiguousarray(edited), format="rgb24")
            encoded.pts, encoded.time_base = frame.pts, frame.time_base
            out.mux(video_out.encode(encoded.reformat(format="yuv420p")))
            count += 1
    out.mux(video_out.encode(None))
    return count


def write_frames(
    frames: Iterable[np.ndarray], target: str | Path, *, fps: float = 8.0, crf: int = DEFAULT_CRF
) -> Path:
    """Encode stills (all one size) as an H.264 MP4 at ``fps``; returns the path.

    Odd sizes are padded by one pixel (H.264 4:2:0 needs even sides); each frame is shown 1/fps s.
    """
    av = _av()
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    stream = None
    with av.open(str(target), mode="w", format=_container_format(target)) as out:
        for index, frame in enumerate(frames):
            frame = _even(frame)
            if stream is None:
                stream = _video_stream(
                    out, frame.shape[1], frame.shape[0], Fraction(fps).limit_denominator(1000), crf
                )
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            picture.pts = index
            out.mux(stream.encode(picture.reformat(format="yuv420p")))
        if stream is None:
            raise VideoError("There are no frames to write as a video.")
        out.mux(stream.encode(None))
    return target


def _video_stream(container, width: int, height: int, rate: Fraction, crf: int):
    if width % 2 or height % 2:
        raise VideoError(f"H.264 needs even frame sides; got {width}x{height}.")
    stream = container.add_stream("libx264", rate=rate)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.options = {"crf": str(crf), "preset": "veryfast"}
    return stream


def _even(frame: np.ndarray) -> np.ndarray:
    """(H, W, 3) padded by edge replication to even sides."""
    pad_h, pad_w = frame.shape[0] % 2, frame.shape[1] % 2
    return np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge") if pad_h or pad_w else frame


def _container_format(target: Path) -> str:
    try:
        return CONTAINERS[target.suffix.lower()]
    except KeyError:
        raise VideoError(f"Write the video as {', '.join(CONTAINERS)}; got {target.name!r}.") from None


def _display_rotation(container) -> float:
    """The first video frame's display rotation, degrees counterclockwise (0.0 when none)."""
    for frame in container.decode(video=0):
        return float(getattr(frame, "rotation", 0.0) or 0.0)
    return 0.0


def _open(av, path: str | Path):
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"The video {path} does not exist; give the path of an MP4, MOV, MKV or WebM file.")
    try:
        container = av.open(str(path))
    except Exception as error:  # noqa: BLE001 - FFmpeg's many error types: one sentence for the person
        raise VideoError(f"{path} could not be read as a video ({error}).") from error
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path} has no video stream.")
    return container
