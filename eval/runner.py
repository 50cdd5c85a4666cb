"""Run evaluation suites: every dialogue on every photo through real `Assistant` sessions, measured.

`run_suites` plays each dialogue of each suite on each photo from a fresh `Assistant` (all sessions
share one `Editor`, so models load once), records what the parser understood, what the assistant
said and showed, measures every photo with `eval.measure.Measurer`, judges the turn's expectations
(`eval.expectations`), saves the full-resolution photos under ``OUT/images/`` and keeps small
thumbnails for the report. Strength sweeps call `Editor.render` directly; parsing benchmarks reuse
`eval.parsing_benchmark`. The result is a `RunResult`, written out by `write_metrics` and
`eval.report.write_report`.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import os
import platform
import re
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from editor import vocabulary as vocab
from editor.errors import FacechatError
from editor.images import encode_image, load_image, sample_image, save_image
from editor.requests import EditRequest, ParseResult
from eval.expectations import FAIL, NA, PASS, Check, TurnFacts, judge_turn, monotonic_check
from eval.measure import SCORERS, Measurer, PhotoMeasure
from eval.metrics.expression import face_region_mask, mean_change
from eval.suite_schema import Dialogue, FolderImages, Suite, SuiteError, Sweep

logger = logging.getLogger(__name__)

#: Longest side of the before / after thumbnails embedded in the report, and of the step previews.
THUMB_SIDE = 256
FRAME_SIDE = 128
#: The difference thumbnail shows max |edit - original| over channels times this (so 32 levels is white).
DIFF_GAIN = 8


# ---------------------------------------------------------------------- records


class _Judged:
    """Shared by the records: ``checks`` decide ``passed``; `as_json` drops report-only fields."""

    checks: list[Check]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("thumbs", None)
        for point in data.get("points", ()):
            point.pop("thumb")
        data["checks"] = [c.as_dict() for c in self.checks]
        data["passed"] = self.passed
        return data


@dataclass
class TurnRecord(_Judged):
    """One turn of one dialogue on one photo: what happened, what was measured, how it was judged."""

    suite: str
    image: str
    dialogue: str
    index: int  # 1-based turn number in the dialogue
    line: int  # line of the turn in the suite file
    say: str
    reply: str
    parser: str
    parsed: list[dict]  # the parser's records, before unsupported ones were dropped
    command: dict | None
    state: list[dict]  # the conversation's edit state after the turn
    shown: list[dict]  # the requests as applied to the photo shown (identity back-off included)
    error: str | None
    changed: bool
    edited: bool
    latency_ms: float | None
    timings: dict[str, float]
    attributes: list[str]  # what the turn is about (for per-attribute figures)
    measure: dict[str, Any]
    blendshapes_before: dict[str, float]
    blendshapes_after: dict[str, float]
    emotion_before: dict[str, float] | None
    emotion_after: dict[str, float] | None
    checks: list[Check]
    files: dict[str, str]  # "original", "before", "after": paths relative to the output folder
    thumbs: dict[str, Any] = field(default_factory=dict, repr=False)  # base64 JPEGs (report only)


@dataclass
class SweepPoint:
    """One strength of a sweep."""

    strength: float
    applied: float  # after the identity gate (equal to ``strength`` unless it backed off)
    identity: float | None
    response: float  # mean change of the sweep's blendshapes vs the original (nan without any)
    emotion: float | None  # probability of the sweep's emotion class
    latency_ms: float
    measure: dict[str, Any]
    file: str
    thumb: str = field(default="", repr=False)


@dataclass
class SweepRecord(_Judged):
    """An attribute rendered at several strengths on one photo."""

    suite: str
    image: str
    attribute: str
    line: int
    blendshapes: list[str]
    emotion_class: str | None
    points: list[SweepPoint]
    checks: list[Check]


@dataclass
class ParsingRecord(_Judged):
    """A parsing benchmark file scored with eval.parsing_benchmark."""

    suite: str
    file: str
    kind: str
    turns: int
    whole_turn_accuracy: float
    slot_accuracy: dict[str, float]
    slot_counts: dict[str, tuple[int, int]]
    failures: list[str]
    checks: list[Check]


@dataclass
class RunResult:
    """Everything one run produced."""

    suites: list[str]
    suite_files: list[str]
    descriptions: dict[str, str]
    started: str
    seconds: float
    parser: str
    identity_scorer: str
    identity_threshold: float
    identity_calibrated: bool
    environment: dict[str, str]
    turns: list[TurnRecord] = field(default_factory=list)
    sweeps: list[SweepRecord] = field(default_factory=list)
    parsing: list[ParsingRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # photos that could not be used, and why

    @property
    def checks(self) -> list[Check]:
        return [c for group in (self.turns, self.sweeps, self.parsing) for r in group for c in r.checks]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks) and not self.problems

    def counts(self) -> dict[str, int]:
        checks = self.checks
        units = [*self.turns, *self.sweeps, *self.parsing]
        return {
            "checks": len(checks),
            "checks_passed": sum(c.status == PASS for c in checks),
            "checks_failed": sum(c.status == FAIL for c in checks),
            "checks_not_measurable": sum(c.status == NA for c in checks),
            "turns": len(self.turns),
            "turns_passed": sum(t.passed for t in self.turns),
            "units": len(units),
            "units_passed": sum(u.passed for u in units),
        }


# ---------------------------------------------------------------------- helpers


class RecordingParser:
    """Wraps a parser and keeps its last raw `ParseResult` (the Assistant drops unsupported requests)."""

    def __init__(self, parser) -> None:
        self.parser = parser
        self.last: ParseResult | None = None

    def parse(self, text: str) -> ParseResult:
        self.last = self.parser.parse(text)
        return self.last


def make_parser(use_llm: bool):
    """The offline parser, or the LLM parser from ``FACECHAT_LLM_*`` (an error when not configured)."""
    if not use_llm:
        from assistant.parsing.offline import default_parser

        return default_parser()
    try:
        from assistant.parsing.llm import LLMParser, UnconfiguredLLM
    except ImportError as error:
        raise FacechatError(
            f"--llm needs the llm extra ({error}); install it with `pip install -e .[llm]`."
        ) from None
    parser = LLMParser.from_env()
    if isinstance(parser, UnconfiguredLLM):
        raise FacechatError(
            "--llm was given but no language model is configured: set FACECHAT_LLM_BASE_URL "
            "(and FACECHAT_LLM_API_KEY, FACECHAT_LLM_MODEL), or leave out --llm to use the offline parser."
        )
    return parser


def slug(text: str) -> str:
    """A file-name-safe short form of ``text``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48] or "x"


def thumbnail(image: np.ndarray, side: int = THUMB_SIDE, quality: int = 85) -> str:
    """Base64 JPEG of ``image`` shrunk (area average) to ``side`` on its longest edge."""
    height, width = image.shape[:2]
    factor = min(1.0, side / max(height, width))
    if factor < 1.0:
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return base64.b64encode(encode_image(image, "jpg", quality=quality)).decode("ascii")


def difference_thumbnail(original: np.ndarray, edited: np.ndarray, region: np.ndarray | None) -> str:
    """Base64 JPEG heat map of max |edited - original| x `DIFF_GAIN`, the edit region outlined in cyan."""
    diff = np.abs(edited.astype(np.int16) - original.astype(np.int16)).max(axis=2)
    heat = np.clip(diff * DIFF_GAIN, 0, 255).astype(np.uint8)
    height, width = heat.shape
    factor = min(1.0, THUMB_SIDE / max(height, width))
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    heat = cv2.resize(cv2.dilate(heat, np.ones((3, 3), np.uint8)), size, interpolation=cv2.INTER_AREA)
    rgb = cv2.applyColorMap(heat, cv2.COLORMAP_INFERNO)[:, :, ::-1].copy()
    if region is not None:
        small = cv2.resize(region.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours(small, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(rgb, contours, -1, (0, 220, 255), 1)
    return base64.b64encode(encode_image(rgb, "jpg", quality=85)).decode("ascii")


def crop_box(region: np.ndarray | None, margin: float = 0.08) -> tuple[float, float, float, float] | None:
    """A square (x0, y0, x1, y1) around ``region``'s True pixels plus ``margin``, as fractions of W, H."""
    if region is None or not region.any():
        return None
    ys, xs = np.nonzero(region)
    height, width = region.shape
    cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    half = max(xs.max() - xs.min(), ys.max() - ys.min()) * (0.5 + margin)
    return (
        max(0.0, (cx - half) / width),
        max(0.0, (cy - half) / height),
        min(1.0, (cx + half) / width),
        min(1.0, (cy + half) / height),
    )


def crop(image: np.ndarray, box: tuple[float, float, float, float] | None) -> np.ndarray:
    """``image`` cut to ``box`` (fractions of its width and height; the whole image when None)."""
    if box is None:
        return image
    height, width = image.shape[:2]
    x0, y0, x1, y1 = box
    return image[round(y0 * height) : round(y1 * height), round(x0 * width) : round(x1 * width)]


def _records(requests: Sequence[EditRequest]) -> list[dict]:
    return [r.model_dump(exclude_none=True) for r in requests]


def _git(*args: str) -> str:
    """Output of a git command in this repository ("" when git is unavailable)."""
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=5, cwd=Path(__file__).resolve().parent
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def _environment() -> dict[str, str]:
    env = {"python": platform.python_version(), "machine": platform.machine(), "cpus": str(os.cpu_count())}
    env["commit"] = _git("rev-parse", "--short", "HEAD") or "unknown"
    if _git("status", "--porcelain", "--untracked-files=no"):
        env["commit"] += " + uncommitted changes"
    return env


def suite_photos(
    suite: Suite, images: Path | None, limit: int | None
) -> tuple[Path | None, list[tuple[str, Path | None]]]:
    """(the image folder, [(photo name, path or None for the built-in sample)]) of ``suite``."""
    if suite.images is None:
        return None, []
    if suite.images == "sample":
        return None, [("sample", None)]
    spec: FolderImages = suite.images
    if images is None:
        raise SuiteError(
            f"Suite '{suite.name}' evaluates photos from a folder: give it with --images DIR"
            + (
                f" (a folder of {spec.pattern}, or one with a '{spec.subfolder}' subfolder)."
                if spec.subfolder
                else "."
            )
        )
    folder = Path(images).expanduser()
    if spec.subfolder and (folder / spec.subfolder).is_dir():
        folder = folder / spec.subfolder
    if not folder.is_dir():
        raise SuiteError(f"--images {images} is not a folder; give the folder holding the photos.")
    paths = sorted(p for p in folder.glob(spec.pattern) if p.is_file())
    if not paths:
        raise SuiteError(f"No photos matching {spec.pattern!r} in {folder}; check --images.")
    count = limit or spec.limit
    if count:
        paths = paths[:count]
    return folder, [(p.stem, p) for p in paths]


def _turn_attributes(expect, parsed: ParseResult, state_before, state_after, command) -> list[str]:
    """What a turn is about: the attributes it asks for, else its command, else those its state touched."""
    if expect.requests:
        return [e.attribute for e in expect.requests]
    if parsed.requests:
        return [r.attribute for r in parsed.requests]
    before = {r.attribute: r.strength for r in state_before}
    after = {r.attribute: r.strength for r in state_after}
    touched = [a for a in after if before.get(a) != after[a]] + [a for a in before if a not in after]
    if command is not None:
        return [command.name]
    return touched or ["(no edit)"]


# ---------------------------------------------------------------------- the runner


class Runner:
    """Plays suites through real sessions and measures them.

    Args:
        out: output folder (photos go under ``out/images``).
        images: folder of photos for suites that name ``folder: required``.
        use_llm: parse with the configured language model instead of the offline parser.
        limit: at most this many photos per folder suite.
        progress: show a tqdm progress bar on stderr.
        editor: the `Editor` to share (default `assistant.session.shared_editor()`).
    """

    def __init__(
        self,
        out: Path,
        *,
        images: Path | None = None,
        use_llm: bool = False,
        limit: int | None = None,
        progress: bool = True,
        editor=None,
    ) -> None:
        from assistant.session import shared_editor

        self.out = Path(out)
        self.images = images
        self.use_llm = use_llm
        self.limit = limit
        self.progress = progress
        self.parser = make_parser(use_llm)  # first: a missing LLM configuration fails before models load
        self.editor = editor or shared_editor()
        if not use_llm:
            self.parser.parse("warm up")  # the offline parser loads its embedding model on first use
        self.measurer = Measurer(self.editor)

    def run(self, suites: Sequence[Suite]) -> RunResult:
        """Run every suite; the result holds every record (nothing is written but the photos)."""
        started = time.perf_counter()
        scorer = self.editor.scorer
        result = RunResult(
            suites=[s.name for s in suites],
            suite_files=[str(s.path) if s.path else s.name for s in suites],
            descriptions={s.name: s.description for s in suites},
            started=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            seconds=0.0,
            parser="llm" if self.use_llm else "offline",
            identity_scorer=scorer.name,
            identity_threshold=float(scorer.threshold),
            identity_calibrated=bool(scorer.calibrated),
            environment=_environment(),
        )
        plans = [(suite, *suite_photos(suite, self.images, self.limit)) for suite in suites]
        total = sum(
            len(photos) * (sum(len(d.turns) for d in s.dialogues) + sum(len(w.strengths) for w in s.sweeps))
            + len(s.parsing)
            for s, _, photos in plans
        )
        with tqdm(total=total, disable=not self.progress, unit="step", dynamic_ncols=True) as bar:
            for suite, folder, photos in plans:
                bar.set_description(suite.name)
                for item in suite.parsing:
                    result.parsing.append(self._parsing(suite, item))
                    bar.update(1)
                for name, path in photos:
                    try:
                        original = sample_image() if path is None else load_image(path)
                        self.editor.analyze(original)
                    except FacechatError as error:
                        result.problems.append(f"{suite.name}: photo {name}: {error}")
                        bar.update(
                            sum(len(d.turns) for d in suite.dialogues)
                            + sum(len(w.strengths) for w in suite.sweeps)
                        )
                        continue
                    base = self.out / "images" / slug(suite.name) / slug(name)
                    original_file = self._save(original, base / "original.png")
                    references = _References(suite, folder, path)
                    for dialogue in suite.dialogues:
                        bar.set_postfix_str(f"{name}: {dialogue.name}"[:40])
                        for record in self._dialogue(
                            suite, dialogue, name, original, original_file, base, references
                        ):
                            result.turns.append(record)
                            bar.update(1)
                    for sweep in suite.sweeps:
                        bar.set_postfix_str(f"{name}: sweep {sweep.attribute}"[:40])
                        result.sweeps.append(self._sweep(suite, sweep, name, original, base, bar))
        result.seconds = time.perf_counter() - started
        return result

    # ------------------------------------------------------------------ pieces

    def _save(self, image: np.ndarray, path: Path) -> str:
        save_image(image, path)
        return path.relative_to(self.out).as_posix()

    def _dialogue(
        self,
        suite: Suite,
        dialogue: Dialogue,
        name: str,
        original: np.ndarray,
        original_file: str,
        base: Path,
        references: _References,
    ) -> Iterator[TurnRecord]:
        from assistant.session import Assistant

        recorder = RecordingParser(self.parser)
        session = Assistant(original, editor=self.editor, parser=recorder)
        first = self.measurer.photo(original)
        previous_image, previous_file, previous_measure = original, original_file, first
        folder = base / slug(dialogue.name)
        for index, turn in enumerate(dialogue.turns, start=1):
            expect = suite.expectations(dialogue, turn)
            state_before = session.conversation.edits
            outcome = session.run(turn.say)
            parsed = recorder.last or outcome.parse
            shown = outcome.image if outcome.image is not None else previous_image
            changed = not np.array_equal(shown, previous_image)
            edited = not np.array_equal(shown, original)
            reference = references.get(expect.reference.name) if expect.reference else None
            files = {"original": original_file, "before": previous_file}
            if reference is not None:
                files["reference"] = references.saved(expect.reference.name, base, self._save)
            after, measure = self.measurer.edit(original, shown, reference=reference)
            facts = TurnFacts(
                parse=parsed,
                state=session.conversation.edits,
                reply=outcome.reply,
                error=outcome.error,
                changed=changed,
                edited=edited,
                latency_ms=outcome.timings.get("total"),
                before_original=first,
                before_previous=previous_measure,
                after=after,
                measure=measure,
            )
            checks = judge_turn(expect, facts)
            after_file = self._save(shown, folder / f"t{index:02d}.png") if changed else previous_file
            record = TurnRecord(
                suite=suite.name,
                image=name,
                dialogue=dialogue.name,
                index=index,
                line=turn.line,
                say=turn.say,
                reply=outcome.reply,
                parser=parsed.parser,
                parsed=_records(parsed.requests),
                command=parsed.command.model_dump() if parsed.command else None,
                state=_records(session.conversation.edits),
                shown=_records(outcome.requests),
                error=outcome.error,
                changed=changed,
                edited=edited,
                latency_ms=outcome.timings.get("total"),
                timings={k: round(v, 1) for k, v in outcome.timings.items()},
                attributes=_turn_attributes(
                    expect, parsed, state_before, session.conversation.edits, parsed.command
                ),
                measure=measure.as_dict(),
                blendshapes_before=first.blendshapes,
                blendshapes_after=after.blendshapes,
                emotion_before=first.emotion,
                emotion_after=after.emotion,
                checks=checks,
                files={**files, "after": after_file},
            )
            record.thumbs = self._thumbs(
                original, previous_image, shown, first, outcome.frames if changed else (), reference
            )
            yield record
            previous_image, previous_file, previous_measure = shown, after_file, after

    def _thumbs(self, original, before, after, first: PhotoMeasure, frames, reference=None) -> dict[str, Any]:
        region = face_region_mask(first.face, original.shape) if first.face is not None else None
        box = crop_box(region)
        thumbs = {
            "before": thumbnail(crop(before, box)),
            "after": thumbnail(crop(after, box)),
            "diff": difference_thumbnail(original, after, region),
            "frames": [thumbnail(crop(f, box), FRAME_SIDE, 80) for f in frames],
        }
        if reference is not None:
            thumbs["original"] = thumbnail(crop(original, box))
            thumbs["reference"] = thumbnail(crop(reference, box))
        return thumbs

    def _sweep(
        self, suite: Suite, sweep: Sweep, name: str, original: np.ndarray, base: Path, bar
    ) -> SweepRecord:
        first = self.measurer.photo(original)
        box = crop_box(face_region_mask(first.face, original.shape)) if first.face is not None else None
        points: list[SweepPoint] = []
        checks: list[Check] = []
        for strength in sweep.strengths:
            request = EditRequest(attribute=sweep.attribute, strength=strength)
            started = time.perf_counter()
            outcome = self.editor.render(original, [request])
            latency = 1000 * (time.perf_counter() - started)
            after, measure = self.measurer.edit(original, outcome.image)
            applied = outcome.applied[0].strength if outcome.applied else 0.0
            response = (
                mean_change(first.blendshapes, after.blendshapes, list(sweep.blendshapes))
                if after.face is not None and sweep.blendshapes
                else float("nan")
            )
            emotion = after.emotion[sweep.emotion] if sweep.emotion and after.emotion else None
            file = self._save(outcome.image, base / "sweeps" / f"{sweep.attribute}_{strength:+.2f}.png")
            points.append(
                SweepPoint(
                    strength=strength,
                    applied=applied,
                    identity=measure.identity,
                    response=response,
                    emotion=emotion,
                    latency_ms=latency,
                    measure=measure.as_dict(),
                    file=file,
                    thumb=thumbnail(crop(outcome.image, box), 160, 80),
                )
            )
            bar.update(1)
        if sweep.identity:
            worst = min(points, key=lambda p: -2.0 if p.identity is None else p.identity)
            threshold = self.editor.scorer.threshold
            ok = worst.identity is not None and worst.identity >= threshold
            shown = (
                "no face on an edit"
                if worst.identity is None
                else f"lowest {worst.identity:.3f} at {worst.strength:+.2f}"
            )
            checks.append(
                Check(
                    "identity",
                    PASS if ok else FAIL,
                    f"similarity >= {threshold:.3f} (calibrated threshold) at every strength",
                    shown,
                    f"{self.editor.scorer.name} face embedding, cosine similarity",
                )
            )
        if sweep.monotonic and sweep.blendshapes:
            checks.append(monotonic_check([p.applied for p in points], [p.response for p in points]))
        return SweepRecord(
            suite=suite.name,
            image=name,
            attribute=sweep.attribute,
            line=sweep.line,
            blendshapes=list(sweep.blendshapes),
            emotion_class=sweep.emotion,
            points=points,
            checks=checks,
        )

    def _parsing(self, suite: Suite, item) -> ParsingRecord:
        from eval import parsing_benchmark
        from eval.metrics.parsing import summarize

        parse = self.parser.parse
        if item.kind == "singles":
            scores, _, failures = parsing_benchmark.run_singles(parse, item.file)
        elif item.file == "dialogues.yaml":
            scores, failures = parsing_benchmark.run_dialogues(parse)
        else:
            scores, failures = parsing_benchmark.run_dialogues(parse, item.file)
        summary = summarize(scores)
        ok = summary.whole_turn_accuracy >= item.min_whole_turn_accuracy
        check = Check(
            "parsing",
            PASS if ok else FAIL,
            f"whole-turn accuracy >= {item.min_whole_turn_accuracy:.1%}",
            f"{summary.whole_turn_accuracy:.1%} of {summary.turns} turns",
            f"{SCORERS['parser']} ({'llm' if self.use_llm else 'offline'})",
        )
        return ParsingRecord(
            suite=suite.name,
            file=item.file,
            kind=item.kind,
            turns=summary.turns,
            whole_turn_accuracy=summary.whole_turn_accuracy,
            slot_accuracy=summary.slot_accuracy,
            slot_counts=summary.slot_counts,
            failures=failures,
            checks=[check],
        )


class _References:
    """Real photos of the same person showing an expression (suite ``references``), loaded on demand."""

    def __init__(self, suite: Suite, folder: Path | None, photo: Path | None) -> None:
        self.suite, self.folder, self.photo = suite, folder, photo
        self._cache: dict[str, np.ndarray | None] = {}
        self._files: dict[str, str] = {}

    def get(self, name: str) -> np.ndarray | None:
        if name not in self._cache:
            image = None
            if self.folder is not None and self.photo is not None and name in self.suite.references:
                path = (self.folder / self.suite.references[name] / self.photo.name).resolve()
                if path.is_file():
                    image = load_image(path)
                else:
                    logger.warning("no %s reference photo at %s", name, path)
            self._cache[name] = image
        return self._cache[name]

    def saved(self, name: str, base: Path, save) -> str:
        """The output-relative path of the reference photo ``name``, saved there on first use."""
        if name not in self._files:
            self._files[name] = save(self._cache[name], base / f"reference_{slug(name)}.png")
        return self._files[name]


def family_of(attribute: str) -> str:
    """The vocabulary family of a turn label ("expression", "appearance"), or "command" / "other"."""
    if attribute in vocab.BY_NAME:
        return vocab.family(attribute)
    return "command" if attribute in ("undo", "redo", "reset", "more", "less", "show_steps") else "other"


def write_metrics(result: RunResult, path: Path) -> Path:
    """Write every figure of ``result`` to ``path`` as JSON (no thumbnails; photo paths are relative)."""
    import json

    payload = {
        "suites": result.suites,
        "suite_files": result.suite_files,
        "descriptions": result.descriptions,
        "started": result.started,
        "seconds": round(result.seconds, 1),
        "passed": result.passed,
        "counts": result.counts(),
        "parser": result.parser,
        "identity": {
            "scorer": result.identity_scorer,
            "threshold": result.identity_threshold,
            "calibrated": result.identity_calibrated,
        },
        "scorers": SCORERS,
        "environment": result.environment,
        "problems": result.problems,
        "turns": [t.as_json() for t in result.turns],
        "sweeps": [s.as_json() for s in result.sweeps],
        "parsing": [p.as_json() for p in result.parsing],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_finite(payload), indent=1, default=_json_default, allow_nan=False)
    path.write_text(text, encoding="utf-8")
    return path


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (JSON has no NaN)."""
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
