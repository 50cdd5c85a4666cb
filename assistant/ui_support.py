"""What a chat window needs beyond `Assistant`: opening photos, pictures for the screen, turn summaries.

Everything here is plain Python on numpy images and engine objects, so the Streamlit app
(``streamlit_app.py``) stays a thin shell and all of it is tested without Streamlit:

- `open_photo`: read a photo, bring a huge one down to a working size, find every face and start the
  conversation on the chosen one (with a sentence saying what happened);
- `display_copy`, `wipe` (the before / after comparison), `numbered_faces` (pick one face of several),
  `steps_gif` (the intermediate steps, animated); `steps_mp4` (the same as an H.264 MP4);
- `summarize_turn`: the parsed records, the identity badge and the expression readout of a `Turn`;
- `session_zip` / `load_session_zip`: `Assistant.save` / `Assistant.load` through one zip file;
- `llm_status` / `fallback_reason`: which parser runs, whether its endpoint answers, whether it failed;
- `progress_callback`: the latent backend's denoising steps on a progress bar.

Images are (H, W, 3) uint8 RGB throughout.
"""

from __future__ import annotations

import io
import logging
import os
import re
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from assistant.conversation import SESSION_FILE, Conversation, SessionError
from assistant.session import Assistant, Turn
from assistant.session_folder import SESSION_FILES
from editor import vocabulary as vocab
from editor.editor import BLIND_BLENDSHAPES, ExpressionCheck
from editor.errors import FaceSelectionError, NoFaceError
from editor.face import Face
from editor.identity import IdentityResult
from editor.images import ImageSource, encode_gif, load_image, working_copy
from editor.requests import Command, EditRequest

logger = logging.getLogger(__name__)

#: Longest side, pixels, the app edits at: larger photos are brought down to it (edits and PNG
#: encoding grow with the pixel count: an 8000 px photo takes about 5 s per edit on two cores).
MAX_WORKING_SIDE = 2048
#: Longest side of the copies shown on screen.
DISPLAY_SIDE = 1024
#: Largest uncompressed session zip member accepted, bytes.
MAX_SESSION_MEMBER = 200 * 1024 * 1024
#: Prefix of the note an LLM parser adds when it fell back to the offline parser.
FALLBACK_PREFIX = "LLM unavailable, used offline parser"

# Colours of the face boxes: the face being edited, the others (RGB).
_CHOSEN = (255, 196, 0)
_OTHER = (80, 200, 255)


# ---------------------------------------------------------------------------------------------- photos


@dataclass(frozen=True)
class OpenedPhoto:
    """A photo the conversation now edits.

    Attributes:
        image: (H, W, 3) uint8 RGB working copy (the original, or a downscaled copy of a huge photo).
        faces: every usable face, largest first (`Face.index` 0 = largest).
        face_index: the face being edited (an index into ``faces``).
        original_size: (width, height) of the photo as given.
        message: what to tell the person (size, downscaling, how many faces, caveats).
    """

    image: np.ndarray
    faces: tuple[Face, ...]
    face_index: int
    original_size: tuple[int, int]
    message: str

    @property
    def downscaled(self) -> bool:
        return self.image.shape[1] != self.original_size[0] or self.image.shape[0] != self.original_size[1]


def open_photo(
    assistant: Assistant,
    source: ImageSource,
    *,
    face_index: int | None = None,
    name: str | None = None,
    max_side: int = MAX_WORKING_SIDE,
) -> OpenedPhoto:
    """Read ``source``, find its faces and start ``assistant``'s conversation on one of them.

    Args:
        assistant: the session; its conversation restarts on the new photo.
        source: anything `editor.images.load_image` reads (bytes of an upload, a path, "sample", ...).
        face_index: which face (0 = largest); default the largest.
        name: how to call the photo in error messages (e.g. the uploaded file's name).
        max_side: photos longer than this are edited on a downscaled copy.

    Raises:
        FacechatError: unreadable photo (`ImageLoadError`), no usable face (`NoFaceError`), or
            ``face_index`` out of range (`FaceSelectionError`). The previous photo stays loaded.
    """
    rgb = load_image(source, name=name)
    height, width = rgb.shape[:2]
    if max(height, width) > max_side:
        rgb = np.ascontiguousarray(working_copy(rgb, max_side)[0])
    faces = tuple(assistant.editor.analyzer.analyze(rgb))
    if not faces:
        assistant.editor.analyze(rgb)  # raises NoFaceError with the analyser's reason
        raise NoFaceError("I could not find a face in this photo; try one with a clear, front-facing face.")
    index = 0 if face_index is None else face_index
    if not 0 <= index < len(faces):
        raise FaceSelectionError(
            f"There is no face {index + 1}: the photo has {len(faces)} usable "
            f"face{'s' if len(faces) != 1 else ''}. Pick one of the numbered boxes."
        )
    assistant.load_image(rgb, face_index=index)
    return OpenedPhoto(
        image=rgb,
        faces=faces,
        face_index=index,
        original_size=(width, height),
        message=_opened_message(rgb, faces, index, (width, height)),
    )


def choose_face(assistant: Assistant, photo: OpenedPhoto, index: int) -> OpenedPhoto:
    """Restart ``assistant``'s conversation on face ``index`` (0 = largest) of an opened photo.

    Raises:
        FaceSelectionError: ``index`` is not one of the photo's faces.
    """
    if not 0 <= index < len(photo.faces):
        raise FaceSelectionError(
            f"There is no face {index + 1}: the photo has {len(photo.faces)} usable faces. "
            "Pick one of the numbered boxes."
        )
    assistant.load_image(photo.image, face_index=index)
    message = _opened_message(photo.image, photo.faces, index, photo.original_size)
    return OpenedPhoto(photo.image, photo.faces, index, photo.original_size, message)


def describe_loaded(assistant: Assistant) -> OpenedPhoto | None:
    """The `OpenedPhoto` of a session whose photo is already loaded (e.g. restored); None without one."""
    if assistant.original is None:
        return None
    rgb = assistant.original
    faces = tuple(assistant.editor.analyzer.analyze(rgb))
    index = assistant.face_index or 0
    size = (rgb.shape[1], rgb.shape[0])
    return OpenedPhoto(rgb, faces, index, size, _opened_message(rgb, faces, index, size) if faces else "")


def _opened_message(rgb: np.ndarray, faces: tuple[Face, ...], index: int, size: tuple[int, int]) -> str:
    height, width = rgb.shape[:2]
    parts = [f"Photo loaded ({size[0]}×{size[1]})."]
    if (width, height) != size:
        parts.append(f"It is very large, so I edit a {width}×{height} copy to keep things quick.")
    if len(faces) > 1:
        which = "the largest" if index == 0 else f"face {index + 1}"
        parts.append(
            f"I found {len(faces)} faces and I'm editing {which} (box {index + 1}); pick another below."
        )
    parts.extend(faces[index].warnings)
    return " ".join(parts)


def display_copy(image: np.ndarray, max_side: int = DISPLAY_SIDE) -> np.ndarray:
    """A copy of ``image`` no longer than ``max_side`` (the image itself when already small enough)."""
    return working_copy(image, max_side)[0]


def wipe(before: np.ndarray, after: np.ndarray, position: float) -> np.ndarray:
    """Before / after comparison: ``before`` left of ``position`` (0..1 of the width), ``after`` right of it.

    Args:
        before, after: (H, W, 3) uint8 RGB; ``after`` is resized to ``before``'s size if it differs.
        position: where the divide is, as a fraction of the width (0 = all after, 1 = all before).

    Returns:
        (H, W, 3) uint8 RGB with a thin white divide (a dark edge on each side) where the halves meet.
    """
    if after.shape != before.shape:
        after = cv2.resize(after, (before.shape[1], before.shape[0]), interpolation=cv2.INTER_AREA)
    width = before.shape[1]
    cut = int(round(float(np.clip(position, 0.0, 1.0)) * width))
    out = after.copy()
    out[:, :cut] = before[:, :cut]
    half = max(1, width // 400)
    if 0 < cut < width:
        out[:, max(0, cut - half - 1) : cut + half + 1] = (40, 40, 40)
        out[:, max(0, cut - half) : cut + half] = (255, 255, 255)
    return out


def numbered_faces(image: np.ndarray, faces: tuple[Face, ...] | list[Face], chosen: int | None = None):
    """``image`` with a numbered box (1, 2, ... largest first) around each face; ``chosen`` highlighted.

    Returns:
        (H, W, 3) uint8 RGB copy; the labels scale with the photo.
    """
    out = np.ascontiguousarray(image.copy())
    scale = max(out.shape[:2]) / 800
    thickness = max(2, int(round(3 * scale)))
    for face in faces:
        x, y, w, h = (int(round(v)) for v in face.box)
        colour = _CHOSEN if face.index == chosen else _OTHER
        cv2.rectangle(out, (x, y), (x + w, y + h), colour, thickness, cv2.LINE_AA)
        label = str(face.index + 1)
        font_scale = max(0.6, min(3.0, 0.9 * scale, w / 60))
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        pad = thickness + 2
        top = max(0, y - th - base - 2 * pad)
        cv2.rectangle(out, (x, top), (x + tw + 2 * pad, top + th + base + 2 * pad), colour, -1)
        cv2.putText(
            out, label, (x + pad, top + th + pad), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0),
            thickness, cv2.LINE_AA,
        )  # fmt: skip
    return out


def progress_callback(placeholder) -> Callable[[int, int, str], None]:
    """A latent-sampling progress callback (`editor.latent.progress`) that draws on ``placeholder``
    (anything with Streamlit's ``progress(value, text=...)``, e.g. ``st.empty()``)."""

    def update(done: int, total: int, text: str) -> None:
        placeholder.progress(min(1.0, done / max(total, 1)), text=f"{text} (step {done} of {total})")

    return update


def steps_gif(frames: tuple[np.ndarray, ...] | list[np.ndarray], *, frame_ms: int = 120) -> bytes:
    """The K step previews as an animated GIF (`editor.images.encode_gif`, fast octree palettes)."""
    return encode_gif(list(frames), frame_ms=frame_ms)


def steps_mp4(frames: tuple[np.ndarray, ...] | list[np.ndarray], *, fps: float = 8.0) -> bytes:
    """The K step previews as an H.264 MP4 (`editor.video.write_frames`; needs the ``video`` extra)."""
    from editor.video import write_frames

    with tempfile.TemporaryDirectory() as folder:
        return write_frames(list(frames), Path(folder) / "steps.mp4", fps=fps).read_bytes()


# ---------------------------------------------------------------------------------------------- turns


@dataclass(frozen=True)
class IdentityBadge:
    """How to show an identity verdict: ``label`` (short), ``colour`` (green/red/orange/gray), ``detail``."""

    label: str
    colour: str
    detail: str


@dataclass(frozen=True)
class BlendshapeChange:
    """One blendshape of an expression check: score before and after (0..1), expected direction."""

    name: str
    before: float
    after: float
    sign: float
    measurable: bool


@dataclass(frozen=True)
class ExpressionReadout:
    """One requested expression: whether FaceLandmarker sees it appear, and its top blendshape changes."""

    attribute: str
    strength: float
    verdict: str  # "visible", "subtle" or "not measurable"
    change: float | None
    shapes: tuple[BlendshapeChange, ...]


@dataclass(frozen=True)
class TurnSummary:
    """A `Turn` in the few words a chat window shows.

    Attributes:
        understood: the parsed records of the message ("disgusted +0.30 · 5 steps"), compact.
        plain: the reply in plain words, no numbers ("Done: now slightly disgusted.").
        reply: the engine's full reply (numbers, identity), for the Details.
        command: the conversation command understood ("undo", "more ×1.50"), or None.
        showing: the edit state now shown, as applied ("original photo" when none).
        parser: "offline" or "llm".
        identity: the badge (None for the unedited photo).
        expression: one readout per applied expression request.
        notes: caveats the reply does not already state (identity back-off, unsupported attributes).
        changed: whether the turn changed the picture (False: it re-showed the previous one).
    """

    understood: tuple[str, ...]
    command: str | None
    showing: tuple[str, ...]
    parser: str
    identity: IdentityBadge | None
    expression: tuple[ExpressionReadout, ...]
    notes: tuple[str, ...]
    changed: bool = True
    plain: str = ""
    reply: str = ""


def record_text(request: EditRequest) -> str:
    """One parsed record, compactly: ``"disgusted +0.30 · 5 steps"`` (with its colour when it has one)."""
    colour = f" {request.value}" if request.value else ""
    return f"{request.attribute}{colour} {request.strength:+.2f} · {request.steps} steps"


def command_text(command: Command | None) -> str | None:
    """``"undo"``, ``"more ×1.50"``, ... or None."""
    if command is None:
        return None
    return command.name if command.factor is None else f"{command.name} ×{command.factor:.2f}"


def identity_badge(identity: IdentityResult | None) -> IdentityBadge | None:
    """The badge for an identity verdict; None when there is nothing to judge (the unedited photo)."""
    if identity is None:
        return None
    calibrated = "calibrated" if identity.calibrated else "uncalibrated: treat the verdict with care"
    detail = (
        f"Cosine similarity of the {identity.scorer} face embeddings of the edit and the original: "
        f"{identity.similarity:.3f}; the same-person threshold is {identity.threshold:.3f} ({calibrated})."
    )
    if not identity.same_person:
        colour = "red"
    elif not identity.calibrated:
        colour = "orange"
    else:
        colour = "green"
    label = f"{identity.verdict} · {identity.similarity:.2f} ({identity.scorer})"
    return IdentityBadge(label=label, colour=colour, detail=detail)


def expression_readout(check: ExpressionCheck, top: int = 4) -> ExpressionReadout:
    """The ``top`` targeted blendshapes that moved most, with a verdict on whether the expression shows."""
    shapes = sorted(
        (
            BlendshapeChange(name, float(before), float(after), float(sign), name not in BLIND_BLENDSHAPES)
            for name, (before, after, sign) in check.blendshapes.items()
        ),
        key=lambda s: (s.measurable, abs(s.after - s.before)),
        reverse=True,
    )[:top]
    if check.appeared is None:
        verdict = "not measurable"
    else:
        verdict = "visible" if check.appeared else "subtle"
    return ExpressionReadout(check.attribute, check.strength, verdict, check.change, tuple(shapes))


def summarize_turn(turn: Turn, previous: Turn | None = None) -> TurnSummary:
    """The compact view of one turn (records, command, state shown, identity, expression, notes).

    Args:
        turn: the turn to summarise.
        previous: the session's turn before it; when ``turn`` only re-shows its picture ("hello",
            "show me the steps", a request it cannot do), the identity and expression are left out
            (``changed`` is False) instead of being repeated.
    """
    # The reply already says when the language model fell back (see `fallback_reason` for a status line).
    notes = tuple(n for n in turn.notes if n and n not in turn.reply and not n.startswith(FALLBACK_PREFIX))
    changed = previous is None or turn.image is not previous.image
    measured = changed and bool(turn.requests)
    return TurnSummary(
        understood=tuple(record_text(r) for r in turn.parse.requests),
        command=command_text(turn.command),
        showing=tuple(record_text(r) for r in turn.requests) or ("original photo",),
        parser=turn.parse.parser,
        identity=identity_badge(turn.identity) if measured else None,
        expression=tuple(expression_readout(c) for c in turn.expression) if measured else (),
        notes=notes,
        changed=changed,
        plain=plain_reply(turn),
        reply=turn.reply,
    )


def attribute_words(name: str) -> str:
    """An attribute name as words for people: ``"brow_raise"`` -> ``"brow raise"``."""
    return name.replace("_", " ")


def state_words(requests: tuple[EditRequest, ...] | list[EditRequest]) -> str:
    """The edits in plain words, no numbers: ``"slightly disgusted and raised eyebrows"``."""
    words = [vocab.describe(r.attribute, r.strength, r.value) for r in requests]
    if not words:
        return "the original photo"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


#: Sentences of an engine reply worth keeping in the plain reply (what was replaced, how a word was read).
_KEPT_SENTENCES = re.compile(r"Replaced [^.]*\.|\(I read '[^']*' as [^)]*\.\)")


def plain_reply(turn: Turn) -> str:
    """The reply in plain words first ("Done: now slightly disgusted."); numbers stay in the Details.

    Messages that changed no edit (help, a refusal, a request no backend can do) keep their reply.
    """
    if turn.error:
        return turn.error
    if turn.choices:
        return "Which is closer to what you want, A or B? Pick one, or say 'neither' or 'stop'."
    command = turn.command.name if turn.command is not None else None
    if command == "show_steps":
        return "Here are the steps: the Steps view shows each one."
    edited = bool(turn.parse.requests) or turn.parse.set_strength is not None or command in ("more", "less")
    if command in ("undo", "redo", "reset") and not turn.parse.requests:
        first = turn.reply.split(". ")[0].rstrip(".")
        return f"{first}. Now showing {state_words(turn.requests)}."
    if not edited or not turn.requests and not turn.parse.requests:
        return turn.reply
    kept = " ".join(_KEPT_SENTENCES.findall(turn.reply))
    if turn.reply.startswith("Chose "):  # the end of the A/B questions
        taken = re.search(r"\(you took ([AB])\)", turn.reply.split(". ")[0])
        how = f"You took {taken.group(1)}." if taken else "Chosen from your answers."
        kept = f"{how} {kept}".strip()
    return f"Done: now {state_words(turn.requests)}." + (f" {kept}" if kept else "")


def restored_history(conversation: Conversation) -> list[tuple[str, str]]:
    """The chat of a restored session, as (role, text) pairs: each step's message and what it showed.

    A saved session keeps each step's message and edit state (not the replies), so the replies are
    retold in plain words from the states.
    """
    history = []
    for state in conversation.states[1 : conversation.index + 1]:
        history.append(("user", state.text or f"({state.action})"))
        if state.action == "reset":
            history.append(("assistant", "Back to the original photo."))
        else:
            history.append(("assistant", f"Done: now {state_words(state.edits)}."))
    return history


def fallback_reason(turn: Turn) -> str | None:
    """Why the language model was not used for ``turn`` (None when it was, or none is configured)."""
    for note in turn.notes:
        if note.startswith(FALLBACK_PREFIX) and "set FACECHAT_LLM_BASE_URL" not in note:
            return note[len(FALLBACK_PREFIX) :].lstrip(": ") or "unavailable"
    return None


# ---------------------------------------------------------------------------------------------- sessions


def session_zip(assistant: Assistant) -> bytes:
    """The session (`Assistant.save`'s folder: conversation JSON, original and current PNGs) as zip bytes."""
    with tempfile.TemporaryDirectory(prefix="facechat-session-") as folder:
        assistant.save(folder)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
            for name in SESSION_FILES:
                path = Path(folder) / name
                if path.is_file():
                    archive.write(path, arcname=name)
        return buffer.getvalue()


def load_session_zip(data: bytes, *, editor=None, parser=None) -> Assistant:
    """Restore a session from `session_zip`'s bytes (only its known files are read; paths are ignored).

    Raises:
        SessionError: not a zip, no ``session.json``, a member too large, or a damaged session.
        FacechatError: the saved photo cannot be read or has no face any more.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as error:
        raise SessionError(
            "That file is not a saved facechat session (not a zip file); use a .zip saved by this app."
        ) from error
    with archive, tempfile.TemporaryDirectory(prefix="facechat-session-") as folder:
        members = {os.path.basename(info.filename): info for info in archive.infolist() if not info.is_dir()}
        if SESSION_FILE not in members:
            raise SessionError(
                f"That zip holds no {SESSION_FILE}, so it is not a saved facechat session; "
                "use a .zip saved by this app."
            )
        for name in SESSION_FILES:
            info = members.get(name)
            if info is None:
                continue
            if info.file_size > MAX_SESSION_MEMBER:
                raise SessionError(f"{name} in that zip is too large ({info.file_size} bytes) to restore.")
            try:
                (Path(folder) / name).write_bytes(archive.read(info))
            except (zipfile.BadZipFile, OSError, RuntimeError) as error:
                raise SessionError(
                    f"{name} in that zip is damaged ({error}); save the session again."
                ) from error
        return Assistant.load(folder, editor=editor, parser=parser)


# ---------------------------------------------------------------------------------------------- parser


@dataclass(frozen=True)
class LLMStatus:
    """The language-model side of parsing, for a status line.

    Attributes:
        mode: "llm" (a chat model parses, offline rules as fallback) or "offline".
        label: one short line ("Offline parser", "gpt-4o-mini at http://...").
        reachable: whether the endpoint answered a probe (None: not probed, or offline mode).
        detail: a sentence: how to configure one, or why the endpoint is unreachable.
    """

    mode: str
    label: str
    reachable: bool | None
    detail: str


def llm_status(parser, *, environ: dict[str, str] | None = None, probe: bool = False, timeout: float = 1.5):
    """What parses requests: the offline rules, or a language model (and, with ``probe``, is it up?)."""
    env = os.environ if environ is None else environ
    try:
        from assistant.parsing.llm import DEFAULT_MODEL, LLMParser
    except ImportError:  # the llm extra is not installed
        LLMParser, DEFAULT_MODEL = None, ""  # noqa: N806
    if LLMParser is None or not isinstance(parser, LLMParser):
        return LLMStatus(
            mode="offline",
            label="Offline parser (rules + MiniLM)",
            reachable=None,
            detail="No language model is configured; set FACECHAT_LLM_BASE_URL (and FACECHAT_LLM_MODEL) "
            "to use one. The offline parser understands the whole vocabulary.",
        )
    base_url = env.get("FACECHAT_LLM_BASE_URL") or "https://api.openai.com/v1"
    model = env.get("FACECHAT_LLM_MODEL") or DEFAULT_MODEL
    reachable, detail = (None, "Not checked yet.") if not probe else probe_endpoint(base_url, timeout)
    return LLMStatus(mode="llm", label=f"{model} at {base_url}", reachable=reachable, detail=detail)


def probe_endpoint(base_url: str, timeout: float = 1.5) -> tuple[bool, str]:
    """(reachable, sentence): does anything answer HTTP at ``base_url``/models within ``timeout`` seconds?

    Any HTTP answer (even 401 or 404) counts as reachable: the server is up; parsing failures are
    reported per message by the parser's fallback.
    """
    url = base_url.rstrip("/") + "/models"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=timeout) as reply:
            return True, f"The endpoint answers (HTTP {reply.status})."
    except urllib.error.HTTPError as error:
        return True, f"The endpoint answers (HTTP {error.code})."
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return False, (
            f"The endpoint does not answer ({reason}); requests are parsed offline until it is back."
        )
