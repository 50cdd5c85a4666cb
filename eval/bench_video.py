"""Benchmark video edits: time per frame at 720p, and jitter the edit adds.

Usage::

    python -m eval.bench_video [--photo ../shared/data/london/neutral/003.jpg] [--frames 48]
        [--text "make him look surprised"] [--out runs/bench_video]

A 1280x720, 25 fps clip with an AAC tone is made from one still photo with a slight synthetic head sway
(`editor.video.synthetic`; the default photo is the built-in sample, a held-out London person with
``--photo``). It is edited through `editor.video.edit_video` with the One-Euro smoothing and without it,
and copied through the same decoder and encoder unedited (the floor: codec and measurement noise).

- time: wall time per frame (tracking, analysis, edit), median and 90th percentile after the first
  frame, on this machine as it is (the load average is printed beside it); end to end: the whole run
  (decoding, colour conversion, edit, encoding) less the first frame's edit, per other frame;
- outputs: One-Euro smoothing and raw landmarks, both with the face followed from frame to frame
  (`editor.video.tracking`), and One-Euro with the face detected in every frame (as before tracking);
- jitter: every frame of the input and of each output analysed by FaceLandmarker; per pair of
  consecutive frames, the mean over the 478 landmarks of |(out[t+1] - out[t]) - (in[t+1] - in[t])|, in
  the input face's inter-iris units: frame-to-frame landmark motion that is not in the input. Median and
  90th percentile over the clip, beside the input's own frame-to-frame motion for scale; also "in the
  head's frame" (each output frame aligned onto its input frame on rigid points first).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import numpy as np

from editor.editor import Editor
from editor.geometry.calibrate_happy import align_to
from editor.images import load_image
from editor.requests import EditRequest
from editor.video import OneEuroConfig, edit_video, iter_frames
from editor.video.io import edit_frames
from editor.video.synthetic import synthetic_clip

logger = logging.getLogger(__name__)

#: The edited outputs: (name, smoothing, follow the face from frame to frame).
VARIANTS = (
    ("smoothed", OneEuroConfig(), True),
    ("raw", None, True),
    ("detected", OneEuroConfig(), False),
)
LABELS = {
    "smoothed": "One-Euro smoothing",
    "raw": "raw landmarks",
    "detected": "One-Euro, detected in every frame",
}


def track(editor: Editor, path: Path) -> list[np.ndarray | None]:
    """(478, 3) landmarks of the largest face of every frame (None where there is none)."""
    out = []
    for frame in iter_frames(path):
        faces = editor.analyzer.analyze(frame)
        out.append(faces[0].landmarks.astype(np.float64) if faces else None)
    return out


def jitter(
    inp: list[np.ndarray | None], out: list[np.ndarray | None], *, head_frame: bool = False
) -> list[float]:
    """Per consecutive-frame pair: mean |(out[t+1] - out[t]) - (in[t+1] - in[t])| / inter-iris distance.

    ``head_frame``: each output frame's landmarks first mapped onto the input frame's by a similarity on
    rigid points, so only motion relative to the head counts (not a whole-face shift of the measurement).
    """
    if head_frame:
        out = [o if o is None or i is None else align_to(o, i) for o, i in zip(out, inp, strict=True)]
    values = []
    for t in range(len(inp) - 1):
        pair = (inp[t], inp[t + 1], out[t], out[t + 1])
        if any(p is None for p in pair):
            continue
        unit = float(np.linalg.norm(inp[t][468, :2] - inp[t][473, :2]))
        change = (out[t + 1][:, :2] - out[t][:, :2]) - (inp[t + 1][:, :2] - inp[t][:, :2])  # (478, 2)
        values.append(float(np.linalg.norm(change, axis=1).mean() / unit))
    return values


def motion(inp: list[np.ndarray | None]) -> list[float]:
    """The input's own frame-to-frame landmark motion, mean over landmarks, inter-iris units."""
    values = []
    for a, b in zip(inp, inp[1:], strict=False):
        if a is not None and b is not None:
            unit = float(np.linalg.norm(a[468, :2] - a[473, :2]))
            values.append(float(np.linalg.norm(b[:, :2] - a[:, :2], axis=1).mean() / unit))
    return values


def _stats(values: list[float]) -> dict:
    return {"median": float(np.median(values)), "p90": float(np.percentile(values, 90))} if values else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photo", default="sample")
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--text", default="make him look surprised")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_video"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from assistant.session import configured_parser

    requests = configured_parser().parse(args.text).requests or (
        EditRequest(attribute="surprised", strength=0.7),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    clip = synthetic_clip(
        load_image(args.photo), args.out / "input.mp4", frames=args.frames, size=(720, 1280)
    )
    editor = Editor()
    copied = args.out / "copied.mp4"
    edit_frames(clip, copied, lambda frame: frame)
    results: dict = {
        "photo": args.photo,
        "requests": [r.model_dump() for r in requests],
        "frames": args.frames,
    }
    landmarks_in = track(editor, clip)
    results["input_motion"] = _stats(motion(landmarks_in))
    landmarks_copied = track(editor, copied)
    results["copied_jitter"] = _stats(jitter(landmarks_in, landmarks_copied))
    results["copied_head_jitter"] = _stats(jitter(landmarks_in, landmarks_copied, head_frame=True))
    for name, smoothing, follow in VARIANTS:
        load = os.getloadavg()[0]
        output = args.out / f"edited_{name}.mp4"
        report = edit_video(
            clip, output, requests, editor=editor, smoothing=smoothing, follow=follow, progress=False
        )
        wall, cpu = report.end_to_end_ms or (float("nan"), float("nan"))
        results[name] = {
            "ms_per_frame": _stats(report.frame_ms[1:]), "first_frame_ms": report.frame_ms[0],
            "cpu_ms_per_frame": _stats(report.frame_cpu_ms[1:]),
            "end_to_end_ms_per_frame": wall, "end_to_end_cpu_ms_per_frame": cpu,
            "detections": report.detections, "bytes": output.stat().st_size,
            "load_average": load, "scale": report.scale, "notes": report.notes,
        }  # fmt: skip
        landmarks_out = track(editor, output)
        results[name]["jitter"] = _stats(jitter(landmarks_in, landmarks_out))
        results[name]["head_jitter"] = _stats(jitter(landmarks_in, landmarks_out, head_frame=True))
    (args.out / "bench_video.json").write_text(json.dumps(results, indent=2))
    lines = [
        f"1280x720, {args.frames} frames, {', '.join(r.describe() for r in requests)}; "
        f"input's own motion {results['input_motion']['median']:.4f} per frame (median)",
        "",
        "| output | wall ms/frame after the first (median, p90) | CPU ms/frame (median) "
        "| end to end wall, CPU ms/frame | load average | jitter (median, p90) | in the head's frame |",
        "|---|---|---|---|---|---|---|",
        f"| copied, unedited (floor) | - | - | - | - | {results['copied_jitter']['median']:.4f}, "
        f"{results['copied_jitter']['p90']:.4f} | {results['copied_head_jitter']['median']:.4f}, "
        f"{results['copied_head_jitter']['p90']:.4f} |",
    ]
    for name, _, _ in VARIANTS:
        r = results[name]
        lines.append(
            f"| edited, {LABELS[name]} | "
            f"{r['ms_per_frame']['median']:.0f}, {r['ms_per_frame']['p90']:.0f} | "
            f"{r['cpu_ms_per_frame']['median']:.0f} | {r['end_to_end_ms_per_frame']:.0f}, "
            f"{r['end_to_end_cpu_ms_per_frame']:.0f} | {r['load_average']:.1f} | "
            f"{r['jitter']['median']:.4f}, {r['jitter']['p90']:.4f} | "
            f"{r['head_jitter']['median']:.4f}, {r['head_jitter']['p90']:.4f} |"
        )
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
