"""facechat's chat window: ``streamlit run streamlit_app.py``.

A thin shell over `assistant.session.Assistant`: every edit, parse, undo and measurement is the engine's;
pictures and summaries come from `assistant.ui_support`. The models load once per process
(`st.cache_resource`); each browser session has its own `Assistant` in `st.session_state`.
Every engine call goes through `attempt`, so a person sees a sentence, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import streamlit as st

from assistant import ui_support as ui
from assistant.session import Assistant, Turn, configured_parser, shared_editor
from editor import vocabulary as vocab
from editor.backends.registry import BACKEND_CHOICES
from editor.errors import FacechatError
from editor.images import encode_image
from editor.latent import progress as latent_progress

logger = logging.getLogger("facechat.app")
T = TypeVar("T")

APOLOGY = (
    "Sorry, something went wrong on my side while doing that. Your photo and edits are safe; "
    "please try again, or try a different request."
)
EXAMPLES = (
    "make her look slightly disgusted",
    "smile a bit",
    "raise the eyebrows",
    "a bit more",
    "show me the steps",
)
THUMB_SIDE = 192  # chat thumbnails, pixels
PICTURE_HEIGHT = 512  # the main picture is shown at most this tall, so the controls stay in view
CHOICE_HEIGHT = 360  # each A/B candidate at most this tall, so both answer buttons stay in view
CHAT_HEIGHT = 520  # the chat scrolls inside this many pixels, beside the picture
VIEWS = ("After", "Before", "Compare", "Steps")
#: Pictures never grow wider than their column (a wide or group photo would cover the chat), and
#: button labels wrap rather than being cut ("Un…").
STYLE = """<style>
[data-testid="stImage"], [data-testid="stImageContainer"] { max-width: 100% !important; }
[data-testid="stImage"] img, .st-key-stage img { max-width: 100% !important; height: auto !important; }
.st-key-controls button p { white-space: nowrap; }
</style>"""


@dataclass
class Message:
    """One chat bubble: who, what, and for assistant turns the compact summary and a thumbnail."""

    role: str  # "user" or "assistant"
    text: str
    tone: str = "ok"  # "ok", "error" or "info"
    summary: ui.TurnSummary | None = None
    thumb: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """One picture of an A/B question: its label, a display copy, and what it shows in words."""

    label: str
    image: np.ndarray
    words: str


@dataclass
class Stage:
    """What the picture panel shows: display copies of the original and the current photo, and the steps."""

    before: np.ndarray
    after: np.ndarray
    frames: tuple[np.ndarray, ...] = ()
    summary: ui.TurnSummary | None = None
    gif: bytes | None = None


# ---------------------------------------------------------------------------------------------- engine


@dataclass(frozen=True)
class Engine:
    """What every browser session shares: the editor (models), the parser, and a parser problem if any."""

    editor: object
    parser: object
    parser_problem: str | None = None


@st.cache_resource(show_spinner="Loading the face models (once per server)…")
def engine() -> Engine:
    """The shared engine, warmed up with one edit of the sample photo. Raises FacechatError (models)."""
    editor, problem = shared_editor(), None
    try:
        parser = configured_parser()
    except FacechatError as error:  # e.g. a misconfigured FACECHAT_LLM_* variable: parse offline, say why
        from assistant.parsing.offline import default_parser

        parser, problem = default_parser(), str(error)
    try:
        getattr(parser, "warm", lambda: None)()  # the offline parser's example embeddings, before turn one
        Assistant("sample", editor=editor, parser=parser).run("smile a little")
    except Exception:  # noqa: BLE001 - a failed warm-up only costs speed; the first real turn will report
        logger.exception("warming up the editor failed")
    return Engine(editor, parser, problem)


@st.cache_data(ttl=60, show_spinner=False)
def parser_status(_parser, label: str) -> ui.LLMStatus:
    """The language model's status with its endpoint probed (cached a minute per endpoint ``label``)."""
    return ui.llm_status(_parser, probe=True)


def download(make: Callable[[], bytes], what: str) -> Callable[[], bytes]:
    """A download button's data function that logs a failure instead of showing a traceback."""

    def data() -> bytes:
        try:
            return make()
        except Exception:  # noqa: BLE001 - runs outside the script; an empty file beats a traceback
            logger.exception("could not prepare the %s download", what)
            return b""

    return data


def session() -> Assistant:
    """This browser session's assistant (created on first use); stops the page if the models cannot load."""
    state = st.session_state
    if "assistant" not in state:
        shared = attempt(engine, "loading the models", quiet=True)
        if shared is None:
            st.error(st.session_state.pop("notice", APOLOGY), icon=":material/error:")
            st.stop()
        state.assistant = Assistant(editor=shared.editor, parser=shared.parser)
        state.history, state.photo, state.stage, state.photo_serial = [], None, None, 0
        state.choices = None
    return state.assistant


def attempt(action: Callable[[], T], doing: str, *, quiet: bool = False) -> T | None:
    """Run an engine call; on failure say why (a FacechatError's own words, else an apology) and return None.

    ``quiet``: only set the notice (no chat history yet).
    """
    try:
        return action()
    except FacechatError as error:
        message = str(error)
    except Exception:  # noqa: BLE001 - the person gets an apology; the log gets the traceback
        logger.exception("the app failed while %s", doing)
        message = APOLOGY
    if quiet:
        st.session_state.notice = message
    else:
        say(message, tone="error")
    return None


def say(text: str, *, tone: str = "info") -> None:
    """A message in the chat; an error is shown once: as a chat bubble beside a photo, else as a banner."""
    st.session_state.history.append(Message("assistant", text, tone=tone))
    if tone == "error" and st.session_state.get("stage") is None:
        st.session_state.notice = text


# ---------------------------------------------------------------------------------------------- actions


def open_source(source, name: str) -> None:
    """Start a new conversation on a photo (bytes of an upload or camera shot, or "sample")."""
    assistant = session()
    photo = attempt(lambda: ui.open_photo(assistant, source, name=name), f"opening {name}")
    if photo is None:
        return
    st.session_state.photo = photo
    st.session_state.photo_serial += 1
    st.session_state.view = "After"
    st.session_state.choices = None
    st.session_state.history = [Message("assistant", f"{photo.message} What should I change?")]
    show(None)


def on_upload(key: str) -> None:
    uploaded = st.session_state.get(key)
    if uploaded is not None:
        open_source(uploaded.getvalue(), uploaded.name)


def on_reference(key: str) -> None:
    """A reference photo was uploaded: measure its expression, to copy when asked."""
    uploaded = st.session_state.get(key)
    if uploaded is not None:
        said = attempt(lambda: session().set_reference(uploaded.getvalue()), "reading the reference photo")
        if said:
            st.session_state.history.append(Message("assistant", said))


def on_face(key: str) -> None:
    choice, photo = st.session_state.get(key), st.session_state.photo
    if choice is None or photo is None or choice - 1 == photo.face_index:
        return
    chosen = attempt(lambda: ui.choose_face(session(), photo, choice - 1), "choosing a face")
    if chosen is not None:
        st.session_state.photo = chosen
        st.session_state.history = [Message("assistant", f"{chosen.message} What should I change?")]
        show(None)


def send(text: str, shown: str | None = None) -> None:
    """One message to the assistant; the turn's reply, summary and picture go to the chat and the stage."""
    text = (text or "").strip()
    if not text:
        return
    st.session_state.history.append(Message("user", shown or text))
    previous = session().last_turn
    bar = st.empty()  # the latent backend's denoising steps, when it samples
    with latent_progress.reporting(ui.progress_callback(bar)):
        turn = attempt(lambda: session().run(text), f"handling {text!r}")
    bar.empty()
    if turn is not None:
        record(turn, previous)


def on_backend(key: str) -> None:
    """The sidebar's backend choice changed: the session edits with that backend from the next turn."""
    choice = st.session_state.get(key)
    if choice and choice != session().backend:
        said = attempt(lambda: session().use_backend(choice), f"switching to the {choice} backend")
        if said:
            st.session_state.history.append(Message("assistant", said))


def slider_key(attribute: str) -> str:
    return f"strength_{attribute}"


def on_strength(attribute: str) -> None:
    """A strength slider moved: re-render from the original with that attribute at the new strength."""
    value = st.session_state.get(slider_key(attribute))
    held = session().conversation.current.by_attribute().get(attribute)
    if value is None or held is None or abs(held.strength - value) < 1e-6:
        return
    words = ui.attribute_words(attribute)
    st.session_state.history.append(Message("user", f"(slider: {words} {value:+.2f})"))
    previous = session().last_turn
    turn = attempt(lambda: session().set_strength(attribute, value), f"re-rendering {words}")
    if turn is not None:
        record(turn, previous)


def on_example(key: str) -> None:
    text = st.session_state.get(key)
    st.session_state[key] = None
    if text:
        send(text)


def on_session_upload(key: str) -> None:
    uploaded = st.session_state.get(key)
    if uploaded is None:
        return
    shared = engine()
    data = uploaded.getvalue()
    restored = attempt(
        lambda: ui.load_session_zip(data, editor=shared.editor, parser=shared.parser), "restoring a session"
    )
    if restored is None:
        return
    st.session_state.assistant = restored
    st.session_state.photo_serial += 1
    st.session_state.view = "After"
    st.session_state.choices = None
    photo = attempt(lambda: ui.describe_loaded(restored), "describing the restored photo")
    st.session_state.photo = photo
    history = [Message(role, text) for role, text in ui.restored_history(restored.conversation)]
    turn = restored.last_turn
    summary = ui.summarize_turn(turn) if turn is not None else None
    if history and summary is not None:  # the badge and the numbers under the last step, as before
        history[-1] = Message("assistant", history[-1].text, summary=summary, timings=turn.timings)
    restored_from = Message("assistant", f"Session restored from {uploaded.name}: {len(history) // 2} steps.")
    st.session_state.history = [restored_from, *history]
    show(turn, summary)


def record(turn: Turn, previous: Turn | None) -> None:
    """Add a turn to the chat and, when it changed the picture, show the new one."""
    if turn.error:
        say(turn.error, tone="error")
        return
    reason = ui.fallback_reason(turn)
    st.session_state.llm_fallback = (
        f"The last message could not use the language model ({reason}); I parsed it offline."
        if reason
        else None
    )
    summary = ui.summarize_turn(turn, previous)
    shows_edit = summary.changed and turn.image is not None and bool(turn.requests)
    thumb = ui.display_copy(turn.image, THUMB_SIDE) if shows_edit else None
    st.session_state.history.append(
        Message("assistant", summary.plain or "Done.", summary=summary, thumb=thumb, timings=turn.timings)
    )
    if turn.command is not None and turn.command.name == "show_steps":
        st.session_state.view = "Steps"  # "show me the steps" opens the Steps view
    st.session_state.choices = (
        tuple(Candidate(c.label, ui.display_copy(c.image), ui.state_words(c.requests)) for c in turn.choices)
        or None
    )
    if turn.choices:
        st.session_state.view = "After"  # the question is asked where the picture is
    if turn.image is not None and (summary.changed or st.session_state.stage is None):
        show(turn, summary)


def show(turn: Turn | None, summary: ui.TurnSummary | None = None) -> None:
    """Point the stage at the assistant's current photo (and the turn's steps)."""
    assistant = session()
    if assistant.original is None:
        st.session_state.stage = None
        return
    frames = turn.frames if turn is not None and turn.requests else ()
    st.session_state.stage = Stage(
        before=ui.display_copy(assistant.original),
        after=ui.display_copy(assistant.current if assistant.current is not None else assistant.original),
        frames=frames,
        summary=summary,
    )
    for request in assistant.conversation.edits:  # the sliders follow the state
        st.session_state[slider_key(request.attribute)] = float(request.strength)


# ---------------------------------------------------------------------------------------------- drawing


def photo_picker(prefix: str) -> None:
    """Upload, camera or the sample photo."""
    source = st.segmented_control(
        "Photo from", ("Upload", "Camera", "Sample"), default="Upload", key=f"{prefix}_source"
    )
    if source == "Camera":
        st.camera_input(
            "Take a photo", key=f"{prefix}_camera", on_change=on_upload, args=(f"{prefix}_camera",)
        )
    elif source == "Sample":
        st.button(
            "Use the sample photo", key=f"{prefix}_sample", type="primary", on_click=open_source,
            args=("sample", "the sample photo"),
        )  # fmt: skip
        st.caption("Astronaut Eileen Collins (NASA, public domain), from scikit-image.")
    else:
        st.file_uploader(
            "A photo with a face (JPEG, PNG, WebP, …)", key=f"{prefix}_upload", on_change=on_upload,
            args=(f"{prefix}_upload",),
        )  # fmt: skip


def notice() -> None:
    """The last error, shown once where the person is looking."""
    text = st.session_state.pop("notice", None)
    if text:
        st.error(text, icon=":material/error:")


def sidebar() -> None:
    shared = engine()
    editor, parser = shared.editor, shared.parser
    assistant = session()
    with st.sidebar:
        st.title("facechat")
        st.caption("Talk to a photo: change the expression, keep the person.")
        if assistant.original is not None:
            with st.expander("New photo"):
                photo_picker("side")
            with st.expander("Copy an expression from another photo"):
                st.file_uploader(
                    "Reference photo (one face)", key="reference_upload", on_change=on_reference,
                    args=("reference_upload",),
                )  # fmt: skip
                st.button("Copy its expression", key="copy_reference", on_click=send,
                          args=("copy this expression",), disabled=assistant.reference is None)  # fmt: skip
            st.subheader("Session")
            st.download_button(
                "Save session (.zip)", data=download(lambda: ui.session_zip(assistant), "session"),
                file_name="facechat-session.zip", mime="application/zip", icon=":material/save:",
                on_click="ignore",
            )  # fmt: skip
        with st.expander("Restore a saved session"):
            st.file_uploader(
                "facechat session (.zip)", type=["zip"], key="session_upload", on_change=on_session_upload,
                args=("session_upload",),
            )  # fmt: skip
        st.subheader("Engine")
        st.selectbox(
            "Editing backend", BACKEND_CHOICES, index=BACKEND_CHOICES.index(assistant.backend), key="backend",
            on_change=on_backend, args=("backend",),
            help="auto: the built-in backends, plus the latent one (FACECHAT_LATENT_MODEL) where only it can",
        )  # fmt: skip
        editor = assistant.editor
        backends = ", ".join(b.name for b in editor.registry.backends) or "none"
        can = [a.name for a in vocab.ATTRIBUTES if editor.supports(a.name)]
        st.markdown(f"**Editing backend:** {backends}")
        st.caption("Can change: " + ", ".join(name.replace("_", " ") for name in can) + ".")
        if editor.registry.missing:
            st.caption(editor.registry.missing)
        scorer = editor.scorer
        calibrated = "calibrated" if scorer.calibrated else "**uncalibrated**"
        st.markdown(
            f"**Identity check:** {scorer.name}, same person at similarity ≥ {scorer.threshold:.3f} "
            f"({calibrated})"
        )
        status = ui.llm_status(parser)
        if status.mode == "llm":
            status = parser_status(parser, status.label)  # probes the endpoint, at most once a minute
        fallback = st.session_state.get("llm_fallback")
        st.markdown(f"**Language model:** {status.label}")
        if shared.parser_problem:
            st.warning(shared.parser_problem, icon=":material/settings_alert:")
        elif status.mode == "llm" and (status.reachable is False or fallback):
            st.warning(fallback or status.detail, icon=":material/cloud_off:")
        else:
            st.caption(status.detail)


def stage_panel() -> None:
    stage: Stage = st.session_state.stage
    assistant = session()
    top = st.container(horizontal=True, vertical_alignment="center", gap="medium")
    with top:
        st.session_state.setdefault("view", "After")
        view = st.segmented_control("View", VIEWS, key="view", label_visibility="collapsed")
        badges(stage.summary)
    face_picker()
    choices = st.session_state.get("choices")
    if choices and view == "After":
        choice_panel(choices)
    else:
        with st.container(key="stage"):
            picture(stage, view, assistant)
    controls(assistant, stage)
    if stage.summary is not None and stage.summary.identity is not None:
        with st.expander("What changed, measured", icon=":material/monitoring:"):
            st.markdown(readout_markdown(stage.summary))


def picture(stage: Stage, view: str | None, assistant: Assistant) -> None:
    if view == "Before":
        st.image(stage.before, caption="Before: the original photo", width=fit(stage.before))
    elif view == "Compare":
        position = st.slider("Before ◀ ▶ After", 0, 100, 50, key="wipe", format="%d%%")
        compared = ui.wipe(stage.before, stage.after, position / 100)
        st.image(compared, caption="Left: before · right: after", width=fit(compared))
    elif view == "Steps" and stage.frames:
        left, right = st.columns(2)
        with left:
            count = len(stage.frames)
            step = st.slider("Step", 1, count, count, key=f"step_{count}") if count > 1 else 1
            st.image(stage.frames[step - 1], caption=f"Step {step} of {count}")
        with right:
            if stage.gif is None:
                with st.spinner("Animating the steps…"):
                    stage.gif = attempt(lambda: ui.steps_gif(stage.frames), "encoding the steps as a GIF")
            if stage.gif:
                st.image(stage.gif, caption="All steps, animated")
    else:
        if view == "Steps":
            st.info("No steps to show yet: ask for an edit first.", icon=":material/info:")
        caption = "After" if assistant.conversation.edits else "The original photo"
        st.image(stage.after, caption=caption, width=fit(stage.after))


def choice_panel(choices: tuple[Candidate, ...]) -> None:
    """An A/B question: the two candidates side by side, a button under each, and neither / stop."""
    with st.container(key="choices", border=True):
        st.markdown("**Which is closer to what you want?**")
        for column, choice in zip(st.columns(len(choices)), choices, strict=True):
            with column:
                st.image(choice.image, caption=f"{choice.label}: {choice.words}",
                         width=fit(choice.image, CHOICE_HEIGHT))  # fmt: skip
                st.button(f"{choice.label} is closer", key=f"choose_{choice.label}", type="primary",
                          on_click=send, args=(choice.label,), width="stretch")  # fmt: skip
        row = st.container(horizontal=True, gap="small")
        row.button("Neither", key="choose_neither", on_click=send, args=("neither",), width="content")
        row.button("Use your best guess", key="choose_stop", on_click=send, args=("stop",), width="content")


def fit(image: np.ndarray, height: int = PICTURE_HEIGHT) -> int:
    """Display width (pixels) that keeps the picture at most ``height`` tall and never upscales it.

    Streamlit serves a copy resized to this width, so a smaller picture is also a lighter page.
    """
    rows, width = image.shape[:2]
    return max(1, min(width, round(height * width / rows)))


def badges(summary: ui.TurnSummary | None) -> None:
    if summary is None or summary.identity is None:
        return
    badge = summary.identity
    icon = ":material/verified_user:" if badge.colour == "green" else ":material/warning:"
    st.badge(badge.label, color=badge.colour, icon=icon, help=badge.detail)


def controls(assistant: Assistant, stage: Stage) -> None:
    conversation = assistant.conversation
    row = st.container(horizontal=True, gap="small", key="controls")
    # buttons sized to their labels in one wrapping row: a label is never cut
    row.button("Undo", icon=":material/undo:", on_click=send, args=("undo", "↩ Undo"),
                disabled=not conversation.can_undo(), width="content")  # fmt: skip
    row.button("Redo", icon=":material/redo:", on_click=send, args=("redo", "↪ Redo"),
                disabled=not conversation.can_redo(), width="content")  # fmt: skip
    row.button("Reset", icon=":material/restart_alt:", on_click=send, args=("reset", "⟲ Reset"),
                 disabled=not conversation.edits, width="content")  # fmt: skip
    current = assistant.current
    row.download_button(
        "PNG", data=download(lambda: encode_image(current), "PNG"), file_name="facechat.png",
        mime="image/png", icon=":material/download:", on_click="ignore", width="content",
        disabled=current is None,
    )  # fmt: skip
    frames = stage.frames
    row.download_button(
        "GIF", data=download(lambda: stage.gif or ui.steps_gif(frames), "GIF"),
        file_name="facechat-steps.gif", mime="image/gif", icon=":material/animation:", on_click="ignore",
        width="content", disabled=not frames,
    )  # fmt: skip
    row.download_button(
        "MP4", data=download(lambda: ui.steps_mp4(frames), "MP4"), file_name="facechat-steps.mp4",
        mime="video/mp4", icon=":material/movie:", on_click="ignore", width="content", disabled=not frames,
    )  # fmt: skip
    for request in conversation.edits:  # one slider per attribute of the current state
        key = slider_key(request.attribute)
        st.session_state.setdefault(key, float(request.strength))
        st.slider(
            f"Strength of “{ui.attribute_words(request.attribute)}”", -vocab.MAX_STRENGTH,
            vocab.MAX_STRENGTH, step=0.05, key=key, on_change=on_strength, args=(request.attribute,),
            format="%+.2f", help="Drag to re-render from the original photo at this strength "
            "(negative = the opposite).",
        )  # fmt: skip


def face_picker() -> None:
    """For a photo with several faces: the numbered boxes, and buttons to pick which face to edit."""
    photo: ui.OpenedPhoto | None = st.session_state.photo
    if photo is None or len(photo.faces) < 2:
        return
    fresh = not session().conversation.edits
    title = f"{len(photo.faces)} faces found: editing face {photo.face_index + 1}"
    with st.expander(title, expanded=fresh, icon=":material/group:"):
        boxes, choice = st.columns([3, 2], vertical_alignment="center")
        numbered = ui.numbered_faces(photo.image, photo.faces, chosen=photo.face_index)
        boxes.image(ui.display_copy(numbered, 640))
        key = f"face_pick_{st.session_state.photo_serial}"
        choice.pills(
            "Which face should I edit?", list(range(1, len(photo.faces) + 1)),
            default=photo.face_index + 1, key=key, on_change=on_face, args=(key,),
        )  # fmt: skip
        choice.caption("Yellow box: the face being edited. Picking another starts the conversation afresh.")


def chat_panel() -> None:
    st.pills("Try saying", EXAMPLES, key="example", on_change=on_example, args=("example",), wrap=True)
    with st.container(height=CHAT_HEIGHT, border=False, autoscroll=True, key="chat"):
        for message in st.session_state.history:
            bubble(message)


def bubble(message: Message) -> None:
    with st.chat_message(message.role):
        text = message.text.replace("\n", "  \n")
        if message.tone == "error":
            st.warning(text, icon=":material/sentiment_dissatisfied:")
        else:
            st.markdown(text)
        if message.summary is not None:
            turn_details(message)


def turn_details(message: Message) -> None:
    """Notes under a plain reply, and a Details expander with the numbers (records, identity, blendshapes)."""
    summary = message.summary
    if summary.notes:
        st.caption("  \n".join(f":material/info: {note}" for note in summary.notes))
    chips = [f"`{command}`" for command in filter(None, [summary.command])]
    chips += [f"`{record}`" for record in summary.understood]
    if not chips and summary.identity is None and message.thumb is None:
        return
    with st.expander("Details"):
        lines = [f"Understood ({summary.parser} parser): " + " ".join(chips)] if chips else []
        if summary.identity is not None:
            badge = summary.identity
            verdicts = [f"{ui.attribute_words(r.attribute)}: {r.verdict}" for r in summary.expression]
            lines.append(f":{badge.colour}-badge[{badge.label}] " + " · ".join(verdicts))
        if summary.reply and summary.reply != message.text:
            lines.append(summary.reply.replace("\n", "  \n"))
        st.caption("  \n".join(lines))
        if message.thumb is not None:
            st.image(message.thumb, width=THUMB_SIDE)
        if summary.identity is not None:
            st.markdown(readout_markdown(summary, message.timings.get("total")))


def readout_markdown(summary: ui.TurnSummary, took_ms: float | None = None) -> str:
    """What was shown and measured, as markdown: state, identity detail, blendshapes before / after."""
    parts = ["**Showing:** " + " · ".join(f"`{record}`" for record in summary.showing)]
    if summary.identity is not None:
        parts.append(f"**Identity:** {summary.identity.detail}")
    for readout in summary.expression:
        verdict = {"visible": "visible", "subtle": "subtle (little measured change)"}.get(
            readout.verdict, "not measurable by the face analyser"
        )
        rows = [
            f"| {s.name}{'' if s.measurable else ' †'} | {s.before:.2f} | {s.after:.2f} "
            f"| {s.after - s.before:+.2f} |"
            for s in readout.shapes
        ]
        parts.append(
            f"**{readout.attribute.replace('_', ' ')} {readout.strength:+.2f}**: {verdict}\n\n"
            "| blendshape | before | after | change |\n|---|---:|---:|---:|\n" + "\n".join(rows)
        )
    if any(not s.measurable for r in summary.expression for s in r.shapes):
        parts.append("† FaceLandmarker barely reports this blendshape on photos; it does not count.")
    if took_ms is not None:
        parts.append(f"Took {took_ms:.0f} ms.")
    return "\n\n".join(parts)


def welcome() -> None:
    st.title("facechat")
    st.markdown(
        "**1.** Add a photo with a face. &nbsp; **2.** Tell me what to change, e.g. *“make her look "
        "slightly disgusted”*, *“a bit more”*, *“raise her eyebrows”*, *“undo”*. &nbsp; "
        "**3.** Compare, adjust the strength, download."
    )
    notice()
    left, _ = st.columns([2, 1])
    with left:
        photo_picker("main")
    for message in st.session_state.history:
        if message.tone != "error":  # errors are shown once, above
            with st.chat_message(message.role):
                st.markdown(message.text.replace("\n", "  \n"))


def main() -> None:
    st.set_page_config(page_title="facechat", page_icon="🙂", layout="wide")
    st.html(STYLE)
    ready = session().original is not None
    placeholder = "Tell me what to change (e.g. “make her smile a little”)" if ready else "Add a photo first"
    prompt = st.chat_input(placeholder, key="prompt", disabled=not ready)
    if prompt:
        send(prompt)
    sidebar()
    if st.session_state.stage is None:
        welcome()
        return
    picture, chat = st.columns([3, 2], gap="large")
    with picture:
        notice()
        stage_panel()
    with chat:
        chat_panel()


if __name__ == "__main__":
    main()
