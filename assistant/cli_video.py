"""`facechat video IN.mp4 "make him look surprised" -o OUT.mp4`: an expression edit on every frame."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.cli_faces import note
from editor.errors import FacechatError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "video",
        help="edit the face in every frame of a video from a plain-language request",
        description=(
            "Track the face through the clip (landmarks smoothed over time), add the requested expression "
            "on top of each frame's own, and re-encode as H.264 MP4 with the original frame timing and the "
            "audio copied unchanged. Frames without a face are left as they are."
        ),
    )
    parser.add_argument("video", type=Path, help="input video (MP4, MOV, MKV, WebM, ...)")
    parser.add_argument("text", help='what to do, e.g. "make him look surprised"')
    parser.add_argument("-o", "--output", type=Path, required=True, help="output .mp4 (or .mov, .mkv)")
    parser.add_argument("--no-smoothing", action="store_true", help="use each frame's raw landmarks")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print a JSON report instead of text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from assistant.session import configured_parser
    from editor.video import OneEuroConfig, edit_video
    from editor.video.io import CONTAINERS

    if args.output.suffix.lower() not in CONTAINERS:
        raise FacechatError(f"The output must be an {', '.join(CONTAINERS)} file, got {args.output}.")
    parsed = configured_parser().parse(args.text)
    if not parsed.requests:
        raise FacechatError(
            f"I found no edit in {args.text!r}{': ' + parsed.reply if parsed.reply else ''}. "
            "Say what to change, e.g. 'make him look surprised'."
        )
    report = edit_video(
        args.video,
        args.output,
        parsed.requests,
        smoothing=None if args.no_smoothing else OneEuroConfig(),
        progress=not args.quiet,
    )
    edits = ", ".join(r.describe() for r in parsed.requests)
    if args.json:
        record = {
            "output": str(report.output.resolve()), "requests": [r.model_dump() for r in parsed.requests],
            "frames": report.frames, "faceless": report.faceless, "scale": report.scale,
            "warm_ms_per_frame": report.warm_ms, "notes": report.notes,
        }  # fmt: skip
        sys.stdout.write(json.dumps(record, indent=2) + "\n")
    else:
        for line in report.notes:
            note(line)
        sys.stdout.write(f"Edited {report.frames} frames ({edits}); saved to {report.output.resolve()}.\n")
    return 0 if report.scale else 1
