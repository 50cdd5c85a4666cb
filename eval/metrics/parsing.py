"""Parsing metrics: slot accuracy (attribute, strength band, sign, value, command) and whole-turn accuracy.

An expected request is ``{"attribute", "strength" | "sign" | "range", "value"?}``. Strength is right
when it falls in the same band as the expected one (`editor.vocabulary.band_of`) or within
`STRENGTH_TOLERANCE`; ``range: [lo, hi]`` bounds the signed strength; ``sign`` alone checks direction.
A turn is right when the predicted attributes are exactly the expected ones, every slot is right, the
command matches (name, and factor within `FACTOR_TOLERANCE` when given) and ``instead`` matches when the
expectation states it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from editor import vocabulary as vocab
from editor.requests import Command, EditRequest

STRENGTH_TOLERANCE = 0.05
FACTOR_TOLERANCE = 0.1
SLOTS: tuple[str, ...] = ("attribute", "strength", "sign", "value", "command")


def strength_ok(predicted: float, expected: Mapping[str, Any]) -> bool:
    """Whether a predicted signed strength meets an expectation (strength band, range or sign)."""
    if "range" in expected:
        low, high = expected["range"]
        return low <= predicted <= high
    if "strength" in expected:
        target = float(expected["strength"])
        if abs(predicted - target) <= STRENGTH_TOLERANCE:
            return True
        return (predicted > 0) == (target > 0) and vocab.band_of(predicted) == vocab.band_of(target)
    return sign_ok(predicted, expected)


def sign_ok(predicted: float, expected: Mapping[str, Any]) -> bool:
    """Whether the predicted strength points the expected way."""
    if "sign" in expected:
        target = float(expected["sign"])
    elif "strength" in expected:
        target = float(expected["strength"])
    elif "range" in expected:
        low, high = expected["range"]
        target = (low + high) / 2
    else:
        target = 1.0  # no direction stated: an edit adds the attribute
    return (predicted > 0) == (target > 0)


def command_ok(predicted: Command | None, expected: Mapping[str, Any] | None) -> bool:
    """Whether the predicted command matches (name; factor within tolerance, and count, when expected)."""
    if expected is None:
        return predicted is None
    if predicted is None or predicted.name != expected["name"]:
        return False
    if expected.get("factor") is not None:
        return abs((predicted.factor or 0.0) - float(expected["factor"])) <= FACTOR_TOLERANCE
    if expected.get("count") is not None:
        return getattr(predicted, "count", 1) == int(expected["count"])
    return True


@dataclass
class TurnScore:
    """Slot counts for one turn: ``correct[slot]`` of ``total[slot]``, and whether the whole turn is right."""

    correct: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SLOTS, 0))
    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SLOTS, 0))
    whole: bool = True
    problems: list[str] = field(default_factory=list)

    def _count(self, slot: str, ok: bool, problem: str) -> None:
        self.total[slot] += 1
        self.correct[slot] += int(ok)
        if not ok:
            self.whole = False
            self.problems.append(problem)


def score_requests(
    predicted: Sequence[EditRequest],
    expected: Sequence[Mapping[str, Any]],
    *,
    predicted_command: Command | None = None,
    expected_command: Mapping[str, Any] | None = None,
    check_command: bool = True,
    predicted_instead: bool | None = None,
    expected_instead: bool | None = None,
) -> TurnScore:
    """Score one turn's requests (and command) against expectations."""
    score = TurnScore()
    by_attribute = {r.attribute: r for r in predicted}
    expected_names = {e["attribute"] for e in expected}
    for item in expected:
        name = item["attribute"]
        request = by_attribute.get(name)
        score._count("attribute", request is not None, f"missing {name}")
        if request is None:
            continue
        if "strength" in item or "range" in item:
            score._count(
                "strength", strength_ok(request.strength, item), f"{name} strength {request.strength:+.2f}"
            )
        score._count("sign", sign_ok(request.strength, item), f"{name} sign {request.strength:+.2f}")
        if "value" in item or request.value is not None:
            score._count("value", request.value == item.get("value"), f"{name} value {request.value}")
    for name in by_attribute.keys() - expected_names:
        score.total["attribute"] += 1
        score.whole = False
        score.problems.append(f"unexpected {name}")
    if check_command:
        score._count(
            "command", command_ok(predicted_command, expected_command), f"command {predicted_command}"
        )
    if (
        expected_instead is not None
        and predicted_instead is not None
        and expected_instead != predicted_instead
    ):
        score.whole = False
        score.problems.append(f"instead {predicted_instead}")
    return score


@dataclass
class Summary:
    """Aggregated figures: per-slot accuracy and whole-turn accuracy, in [0, 1]."""

    turns: int
    whole_turn_accuracy: float
    slot_accuracy: dict[str, float]
    slot_counts: dict[str, tuple[int, int]]


def summarize(scores: Iterable[TurnScore]) -> Summary:
    """Combine turn scores into accuracies (a slot never tested reports 1.0 with count 0/0)."""
    scores = list(scores)
    correct = dict.fromkeys(SLOTS, 0)
    total = dict.fromkeys(SLOTS, 0)
    for score in scores:
        for slot in SLOTS:
            correct[slot] += score.correct[slot]
            total[slot] += score.total[slot]
    return Summary(
        turns=len(scores),
        whole_turn_accuracy=sum(s.whole for s in scores) / len(scores) if scores else 0.0,
        slot_accuracy={s: (correct[s] / total[s] if total[s] else 1.0) for s in SLOTS},
        slot_counts={s: (correct[s], total[s]) for s in SLOTS},
    )
