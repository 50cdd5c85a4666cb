"""Conversation state: a stack of cumulative edit states over the ORIGINAL photo (no image work here).

Each `EditState` is the full list of `EditRequest` to render from the original photo, so every turn
re-renders from the original (no accumulated resampling blur). `Conversation.apply(result)` turns one
`ParseResult` into the next state:

- new requests merge by attribute (an absolute request replaces that attribute's strength; a relative
  one, "smile more" / "less angry", adds to it, "20% happier" multiplies it; a negative request for an
  attribute the state holds positive - "stop smiling" after "make her smile" - removes it; "smile like
  before" takes the strength it had earlier);
- a new emotion replaces the emotions already applied (`editor.vocabulary.replaces_others`) unless the
  message keeps them ("also", "as well", "keep the smile"); action units and appearance compose;
- ``instead`` first takes back the previous edit turn, then applies the new requests;
- ``more`` / ``less`` rescale the attributes the last edit turn changed;
- ``undo`` / ``redo`` move in the stack (``count`` steps), ``reset`` pushes the empty state (so it
  can be undone);
- ``show_steps`` changes nothing and describes the stack.

A session saves to a folder as ``session.json`` (written to a temporary file, then renamed, so a
crash mid-write leaves the previous file intact); rendering and PNGs belong to the caller.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from editor import vocabulary as vocab
from editor.errors import FacechatError
from editor.images import save_bytes
from editor.requests import Command, EditRequest, ParseResult

logger = logging.getLogger(__name__)

SESSION_FILE = "session.json"
SESSION_VERSION = 1


class SessionError(FacechatError, ValueError):
    """A saved session folder is missing, unreadable or not a facechat session."""


class EditState(BaseModel):
    """One entry of the stack: what to render from the original photo, and how it came about.

    ``edits``: the full list of requests (one per attribute); ``changed``: the attributes the turn that
    made this state changed, each with its strength before that turn (None = absent), which lets
    ``instead`` take the turn back and ``more`` / ``less`` find the last edit; ``text``: the message.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    edits: tuple[EditRequest, ...] = ()
    changed: dict[str, EditRequest | None] = Field(default_factory=dict)
    text: str = ""
    action: str = "start"  # "start", "edit", "instead", "more", "less", "set", "reset"

    def by_attribute(self) -> dict[str, EditRequest]:
        return {r.attribute: r for r in self.edits}


@dataclass(frozen=True)
class Outcome:
    """What one applied message did.

    ``edits``: the requests to render now (from the original photo); ``rerender``: whether they differ
    from before the message; ``reply``: one or two sentences for the person; ``steps_text``: the
    step list when the message asked for it, else None.
    """

    edits: tuple[EditRequest, ...]
    rerender: bool
    reply: str
    steps_text: str | None = None


class _SessionFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    index: int
    states: list[EditState]


class Conversation:
    """The stack of edit states and the position in it (``index``); state 0 is the original photo."""

    def __init__(self) -> None:
        self.states: list[EditState] = [EditState()]
        self.index = 0

    # ------------------------------------------------------------------ reading
    @property
    def current(self) -> EditState:
        return self.states[self.index]

    @property
    def edits(self) -> tuple[EditRequest, ...]:
        """The requests to render from the original photo now."""
        return self.current.edits

    def can_undo(self) -> bool:
        return self.index > 0

    def can_redo(self) -> bool:
        return self.index < len(self.states) - 1

    def describe_steps(self) -> str:
        """Numbered steps from the original to the current state (states after ``index`` are not shown)."""
        if self.index == 0:
            return "No edits yet: this is the original photo."
        lines = ["0. original photo"]
        for number, state in enumerate(self.states[1 : self.index + 1], start=1):
            said = f' "{state.text}"' if state.text else ""
            now = ", ".join(r.describe() for r in state.edits) or "original photo"
            lines.append(f"{number}. {state.action}{said} -> {now}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ changing
    def apply(self, result: ParseResult, text: str = "") -> Outcome:
        """Apply one parsed message; returns what to render and what to say."""
        before = self.edits
        messages: list[str] = []
        steps_text = None
        if result.command is not None:
            steps_text = self._command(result.command, text, messages)
        if result.requests:
            self._edit(result, text, messages)
        elif result.set_strength is not None:
            self._set_strength(result.set_strength, text, messages)
        if result.is_empty:
            messages.append(result.reply)
        rerender = self.edits != before
        if rerender and (
            result.requests
            or result.set_strength is not None
            or (result.command and result.command.name in ("more", "less"))
        ):
            now = ", ".join(r.describe() for r in self.edits) or "the original photo"
            messages.append(f"Now: {now}.")
        reply = " ".join(m for m in messages if m)
        return Outcome(edits=self.edits, rerender=rerender, reply=reply, steps_text=steps_text)

    def reset(self, text: str = "") -> None:
        """Push the empty state (undo brings the edits back)."""
        if self.edits:
            self._push(EditState(text=text, action="reset"))

    def undo(self) -> bool:
        if not self.can_undo():
            return False
        self.index -= 1
        return True

    def redo(self) -> bool:
        if not self.can_redo():
            return False
        self.index += 1
        return True

    def _push(self, state: EditState) -> None:
        del self.states[self.index + 1 :]  # a new edit drops the redo branch
        self.states.append(state)
        self.index = len(self.states) - 1

    def _command(self, command: Command, text: str, messages: list[str]) -> str | None:
        name = command.name
        if name == "undo":
            moved = sum(self.undo() for _ in range(command.count))
            if not moved:
                messages.append("Nothing to undo: this is the original.")
            else:
                messages.append("Undid the last step." if moved == 1 else f"Undid the last {moved} steps.")
                if moved < command.count:
                    messages.append("That is the original photo.")
        elif name == "redo":
            moved = sum(self.redo() for _ in range(command.count))
            if not moved:
                messages.append("Nothing to redo.")
            else:
                messages.append("Redid the step." if moved == 1 else f"Redid {moved} steps.")
        elif name == "reset":
            had = bool(self.edits)
            self.reset(text)
            messages.append("Back to the original photo." if had else "This is already the original photo.")
        elif name == "show_steps":
            steps = self.describe_steps()
            messages.append(steps)
            return steps
        else:
            self._rescale(command, text, messages)
        return None

    def last_changed(self) -> tuple[str, ...]:
        """The attributes the most recent edit turn changed that the current state still holds."""
        last = self._last_edit()
        held = self.current.by_attribute()
        return tuple(name for name in (last.changed if last else {}) if name in held)

    def _last_edit(self) -> EditState | None:
        """The most recent state (at or before ``index``) made by an edit, stopping at a reset."""
        for state in reversed(self.states[1 : self.index + 1]):
            if state.action == "reset":
                return None
            if state.changed:
                return state
        return None

    def _rescale(self, command: Command, text: str, messages: list[str]) -> None:
        last = self._last_edit()
        current = self.current.by_attribute()
        targets = [name for name in (last.changed if last else {}) if name in current]
        if not targets:
            messages.append(
                f"There is no edit to make {'stronger' if command.name == 'more' else 'weaker'} yet."
            )
            return
        factor = command.factor or 1.0
        edits = dict(current)
        for name in targets:
            edits[name] = current[name].scaled(factor)
        changed = dict(last.changed) if last else {}
        self._push(EditState(edits=tuple(edits.values()), changed=changed, text=text, action=command.name))
        word = "Stronger" if command.name == "more" else "Softer"
        messages.append(f"{word} (x{factor:.2f}).")

    def _set_strength(self, value: float, text: str, messages: list[str]) -> None:
        """ "make it 80%": give the last edit's attributes this strength (keeping their direction)."""
        last = self._last_edit()
        current = self.current.by_attribute()
        targets = [name for name in (last.changed if last else {}) if name in current]
        if not targets:
            messages.append("There is no edit to set the strength of; ask for a change first.")
            return
        edits = dict(current)
        for name in targets:
            strength = math.copysign(abs(value), current[name].strength) if value > 0 else value
            edits[name] = current[name].model_copy(update={"strength": strength})
        changed = dict(last.changed) if last else {}
        self._push(EditState(edits=tuple(edits.values()), changed=changed, text=text, action="set"))
        messages.append(f"Set to {value:+.2f}.")

    def _edit(self, result: ParseResult, text: str, messages: list[str]) -> None:
        edits = self.current.by_attribute()
        changed: dict[str, EditRequest | None] = {}
        action = "edit"
        # "sad instead" takes the previous edit turn back; "pink lipstick instead" (an attribute already
        # in the state) just replaces that attribute; "undo that and make her sad instead" undid it already
        undone = result.command is not None and result.command.name in ("undo", "reset")
        renames = result.instead and not undone and not any(r.attribute in edits for r in result.requests)
        last = self._last_edit() if renames else None
        if last is not None:
            # take the previous edit turn back first
            for name, previous in last.changed.items():
                if previous is None:
                    edits.pop(name, None)
                else:
                    edits[name] = previous
                changed[name] = previous
            action = "instead"
        for request in result.requests:
            name = request.attribute
            old = edits.get(name)
            changed.setdefault(name, old)
            if name in result.recall:
                request = self._earlier(request)
            if name in result.factors and old is not None:
                # "20% happier": the current strength times the factor
                edits[name] = old.scaled(result.factors[name]).model_copy(update={"steps": request.steps})
            elif name in result.relative and old is not None:
                # "smile more" / "less angry" on an edited attribute: rescale it like more / less
                stronger = (request.strength > 0) == (old.strength > 0)
                factors = vocab.RESCALE_FACTORS["more" if stronger else "less"]
                update: dict[str, object] = {"steps": request.steps}
                if request.value is not None:
                    update["value"] = request.value
                edits[name] = old.scaled(factors[vocab.band_of(request.strength)]).model_copy(update=update)
            elif old is not None and name in result.cancel and (old.strength > 0) != (request.strength > 0):
                del edits[name]  # "stop smiling" after "make her smile": back to the original
            else:
                edits[name] = request
        replaced = [] if result.keep else self._replace_emotions(result, edits, changed)
        self._push(EditState(edits=tuple(edits.values()), changed=changed, text=text, action=action))
        messages.append(result.reply)
        if replaced:
            new = [r for r in result.requests if r.attribute in edits and vocab.replaces_others(r.attribute)]
            old_words = " and ".join(vocab.noun_phrase(r.attribute, definite=True) for r in replaced)
            new_words = " and ".join(vocab.noun_phrase(r.attribute, edits[r.attribute].strength) for r in new)
            messages.append(f"Replaced {old_words} with {new_words}.")

    @staticmethod
    def _replace_emotions(
        result: ParseResult, edits: dict[str, EditRequest], changed: dict[str, EditRequest | None]
    ) -> list[EditRequest]:
        """Drop the applied emotions a newly added emotion replaces; returns the dropped requests."""
        asked = {r.attribute for r in result.requests}
        adds = any(
            vocab.replaces_others(r.attribute) and r.attribute in edits and edits[r.attribute].strength > 0
            and changed.get(r.attribute) is None
            for r in result.requests
        )  # fmt: skip
        if not adds:
            return []
        dropped = [
            r
            for name, r in edits.items()
            if name not in asked and vocab.replaces_others(name) and r.strength > 0
        ]
        for request in dropped:
            changed.setdefault(request.attribute, request)
            del edits[request.attribute]
        return dropped

    def _earlier(self, request: EditRequest) -> EditRequest:
        """``request`` at the strength its attribute last had, the same way round, in an earlier state."""
        for state in reversed(self.states[: self.index + 1]):
            earlier = state.by_attribute().get(request.attribute)
            if earlier is not None and (earlier.strength > 0) == (request.strength > 0):
                return earlier.model_copy(update={"steps": request.steps})
        return request

    # ------------------------------------------------------------------ persistence
    def save(self, folder: str | Path) -> Path:
        """Write ``folder/session.json`` atomically (`editor.images.save_bytes`); returns its path."""
        target = save_bytes(self.to_json().encode("utf-8"), Path(folder) / SESSION_FILE)
        logger.info("Saved session (%d states) to %s", len(self.states), target)
        return target

    def to_json(self) -> str:
        """The text of ``session.json``: the stack and the position in it (read back by `from_json`)."""
        return _SessionFile(version=SESSION_VERSION, index=self.index, states=self.states).model_dump_json(
            indent=2
        )

    @classmethod
    def load(cls, folder: str | Path) -> Conversation:
        """Read a session written by `save`; raises `SessionError` saying what is wrong."""
        path = Path(folder) / SESSION_FILE
        if not path.is_file():
            raise SessionError(
                f"No saved session at {path}; save one first or pick the folder that holds it."
            )
        return cls.from_json(path.read_bytes(), path)

    @classmethod
    def from_json(cls, data: str | bytes, path: str | Path) -> Conversation:
        """Read the text of a ``session.json`` (``path`` names it in errors); raises `SessionError`."""
        try:
            payload = _SessionFile.model_validate(json.loads(data))
        except (json.JSONDecodeError, ValidationError, UnicodeDecodeError, RecursionError) as error:
            reason = "it is nested too deeply" if isinstance(error, RecursionError) else error
            raise SessionError(
                f"The session file {path} is not a valid facechat session: {reason}"
            ) from error
        if payload.version != SESSION_VERSION:
            raise SessionError(
                f"The session file {path} has version {payload.version}; this facechat reads version "
                f"{SESSION_VERSION}."
            )
        if not payload.states or not 0 <= payload.index < len(payload.states):
            raise SessionError(f"The session file {path} has an index outside its states; it is damaged.")
        conversation = cls()
        conversation.states = list(payload.states)
        conversation.index = payload.index
        return conversation
