"""`facechat analyze IMAGE [--face N] [--json]`: the faces in a photo and what they show."""

from __future__ import annotations

import argparse
import json
import sys
import time

from assistant.cli_faces import analyzer, choose_face, image_argument_help, load_photo, note
from editor.face import Face
from editor.images import SAMPLE_NAME


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="find the faces in a photo: boxes, landmarks, expression scores, head pose",
        description="Find every face in a photo and measure it (YuNet + MediaPipe FaceLandmarker).",
    )
    parser.add_argument("image", nargs="?", default=SAMPLE_NAME, help=image_argument_help())
    parser.add_argument("--face", type=int, default=None, metavar="N", help="only face N (0 = largest)")
    parser.add_argument("--top", type=int, default=5, metavar="K", help="blendshapes to show per face")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--landmarks", action="store_true", help="include the 478 landmarks in the JSON")
    parser.set_defaults(func=run)


def face_record(face: Face, top: int, with_landmarks: bool) -> dict:
    """A JSON-ready description of one face."""
    record = {
        "index": face.index,
        "box": [round(float(v), 1) for v in face.box],
        "detection_score": round(face.score, 4),
        "landmark_count": int(face.landmarks.shape[0]),
        "yaw": round(face.yaw, 1),
        "pitch": round(face.pitch, 1),
        "roll": round(face.roll, 1),
        "top_blendshapes": {name: round(value, 4) for name, value in face.top_blendshapes(top)},
        "blendshapes": {name: round(value, 4) for name, value in face.blendshapes.items()},
        "warnings": list(face.warnings),
    }
    if with_landmarks:
        record["landmarks"] = [[round(float(v), 2) for v in point] for point in face.landmarks]
    return record


def run(args: argparse.Namespace) -> int:
    image = load_photo(args.image)
    face_analyzer = analyzer()
    started = time.perf_counter()
    faces = face_analyzer.analyze(image)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if not faces:
        choose_face(faces, None, args.image, "--face")  # raises NoFaceError with the explanation
    shown = [choose_face(faces, args.face, args.image, "--face")] if args.face is not None else faces
    height, width = image.shape[:2]
    if args.json:
        payload = {
            "image": args.image,
            "width": width,
            "height": height,
            "face_count": len(faces),
            "analysis_ms": round(elapsed_ms, 1),
            "faces": [face_record(face, args.top, args.landmarks) for face in shown],
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        lines = [
            f"{args.image}: {width}x{height}, {len(faces)} face{'s' if len(faces) != 1 else ''} "
            f"(largest first), analysed in {elapsed_ms:.0f} ms"
        ]
        for face in shown:
            x, y, w, h = face.box
            lines.append(
                f"face {face.index}: box x={x:.0f} y={y:.0f} w={w:.0f} h={h:.0f} "
                f"(detection {face.score:.2f}), {face.landmarks.shape[0]} landmarks"
            )
            lines.append(
                f"  head pose: yaw {face.yaw:+.1f}°, pitch {face.pitch:+.1f}°, roll {face.roll:+.1f}°"
            )
            top = ", ".join(f"{name} {value:.2f}" for name, value in face.top_blendshapes(args.top))
            lines.append(f"  top blendshapes: {top}")
            lines.extend(f"  warning: {warning}" for warning in face.warnings)
        sys.stdout.write("\n".join(lines) + "\n")
    if len(faces) > 1 and args.face is None:
        note(f"{len(faces)} faces found; commands that edit or compare use one, chosen with --face N.")
    return 0
