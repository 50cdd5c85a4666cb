"""`facechat edit IMAGE "TEXT"` and `facechat chat [IMAGE]`: the assistant on the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from assistant.cli_faces import image_argument_help, note
from assistant.session import Assistant, Turn
from editor.backends.registry import BACKEND_CHOICES
from editor.errors import FacechatError
from editor.images import SAMPLE_NAME, encode_gif, save_bytes, save_image

#: Words that end `facechat chat`.
QUIT_WORDS = frozenset({"quit", "exit", "bye", ":q"})


def register(subparsers: argparse._SubParsersAction) -> None:
    edit = subparsers.add_parser(
        "edit",
        help="edit the face in a photo from a plain-language request",
        description="Parse the request, edit the face (identity-checked) and save the result.",
    )
    edit.add_argument("image", help=image_argument_help())
    edit.add_argument("text", help='what to do, e.g. "make her look slightly disgusted"')
    edit.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="edited photo (default: NAME_edited.png, or .jpg/.webp for such a photo, in the current folder)",
    )
    edit.add_argument("--face", type=int, default=None, metavar="N", help="face N when there are several")
    edit.add_argument("--gif", type=Path, default=None, help="also write the intermediate steps as a GIF")
    edit.add_argument("--mp4", type=Path, default=None, help="also write the intermediate steps as an MP4")
    edit.add_argument("--frames", type=Path, default=None, metavar="DIR", help="also write each step as PNG")
    edit.add_argument(
        "--reference", default=None, metavar="REF", help='a photo whose expression to copy ("copy this one")'
    )
    edit.add_argument(
        "--reference-face", type=int, default=None, metavar="N", help="face N of the reference photo"
    )
    edit.add_argument("--json", action="store_true", help="print JSON instead of text")
    edit.add_argument(
        "--backend",
        choices=BACKEND_CHOICES,
        default="auto",
        help="which editing backend: auto (default: built-in ones, plus the latent one for what only it "
        "can do when FACECHAT_LATENT_MODEL names a diffusers folder), or one of them alone",
    )
    edit.set_defaults(func=run_edit)

    chat = subparsers.add_parser(
        "chat",
        help="talk to the assistant about a photo, turn after turn",
        description="Interactive multi-turn editing; the session is saved on exit.",
    )
    chat.add_argument("image", nargs="?", default=SAMPLE_NAME, help=image_argument_help())
    chat.add_argument("--face", type=int, default=None, metavar="N", help="face N when there are several")
    chat.add_argument(
        "--session", type=Path, default=Path("facechat-session"), help="folder the session is saved to"
    )
    chat.add_argument("--resume", action="store_true", help="continue the session saved in --session")
    chat.add_argument(
        "--reference", default=None, metavar="REF", help='a photo whose expression to copy ("copy this one")'
    )
    chat.set_defaults(func=run_chat)


def turn_record(turn: Turn) -> dict:
    """A JSON-ready summary of a turn."""
    identity = turn.identity
    return {
        "text": turn.text,
        "requests": [r.model_dump() for r in turn.requests],
        "command": turn.command.model_dump() if turn.command else None,
        "reply": turn.reply,
        "parser": turn.parse.parser,
        "identity": None
        if identity is None
        else {
            "similarity": round(identity.similarity, 4),
            "scorer": identity.scorer,
            "threshold": round(identity.threshold, 4),
            "same_person": identity.same_person,
        },
        "expression": [
            {
                "attribute": check.attribute,
                "strength": round(check.strength, 3),
                "appeared": check.appeared,
                "change": None if check.change is None else round(check.change, 4),
                "blendshapes": {k: [round(v[0], 4), round(v[1], 4)] for k, v in check.blendshapes.items()},
                "unseen": list(check.unseen),  # targeted, but not measured on this face (blind spots)
            }
            for check in turn.expression
        ],
        "frames": len(turn.frames),
        "notes": list(turn.notes),
        "error": turn.error,
        "timings_ms": {k: round(v, 1) for k, v in turn.timings.items()},
    }


def default_output(image: str) -> Path:
    """NAME_edited.EXT in the current folder: a JPEG or WebP photo stays one (a 12000 px PNG takes
    half a minute to encode and ten times the space), anything else becomes PNG."""
    suffix = Path(image).suffix.lower()
    return Path(f"{Path(image).stem}_edited{suffix if suffix in ('.jpg', '.jpeg', '.webp') else '.png'}")


def _one_turn(args: argparse.Namespace) -> tuple[Turn, np.ndarray | None]:
    """The edit's turn, and the original at the steps' preview size (None without steps).

    The session, and with it the full-resolution original, is let go before anything is encoded: at
    12000x12000 the original, the edit and the encoder's copy would not fit in 1.5 GB together.
    """
    shows_steps = bool(args.gif or args.mp4 or args.frames)
    session = Assistant(
        args.image,
        face_index=args.face,
        backend=getattr(args, "backend", None),
        previews=shows_steps,
        keep_original=shows_steps,  # without steps to show, the edit is pasted into the photo itself
    )
    if session.image_note:
        note(session.image_note)
    reference = {"reference": args.reference, "reference_face": args.reference_face} if args.reference else {}
    turn = session.run(args.text, **reference)
    before = None
    if turn.frames:
        before = cv2.resize(session.original, turn.frames[0].shape[1::-1], interpolation=cv2.INTER_AREA)
    return turn, before


def run_edit(args: argparse.Namespace) -> int:
    turn, before = _one_turn(args)
    if not turn.ok:
        note(turn.error)
        return 1
    edited = bool(turn.requests) and turn.identity is not None
    output = args.output or default_output(args.image)
    written: dict[str, str] = {}
    if edited:
        # the photo is written last of all that uses it: a large one is encoded in place, not copied
        written["output"] = str(save_image(turn.image, output, consume=True).resolve())
        if args.gif and turn.frames:
            written["gif"] = str(save_bytes(encode_gif([before, *turn.frames]), args.gif).resolve())
        if args.mp4 and turn.frames:
            from editor.video import write_frames

            written["mp4"] = str(write_frames([before, *turn.frames], args.mp4).resolve())
        if args.frames and turn.frames:
            for i, frame in enumerate(turn.frames, start=1):
                save_image(frame, args.frames / f"step_{i:02d}.png")
            written["frames"] = str(args.frames.resolve())
    if args.json:
        record = turn_record(turn) | {"output": written.get("output")}
        record |= {k: v for k, v in written.items() if k != "output"}
        sys.stdout.write(json.dumps(record, indent=2) + "\n")
    else:
        sys.stdout.write(turn.reply + "\n")
        if edited:
            sys.stdout.write(f"Saved the edited photo to {written['output']}.\n")
        if "gif" in written:
            sys.stdout.write(f"Wrote the {len(turn.frames)} steps as an animated GIF to {written['gif']}.\n")
        if "mp4" in written:
            sys.stdout.write(f"Wrote the {len(turn.frames)} steps as an MP4 video to {written['mp4']}.\n")
        if "frames" in written:
            sys.stdout.write(f"Wrote the {len(turn.frames)} steps as PNGs to {written['frames']}.\n")
    if not edited:
        if not args.json:
            note("nothing was edited.")
        return 1
    return 0


def choices_folder(session: Path) -> Path:
    """Where `facechat chat` writes the A/B candidates: beside the session folder (which holds only
    the session's own files), e.g. ``facechat-session-choices``."""
    return session.with_name(f"{session.name}-choices")


def write_choices(turn: Turn, folder: Path) -> list[Path]:
    """The turn's A/B candidates as ``folder/A.png`` and ``folder/B.png``; returns their paths."""
    return [save_image(choice.image, folder / f"{choice.label}.png").resolve() for choice in turn.choices]


def write_steps(turn: Turn, original: np.ndarray, folder: Path) -> list[Path]:
    """The original and the turn's K steps as ``folder/steps.gif`` and ``folder/steps.mp4`` (the MP4 with
    the ``video`` extra installed); returns the paths written."""
    frames = [cv2.resize(original, turn.frames[0].shape[1::-1], interpolation=cv2.INTER_AREA), *turn.frames]
    written = [save_bytes(encode_gif(frames), folder / "steps.gif").resolve()]
    try:
        from editor.video import write_frames

        written.append(write_frames(frames, folder / "steps.mp4").resolve())
    except FacechatError as error:  # no PyAV: the GIF alone
        note(str(error))
    return written


def run_chat(args: argparse.Namespace) -> int:
    folder = args.session.expanduser().resolve()  # default: facechat-session in the current folder
    if args.resume:
        session = Assistant.load(folder)
        sys.stdout.write(f"Resumed the session in {folder}.\n")
    else:
        session = Assistant()
        sys.stdout.write(session.load_image(args.image, face_index=args.face) + "\n")
        sys.stdout.write(f"The session is saved to {folder} after every turn (continue it with --resume).\n")
    if args.reference:
        sys.stdout.write(session.set_reference(args.reference) + "\n")
    sys.stdout.write(
        "Type a request (e.g. 'make her smile a little'), 'undo', 'show me the steps', or 'quit'; add "
        "'not sure how much' to choose between pictures A and B.\n"
    )
    try:
        while True:
            try:
                text = input("you> ")
            except EOFError:
                break
            if text.strip().lower() in QUIT_WORDS:
                break
            if not text.strip():
                continue
            turn = session.run(text)
            sys.stdout.write(f"facechat> {turn.reply}\n")
            for choice, path in zip(turn.choices, write_choices(turn, choices_folder(folder)), strict=True):
                sys.stdout.write(f"  {choice.label}: {path}\n")
            if turn.command is not None and turn.command.name == "show_steps" and turn.frames:
                for path in write_steps(turn, session.original, folder.with_name(f"{folder.name}-steps")):
                    sys.stdout.write(f"  steps: {path}\n")
            session.save(folder)  # the whole session, in one step: a crash loses at most this turn
    finally:
        session.save(folder)
        sys.stdout.write(f"Session saved to {folder} (resume with --resume).\n")
    return 0
