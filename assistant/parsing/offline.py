"""The offline parser (the default): rules over `editor.vocabulary` plus sentence embeddings for paraphrases.

One message -> `ParseResult`. Steps:

1. normalise (case, contractions, spellings) and correct typos towards the vocabulary's words;
2. refuse hostile text, answer small talk and help;
3. split into clauses ("and", "but", commas); in each clause find attributes (colour nouns first, then
   aliases, longest first), the intensity words and numbers that set strength, negation ("stop
   smiling", "no glasses") and relative change ("more surprised", "less angry");
4. a clause naming no attribute is compared, with MiniLM embeddings, against each attribute's example
   sentences and a set of off-topic sentences; a clear winner becomes the attribute;
5. clauses with only an intensity ("but keep it subtle") set the strength of every request without its
   own; clauses with only a command word give undo/redo/reset/more/less/show_steps.

No attribute names appear in this module: everything attribute-specific is data in `editor.vocabulary`.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from assistant.parsing import patterns as pt
from assistant.parsing import replies
from assistant.parsing.text import TypoCorrector, normalize
from editor import vocabulary as vocab
from editor.errors import FacechatError
from editor.requests import Command, EditRequest, ParseResult

logger = logging.getLogger(__name__)

#: Longest message parsed; the rest is ignored (and the reply says so).
MAX_CHARS = 1000
#: Embedding match: smallest cosine to an attribute example, and margin over the best off-topic example.
EMBED_MIN_SIMILARITY = 0.5
EMBED_MARGIN = 0.08
#: The phrase length credited to "as ... as possible" (longer than any intensity phrase: it wins).
AS_POSSIBLE_LENGTH = 99


def _phrase_regex(phrase: str) -> str:
    """Regex for a vocabulary phrase; ``*`` stands for up to three words."""
    parts = [re.escape(word) for word in phrase.split()]
    out = r"\b"
    for index, part in enumerate(parts):
        if part == r"\*":
            out += r"(?:[a-z'-]+ ){0,3}"
        else:
            out += part + (r"\b" if index == len(parts) - 1 else r"\b ")
    return out


def _alternation(phrases: list[str]) -> str:
    return "|".join(sorted(phrases, key=lambda p: (-len(p), p)))


@lru_cache(maxsize=4096)
def _compiled_alternation(groups: tuple[str, ...], chosen: tuple[int, ...]) -> re.Pattern[str]:
    return re.compile("|".join(groups[i] for i in chosen) if chosen else r"(?!x)x")


@dataclass
class _Match:
    """An attribute found in a clause, at [start, end) of the clause text."""

    attribute: str
    sign: float
    start: int
    end: int
    value: str | None = None
    sense: vocab.WordSense | None = None  # the phrase carries its own strength ("furious")


@dataclass
class _Found:
    """A request found in a clause, before strength is resolved."""

    attribute: str
    sign: float
    value: str | None
    band: str | None
    number: float | None
    relative: bool
    negated: bool
    restore: bool = False  # "bring the glasses back": undo an earlier removal
    word_band: str | None = None  # the band the attribute word itself carries ("livid": strong)
    reading: str | None = None  # an everyday word read as this attribute ("tired"): the reply says so
    factor: float | None = None  # "20% happier": multiply the current strength by this
    recall: bool = False  # "smile like before": the strength it had earlier


@dataclass
class _Lexicon:
    """The vocabulary compiled into regular expressions."""

    alias_groups: tuple[str, ...]  # one named regex group per phrase, longest phrase first
    alias_targets: dict[str, tuple[str, float, frozenset[str]]]  # group -> (attribute, sign, literal words)
    senses: dict[str, vocab.WordSense]  # group -> the word sense it matches (words with their own strength)
    intensity: re.Pattern[str]
    colour_noun: re.Pattern[str]
    words: frozenset[str] = field(default_factory=frozenset)
    meanings: dict[str, str] = field(default_factory=dict)  # word -> attribute or band it means


def _build_lexicon() -> _Lexicon:
    groups = []
    targets: dict[str, tuple[str, float, frozenset[str]]] = {}
    entries: list[tuple[str, str, float]] = []
    for item in vocab.ATTRIBUTES:
        entries += [(phrase, item.name, 1.0) for phrase in item.aliases if phrase not in vocab.SENSES]
        entries += [(phrase, item.name, -1.0) for phrase in item.opposites if phrase not in vocab.SENSES]
    entries += [(sense.phrase, sense.attribute, 1.0) for sense in vocab.WORD_SENSES]
    senses: dict[str, vocab.WordSense] = {}
    # longest phrases first so "open * eyes wide" wins over "open * eyes"
    entries.sort(key=lambda e: (-len(e[0].replace("*", "xxxxxxxxxxxx")), e[0]))
    for index, (phrase, name, sign) in enumerate(entries):
        group = f"a{index}"
        targets[group] = (name, sign, frozenset(phrase.split()) - {"*"})
        if phrase in vocab.SENSES and vocab.SENSES[phrase].attribute == name:
            senses[group] = vocab.SENSES[phrase]
        groups.append(f"(?P<{group}>{_phrase_regex(phrase)})")
    colours = _alternation([re.escape(c) for c in vocab.COLOURS])
    nouns = _alternation([re.escape(n) for n in vocab.COLOUR_NOUNS])
    colour_noun = (
        rf"\b(?P<c1>{colours})(?:[ -](?:[a-z]+ ){{0,1}})?[ -]?(?P<n1>{nouns})\b"
        rf"|\b(?P<n2>{nouns})\b(?: [a-z]+){{0,4}}? (?:to |into |in )?(?P<c2>{colours})\b"
    )
    intensity = _alternation([_phrase_regex(w) for w in vocab.INTENSITY_WORDS])
    words: set[str] = set()
    for item in vocab.ATTRIBUTES:
        for phrase in item.aliases + item.opposites:
            words |= set(phrase.replace("*", " ").replace("-", " ").split())
    for sense in vocab.WORD_SENSES:
        words |= set(sense.phrase.replace("*", " ").replace("-", " ").split())
    for phrase in list(vocab.INTENSITY_WORDS) + list(vocab.COLOURS) + list(vocab.COLOUR_NOUNS):
        words |= set(phrase.split())
    sources = " ".join([p for _, p in pt.COMMAND_PATTERNS] + [pt.NEGATORS_BEFORE, pt.RELATIVE_BEFORE])
    words |= set(re.findall(r"[a-z]{4,}", re.sub(r"\\[a-zA-Z]", " ", sources)))  # the words, not "\\b"
    words |= {"eyebrows", "eyes", "mouth", "nose", "lips", "instead", "percent", "steps", "expression"}
    meanings = {w: vocab.INTENSITY_WORDS[w] for w in vocab.INTENSITY_WORDS if " " not in w}
    for item in vocab.ATTRIBUTES:
        meanings |= {w: item.name for w in item.aliases if " " not in w}
    meanings |= {s.phrase: s.attribute for s in vocab.WORD_SENSES if " " not in s.phrase}
    return _Lexicon(
        alias_groups=tuple(groups),
        alias_targets=targets,
        senses=senses,
        intensity=re.compile(intensity),
        colour_noun=re.compile(colour_noun),
        words=frozenset(w for w in words if w.isalpha()),
        meanings=meanings,
    )


class OfflineParser:
    """Rules + MiniLM embeddings; `parse(text)` -> `ParseResult`. Thread-safe.

    ``encoder``: a `SentenceEncoder`, or None to load the packaged one; pass ``use_embeddings=False`` for
    rules only (no model files needed; paraphrases without a vocabulary word are then not understood).
    """

    def __init__(self, encoder: object | None = None, *, use_embeddings: bool = True) -> None:
        self.lexicon = _build_lexicon()
        self.encoder = None
        self.notes: tuple[str, ...] = ()
        english: frozenset[str] = frozenset()
        if use_embeddings:
            try:
                if encoder is None:
                    from assistant.parsing.embedding import SentenceEncoder

                    encoder = SentenceEncoder()
                self.encoder = encoder
                english = encoder.vocabulary()  # type: ignore[attr-defined]
            except FacechatError as error:
                logger.warning("Sentence embeddings unavailable, parsing with rules only: %s", error)
                self.notes = ("sentence-embedding model unavailable; rules only",)
        self.typos = TypoCorrector(self.lexicon.words, english | pt.KNOWN_WORDS, self.lexicon.meanings)
        # The example sentences' embeddings are computed on first need (most requests name a vocabulary
        # word and never reach the embedder; encoding them all costs about a second at start-up).
        self._prototype_labels: list[str | None] = []
        self._prototype_sentences: list[str] = []
        self._prototype_vectors: np.ndarray | None = None  # (P, 384) once computed
        self._prototype_lock = threading.Lock()
        if self.encoder is not None:
            for item in vocab.ATTRIBUTES:
                for sentence in item.examples:
                    self._prototype_sentences.append(sentence)
                    self._prototype_labels.append(item.name)
            for sentence in pt.OFF_TOPIC_EXAMPLES:
                self._prototype_sentences.append(sentence)
                self._prototype_labels.append(None)
        self._re = {
            name: re.compile(source)
            for name, source in {
                "hostile": pt.HOSTILE_PATTERN,
                "abuse": pt.ABUSE_PATTERN,
                "small_talk": pt.SMALL_TALK_PATTERN,
                "satisfied": pt.SATISFIED_PATTERN,
                "help": pt.HELP_PATTERN,
                "instead": pt.INSTEAD_PATTERN,
                "replaced": pt.REPLACED_PATTERN,
                "split": pt.CLAUSE_SPLIT,
                "neg_before": pt.NEGATORS_BEFORE,
                "neg_after": pt.NEGATORS_AFTER,
                "rel_before": pt.RELATIVE_BEFORE,
                "rel_after": pt.RELATIVE_AFTER,
                "steps": pt.STEPS_PATTERN,
                "years": pt.YEARS_PATTERN,
                "not_enough": pt.NOT_ENOUGH_PATTERN,
                "restore_before": pt.RESTORE_BEFORE,
                "restore_after": pt.RESTORE_AFTER,
                "restore_only": pt.RESTORE_ONLY,
                "set_strength": pt.SET_STRENGTH_PATTERN,
                "years_added": pt.YEARS_ADDED_PATTERN,
                "colour": r"\b(" + _alternation([re.escape(c) for c in vocab.COLOURS]) + r")\b",
                "as_possible": pt.AS_POSSIBLE_PATTERN,
                "percent": pt.PERCENT_PATTERN,
                "out_of": pt.OUT_OF_PATTERN,
                "number": pt.NUMBER_PATTERN,
                "instruction": pt.INSTRUCTION_PATTERN,
                "count": pt.COUNT_PATTERN,
                "keep": pt.KEEP_PATTERN,
                "keep_clause": pt.KEEP_CLAUSE_PATTERN,
                "recall": pt.RECALL_PATTERN,
                "comparative": pt.COMPARATIVE_PATTERN,
            }.items()
        }
        self._commands = [(name, re.compile(source)) for name, source in pt.COMMAND_PATTERNS]
        self._factors = [(re.compile(source), factor) for source, factor in pt.FACTOR_PATTERNS]
        self._pronouns = [(re.compile(source), word) for source, word in pt.PRONOUNS]

    # ------------------------------------------------------------------ public
    def parse(self, text: str | None) -> ParseResult:
        """Understand one message. Never raises on user text; unparseable text gives no edit and a reply."""
        raw = ("" if text is None else str(text)).strip()
        notes = list(self.notes)
        if not raw:
            return ParseResult(reply=replies.EMPTY_REPLY, notes=tuple(notes))
        if len(raw) > MAX_CHARS:
            raw = raw[:MAX_CHARS]
            notes.append(f"message truncated to {MAX_CHARS} characters")
        norm = self.clean(raw)
        if self._re["hostile"].search(norm):
            return ParseResult(reply=replies.REFUSAL_REPLY, notes=(*notes, "refused: not a face edit"))
        if self._re["instruction"].search(norm):
            return ParseResult(
                reply=replies.INSTRUCTION_REPLY, notes=(*notes, "refused: instructions to the system")
            )
        count = None
        found_count = self._re["count"].search(norm)
        if found_count:
            said = found_count.group("n") or found_count.group("word")
            count = int(said) if said.isdigit() else pt.COUNT_WORDS[said]
            norm = (norm[: found_count.start("n" if found_count.group("n") else "word")] + " "
                    + norm[found_count.end():]).strip()  # fmt: skip
        keep = bool(self._re["keep"].search(norm))
        steps = None
        found_steps = self._re["steps"].search(norm)
        if found_steps:
            steps = max(vocab.STEPS_RANGE[0], min(vocab.STEPS_RANGE[1], int(found_steps.group(1))))
            norm = (norm[: found_steps.start()] + " " + norm[found_steps.end() :]).strip()
        instead = bool(self._re["instead"].search(norm))
        found: list[_Found] = []
        bands: list[str] = []
        clause_commands: list[tuple[str, str]] = []  # (command name, clause)
        years = self._re["years"].search(norm)
        if years and not years.group("dir") and self._re["years_added"].search(norm):
            number = float(years.group(1)) / vocab.AGE_YEARS_PER_UNIT
            found.append(_Found(vocab.YEARS_ATTRIBUTE, 1.0, None, None, number, False, False))
            norm = self._re["years_added"].sub(" ", norm[: years.start()] + " " + norm[years.end() :]).strip()
            years = None
        if years and years.group("dir"):
            number = float(years.group(1)) / vocab.AGE_YEARS_PER_UNIT
            sign = 1.0 if years.group("dir") == "older" else -1.0
            found.append(_Found(vocab.YEARS_ATTRIBUTE, sign, None, None, number, False, False))
            norm = (norm[: years.start()] + " " + norm[years.end() :]).strip()
        numbers: list[float | None] = []  # strengths said in clauses naming no attribute ("sad, 0.6")
        unmatched: list[str] = []  # clauses with content but no vocabulary word: for the embedder
        for clause in self._re["split"].split(norm):
            clause = clause.strip()
            if not clause:
                continue
            if instead:
                replaced = self._re["replaced"].search(clause)
                if replaced:
                    clause = clause[: replaced.start()].strip()
                    if not clause:
                        continue
            items, band = self._clause(clause)
            if items and self._re["keep_clause"].search(clause):
                keep = True  # "but keep the smile": what it names stays as it is
                continue
            if items:
                found += items
                continue
            command = self._command(clause)
            if command:
                clause_commands.append((command, clause))
            elif band:
                bands.append(band)
            elif self._number(clause) is not None:
                numbers.append(self._number(clause))
            elif self.encoder is not None and self._worth_embedding(clause):
                unmatched.append(clause)
        if unmatched:
            found += self._embed_clauses(unmatched)
        if not found and not clause_commands and not numbers:
            if self._re["satisfied"].search(norm) or self._re["small_talk"].search(norm):
                return ParseResult(reply=replies.SMALL_TALK_REPLY, notes=tuple(notes))
            if self._re["help"].search(norm):
                return ParseResult(reply=replies.HELP_TEXT, notes=tuple(notes))
            if self._re["abuse"].search(norm):
                return ParseResult(reply=replies.ABUSE_REPLY, notes=tuple(notes))
        if found and self._re["satisfied"].search(norm) and not instead:
            return ParseResult(reply=replies.SMALL_TALK_REPLY, notes=tuple(notes))
        set_strength = None
        if numbers and found:
            found = [f if f.number is not None or f.band else replace(f, number=numbers[-1]) for f in found]
        elif numbers and not clause_commands and self._re["set_strength"].search(norm):
            set_strength = max(-vocab.MAX_STRENGTH, min(vocab.MAX_STRENGTH, numbers[-1] or 0.0))
        result = self._assemble(norm, found, bands, clause_commands, instead, steps, notes, set_strength)
        update: dict[str, object] = {}
        if keep and result.requests:
            update["keep"] = True
        if count and count > 1 and result.command is not None and result.command.name in ("undo", "redo"):
            update["command"] = Command(name=result.command.name, count=count)
            update["reply"] = (
                replies.command_reply(update["command"]) if not result.requests else result.reply
            )
        return result.model_copy(update=update) if update else result

    def clean(self, text: str) -> str:
        """Normalised, typo-corrected text (what the rules see)."""
        norm = normalize(text)
        return re.sub(r"[a-z]+", lambda m: self.typos.correct(m.group()), norm)

    # ------------------------------------------------------------------ clauses
    def _clause(self, clause: str) -> tuple[list[_Found], str | None]:
        """Requests in one clause, and the clause's intensity band (None if it names none)."""
        matches: list[_Match] = []
        residual = clause
        for m in self.lexicon.colour_noun.finditer(clause):
            noun = m.group("n1") or m.group("n2")
            colour = m.group("c1") or m.group("c2")
            following = self._re["colour"].search(clause, m.end("c1") if m.group("c1") else m.end())
            if (
                colour in vocab.COLOUR_MODIFIERS
                and following
                and m.group("c1")
                and following.start() < m.end()
            ):
                colour = following.group(1)
            matches.append(_Match(vocab.COLOUR_NOUNS[noun], 1.0, m.start(), m.end(), vocab.COLOURS[colour]))
            residual = residual[: m.start()] + "#" * (m.end() - m.start()) + residual[m.end() :]
        literal: list[frozenset[str]] = [frozenset()] * len(matches)
        for m in self._alias_regex(residual).finditer(residual):
            name, sign, words = self.lexicon.alias_targets[m.lastgroup or ""]
            sense = self.lexicon.senses.get(m.lastgroup or "")
            matches.append(_Match(name, sign, m.start(), m.end(), sense=sense))
            literal.append(words)
        unblanked = residual
        for m in matches:
            residual = residual[: m.start] + "#" * (m.end - m.start) + residual[m.end :]
        # intensity words outside the attribute phrases; each qualifies the attribute after it (or,
        # when none follows, the one before it: "smile a bit")
        intensities: list[tuple[int, str, int]] = []  # (position, band, phrase length)
        around = self._re["as_possible"].search(residual)
        if around:
            intensities.append((around.start(), "extreme", AS_POSSIBLE_LENGTH))
        for m in self.lexicon.intensity.finditer(unblanked):
            phrase = m.group(0)
            inside = [i for i, a in enumerate(matches) if a.start <= m.start() and m.end() <= a.end]
            if inside and (set(phrase.split()) & literal[inside[0]] or literal[inside[0]] == frozenset()):
                continue  # the word belongs to the attribute phrase ("wide eyes"), not an intensity
            if not inside and "#" in residual[m.start() : m.end()]:
                continue  # overlaps an attribute phrase partly
            intensities.append((m.start(), vocab.INTENSITY_WORDS[phrase], len(phrase)))
            residual = residual[: m.start()] + "~" * (m.end() - m.start()) + residual[m.end() :]
        band = max(intensities, key=lambda i: i[2])[1] if intensities else None
        number = self._number(residual)
        percent = number is not None and bool(self._re["percent"].search(residual))
        recall = bool(self._re["recall"].search(residual))
        if not matches:
            return [], band
        matches.sort(key=lambda m: m.start)
        # value-carrying attributes take the first colour word anywhere in the clause
        colours = [c.group(1) for c in self._re["colour"].finditer(clause)]
        shades = [c for c in colours if c not in vocab.COLOUR_MODIFIERS] or colours
        colour = shades[0] if shades else None
        bands: list[str | None] = [None] * len(matches)
        lengths = [-1] * len(matches)
        for position, item_band, length in intensities:
            following = [i for i, m in enumerate(matches) if m.start >= position]
            target = following[0] if following else len(matches) - 1
            if lengths[target] == AS_POSSIBLE_LENGTH:
                continue  # "as high as they go" outranks the "high" inside it
            if len(matches) == 1 or length > lengths[target]:
                bands[target], lengths[target] = item_band, max(length, lengths[target])
        out: list[_Found] = []
        for index, m in enumerate(matches):
            before = residual[(matches[index - 1].end if index else 0) : m.start]
            after = residual[
                m.end : (matches[index + 1].start if index + 1 < len(matches) else len(residual))
            ]
            negated = bool(self._re["neg_before"].search(before) or self._re["neg_after"].search(after))
            relative = bool(self._re["rel_before"].search(before) or self._re["rel_after"].search(after))
            if self._re["not_enough"].search(after):
                negated, relative = False, True  # "not angry enough": more of it
            restore = not negated and bool(
                self._re["restore_before"].search(before)
                and self._re["restore_after"].search(after)
                or self._re["restore_only"].search(before)
            )
            if re.search(r"\bno (more|longer)\b|\bany ?more\b", before + " " + after):
                relative = False
            value = m.value
            if value is None and vocab.takes_value(m.attribute) and colour and not negated:
                value = vocab.COLOURS[colour]
            if value is None and not negated:
                value = _style(clause, m.attribute)
            sign = m.sign * (-1.0 if negated else 1.0)
            factor = None
            comparative = bool(self._re["comparative"].search(clause[m.start : m.end]))
            if percent and number is not None and (relative or comparative):
                factor = max(0.0, 1.0 + sign * abs(number))  # "20% happier" -> x1.2, "10% less" -> x0.9
                relative = True
            sense = m.sense
            out.append(
                _Found(
                    m.attribute,
                    sign,
                    value,
                    bands[index],
                    number,
                    relative,
                    negated,
                    restore,
                    word_band=sense.band if sense else None,
                    reading=sense.phrase if sense and sense.reading else None,
                    factor=factor or None,
                    recall=recall and bands[index] is None and number is None and not negated,
                )
            )
            for extra in sense.also if sense else ():
                out.append(_Found(extra, sign, None, bands[index], number, relative, negated))
        return out, band

    def _alias_regex(self, text: str) -> re.Pattern[str]:
        """The alternation of only those phrases whose literal words all occur in ``text`` (fast)."""
        words = set(re.findall(r"[a-z0-9'-]+", text))
        candidates = tuple(
            index
            for index, group in enumerate(self.lexicon.alias_groups)
            if self.lexicon.alias_targets[f"a{index}"][2] <= words
        )
        return _compiled_alternation(self.lexicon.alias_groups, candidates)

    def _number(self, residual: str) -> float | None:
        """An explicit strength in the clause: 50 percent -> 0.5, 7/10 -> 0.7, 0.8 -> 0.8, 80 -> 0.8."""
        m = self._re["percent"].search(residual)
        if m:
            return float(m.group(1)) / 100.0
        m = self._re["out_of"].search(residual)
        if m:
            return float(m.group(1)) / float(m.group(2))
        m = self._re["number"].search(residual)
        if m:
            number = float(m.group(1))
            if abs(number) <= vocab.MAX_STRENGTH:
                return number
            if abs(number) <= 100 * vocab.MAX_STRENGTH:
                return number / 100.0
        return None

    def _command(self, clause: str) -> str | None:
        for name, pattern in self._commands:
            if pattern.search(clause):
                return name
        return None

    def _has_content(self, clause: str) -> bool:
        words = re.findall(r"[a-z]+", clause)
        return any(w not in pt.FILLER_WORDS and w not in vocab.INTENSITY_WORDS for w in words)

    def _worth_embedding(self, clause: str) -> bool:
        """Whether the sentence embedder could find an edit in ``clause``: it has a content word that is
        English (gibberish never matches) and it is not a greeting or thanks (the embedder is the slow
        step of parsing, so it runs only where it can help)."""
        if not self._has_content(clause):
            return False
        if self._re["small_talk"].search(clause) or self._re["satisfied"].search(clause):
            return False
        words = [w for w in re.findall(r"[a-z]+", clause) if w not in pt.FILLER_WORDS]
        return any(w in self.typos.english for w in words)

    @staticmethod
    def _content(text: str) -> str:
        """``text`` without filler and intensity words ("look like she saw a ghost" -> "saw ghost")."""
        words = [
            w
            for w in re.findall(r"[a-z']+", text.lower())
            if w not in pt.FILLER_WORDS and w not in vocab.INTENSITY_WORDS
        ]
        return " ".join(words) or text

    def _prototypes(self) -> np.ndarray:
        """The embeddings of every attribute's example sentences (and the off-topic ones), (P, 384)."""
        with self._prototype_lock:
            if self._prototype_vectors is None:
                self._prototype_vectors = self.encoder.encode(self._prototype_sentences)  # type: ignore[union-attr]
            return self._prototype_vectors

    def warm(self) -> None:
        """Compute the example sentences' embeddings now (the app does this before the first message)."""
        if self.encoder is not None:
            self._prototypes()

    def _embed_clauses(self, clauses: list[str]) -> list[_Found]:
        """For each clause, the attribute whose example sentences are clearly closest, if any."""
        prototypes = self._prototypes()  # (P, 384)
        vectors = self.encoder.encode([self._content(c) for c in clauses])  # type: ignore[union-attr]  # (C, 384)
        similarity = vectors @ prototypes.T  # (C, P)
        off_topic = np.array([label is None for label in self._prototype_labels])
        out = []
        for clause, row in zip(clauses, similarity, strict=True):
            best_off = float(row[off_topic].max()) if off_topic.any() else -1.0
            scores = np.where(off_topic, -np.inf, row)
            best = int(np.argmax(scores))
            label, score = self._prototype_labels[best], float(scores[best])
            logger.debug("embedding match %r -> %s %.2f (off-topic %.2f)", clause, label, score, best_off)
            if label is None or score < EMBED_MIN_SIMILARITY or score < best_off + EMBED_MARGIN:
                continue
            negated = bool(re.match(r"(do not|not|no|stop|never)\b", clause))
            out.append(_Found(label, -1.0 if negated else 1.0, None, None, None, False, negated))
        return out

    # ------------------------------------------------------------------ result
    def _assemble(
        self,
        norm: str,
        found: list[_Found],
        bands: list[str],
        clause_commands: list[tuple[str, str]],
        instead: bool,
        steps: int | None,
        notes: list[str],
        set_strength: float | None = None,
    ) -> ParseResult:
        command: Command | None = None
        global_band = bands[-1] if bands else None
        for name, clause in clause_commands:
            if found and name in ("more", "less"):
                # "make her smile but tone it down": a modifier of this message's edits
                global_band = global_band or ("subtle" if name == "less" else "strong")
                continue
            if command is None or (
                name in ("undo", "redo", "reset") and command.name not in ("undo", "redo", "reset")
            ):
                command = self._make_command(name, clause, bands)
        requests: dict[str, EditRequest] = {}
        relative: set[str] = set()
        factors: dict[str, float] = {}
        readings: dict[str, str] = {}
        recall: set[str] = set()
        cancel = {item.attribute for item in found if item.negated or item.restore}
        specific: dict[str, bool] = {}
        for item in found:
            if item.number is not None:
                magnitude = item.number
            else:
                magnitude = vocab.band(item.band or global_band or item.word_band or "default").value
            strength = max(-vocab.MAX_STRENGTH, min(vocab.MAX_STRENGTH, item.sign * magnitude))
            if strength == 0:
                continue
            previous = specific.get(item.attribute)
            if previous is not None and item.band is None and item.number is None and previous:
                continue  # "a smug little smirk": keep the mention that says how much
            specific[item.attribute] = (
                item.band is not None or item.number is not None or item.word_band is not None
            )
            requests[item.attribute] = EditRequest(
                attribute=item.attribute, strength=strength, steps=steps, value=item.value
            )
            relative.discard(item.attribute)
            factors.pop(item.attribute, None)
            readings.pop(item.attribute, None)
            recall.discard(item.attribute)
            if item.relative:
                relative.add(item.attribute)
            if item.factor is not None:
                factors[item.attribute] = item.factor
            if item.reading:
                readings[item.attribute] = item.reading
            if item.recall:
                recall.add(item.attribute)
        if vocab.DEFAULT_WINK in requests and not re.search(r"\b(left|right)\b", norm):
            notes.append("which eye to wink was not said; used the left (the subject's own left)")
        request_tuple = tuple(requests.values())
        if request_tuple:
            reply = replies.edit_reply(
                request_tuple,
                pronoun=self._pronoun(norm),
                instead=instead,
                relative=tuple(sorted(relative)),
                command=command,
            )
            reply += "".join(
                f" (I read '{word}' as {vocab.describe(name, requests[name].strength)}.)"
                for name, word in readings.items()
                if name in requests
            )
        elif command is not None:
            reply = replies.command_reply(command)
        elif set_strength is not None:
            reply = f"Setting the last edit to strength {set_strength:+.2f}."
        else:
            reply = replies.UNKNOWN_REPLY
        return ParseResult(
            requests=request_tuple,
            command=command,
            instead=instead and bool(request_tuple),
            relative=tuple(a for a in requests if a in relative),
            cancel=tuple(a for a in requests if a in cancel),
            factors={a: f for a, f in factors.items() if a in requests},
            recall=tuple(a for a in requests if a in recall),
            set_strength=set_strength,
            reply=reply,
            notes=tuple(notes),
        )

    def _make_command(self, name: str, clause: str, bands: list[str]) -> Command:
        if name not in ("more", "less"):
            return Command(name=name)
        for pattern, factor in self._factors:
            if pattern.search(clause) and (name == "more") == (factor > 1):
                return Command(name=name, factor=factor)
        band = None
        for m in self.lexicon.intensity.finditer(clause):
            band = vocab.INTENSITY_WORDS[m.group(0)]
        band = band or (bands[-1] if bands else "default")
        if re.search(r"\b(way|much|lot|far)\b", clause):
            band = "strong"
        return Command(name=name, factor=vocab.RESCALE_FACTORS[name][band])

    def _pronoun(self, norm: str) -> str | None:
        for pattern, word in self._pronouns:
            if pattern.search(norm):
                return word
        return None


@lru_cache(maxsize=1)
def default_parser() -> OfflineParser:
    """The process-wide offline parser (loaded once; about half a second cold)."""
    return OfflineParser()


def _style(clause: str, attribute: str) -> str | None:
    """The canonical style the clause names for ``attribute`` ("round glasses" -> "round"), or None."""
    for word in sorted(vocab.styles(attribute), key=len, reverse=True):  # longest first
        if re.search(r"\b" + re.escape(word) + r"\b", clause):
            return vocab.styles(attribute)[word]
    return None
