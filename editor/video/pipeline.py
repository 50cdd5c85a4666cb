"""Expression edits on video: every frame edited on top of its own expression, tracked and smoothed.

`edit_video` streams a clip through `editor.video.io.edit_frames`. Per frame: the face is measured
where the previous frame's was (`editor.video.tracking.FaceTracker`: detected only on the first frame
and when it is lost; the face nearest the previous frame's when there are several), its landmarks are
smoothed over time (`LandmarkSmoother`, a One-Euro filter), and the requests are rendered by the same
backends as a photo edit, on the face's region, relative to that frame's own landmarks: the recipe's
motion is added on top, so a talking mouth keeps talking and a smile is added to whatever the face
does. The identity gate runs once, on the first frame with a face (`Editor.render`), and the strength it
lets through is used for the whole clip (a gate per frame would make the strength flicker). Frames
without a face pass through unchanged and restart the track.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from editor.editor import Editor, face_region
from editor.face import Face
from editor.requests import EditRequest
from editor.video.io import edit_frames, probe
from editor.video.smoothing import LandmarkSmoother, OneEuroConfig
from editor.video.tracking import FaceTracker

logger = logging.getLogger(__name__)


@dataclass
class VideoReport:
    """What `edit_video` did.

    Attributes:
        output: the MP4 written.
        frames: frames written (all of the input's).
        faceless: indices of the frames with no face (passed through unchanged).
        scale: the fraction of the requested strength applied (the identity gate's, first face frame).
        frame_ms: wall time per frame (analysis + edit), milliseconds.
        frame_cpu_ms: CPU time per frame of this process (all its threads), milliseconds: on a shared
            machine, what the frame cost rather than how long it waited.
        notes: what the person should know (backed-off strength, no face anywhere, ...).
        detections: frames on which the face was detected (the others were followed from the previous
            frame, `editor.video.tracking`).
        elapsed_s, cpu_s: wall and CPU time (this process) of the whole run: decoding, editing, encoding.
    """

    output: Path
    frames: int = 0
    faceless: list[int] = field(default_factory=list)
    scale: float | None = None
    frame_ms: list[float] = field(default_factory=list)
    frame_cpu_ms: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    detections: int = 0
    elapsed_s: float = 0.0
    cpu_s: float = 0.0

    @property
    def warm_ms(self) -> float | None:
        """Median time per frame after the first (models warm), milliseconds."""
        return float(np.median(self.frame_ms[1:])) if len(self.frame_ms) > 1 else None

    @property
    def end_to_end_ms(self) -> tuple[float, float] | None:
        """(wall, CPU) milliseconds per frame after the first, decoding and encoding included: the
        whole run less the first frame's edit (the identity gate), over the other frames."""
        if len(self.frame_ms) < 2:
            return None
        others = len(self.frame_ms) - 1
        return (
            (1000 * self.elapsed_s - self.frame_ms[0]) / others,
            (1000 * self.cpu_s - self.frame_cpu_ms[0]) / others,
        )


class FrameEditor:
    """Edits the frames of one clip in order (the track and the gate's scale are its state).

    Args:
        editor: the `Editor` whose analyzer, backends and identity gate are used.
        requests: the edit to apply to every frame.
        fps: the clip's frame rate (timestamps for the smoother).
        smoothing: One-Euro settings, or None to use each frame's raw landmarks.
        follow: measure each frame's face where the previous frame's was, without detecting it again
            (`editor.video.tracking.FaceTracker`); False detects in every frame.
    """

    def __init__(
        self,
        editor: Editor,
        requests: Sequence[EditRequest],
        *,
        fps: float,
        smoothing: OneEuroConfig | None = OneEuroConfig(),  # noqa: B008 - frozen, shared safely
        follow: bool = True,
    ) -> None:
        self.editor, self.requests, self.fps = editor, list(requests), max(fps, 1e-3)
        self.groups, unsupported = editor.registry.group(self.requests)
        self.notes = [editor.unsupported_note(r) for r in unsupported]
        self.smoother = LandmarkSmoother(smoothing) if smoothing is not None else None
        self.scale: float | None = None
        self.tracker = FaceTracker(editor.analyzer, follow=follow)
        self.index = 0
        self.faceless: list[int] = []

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 RGB frame -> the edited frame (the frame itself when it has no face)."""
        index, self.index = self.index, self.index + 1
        face = self._track(frame, index / self.fps)
        if face is None:
            self.faceless.append(index)
            return frame
        if self.scale is None:
            self.scale = self._gate(frame)
        if not self.groups or self.scale <= 0:
            return frame
        x0, y0, x1, y1 = face_region(face, frame.shape[:2])
        work, work_face = frame[y0:y1, x0:x1], face.translated(-x0, -y0)
        for number, (backend, requests) in enumerate(self.groups):
            if number > 0:  # a later backend sees the earlier one's result, measured afresh
                work_face = self.editor.nearest_face(work, work_face) or work_face
            work = backend.edit(work, work_face, requests, scale=self.scale, steps=0).image
        edited = frame.copy()
        edited[y0:y1, x0:x1] = work
        return edited

    def _track(self, frame: np.ndarray, t: float) -> Face | None:
        face = self.tracker(frame)
        if face is None:
            if self.smoother is not None:
                self.smoother.reset()
            return None
        if self.smoother is None:
            return face
        landmarks = self.smoother(face.landmarks, t)  # (478, 3) smoothed pixels
        return dataclasses.replace(face, landmarks=landmarks.astype(np.float32))

    def _gate(self, frame: np.ndarray) -> float:
        """The identity gate on this frame: the fraction of the edit that keeps the person recognisable."""
        outcome = self.editor.render(frame, self.requests, steps=0)
        self.notes.extend(n for n in outcome.notes if n not in self.notes)
        logger.info("video: identity gate on the first face frame let %.0f%% through", 100 * outcome.scale)
        return outcome.scale if outcome.applied else 0.0


def edit_video(
    source: str | Path,
    target: str | Path,
    requests: Sequence[EditRequest],
    *,
    editor: Editor | None = None,
    smoothing: OneEuroConfig | None = OneEuroConfig(),  # noqa: B008 - frozen, shared safely
    follow: bool = True,
    progress: bool = True,
) -> VideoReport:
    """Apply ``requests`` to every frame of the video ``source`` and write the MP4 ``target``.

    Frames are decoded, edited and encoded one at a time (memory does not grow with the clip); the
    output has the input's frame timing and its audio stream copied unchanged. See the module docstring;
    ``smoothing`` and ``follow`` as `FrameEditor` takes them.

    Raises:
        VideoError: the input cannot be read or the output written.
    """
    info = probe(source)
    editor = editor or Editor()
    frames = FrameEditor(editor, requests, fps=info.fps, smoothing=smoothing, follow=follow)
    report = VideoReport(output=Path(target))
    bar = tqdm(total=info.frames or None, unit="frame", desc="editing video", disable=not progress)

    def process(frame: np.ndarray) -> np.ndarray:
        started, cpu = time.perf_counter(), time.process_time()
        edited = frames(frame)
        report.frame_ms.append(1000 * (time.perf_counter() - started))
        report.frame_cpu_ms.append(1000 * (time.process_time() - cpu))
        bar.update(1)
        return edited

    started, cpu = time.perf_counter(), time.process_time()
    try:
        report.frames = edit_frames(source, target, process)
    finally:
        bar.close()
    report.elapsed_s, report.cpu_s = time.perf_counter() - started, time.process_time() - cpu
    report.faceless, report.scale = frames.faceless, frames.scale
    report.detections = frames.tracker.detections
    report.notes = list(frames.notes)
    if report.scale is None:
        report.notes.append("No face was found in any frame: the video was copied unchanged.")
    elif report.scale < 1.0:
        report.notes.append(f"To keep the person recognisable, {report.scale:.0%} of the edit was applied.")
    if report.faceless and report.scale is not None:
        report.notes.append(f"{len(report.faceless)} frames had no face and were left unchanged.")
    return report
