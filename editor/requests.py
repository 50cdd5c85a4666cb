"""Request types: `EditRequest` (the only currency between assistant and editor), `Command`, `ParseResult`.

All three are frozen pydantic models that reject anything outside `editor.vocabulary` and its ranges, so a
parser (rules or a language model) can only ever hand the editor something it knows how to do.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator

from editor import vocabulary as vocab

#: The conversation commands.
COMMAND_NAMES: tuple[str, ...] = ("undo", "redo", "reset", "more", "less", "show_steps")
#: Default rescale factor of ``more`` / ``less`` (applied to the strengths of the last edit).
DEFAULT_FACTORS: dict[str, float] = {"more": 1.5, "less": 1 / 1.5}
#: Largest rescale factor accepted ("four times as strong").
MAX_FACTOR = 4.0
#: Most undo / redo steps one command takes ("go back two steps").
MAX_COUNT = 20


class EditRequest(BaseModel):
    """One edit: ``attribute`` from the vocabulary, signed ``strength``, ``steps`` K, optional ``value``.

    ``strength`` lies in [-MAX_STRENGTH, MAX_STRENGTH] (1.0 = the typical full expression, negative
    suppresses); ``steps`` in STEPS_RANGE defaults by backend family; ``value`` (a canonical colour, e.g.
    ``"red"``) only for value-carrying attributes (``hair_color``, ``lipstick``, ``eye_color``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    attribute: str = Field(description="Canonical attribute name from editor.vocabulary.")
    strength: float = Field(
        ge=-vocab.MAX_STRENGTH,
        le=vocab.MAX_STRENGTH,
        description="Signed: 0.3 slight, 0.5 a bit, 0.7 plain, 1.0 very, 1.4 extreme; negative suppresses.",
    )
    steps: int = Field(
        ge=vocab.STEPS_RANGE[0],
        le=vocab.STEPS_RANGE[1],
        description="Intermediate results (expression) or sampling steps (appearance).",
    )
    value: str | None = Field(
        default=None,
        description="Colour for hair_color, lipstick, eye_color; style for glasses (round, ...).",
    )
    expression: tuple[tuple[str, float], ...] | None = Field(
        default=None,
        description="Only for 'reference': the reference photo's measured expression as (ARKit blendshape, "
        "weight) pairs in the blendshape basis's units (editor.transfer); strength scales it.",
    )

    @model_validator(mode="before")
    @classmethod
    def _default_steps(cls, data: Any) -> Any:
        """Fill ``steps`` from the attribute's family when it is missing or None."""
        if isinstance(data, dict) and data.get("steps") is None:
            name = data.get("attribute")
            if isinstance(name, str) and name in vocab.BY_NAME:
                data = {**data, "steps": vocab.default_steps(name)}
        return data

    @field_validator("attribute")
    @classmethod
    def _known_attribute(cls, name: str) -> str:
        if name not in vocab.BY_NAME:
            raise ValueError(
                f"Unknown attribute {name!r}; use one of the vocabulary's names: "
                f"{', '.join(vocab.ATTRIBUTE_NAMES)}."
            )
        return name

    @field_validator("value")
    @classmethod
    def _known_colour(cls, value: str | None) -> str | None:
        if value is None:
            return None
        word = value.strip().lower()
        canonical = vocab.COLOURS.get(word) or (word if word in vocab.STYLE_VALUES else None)
        if canonical is None:
            raise ValueError(
                f"Unknown colour {value!r}; use one of: {', '.join(sorted(vocab.COLOUR_VALUES))} "
                f"(or a style: {', '.join(sorted(vocab.STYLE_VALUES))})."
            )
        return canonical

    @model_validator(mode="after")
    def _value_only_where_carried(self) -> EditRequest:
        if self.value in vocab.STYLE_VALUES:
            kinds = vocab.styles(self.attribute)
            if self.value not in kinds.values():
                raise ValueError(
                    f"{self.value!r} is not a style of {self.attribute!r} "
                    f"({', '.join(sorted(set(kinds.values()))) or 'it has no styles'})."
                )
            return self
        if self.value is not None and not vocab.takes_value(self.attribute):
            raise ValueError(
                f"Attribute {self.attribute!r} takes no value (got {self.value!r}); only "
                f"{', '.join(a.name for a in vocab.ATTRIBUTES if a.takes_value)} carry a colour."
            )
        return self

    @model_validator(mode="after")
    def _expression_only_for_reference(self) -> EditRequest:
        if self.expression is not None and self.attribute != vocab.REFERENCE:
            raise ValueError(
                f"Only {vocab.REFERENCE!r} requests carry a measured expression "
                f"(got one for {self.attribute!r})."
            )
        for name, weight in self.expression or ():
            if not name.isidentifier() or not math.isfinite(weight) or abs(weight) > vocab.MAX_STRENGTH:
                raise ValueError(
                    f"A reference expression holds (ARKit blendshape, weight) pairs with |weight| <= "
                    f"{vocab.MAX_STRENGTH}; got ({name!r}, {weight})."
                )
        return self

    @model_serializer(mode="wrap")
    def _without_empty_expression(self, handler: Any) -> Any:
        """Leave ``expression`` out when it is None, so every other request serialises as before."""
        data = handler(self)
        if isinstance(data, dict) and data.get("expression", ()) is None:
            data.pop("expression")
        return data

    def scaled(self, factor: float) -> EditRequest:
        """A copy with strength multiplied by ``factor``, clipped to the allowed range."""
        limit = vocab.MAX_STRENGTH
        return self.model_copy(update={"strength": max(-limit, min(limit, self.strength * factor))})

    def describe(self) -> str:
        """Short phrase for replies, e.g. ``"slightly disgusted (+0.30)"``."""
        return f"{vocab.describe(self.attribute, self.strength, self.value)} ({self.strength:+.2f})"


class Command(BaseModel):
    """A conversation command. ``factor`` (more: > 1, less: in (0, 1)) rescales the last edit's strengths;
    ``count`` repeats an undo or redo ("go back two steps")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Literal["undo", "redo", "reset", "more", "less", "show_steps"]
    factor: float | None = Field(default=None, gt=0, le=MAX_FACTOR)
    count: int = Field(default=1, ge=1, le=MAX_COUNT)

    @model_validator(mode="before")
    @classmethod
    def _default_factor(cls, data: Any) -> Any:
        """Fill ``factor`` for more/less when it is missing or None."""
        if isinstance(data, dict) and data.get("factor") is None and data.get("name") in DEFAULT_FACTORS:
            data = {**data, "factor": DEFAULT_FACTORS[data["name"]]}
        return data

    @model_validator(mode="after")
    def _factor_fits(self) -> Command:
        if self.name in DEFAULT_FACTORS:
            if self.name == "more" and self.factor <= 1:
                raise ValueError(f"'more' needs a factor above 1 (got {self.factor}); use 'less' to weaken.")
            elif self.name == "less" and self.factor >= 1:
                raise ValueError(
                    f"'less' needs a factor below 1 (got {self.factor}); use 'more' to strengthen."
                )
        elif self.factor is not None:
            raise ValueError(f"Command {self.name!r} takes no factor (got {self.factor}).")
        if self.count != 1 and self.name not in ("undo", "redo"):
            raise ValueError(f"Only undo and redo repeat; {self.name!r} got count {self.count}.")
        return self


class ParseResult(BaseModel):
    """What a parser understood from one message.

    ``requests``: edits to apply (merged by attribute into the conversation state); ``relative``: the
    attributes among them whose strength is a change on top of the current one ("smile more", "less
    angry") rather than a new absolute value; ``cancel``: the attributes whose earlier edit the message
    takes back when the state holds them the other way ("stop smiling" after "make her smile", "bring
    the glasses back" after "remove the glasses"), otherwise their request applies as usual;
    ``set_strength``: a bare strength for the last edit ("make it 80%"); ``instead``: the edits replace
    the previous turn's edit; ``command``: undo/redo/reset/more/less/show_steps (applied before
    ``requests``); ``reply``: a short answer for the person; ``notes``: caveats (e.g. "LLM unavailable,
    used offline parser"). ``factors``: relative attributes whose current strength is multiplied by the
    factor ("20% happier" -> 1.2); ``recall``: attributes to bring back at the strength they had earlier
    ("smile like before"); ``keep``: the new emotions add to the emotions applied ("also", "as well",
    "keep the smile") instead of replacing them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    requests: tuple[EditRequest, ...] = ()
    command: Command | None = None
    instead: bool = False
    relative: tuple[str, ...] = ()
    cancel: tuple[str, ...] = ()
    factors: dict[str, float] = Field(default_factory=dict)
    recall: tuple[str, ...] = ()
    keep: bool = False
    set_strength: float | None = Field(default=None, ge=-vocab.MAX_STRENGTH, le=vocab.MAX_STRENGTH)
    reply: str = ""
    notes: tuple[str, ...] = ()
    parser: Literal["offline", "llm"] = "offline"

    @model_validator(mode="after")
    def _consistent(self) -> ParseResult:
        names = [r.attribute for r in self.requests]
        if len(set(names)) != len(names):
            raise ValueError(f"Each attribute may appear once per message; got {names}.")
        for field_name in ("relative", "cancel", "factors", "recall"):
            unknown = set(getattr(self, field_name)) - set(names)
            if unknown:
                raise ValueError(
                    f"{field_name!r} names attributes that are not requested: {sorted(unknown)}."
                )
        return self

    @property
    def is_empty(self) -> bool:
        """True when the message asks for no edit, no command and no strength change."""
        return not self.requests and self.command is None and self.set_strength is None

    def to_json_dict(self) -> dict[str, Any]:
        """The CLI's JSON form: ``{"requests": [...], "command": ..., "reply": ..., ...}``."""
        return {
            "requests": [r.model_dump() for r in self.requests],
            "command": self.command.model_dump() if self.command else None,
            "reply": self.reply,
            "instead": self.instead,
            "relative": list(self.relative),
            "cancel": list(self.cancel),
            "factors": dict(self.factors),
            "recall": list(self.recall),
            "keep": self.keep,
            "set_strength": self.set_strength,
            "notes": list(self.notes),
            "parser": self.parser,
        }
