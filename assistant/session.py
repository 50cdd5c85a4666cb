"""`Assistant`: a conversation about one photo, from what a person types to an edited image and a reply.

Each message is parsed (offline rules by default, a language model when one is configured), applied to
the conversation's stack of edit states, and, when the edits changed, re-rendered from the ORIGINAL
photo by the `Editor` (identity-gated and measured). The result of every message is a `Turn`.

Problems a person can fix (an unreadable photo, no face, several faces) come back as a `Turn` whose
``error`` says what to do; the conversation so far is kept.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.conversation import SESSION_FILE, Conversation, SessionError
from assistant.parsing.reference import mentions_reference, reference_strength
from assistant.preference import Answer, parse_answer, wants_options
from assistant.preference.dialog import Choosing
from assistant.session_folder import (
    CURRENT_FILE,
    META_FILE,
    ORIGINAL_FILE,
    Content,
    PhotoFile,
    SavedFile,
    SessionFolder,
)
from editor import vocabulary as vocab
from editor.errors import FacechatError
from editor.images import ImageSource, encode_image, load_image
from editor.requests import Command, EditRequest, ParseResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Choice:
    """One candidate of an A/B question.

    Attributes:
        label: "A" or "B".
        image: (H, W, 3) uint8 RGB, the photo at full resolution rendered with ``requests``.
        requests: the complete edit state this candidate shows (from the original photo), as applied.
    """

    label: str
    image: np.ndarray
    requests: tuple[EditRequest, ...]


@dataclass(frozen=True)
class Turn:
    """The outcome of one message.

    Attributes:
        text: what the person typed.
        parse: what the parser understood (records, command, parser used, its notes).
        requests: the complete edit state now shown, as applied (from the original photo).
        command: the conversation command of the message, if any.
        image: (H, W, 3) uint8 RGB photo now shown (None when no photo is loaded).
        frames: K intermediate previews of the last render (empty when nothing was rendered).
        identity: similarity of ``image`` to the original, with scorer and verdict (None: unedited).
        expression: per-request checks of whether the expression appeared (`editor.editor.ExpressionCheck`).
        reply: what to tell the person.
        notes: caveats (identity back-off, unsupported attributes, LLM fallback, ...).
        error: set when the message could not be carried out (bad photo, no face, ...).
        timings: milliseconds per stage ("parse", "render", "total", ...).
        choices: the two candidates (A, B) of an A/B question when the turn asks one ("not sure how
            much"), else empty; the next message answers it ("A", "the second", "neither", "stop").
    """

    text: str
    parse: ParseResult
    requests: tuple[EditRequest, ...]
    command: Command | None
    image: np.ndarray | None
    frames: tuple[np.ndarray, ...] = ()
    identity: object | None = None
    expression: tuple = ()
    reply: str = ""
    notes: tuple[str, ...] = ()
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def similarity(self) -> float | None:
        """Identity similarity to the original (None when the photo is unedited)."""
        return None if self.identity is None else self.identity.similarity


class Assistant:
    """A face editing conversation about one photo.

    Args:
        image: the photo to edit (path, bytes, PIL, numpy, or "sample"); can be given later.
        face_index: which face to edit when there are several (default: the largest, and the reply says so).
        editor: the `editor.editor.Editor` (default: a shared one with every installed backend).
        parser: anything with ``parse(text) -> ParseResult`` (default: LLM when configured, else offline).
        backend: which editing backend(s) to use when no ``editor`` is given, one of
            `editor.backends.registry.BACKEND_CHOICES` (default "auto": the built-in ones, and the latent
            one for what only it can do when ``FACECHAT_LATENT_MODEL`` names a model).
        previews: render each turn's intermediate steps (``Turn.frames``); a one-shot edit that shows no
            steps passes False and saves their rendering.
        keep_original: False for a one-shot edit that gives the photo up: the first message's render is
            pasted into the decoded photo itself (at 12000x12000 a 432 MB copy fewer; never into an
            array the caller passed), after which the session holds no original (a further message
            asks for a photo).
    """

    def __init__(
        self,
        image: ImageSource | None = None,
        *,
        face_index: int | None = None,
        editor=None,
        parser=None,
        backend: str | None = None,
        previews: bool = True,
        keep_original: bool = True,
    ) -> None:
        if editor is not None and backend is not None:
            raise ValueError("Pass an editor or a backend choice, not both (the editor has its backends).")
        self._backend = backend or "auto"
        self.previews = previews
        self.keep_original = keep_original
        self._owns_original = False
        self._editor = editor
        self._parser = parser
        self._parser_lock = threading.Lock()
        self._lock = threading.RLock()
        self.conversation = Conversation()
        self.original: np.ndarray | None = None
        self.current: np.ndarray | None = None
        self.face_index = face_index
        self.last_turn: Turn | None = None
        self.image_note: str | None = None
        #: the A/B questions in progress (`assistant.preference.dialog.Choosing`), if any
        self.choosing: Choosing | None = None
        #: the reference photo's measured expression (`set_reference`), copied when a message asks
        self.reference: EditRequest | None = None
        #: file name -> (the photo array last saved under it, where and with what checksum)
        self._saved: dict[str, tuple[np.ndarray, SavedFile]] = {}
        if image is not None:
            self.load_image(image, face_index=face_index)

    # ------------------------------------------------------------------ components

    @property
    def editor(self):
        if self._editor is None:
            self._editor = shared_editor(self._backend)
        return self._editor

    @property
    def backend(self) -> str:
        """The backend choice this session edits with ("auto" unless chosen; see `use_backend`)."""
        return self._backend

    def use_backend(self, backend: str) -> str:
        """Edit with the shared editor of ``backend`` from now on (the conversation is kept; the next
        render uses it). Returns a sentence naming the backends and, when something is missing, what
        would enable it.

        Raises:
            FacechatError: an unknown choice, or a configured latent model that cannot be used.
        """
        with self._lock:
            editor = shared_editor(backend)
            self._editor, self._backend = editor, backend
            names = ", ".join(b.name for b in editor.registry.backends) or "none"
            missing = f" {editor.registry.missing}" if editor.registry.missing else ""
            return f"Editing with: {names}.{missing}"

    @property
    def parser(self):
        with self._parser_lock:  # the preload thread may be building it
            if self._parser is None:
                self._parser = configured_parser()
            return self._parser

    def _prepare_parser(self) -> None:
        """Build the parser now (about half a second cold), for the first message; a failure is left
        for that message's own call to report."""
        try:
            self.parser  # noqa: B018 - built and kept
        except Exception as error:  # noqa: BLE001 - the first message's own call raises it again, cleanly
            logger.debug("preparing the parser failed: %s", error)

    # ------------------------------------------------------------------ photo

    def load_image(self, image: ImageSource, *, face_index: int | None = None) -> str:
        """Start a new conversation about ``image``; returns a sentence describing the face chosen.

        Raises:
            FacechatError: the photo cannot be read, has no usable face, or ``face_index`` is out of range.
        """
        with self._lock:
            loading = self._editor is None
            if loading:  # load the face models while the photo decodes (a large JPEG: a second or more)
                threading.Thread(
                    target=_preload_shared_editor, args=(self._backend,), name="facechat-models", daemon=True
                ).start()
            rgb = load_image(image)
            if loading:  # and the parser while the models finish loading
                self._prepare_parser()
            face = self.editor.analyze(rgb, face_index)
            self.original, self.current = rgb, rgb
            # decoded here (not the caller's own array) and writeable: `keep_original` False may reuse it
            self._owns_original = rgb is not image and rgb.flags.writeable
            self._saved = {}
            self.face_index = face_index
            self.conversation = Conversation()
            self.last_turn = None
            self.choosing = None
            notes = [w for w in face.warnings]
            self.image_note = " ".join(notes) if notes else None
            height, width = rgb.shape[:2]
            return f"Photo loaded ({width}x{height}); editing face {face.index}." + (
                f" {self.image_note}" if self.image_note else ""
            )

    # ------------------------------------------------------------------ messages

    def run(
        self,
        text: str,
        image: ImageSource | None = None,
        *,
        reference: ImageSource | None = None,
        reference_face: int | None = None,
    ) -> Turn:
        """Handle one message (optionally with a new photo, which starts a new conversation).

        ``reference``: a photo whose expression to copy (`set_reference`); with it, the message's
        expression request ("copy this expression", "make her smile like in this photo", "half as
        strong as in the photo") becomes that expression. ``reference_face``: which face of it.
        """
        started = time.perf_counter()
        with self._lock:
            if image is not None:
                try:
                    self.load_image(image, face_index=self.face_index)
                except FacechatError as error:
                    return self._error_turn(text, str(error), started)
            if reference is not None:
                try:
                    self.set_reference(reference, face_index=reference_face)
                except FacechatError as error:
                    return self._error_turn(text, str(error), started)
            stopped = None
            if self.choosing is not None:
                answer = parse_answer(text)
                if answer is not None:
                    return self._answer(text, answer, started)
                self.choosing, stopped = None, "(I stopped the A/B questions.)"
            parse_started = time.perf_counter()
            parsed = self._with_reference(text, self.parser.parse(text), attached=reference is not None)
            parsed = self._drop_unsupported(parsed)
            timings = {"parse": 1000 * (time.perf_counter() - parse_started)}
            if wants_options(text) and self.original is not None:
                return self._start_choosing(text, parsed, timings, started)
            outcome = self.conversation.apply(parsed, text)
            notes = list(parsed.notes)
            reply = outcome.reply if stopped is None else f"{stopped} {outcome.reply}"
            if self.original is None:
                if not parsed.is_empty:
                    reply = (
                        f"{reply} Add a photo first (a path, or 'sample'), then I can make the edit.".strip()
                    )
                turn = Turn(
                    text=text, parse=parsed, requests=outcome.edits, command=parsed.command, image=None,
                    reply=reply, notes=tuple(notes), timings=timings,
                )  # fmt: skip
                self.last_turn = turn
                return turn
            render = None
            if outcome.rerender or self.last_turn is None or self.last_turn.image is None:
                render = self._render(outcome.edits, last=not self.keep_original and self._owns_original)
                timings.update({f"render_{k}": v for k, v in render.timings.items()})
                self.current = render.image
            turn = self._compose(text, parsed, outcome, render, notes, reply, timings)
            turn.timings["total"] = 1000 * (time.perf_counter() - started)
            self.last_turn = turn
            return turn

    def rerender_last(self, strength: float) -> Turn:
        """Re-render with the most recent edit's strength set to ``strength``."""
        with self._lock:
            edits = self.conversation.edits
            if not edits:
                raise FacechatError("There is no edit to adjust yet.")
            return self.set_strength(edits[-1].attribute, strength)

    def set_strength(self, attribute: str, strength: float) -> Turn:
        """Re-render from the original with ``attribute`` (one the current state holds) at ``strength``.

        The UI's per-attribute sliders; one undoable step. Raises `FacechatError` for an attribute
        the current state does not hold.
        """
        with self._lock:
            held = self.conversation.current.by_attribute()
            if attribute not in held:
                raise FacechatError(
                    f"The photo has no {attribute.replace('_', ' ')} edit to adjust; ask for it first."
                )
            self.choosing = None
            words = attribute.replace("_", " ")
            parsed = ParseResult(
                requests=(held[attribute].model_copy(update={"strength": strength}),),
                keep=True,  # a slider changes one attribute; the other emotions stay
                reply=f"Set {words} to {strength:+.2f}.",
            )
            return self._apply_parsed(f"[{words} strength {strength:+.2f}]", parsed)

    # ------------------------------------------------------------------ reference photo

    def set_reference(self, image: ImageSource, *, face_index: int | None = None) -> str:
        """Measure the expression of a reference photo (another person's, or this one's) to copy.

        Later messages that point at it ("copy this expression") re-create it on this photo's face
        (`editor.transfer`). Returns a sentence for the person.

        Raises:
            FacechatError: the photo cannot be read, shows no face, or several and no ``face_index``.
        """
        from editor.transfer import reference_request

        with self._lock:
            self.reference = reference_request(image, analyzer=self.editor.analyzer, face_index=face_index)
            return "Reference photo measured: ask me to copy its expression ('copy this expression')."

    def _with_reference(self, text: str, parsed: ParseResult, *, attached: bool) -> ParseResult:
        """The message with its expression requests replaced by the reference photo's expression, when
        it points at the reference (or comes with one and asks for an expression); else unchanged."""
        expression = [r for r in parsed.requests if vocab.family(r.attribute) == vocab.EXPRESSION]
        named = any(r.attribute == vocab.REFERENCE for r in parsed.requests)
        if not (mentions_reference(text) or named or (attached and (expression or parsed.is_empty))):
            return parsed
        if self.reference is None:
            return ParseResult(
                reply="I need the reference photo first: attach it (--reference REF.jpg on the command "
                "line, reference=... in Python, the reference upload in the app), then ask again.",
                notes=parsed.notes,
                parser=parsed.parser,
            )
        strength = reference_strength(text)
        others = tuple(r for r in parsed.requests if vocab.family(r.attribute) != vocab.EXPRESSION)
        request = self.reference.model_copy(update={"strength": strength})
        how = "" if strength == 1.0 else f" at {strength:.0%} of its strength"
        return ParseResult(
            requests=(request, *others),
            reply=f"Copying the reference photo's expression{how}.",
            notes=parsed.notes,
            parser=parsed.parser,
        )

    # ------------------------------------------------------------------ A/B questions

    def _start_choosing(self, text: str, parsed: ParseResult, timings: dict, started: float) -> Turn:
        """ "not sure how much" / "show me options": ask the first A/B question about the strengths."""
        if not parsed.requests:
            # "show me options" alone: the attributes of the last edit, at the strengths they have
            last = self.conversation.current.by_attribute()
            changed = self.conversation.last_changed()
            requests = tuple(last[name] for name in changed if name in last)
            parsed = ParseResult(requests=requests, keep=True, reply=parsed.reply, notes=parsed.notes)
        choosing = Choosing.start(parsed, text, seed=len(self.conversation.states))
        if choosing is None:
            reply = "Tell me what to change first (e.g. 'make her angrier, but I'm not sure how much')."
            return self._question_turn(text, parsed, reply, (), timings, started)
        self.choosing = choosing
        lead = "I'll show you two versions at a time; pick the one closer to what you want."
        if len(parsed.requests) > len(choosing.targets):
            lead += f" I'll choose the strengths of {', '.join(choosing.names)}; the rest applies as asked."
        return self._ask(text, lead, timings, started)

    def _answer(self, text: str, answer: Answer, started: float) -> Turn:
        choosing = self.choosing
        choosing.answer(answer)
        if answer.stop or choosing.done:
            return self._apply_choice(text, answer, started)
        lead = "No information in that one; here is another pair." if answer.choice is None else "Thanks."
        return self._ask(text, lead, {}, started)

    def _ask(self, text: str, lead: str, timings: dict, started: float) -> Turn:
        choosing = self.choosing
        render_started = time.perf_counter()
        choices = []
        for label, point in zip("AB", choosing.ask(), strict=True):
            scratch = Conversation.from_json(self.conversation.to_json(), SESSION_FILE)
            edits = scratch.apply(choosing.parse_for(point), choosing.text).edits
            render = self._render(edits)
            choices.append(Choice(label=label, image=render.image, requests=tuple(render.applied)))
        timings["render_choices"] = 1000 * (time.perf_counter() - render_started)
        a, b = choosing.pair
        number, most = choosing.answered + 1, choosing.config.max_questions
        reply = (
            f"{lead} Question {number} of at most {most}: which is closer to what you want, "
            f"A ({choosing.describe(a)}) or B ({choosing.describe(b)})? Answer 'A' or 'B' ('the first', "
            "'left', ...), 'neither', or 'stop' to use my best guess."
        )
        return self._question_turn(text, choosing.parsed, reply, tuple(choices), timings, started)

    def _question_turn(self, text, parsed, reply, choices, timings, started) -> Turn:
        previous = self.last_turn
        turn = Turn(
            text=text, parse=parsed, requests=self.conversation.edits, command=None, image=self.current,
            frames=previous.frames if previous else (), identity=previous.identity if previous else None,
            expression=previous.expression if previous else (), reply=reply, notes=tuple(parsed.notes),
            timings=timings, choices=choices,
        )  # fmt: skip
        turn.timings["total"] = 1000 * (time.perf_counter() - started)
        self.last_turn = turn
        return turn

    def _apply_choice(self, text: str, answer: Answer, started: float) -> Turn:
        """Apply the chosen strengths (the candidate taken, or the estimate) as one undoable step."""
        choosing, self.choosing = self.choosing, None
        point = choosing.chosen(answer)
        how = (
            f"you took {'AB'[answer.choice]}"
            if answer.take and answer.choice is not None
            else f"my estimate from your {choosing.answered} answer{'s' if choosing.answered != 1 else ''}"
        )
        parsed = choosing.parse_for(point).model_copy(update={"reply": ""})  # the lead below says it
        turn = self._apply_parsed(choosing.text, parsed)
        reply = f"Chose {choosing.describe(point)} ({how}). {turn.reply}"
        turn = dataclasses.replace(turn, text=text, reply=reply)
        turn.timings["total"] = 1000 * (time.perf_counter() - started)
        self.last_turn = turn
        return turn

    def _apply_parsed(self, text: str, parsed: ParseResult) -> Turn:
        started = time.perf_counter()
        outcome = self.conversation.apply(parsed, text)
        render = self._render(outcome.edits) if self.original is not None else None
        if render is not None:
            self.current = render.image
        turn = self._compose(text, parsed, outcome, render, list(parsed.notes), outcome.reply, {})
        turn.timings["total"] = 1000 * (time.perf_counter() - started)
        self.last_turn = turn
        return turn

    # ------------------------------------------------------------------ persistence

    def save(self, folder: str | Path) -> Path:
        """Save the session into ``folder`` in one step; returns the folder.

        The conversation, the original and current photos (PNG), which face, and a manifest of their
        checksums replace the folder's contents in one atomic step (`SessionFolder.replace`): a save
        interrupted at any moment leaves the previous session whole, never one save's photo with
        another's conversation. Photos this session saved before are linked, not encoded again.

        Raises:
            SessionError: ``folder`` exists but holds files that are not a facechat session's.
        """
        with self._lock:
            files: dict[str, Content] = {SESSION_FILE: self.conversation.to_json().encode("utf-8")}
            photos: dict[str, np.ndarray] = {}
            if self.original is not None:
                current = self.current if self.current is not None else self.original
                photos = {ORIGINAL_FILE: self.original, CURRENT_FILE: current}
                encoded = {
                    id(image): functools.cache(functools.partial(encode_image, image))
                    for image in photos.values()
                }
                files.update({name: encoded[id(image)] for name, image in photos.items()})
                files[META_FILE] = PhotoFile(face_index=self.face_index).model_dump_json().encode("utf-8")
            reuse = {
                name: saved
                for name, image in photos.items()
                for earlier, saved in self._saved.values()
                if earlier is image
            }
            written = SessionFolder(folder).replace(files, reuse=reuse)
            self._saved = {name: (image, written[name]) for name, image in photos.items()}
            return Path(folder)

    @classmethod
    def load(cls, folder: str | Path, *, editor=None, parser=None) -> Assistant:
        """Restore a session saved with `save`; the current photo is re-rendered from the original.

        Every file is checked before anything is used (`SessionFolder.read`): a missing, damaged,
        linked or mixed folder, or a photo that is no longer usable, raises `SessionError` with a
        sentence naming the file and what to do.
        """
        session = SessionFolder(folder)
        files = session.read()
        conversation = Conversation.from_json(files[SESSION_FILE], session.path / SESSION_FILE)
        meta = PhotoFile.parse(files.get(META_FILE), session.path / META_FILE)
        session.verify(files)
        assistant = cls(editor=editor, parser=parser)
        if ORIGINAL_FILE in files:
            path = session.path / ORIGINAL_FILE
            try:
                assistant.load_image(
                    load_image(files[ORIGINAL_FILE], name=str(path)), face_index=meta.face_index
                )
            except FacechatError as error:
                raise SessionError(f"The session's photo cannot be used: {error}") from error
            digest = hashlib.sha256(files[ORIGINAL_FILE]).hexdigest()
            assistant._saved = {ORIGINAL_FILE: (assistant.original, SavedFile(path, digest))}
        assistant.conversation = conversation
        if assistant.original is not None and conversation.edits:
            render = assistant._render(conversation.edits)
            assistant.current = render.image
            # the turn a restored window shows: the current state, its identity badge and readout
            assistant.last_turn = Turn(
                text="", parse=ParseResult(), requests=render.applied, command=None, image=render.image,
                frames=render.frames, identity=render.identity, expression=render.expression,
                reply=_render_summary(render), notes=tuple(render.notes),
            )  # fmt: skip
        return assistant

    # ------------------------------------------------------------------ internals

    def _render(self, edits, *, last: bool = False):
        """The editor's render of ``edits`` from the original; ``last``: the session's final render,
        pasted into the original itself (`keep_original` False), which is then let go."""
        steps = None if self.previews else 0  # None: each request's own number of steps
        render = self.editor.render(
            self.original, list(edits), face_index=self.face_index, steps=steps, in_place=last
        )
        if last:
            self.original = None
        return render

    def _compose(self, text, parsed, outcome, render, notes, reply, timings) -> Turn:
        if render is None:
            previous = self.last_turn
            return Turn(
                text=text, parse=parsed, requests=outcome.edits, command=parsed.command, image=self.current,
                frames=previous.frames if previous else (), identity=previous.identity if previous else None,
                expression=previous.expression if previous else (), reply=reply, notes=tuple(notes),
                timings=timings,
            )  # fmt: skip
        notes.extend(render.notes)
        summary = _render_summary(render)
        full_reply = " ".join(part for part in (reply, *render.notes, summary) if part)
        return Turn(
            text=text, parse=parsed, requests=render.applied, command=parsed.command, image=render.image,
            frames=render.frames, identity=render.identity, expression=render.expression, reply=full_reply,
            notes=tuple(notes), timings=timings,
        )  # fmt: skip

    def _drop_unsupported(self, parsed: ParseResult) -> ParseResult:
        """Keep only the requests an installed backend can do; explain the others in the reply."""
        applied = {r.attribute for r in self.conversation.edits}

        def doable(request: EditRequest) -> bool:
            # Taking off what an earlier turn added ("take off her glasses" after "add glasses") only
            # drops that edit, even where no backend could remove the real thing.
            return self.editor.can(request) or (
                request.attribute in parsed.cancel and request.attribute in applied
            )

        unsupported = [r for r in parsed.requests if not doable(r)]
        if not unsupported:
            return parsed
        kept = tuple(r for r in parsed.requests if doable(r))
        explanation = self.editor.unsupported_note(unsupported[0])
        if len(unsupported) > 1:
            explanation = explanation.replace(
                f"'{unsupported[0].attribute}'", "'" + "', '".join(r.attribute for r in unsupported) + "'"
            )
        kept_names = {r.attribute for r in kept}
        relative = tuple(a for a in parsed.relative if a in kept_names)
        cancel = tuple(a for a in parsed.cancel if a in kept_names)
        if kept:
            from assistant.parsing.replies import edit_reply

            lead = edit_reply(
                kept, pronoun=None, instead=parsed.instead, relative=relative, command=parsed.command
            )
            explanation = f"{lead} {explanation}"
        return parsed.model_copy(
            update={
                "requests": kept,
                "relative": relative,
                "cancel": cancel,
                "reply": explanation,
                "notes": (*parsed.notes, explanation),
            }
        )

    def _error_turn(self, text: str, message: str, started: float) -> Turn:
        logger.info("turn failed: %s", message)
        turn = Turn(
            text=text, parse=ParseResult(reply=message), requests=self.conversation.edits, command=None,
            image=self.current, reply=message, error=message,
            timings={"total": 1000 * (time.perf_counter() - started)},
        )  # fmt: skip
        return turn


def _render_summary(render) -> str:
    """One truthful sentence about identity and whether the expression showed."""
    if render.identity is None:
        return ""
    parts = [render.identity.describe().capitalize() + "."]
    for check in render.expression:
        if check.strength <= 0 or check.appeared is True:
            continue
        blind = f" (it cannot see {', '.join(check.unseen)} move on this face)" if check.unseen else ""
        if check.appeared is False:
            parts.append(f"The face analyser measures little change for {check.attribute}{blind}.")
            parts.append("The effect may be subtle.")
        else:
            parts.append(f"The face analyser cannot measure {check.attribute}{blind}; judge it by eye.")
    return " ".join(parts)


def configured_parser():
    """The language-model parser when ``FACECHAT_LLM_*`` configures an endpoint, else the offline one."""
    from assistant.parsing.offline import default_parser

    try:
        from assistant.parsing.llm import LLMParser, UnconfiguredLLM
    except ImportError:  # the llm extra is not installed: offline is the product's default anyway
        return default_parser()
    parser = LLMParser.from_env()
    return default_parser() if isinstance(parser, UnconfiguredLLM) else parser


_shared_editors: dict[str, object] = {}
_shared_lock = threading.Lock()


def _preload_shared_editor(backend: str = "auto") -> None:
    """`shared_editor()` for a background thread: a failure is left for the caller's own call to raise."""
    try:
        shared_editor(backend)
    except Exception as error:  # noqa: BLE001 - the main thread's `shared_editor()` raises it again, cleanly
        logger.debug("preloading the editor failed: %s", error)


def shared_editor(backend: str = "auto"):
    """One `Editor` per backend choice and process (models load once), shared by every `Assistant`
    that is not given one; the choices share one face analyzer and identity scorer.

    Raises:
        FacechatError: an unknown choice, or a configured latent model that cannot be used.
    """
    with _shared_lock:
        if backend not in _shared_editors:
            from editor.backends.registry import build_registry
            from editor.editor import Editor

            registry = build_registry(backend)
            first = next(iter(_shared_editors.values()), None)
            _shared_editors[backend] = (
                Editor(registry=registry)
                if first is None
                else Editor(analyzer=first.analyzer, scorer=first.scorer, registry=registry)
            )
        return _shared_editors[backend]
