"""A short clip made from a still photo with a slight synthetic head motion (for tests and benchmarks).

No video is committed to the repository: tests and `eval.bench_video` make their clips with
`synthetic_clip` — the photo shifted, turned and scaled a little along smooth curves (a head that
sways), optionally with frames that show no face, and a sine tone as an AAC audio track.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from editor.video.io import _av

AUDIO_RATE = 48_000


def swaying_frame(photo: np.ndarray, t: float, size: tuple[int, int], amplitude: float = 1.0) -> np.ndarray:
    """The photo as a (height, width) = ``size`` frame at time ``t`` s: shifted by up to 2% of the frame,
    turned by up to 2 degrees, scaled by up to 2% (times ``amplitude``); (H, W, 3) uint8 RGB."""
    height, width = size
    scale = min(width / photo.shape[1], height / photo.shape[0]) * (1 + 0.02 * amplitude * math.sin(1.3 * t))
    angle = 2.0 * amplitude * math.sin(2.1 * t + 0.5)
    dx = 0.02 * amplitude * width * math.sin(1.7 * t)
    dy = 0.015 * amplitude * height * math.sin(2.3 * t + 1.0)
    matrix = cv2.getRotationMatrix2D((photo.shape[1] / 2, photo.shape[0] / 2), angle, scale)
    matrix[:, 2] += (width / 2 + dx - photo.shape[1] / 2, height / 2 + dy - photo.shape[0] / 2)
    return cv2.warpAffine(
        photo, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def synthetic_clip(
    photo: np.ndarray,
    path: str | Path,
    *,
    frames: int = 8,
    size: tuple[int, int] = (360, 480),
    fps: int = 25,
    faceless: Collection[int] = (),
    audio: bool = True,
    amplitude: float = 1.0,
    rotation: int = 0,
) -> Path:
    """Write an MP4 of ``frames`` swaying frames of ``photo`` ((height, width) = ``size``, even sides) at
    ``fps``; frame indices in ``faceless`` are plain grey; with ``audio`` a 440 Hz AAC tone as long as
    the clip. ``rotation`` (a multiple of 90): frames stored turned the other way, with that display
    rotation (counterclockwise degrees), as a phone stores a portrait clip (-90). Returns the path."""
    av = _av()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = size
    with av.open(str(path), mode="w", format="mp4") as out:
        turns = (rotation // 90) % 4
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height = (height, width) if turns % 2 else (width, height)
        video.pix_fmt = "yuv420p"
        if rotation:
            video.set_display_rotation(rotation)
        video.options = {"crf": "16", "preset": "veryfast"}
        sound = out.add_stream("aac", rate=AUDIO_RATE, layout="mono") if audio else None
        for i in range(frames):
            if i in faceless:
                picture = np.full((height, width, 3), 128, np.uint8)
            else:
                picture = swaying_frame(photo, i / fps, size, amplitude)
            stored = np.ascontiguousarray(np.rot90(picture, -turns))  # shown upright when turned back
            frame = av.VideoFrame.from_ndarray(stored, format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame.reformat(format="yuv420p")))
        out.mux(video.encode(None))
        if sound is not None:
            samples = int(AUDIO_RATE * frames / fps)
            tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(samples) / AUDIO_RATE)).astype(np.float32)
            for start in range(0, samples, 1024):
                chunk = av.AudioFrame.from_ndarray(
                    tone[None, start : start + 1024], format="fltp", layout="mono"
                )
                chunk.sample_rate, chunk.pts, chunk.time_base = AUDIO_RATE, start, Fraction(1, AUDIO_RATE)
                out.mux(sound.encode(chunk))
            out.mux(sound.encode(None))
    return path
