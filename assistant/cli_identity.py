"""`facechat identity A B [--json]`: are two photos the same person?"""

from __future__ import annotations

import argparse
import json
import sys

from assistant.cli_faces import analyzer, choose_face, image_argument_help, load_photo
from editor.identity import IdentityScorer


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "identity",
        help="compare the faces in two photos: similarity and same-person verdict",
        description=(
            "Embed the face in each photo (SFace by default, ArcFace when FACECHAT_ARCFACE_MODEL names an "
            "ONNX model) and judge the cosine similarity against the calibrated threshold."
        ),
    )
    parser.add_argument("image_a", metavar="A", help=image_argument_help())
    parser.add_argument("image_b", metavar="B", help=image_argument_help())
    parser.add_argument("--face-a", type=int, default=None, metavar="N", help="face N of A (0 = largest)")
    parser.add_argument("--face-b", type=int, default=None, metavar="N", help="face N of B (0 = largest)")
    parser.add_argument("--arcface", default=None, metavar="MODEL", help="ArcFace ONNX model to score with")
    parser.add_argument("--threshold", type=float, default=None, help="override the same-person threshold")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    scorer = IdentityScorer(arcface_model=args.arcface, threshold=args.threshold)
    image_a, image_b = load_photo(args.image_a), load_photo(args.image_b)
    face_a = choose_face(analyzer().analyze(image_a), args.face_a, args.image_a, "--face-a")
    face_b = choose_face(analyzer().analyze(image_b), args.face_b, args.image_b, "--face-b")
    result = scorer.compare(image_a, face_a, image_b, face_b)
    if args.json:
        payload = {
            "a": args.image_a,
            "b": args.image_b,
            "similarity": round(result.similarity, 4),
            "scorer": result.scorer,
            "threshold": round(result.threshold, 4),
            "calibrated": result.calibrated,
            "same_person": result.same_person,
            "verdict": result.verdict,
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        sys.stdout.write(f"{result.describe()}\n")
    return 0
