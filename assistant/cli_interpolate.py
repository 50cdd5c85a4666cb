"""`facechat interpolate A B -k 7 -o out.gif`: morph between two photos of the same person (Flow VAE)."""

from __future__ import annotations

import argparse
import sys

from assistant.cli_faces import analyzer, choose_face, image_argument_help, load_photo, note
from editor.errors import FacechatError
from editor.images import encode_gif, save_bytes, save_image


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "interpolate",
        help="animate between two photos of the same person (Flow VAE, Algorithm 2)",
        description=(
            "Walk the Flow VAE's latent space from photo A's expression to photo B's: each frame warps both "
            "photos toward the in-between latent and blends them by the model's confidence masks. Writes an "
            "animated GIF (or, with a .png/.jpg name, the K+1 frames side by side)."
        ),
    )
    parser.add_argument("image_a", metavar="A", help=image_argument_help())
    parser.add_argument("image_b", metavar="B", help=image_argument_help())
    parser.add_argument("-k", "--steps", type=int, default=7, help="K: frames after A (default 7)")
    parser.add_argument("-o", "--output", required=True, help="output .gif (or .png for a strip)")
    parser.add_argument("--side", type=int, default=512, help="side of each frame in pixels (default 512)")
    parser.add_argument("--face-a", type=int, default=None, metavar="N", help="face N of A (0 = largest)")
    parser.add_argument("--face-b", type=int, default=None, metavar="N", help="face N of B (0 = largest)")
    parser.add_argument("--checkpoint", default=None, help="Flow VAE folder (default: the shipped one)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from editor.fvae.edit import FlowEditor

    if not 1 <= args.steps <= 60:
        raise FacechatError(f"-k must be between 1 and 60 frames, got {args.steps}.")
    if not 64 <= args.side <= 2048:
        raise FacechatError(f"--side must be between 64 and 2048 pixels, got {args.side}.")
    image_a, image_b = load_photo(args.image_a), load_photo(args.image_b)
    face_a = choose_face(analyzer().analyze(image_a), args.face_a, args.image_a, "--face-a")
    face_b = choose_face(analyzer().analyze(image_b), args.face_b, args.image_b, "--face-b")
    editor = FlowEditor.from_pretrained(args.checkpoint)
    frames = editor.interpolate(image_a, face_a, image_b, face_b, steps=args.steps, side=args.side)
    if args.output.lower().endswith(".gif"):
        path = save_bytes(encode_gif(frames), args.output)
    else:
        path = save_image(np.concatenate(frames, axis=1), args.output)
    note(f"{len(frames)} frames written to {path}")
    sys.stdout.write(f"{path}\n")
    return 0
