"""Text clean-up for the offline parser: normalisation, tokenisation and typo correction.

`normalize` first folds Unicode (NFKC: full-width letters and digits, ligatures; zero-width and other
invisible format characters dropped; the Turkish dotted and dotless i read as i), then lower-cases,
expands contractions, unifies spellings (colour/color, brows/eyebrows) and number words;
`TypoCorrector` maps an unknown word to the one vocabulary word within one edit (two for
long words), leaving real English words alone (the embedding tokenizer's word list decides what is
English), so "suprised" -> "surprised" but "made" never becomes "mad".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

#: Characters folded before NFKC: the Turkish capital dotted I and small dotless i (both read as "i").
_TURKISH_I = str.maketrans({"\u0130": "I", "\u0131": "i"})

#: Whole-phrase rewrites applied after lower-casing, before tokenising (regex -> replacement).
_REWRITES: tuple[tuple[str, str], ...] = (
    (r"[\u2018\u2019\u02bc`´]", "'"),
    (r"[\u201c\u201d]", '"'),
    (r"[\u2013\u2014]", " - "),
    (r"\bwon't\b", "will not"),
    (r"\bcan't\b", "can not"),
    (r"\bcannot\b", "can not"),
    (r"\bshan't\b", "shall not"),
    (r"n't\b", " not"),
    (r"\b(dont|doesnt|didnt|isnt|shouldnt|wouldnt|wont|cant|arent)\b", r"\1 not"),
    (r"\b(she|he|it|that|there|what|who)'s\b", r"\1 is"),
    (r"'(re|ve|ll|d|m)\b", " "),
    (r"'s\b", ""),
    (r"(\d)\s*%", r"\1 percent"),
    (r"\bper cent\b", "percent"),
    (r"\bcolour", "color"),
    (r"\bcolors\b", "color"),
    (r"\beye[ -]?brows?\b", "eyebrows"),
    (r"\bbrows?\b", "eyebrows"),
    (r"\beyes? lids?\b", "eyelids"),
    (r"\bmake[ -]up\b", "makeup"),
    (r"\blip[ -]stick\b", "lipstick"),
    (r"\bsun[ -]glasses\b", "sunglasses"),
    (r"\beye[ -]glasses\b", "eyeglasses"),
    (r"\bgrey\b", "gray"),
    (r"\bmoustache\b", "mustache"),
    (r"\b(abit|a bit)\b", "a bit"),
    (r"\balittle\b", "a little"),
    (r"\blil\b", "little"),
    (r"\b(plz|pls|please|kindly)\b", " "),
    (r"\bu\b", "you"),
    (r"\bur\b", "your"),
    (r"\bteh\b", "the"),
    (r"\bw/o\b", "without"),
    (r"\bw/\b", "with"),
    (r"\bthx\b", "thanks"),
    (r"\bctrl ?\+? ?z\b", "undo"),
    (r"\bcalm (him|her|them|it|that|this|things) down\b", "tone it down"),
)
_COMPILED_REWRITES = tuple((re.compile(p), r) for p, r in _REWRITES)

_NUMBER_WORDS = {
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "fifteen": "15",
    "twenty": "20",
    "twenty five": "25",
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "sixty": "60",
    "seventy": "70",
    "seventy five": "75",
    "eighty": "80",
    "ninety": "90",
    "hundred": "100",
    "a hundred": "100",
    "one hundred": "100",
}
_NUMBER_RE = re.compile(
    r"\b("
    + "|".join(sorted(map(re.escape, _NUMBER_WORDS), key=len, reverse=True))
    + r")\b(?= percent| out of| years?\b| steps?\b|/)"
)
#: Tokens: words (with inner apostrophes or hyphens), signed decimals, fractions, and punctuation.
_TOKEN_RE = re.compile(r"-?\d+(?:\.\d+)?(?:/\d+)?|\.\d+|[a-z]+(?:[-'][a-z]+)*|[,;.!?:]")


def normalize(text: str) -> str:
    """Fold Unicode, lower-case, expand contractions, unify spellings; returns a single-spaced string."""
    out = fold_unicode(text).lower()
    for pattern, replacement in _COMPILED_REWRITES:
        out = pattern.sub(replacement, out)
    out = _NUMBER_RE.sub(lambda m: _NUMBER_WORDS[m.group(1)], out)
    return " ".join(out.split())


def fold_unicode(text: str) -> str:
    """NFKC-normalised ``text`` without invisible format characters (zero-width spaces, soft hyphens,
    byte-order marks) or combining dots; the Turkish dotted/dotless i become plain i."""
    folded = unicodedata.normalize("NFKC", text.translate(_TURKISH_I))
    return "".join(c for c in folded if unicodedata.category(c) != "Cf" and c != "\u0307")


def tokenize(text: str) -> list[str]:
    """Words, numbers and clause punctuation of already-normalised text."""
    return _TOKEN_RE.findall(text)


def _deletes(word: str, depth: int) -> set[str]:
    """All strings obtained by deleting up to ``depth`` characters from ``word``."""
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def _distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance."""
    rows = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        rows[i][0] = i
    for j in range(len(b) + 1):
        rows[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[-1][-1]


class TypoCorrector:
    """Correct misspelt words towards ``targets`` (the parser's own words), sparing real English words.

    ``english`` is a set of known words never corrected. Words shorter than 4 letters are left alone;
    words of 4-7 letters may move one edit, longer words two. ``groups`` maps targets to what they mean
    (an attribute, a band): a tie between equally close targets that mean the same thing is no ambiguity.
    """

    def __init__(
        self, targets: Iterable[str], english: Iterable[str] = (), groups: Mapping[str, str] | None = None
    ) -> None:
        self.targets = frozenset(t for t in targets if t.isalpha())
        self.groups = dict(groups or {})
        self.english = frozenset(english) | self.targets
        self._index: dict[str, set[str]] = {}
        for target in self.targets:
            for deleted in _deletes(target, 2 if len(target) >= 8 else 1):
                self._index.setdefault(deleted, set()).add(target)
        self._cache: dict[str, str] = {}

    def correct(self, word: str) -> str:
        """The corrected word (``word`` itself when known, too short, or not close to one target)."""
        if word in self._cache:
            return self._cache[word]
        result = self._correct(word)
        if len(self._cache) < 10_000:
            self._cache[word] = result
        return result

    def _correct(self, word: str) -> str:
        if not word.isalpha() or word in self.english:
            return word
        squeezed = re.sub(r"(.)\1{2,}", r"\1\1", word)  # "happyyyy" -> "happyy"
        for candidate in (squeezed, re.sub(r"(.)\1+", r"\1", squeezed)):
            if candidate in self.english:
                return candidate
        if len(squeezed) < 4:
            return word
        depth = 2 if len(squeezed) >= 8 else 1
        found: set[str] = set()
        for deleted in _deletes(squeezed, depth):
            found |= self._index.get(deleted, set())
        scored = sorted((_distance(squeezed, t), t) for t in found)
        scored = [(d, t) for d, t in scored if d <= depth]
        if not scored:
            return word
        tied = [t for d, t in scored if d == scored[0][0]]
        meanings = {self.groups.get(t) for t in tied}
        if len(tied) > 1 and (len(meanings) > 1 or None in meanings):
            return word  # ambiguous: leave it
        return tied[0]
