"""Messages that point at a reference photo: "copy this expression", "smile like in this photo".

`mentions_reference` recognises them; `reference_strength` reads how strongly to copy ("half as strong
as in the photo" -> 0.5; no intensity word -> 1.0, as strong as in the photo). The expression itself is
measured from the photo (`editor.transfer`); the parser's other requests of the message still apply.
"""

from __future__ import annotations

import re

from editor import vocabulary as vocab

_PICTURE = r"(?:photo|picture|pic|image|reference|selfie|shot|one|example|sample)"
_THIS = r"(?:this|that|the|my|her|his|their|the other|the reference|the attached|the uploaded)"
REFERENCE_PATTERN = re.compile(
    rf"\b(?:like|as|from) (?:in |on )?{_THIS} {_PICTURE}\b"
    rf"|\bcopy (?:{_THIS} )?(?:expression|face|look|smile|emotion)\b"
    rf"|\b(?:this|that|the reference(?: photo)?'?s?) (?:expression|emotion|look)\b"
    rf"|\bsame (?:expression|face|look|smile) as\b"
    rf"|\bmatch (?:{_THIS} )?(?:expression|{_PICTURE})\b"
    rf"|\blike the reference\b|\bas in the reference\b|\btransfer (?:the |this )?expression\b",
    re.IGNORECASE,
)
#: Explicit proportions of the photo's expression.
_FRACTIONS: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(r"\bhalf\b"), 0.5),
    (re.compile(r"\b(?:a|one) third\b"), 1 / 3),
    (re.compile(r"\b(?:a|one) quarter\b"), 0.25),
    (re.compile(r"\btwo thirds\b"), 2 / 3),
    (re.compile(r"\bthree quarters\b"), 0.75),
    (re.compile(r"\b(?:twice|double)\b"), 2.0),
    (re.compile(r"\b(?:stronger|more) than (?:in )?(?:the|this|that)\b"), 1.4),
    (re.compile(r"\b(?:weaker|less) than (?:in )?(?:the|this|that)\b"), 0.6),
)
_PERCENT = re.compile(r"\b(\d{1,3})\s*(?:%|percent\b)")


def mentions_reference(text: str) -> bool:
    """Whether ``text`` asks to copy the expression of a reference photo."""
    return bool(REFERENCE_PATTERN.search(text))


def reference_strength(text: str) -> float:
    """How much of the reference's expression to copy: 1.0 = as in the photo (the default), 0.5 half.

    An explicit proportion or percentage wins ("half as strong as in the photo", "at 30%"); otherwise an
    intensity word scales the photo's expression ("slightly like in this photo" -> 0.3 of it).
    """
    lowered = text.lower()
    match = _PERCENT.search(lowered)
    if match:
        return _clip(int(match.group(1)) / 100)
    for pattern, value in _FRACTIONS:
        if pattern.search(lowered):
            return _clip(value)
    words = sorted(vocab.INTENSITY_WORDS, key=len, reverse=True)
    for word in words:
        if re.search(rf"\b{re.escape(word)}\b", lowered) and vocab.INTENSITY_WORDS[word] in (
            "subtle",
            "moderate",
        ):
            return vocab.intensity_strength(word)
    return 1.0


def _clip(value: float) -> float:
    return max(0.05, min(vocab.MAX_STRENGTH, value))
