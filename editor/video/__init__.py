"""Video: expression edits on every frame of a clip (`edit_video`), and step sequences as MP4
(`write_frames`). Decoding and encoding stream through PyAV (the ``video`` extra)."""

from editor.video.io import VideoError, VideoInfo, iter_frames, probe, write_frames
from editor.video.pipeline import FrameEditor, VideoReport, edit_video
from editor.video.smoothing import LandmarkSmoother, OneEuroConfig, OneEuroFilter

__all__ = [
    "FrameEditor",
    "LandmarkSmoother",
    "OneEuroConfig",
    "OneEuroFilter",
    "VideoError",
    "VideoInfo",
    "VideoReport",
    "edit_video",
    "iter_frames",
    "probe",
    "write_frames",
]
