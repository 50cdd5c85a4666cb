"""Judging one turn against its expectations: a list of `Check` results, each naming its scorer.

A check is ``pass``, ``fail`` or ``n/a`` (it could not be measured: no face on the edit, no reference
photo, an unedited photo for identity). ``n/a`` is shown in the report but neither passes nor fails.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from editor.requests import Command, EditRequest, ParseResult
from eval.measure import SCORERS, EditMeasure, PhotoMeasure
from eval.metrics.expression import blendshape_changes
from eval.metrics.parsing import command_ok, score_requests
from eval.suite_schema import Expect

PASS, FAIL, NA = "pass", "fail", "n/a"


@dataclass(frozen=True)
class Check:
    """One expectation's verdict.

    Attributes:
        kind: "requests", "state", "command", "changed", "error", "reply", "blendshapes", "emotion",
            "identity", "latency", "locality", "reference", "monotonic" or "parsing".
        status: "pass", "fail" or "n/a".
        expected: what the suite asked for, in words.
        measured: what was measured, in words with the numbers.
        scorer: the instrument behind ``measured``.
        value: the check's key figure (blendshape change in the expected direction, emotion probability
            change, identity similarity, milliseconds, ...), None when there is none.
    """

    kind: str
    status: str
    expected: str
    measured: str
    scorer: str
    value: float | None = None

    @property
    def passed(self) -> bool:
        return self.status != FAIL

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _verdict(ok: bool) -> str:
    return PASS if ok else FAIL


def _records(requests: Sequence[EditRequest]) -> str:
    return (
        ", ".join(f"{r.attribute} {r.strength:+.2f}" + (f" {r.value}" if r.value else "") for r in requests)
        or "none"
    )


def _command(command: Command | None) -> str:
    if command is None:
        return "none"
    return command.name + (f" x{command.factor:.2f}" if command.factor is not None else "")


@dataclass(frozen=True)
class TurnFacts:
    """What a turn produced, for judging (images are compared by the caller into ``changed``)."""

    parse: ParseResult  # the parser's raw output, before unsupported requests were dropped
    state: tuple[EditRequest, ...]  # the conversation's edit state after the turn
    reply: str
    error: str | None
    changed: bool  # the photo shown differs from the one shown before the turn
    edited: bool  # the photo shown differs from the original
    latency_ms: float | None
    before_original: PhotoMeasure
    before_previous: PhotoMeasure
    after: PhotoMeasure
    measure: EditMeasure


def judge_turn(expect: Expect, facts: TurnFacts) -> list[Check]:
    """Every expectation of ``expect`` judged against ``facts``."""
    checks: list[Check] = []
    parser = f"{SCORERS['parser']} ({facts.parse.parser})"
    if expect.requests is not None:
        wanted = [e.as_expectation() for e in expect.requests]
        score = score_requests(facts.parse.requests, wanted, check_command=False)
        checks.append(
            Check(
                "requests",
                _verdict(score.whole),
                _expected_records(expect.requests),
                _records(facts.parse.requests) + _problems(score.problems),
                parser,
            )
        )
    if expect.state is not None:
        wanted = [e.as_expectation() for e in expect.state]
        score = score_requests(facts.state, wanted, check_command=False)
        checks.append(
            Check(
                "state",
                _verdict(score.whole),
                _expected_records(expect.state),
                _records(facts.state) + _problems(score.problems),
                "conversation edit stack",
            )
        )
    if expect.command is not None:
        wanted = None if expect.command == "none" else expect.command.model_dump(exclude_none=True)
        ok = command_ok(facts.parse.command, wanted)
        shown = (
            "none"
            if wanted is None
            else wanted["name"] + (f" x{wanted['factor']}" if "factor" in wanted else "")
        )
        checks.append(Check("command", _verdict(ok), shown, _command(facts.parse.command), parser))
    checks.append(
        Check(
            "error",
            _verdict((facts.error is not None) == expect.error),
            "an error reply" if expect.error else "no error",
            facts.error or "no error",
            "Assistant.run",
        )
    )
    if expect.changed is not None:
        checks.append(
            Check(
                "changed",
                _verdict(facts.changed == expect.changed),
                "the photo changes" if expect.changed else "the photo stays as it was",
                "changed" if facts.changed else "unchanged",
                "pixel comparison with the previous photo",
            )
        )
    if expect.reply_contains is not None:
        found = re.search(expect.reply_contains, facts.reply, re.IGNORECASE) is not None
        checks.append(
            Check(
                "reply",
                _verdict(found),
                f"reply matches /{expect.reply_contains}/",
                _clip(facts.reply),
                "regular expression on the reply",
            )
        )
    if expect.blendshapes is not None:
        checks.append(_blendshape_check(expect, facts))
    if expect.emotion is not None:
        checks.append(_emotion_check(expect, facts))
    identity = expect.identity_check
    if identity is not None:
        checks.append(_identity_check(identity.min, facts))
    if expect.latency_ms is not None:
        if facts.latency_ms is None:
            checks.append(
                Check("latency", NA, f"<= {expect.latency_ms:.0f} ms", "not timed", SCORERS["latency"])
            )
        else:
            checks.append(
                Check(
                    "latency",
                    _verdict(facts.latency_ms <= expect.latency_ms),
                    f"<= {expect.latency_ms:.0f} ms",
                    f"{facts.latency_ms:.0f} ms",
                    SCORERS["latency"],
                    facts.latency_ms,
                )
            )
    if expect.locality is not None:
        checks.append(_locality_check(expect, facts.measure))
    if expect.reference is not None:
        checks.append(_reference_check(expect, facts.measure))
    return checks


def _expected_records(expected) -> str:
    parts = []
    for e in expected:
        if e.strength is not None:
            how = f"{e.strength:+.2f} (band)"
        elif e.range is not None:
            how = f"in [{e.range[0]:+.2f}, {e.range[1]:+.2f}]"
        elif e.sign is not None:
            how = "positive" if e.sign > 0 else "negative"
        else:
            how = "positive"
        parts.append(f"{e.attribute} {how}" + (f" {e.value}" if e.value else ""))
    return ", ".join(parts) or "none"


def _problems(problems: list[str]) -> str:
    return f" ({'; '.join(problems)})" if problems else ""


def _clip(text: str, size: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


def _blendshape_check(expect: Expect, facts: TurnFacts) -> Check:
    spec = expect.blendshapes
    before = facts.before_original if spec.versus == "original" else facts.before_previous
    wanted = []
    if spec.up:
        wanted.append(f"mean of {', '.join(spec.up)} up by >= {spec.margin:.2f}")
    if spec.down:
        wanted.append(f"mean of {', '.join(spec.down)} down by >= {spec.margin:.2f}")
    if spec.unchanged:
        wanted.append(f"each of {', '.join(spec.unchanged)} within ±{spec.margin:.2f}")
    expected = "; ".join(wanted) + f" (vs the {spec.versus} photo)"
    if facts.after.face is None or before.face is None:
        return Check("blendshapes", NA, expected, "no face found on the photo", SCORERS["blendshapes"])
    ok, parts, key = True, [], None
    for group, sign in (("up", 1.0), ("down", -1.0)):
        names = getattr(spec, group)
        if names:
            changes = blendshape_changes(before.blendshapes, facts.after.blendshapes, names)
            mean = sum(changes.values()) / len(changes)
            ok &= mean * sign >= spec.margin
            key = mean * sign if key is None else key
            detail = ", ".join(
                f"{n} {before.blendshapes.get(n, 0):.2f}→{facts.after.blendshapes.get(n, 0):.2f}"
                for n in names
            )
            parts.append(f"{group}: mean {mean:+.3f} ({detail})")
    if spec.unchanged:
        changes = blendshape_changes(before.blendshapes, facts.after.blendshapes, spec.unchanged)
        ok &= all(abs(c) < spec.margin for c in changes.values())
        parts.append("unchanged: " + ", ".join(f"{n} {c:+.3f}" for n, c in changes.items()))
    return Check("blendshapes", _verdict(ok), expected, "; ".join(parts), SCORERS["blendshapes"], key)


def _emotion_check(expect: Expect, facts: TurnFacts) -> Check:
    spec = expect.emotion
    before = facts.before_original if spec.versus == "original" else facts.before_previous
    name = spec.emotion_class
    wanted = []
    if spec.min is not None:
        wanted.append(f"p({name}) >= {spec.min:.2f}")
    if spec.rise is not None:
        wanted.append(f"p({name}) rises by >= {spec.rise:.2f} vs the {spec.versus} photo")
    if spec.top:
        wanted.append(f"{name} is the most probable class")
    expected = "; ".join(wanted)
    if facts.after.emotion is None or before.emotion is None:
        return Check("emotion", NA, expected, "no face found on the photo", SCORERS["emotion"])
    p_after, p_before = facts.after.emotion[name], before.emotion[name]
    top = max(facts.after.emotion, key=facts.after.emotion.get)
    ok = True
    if spec.min is not None:
        ok &= p_after >= spec.min
    if spec.rise is not None:
        ok &= p_after - p_before >= spec.rise
    if spec.top:
        ok &= top == name
    measured = f"p({name}) {p_before:.2f}→{p_after:.2f}; top class {top} ({facts.after.emotion[top]:.2f})"
    return Check("emotion", _verdict(ok), expected, measured, SCORERS["emotion"], p_after - p_before)


def _identity_check(minimum: float | None, facts: TurnFacts) -> Check:
    m = facts.measure
    threshold = m.identity_threshold if minimum is None else minimum
    label = "calibrated threshold" if minimum is None else "suite minimum"
    expected = f"similarity >= {threshold:.3f} ({label})"
    scorer = f"{m.identity_scorer} face embedding, cosine similarity" + (
        "" if m.identity_calibrated else ", uncalibrated"
    )
    if not facts.edited:
        return Check("identity", NA, expected, "photo unedited", scorer)
    if m.identity is None:
        return Check("identity", FAIL, expected, "no face found on the edited photo", scorer)
    return Check(
        "identity", _verdict(m.identity >= threshold), expected, f"{m.identity:.3f}", scorer, m.identity
    )


def _locality_check(expect: Expect, m: EditMeasure) -> Check:
    spec = expect.locality
    wanted, ok = [], True
    if spec.max_lpips_outside is not None:
        wanted.append(f"LPIPS outside <= {spec.max_lpips_outside:.3f}")
        ok &= m.lpips_outside <= spec.max_lpips_outside
    if spec.max_changed_fraction is not None:
        wanted.append(f"changed pixels outside <= {spec.max_changed_fraction:.2%}")
        ok &= m.changed_fraction <= spec.max_changed_fraction
    measured = f"LPIPS outside {m.lpips_outside:.4f}; changed pixels outside {m.changed_fraction:.2%}"
    return Check(
        "locality",
        _verdict(ok),
        "; ".join(wanted) or "reported",
        measured,
        f"{SCORERS['lpips']} and {SCORERS['pixels']}, outside the face oval x1.25",
    )


def _reference_check(expect: Expect, m: EditMeasure) -> Check:
    spec = expect.reference
    wanted = []
    if spec.closer_than_original:
        wanted.append("edit closer to the real photo than the unedited photo is")
    if spec.max_landmark_distance is not None:
        wanted.append(f"landmark distance <= {spec.max_landmark_distance:.3f}")
    expected = f"{spec.name} reference: " + "; ".join(wanted)
    if m.reference_landmarks_original is None:
        return Check("reference", NA, expected, "no reference photo (or no face on it)", SCORERS["landmarks"])
    if m.reference_landmarks_edit is None:
        return Check("reference", FAIL, expected, "no face found on the edited photo", SCORERS["landmarks"])
    ok = True
    if spec.closer_than_original:
        ok &= m.reference_landmarks_edit < m.reference_landmarks_original
    if spec.max_landmark_distance is not None:
        ok &= m.reference_landmarks_edit <= spec.max_landmark_distance
    measured = (
        f"landmarks {m.reference_landmarks_original:.4f} (original) → {m.reference_landmarks_edit:.4f} (edit)"
    )
    if m.reference_lpips_edit is not None:
        measured += f"; LPIPS {m.reference_lpips_original:.3f} → {m.reference_lpips_edit:.3f}"
    return Check(
        "reference",
        _verdict(ok),
        expected,
        measured,
        f"{SCORERS['landmarks']}; {SCORERS['lpips']}",
        m.reference_landmarks_edit - m.reference_landmarks_original,
    )


def monotonic_check(strengths: Sequence[float], responses: Sequence[float], slack: float = 0.02) -> Check:
    """The blendshape response does not fall by more than ``slack`` as the applied strength grows."""
    pairs = sorted((s, r) for s, r in zip(strengths, responses, strict=True) if not math.isnan(r))
    drops = [b[1] - a[1] for a, b in zip(pairs, pairs[1:], strict=False) if b[1] - a[1] < -slack]
    measured = ", ".join(f"{s:+.2f}: {r:+.3f}" for s, r in pairs)
    return Check(
        "monotonic",
        _verdict(not drops),
        f"response never falls by > {slack} as strength grows",
        measured,
        SCORERS["blendshapes"],
    )
