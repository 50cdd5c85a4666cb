"""The A/B questions about one request: which strengths are chosen, which pair is shown, when to stop.

`Choosing` holds no images: it says which strengths candidates A and B have (`pair`), turns a point of
strengths into the `ParseResult` to apply (`parse_for`), and learns from each `Answer`. The session
(`assistant.session.Assistant`) renders the candidates and applies the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assistant.parsing.replies import edit_reply
from assistant.preference import Answer, PairedPreference, PreferenceConfig
from editor import vocabulary as vocab
from editor.requests import EditRequest, ParseResult

#: Most attributes whose strengths one round of questions chooses together.
MAX_ATTRIBUTES = 3
#: The strengths the questions range over: from barely there to extreme (0 would show no edit at all).
DIALOG_CONFIG = PreferenceConfig(low=0.1, high=1.5)


@dataclass
class Choosing:
    """One round of A/B questions about the strengths of ``targets`` (1-3 requests).

    Attributes:
        parsed: what the person asked; its ``targets`` get the chosen strengths, the rest applies as is.
        text: the message that started the questions (the step's text in the conversation).
        targets: the requests whose strengths are chosen; each keeps its sign (negative suppresses).
        model: the posterior over the preferred magnitudes, one per target.
        pair: the magnitudes (D,) of candidates A and B now shown (None before the first question).
        answered: answers so far, "neither" included (the questions end after ``max_questions``).
    """

    parsed: ParseResult
    text: str
    targets: tuple[EditRequest, ...]
    model: PairedPreference
    pair: tuple[np.ndarray, np.ndarray] | None = None
    answered: int = 0
    history: list[tuple[np.ndarray, np.ndarray, int | None]] = field(default_factory=list)

    @classmethod
    def start(
        cls, parsed: ParseResult, text: str, *, config: PreferenceConfig | None = None, seed: int = 0
    ) -> Choosing | None:
        """Questions about the strengths of ``parsed``'s first three requests (None without requests)."""
        targets = tuple(parsed.requests[:MAX_ATTRIBUTES])
        if not targets:
            return None
        model = PairedPreference(len(targets), config or DIALOG_CONFIG, rng=np.random.default_rng(seed))
        return cls(parsed=parsed, text=text, targets=targets, model=model)

    @property
    def config(self) -> PreferenceConfig:
        return self.model.config

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.attribute for r in self.targets)

    @property
    def done(self) -> bool:
        return self.answered >= self.config.max_questions

    def ask(self) -> tuple[np.ndarray, np.ndarray]:
        """Choose the next pair (the most informative one, `PairedPreference.next_pair`) and return it."""
        a, b = self.model.next_pair()
        self.pair = (np.round(a, 2), np.round(b, 2))
        return self.pair

    def answer(self, answer: Answer) -> None:
        """Learn from an answer to the pair shown (a stop without a choice teaches nothing)."""
        if self.pair is None or (answer.stop and answer.choice is None):
            return
        self.model.answer(*self.pair, answer.choice)
        self.history.append((*self.pair, answer.choice))
        self.answered += 1

    def chosen(self, answer: Answer | None = None) -> np.ndarray:
        """(D,) magnitudes to apply: the candidate taken ("use A"), else the posterior mean."""
        if answer is not None and answer.take and answer.choice is not None and self.pair is not None:
            return self.pair[answer.choice]
        return np.round(self.model.estimate(), 2)

    def requests_for(self, point: np.ndarray) -> tuple[EditRequest, ...]:
        """The targets at magnitudes ``point`` (D,), each with its own sign."""
        return tuple(
            r.model_copy(update={"strength": float(np.clip(np.sign(r.strength or 1.0) * m, *_limits()))})
            for r, m in zip(self.targets, point, strict=True)
        )

    def parse_for(self, point: np.ndarray) -> ParseResult:
        """``parsed`` with the targets at absolute strengths ``point`` (no longer relative to the state)."""
        chosen = {r.attribute: r for r in self.requests_for(point)}
        requests = tuple(chosen.get(r.attribute, r) for r in self.parsed.requests)
        names = set(chosen)
        relative = tuple(a for a in self.parsed.relative if a not in names)
        reply = edit_reply(
            requests,
            pronoun=None,
            instead=self.parsed.instead,
            relative=relative,
            command=self.parsed.command,
        )
        return self.parsed.model_copy(
            update={
                "requests": requests,
                "relative": relative,
                "factors": {a: f for a, f in self.parsed.factors.items() if a not in names},
                "recall": tuple(a for a in self.parsed.recall if a not in names),
                "reply": reply,
            }
        )

    def describe(self, point: np.ndarray) -> str:
        """The targets at ``point`` in words: ``"slightly angry (+0.31) and very surprised (+1.02)"``."""
        return " and ".join(r.describe() for r in self.requests_for(point))


def _limits() -> tuple[float, float]:
    return -vocab.MAX_STRENGTH, vocab.MAX_STRENGTH
