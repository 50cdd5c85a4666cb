"""Short, truthful reply texts for parse results (shared by the offline and LLM parsers)."""

from __future__ import annotations

from editor import vocabulary as vocab
from editor.requests import Command, EditRequest

HELP_TEXT = (
    "I edit faces from plain requests. Try: 'make her slightly disgusted', 'a big smile', 'raise his "
    "eyebrows', 'open her mouth a little', then 'a bit more', 'less', 'undo', 'redo', 'reset' "
    "or 'show me the steps'."
)
EMPTY_REPLY = "Tell me how to change the face, for example 'make her smile a little' or 'raise his eyebrows'."
UNKNOWN_REPLY = (
    "I could not find a face edit in that. I can change expressions (happy, sad, angry, surprised, "
    "fearful, disgusted, contempt, neutral) and move brows, eyes and mouth. For example: 'make him look "
    "a bit surprised'. (I also understand glasses, age, hair colour, lipstick, eye colour, makeup, tan and "
    "beard, but editing those needs an appearance backend.)"
)
REFUSAL_REPLY = (
    "I can't help with that; I only edit the face in the photo. Try 'make her smile' or 'raise his eyebrows'."
)
INSTRUCTION_REPLY = (
    "I only take requests about the face in the photo, not instructions or data; try 'make her smile'."
)
ABUSE_REPLY = (
    "Sorry this is frustrating. Tell me what to change, e.g. 'less smile' or 'undo', and I'll do it."
)
SMALL_TALK_REPLY = "Glad to help. Ask for another change any time, or say 'undo' or 'show me the steps'."

_COMMAND_REPLIES = {
    "undo": "Undoing the last edit.",
    "redo": "Redoing the edit.",
    "reset": "Back to the original photo.",
    "show_steps": "Here are the steps so far.",
}


def describe_requests(requests: tuple[EditRequest, ...] | list[EditRequest]) -> str:
    """``"slightly disgusted (+0.30), raised eyebrows (+0.70)"``."""
    return ", ".join(r.describe() for r in requests)


def command_reply(command: Command) -> str:
    """One sentence saying what a command will do."""
    if command.name in ("more", "less"):
        word = "Strengthening" if command.name == "more" else "Softening"
        return f"{word} the last edit (x{command.factor:.2f})."
    if command.count > 1:
        return f"{'Undoing' if command.name == 'undo' else 'Redoing'} the last {command.count} edits."
    return _COMMAND_REPLIES[command.name]


def edit_reply(
    requests: tuple[EditRequest, ...],
    *,
    pronoun: str | None,
    instead: bool,
    relative: tuple[str, ...] = (),
    command: Command | None = None,
) -> str:
    """Reply for a message with edits (and perhaps a command before them)."""
    parts = []
    if command is not None:
        parts.append(command_reply(command))
    subject = pronoun or "the face"
    changes = []
    for request in requests:
        text = request.describe()
        if request.attribute in relative:
            direction = "more" if request.strength > 0 else "less"
            text = f"{direction} {vocab.attribute(request.attribute).label} ({request.strength:+.2f})"
        changes.append(text)
    lead = "Instead: editing" if instead else "Editing"
    parts.append(f"{lead} {subject}: {', '.join(changes)}.")
    return " ".join(parts)
