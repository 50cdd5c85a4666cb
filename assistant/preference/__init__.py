"""Preference refinement by paired comparisons (after PrefGen, Thrush et al. 2023, arXiv 2304.00185).

When a person cannot say how much they want, the assistant shows two candidates, A and B, and asks
which is closer to what they want. `PairedPreference` keeps a posterior over the preferred point p (one
strength per attribute, up to three attributes) on a grid, updates it with a noisy paired-comparison
model, and picks each next pair to be informative:

- likelihood (PrefGen's logistic model): P(A over B | p) = sigmoid(k * (|p - B|^2 - |p - A|^2)),
  ``k`` (`PreferenceConfig.noise_constant`) saying how reliably a person picks the closer candidate;
- next pair: among candidate pairs drawn from the posterior, the one with the largest expected
  information gain about p (the mutual information between the answer and p);
- estimate: the posterior mean.

Pure numpy, no images: the caller renders each candidate's requests.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

#: What the person may answer to "A or B?": 0 = A is closer, 1 = B is closer, None = no information.
ANSWERS: dict[str, int | None] = {
    "a": 0, "first": 0, "left": 0, "option a": 0, "candidate a": 0, "picture a": 0,
    "b": 1, "second": 1, "right": 1, "option b": 1, "candidate b": 1, "picture b": 1,
    "neither": None, "either": None, "both": None, "no idea": None, "not sure": None,
    "neither of them": None, "either one": None, "both of them": None, "i don't know": None,
    "dont know": None, "don't know": None, "no preference": None,
}  # fmt: skip
#: Answers that end the questions and apply the estimate now.
STOP_WORDS = frozenset(
    {"stop", "that one", "done", "enough", "that's it", "thats it", "apply it", "good enough", "stop asking",
     "that's good", "thats good", "perfect", "ok stop", "okay stop", "this one"}
)  # fmt: skip
_TAKE = re.compile(r"^(?:use|take|pick|choose|go with|apply|keep|i'll take|ill take)\s+(?P<rest>.+)$")
_FILLER_BEFORE = re.compile(
    r"^(?:(?:i|i'd|id) (?:prefer|like|pick|choose|say|go for)|i'd say|id say|probably|maybe|hmm|um|ok|okay"
    r"|more like|closer to|definitely|the answer is)\s+"
)
_FILLER_AFTER = re.compile(
    r"\s+(?:please|one|is closer|is better|looks better|looks closer|for sure|i think|of them|thanks|"
    r"thank you|image|picture|photo|candidate|option)$"
)
_ARTICLE = re.compile(r"^(?:the|option|candidate|picture)\s+")


@dataclass(frozen=True)
class Answer:
    """A reply to "A or B?".

    ``choice``: 0 (A is closer), 1 (B is closer) or None (neither / either: no information);
    ``stop``: apply now ("stop", "that one", "use A"); ``take``: apply the chosen candidate itself
    ("use A") rather than the estimate.
    """

    choice: int | None = None
    stop: bool = False
    take: bool = False


def _strip(said: str) -> str:
    for _ in range(3):
        said = _FILLER_AFTER.sub("", _FILLER_BEFORE.sub("", said))
    return _ARTICLE.sub("", said).strip()


def parse_answer(text: str) -> Answer | None:
    """The person's answer to "A or B?", or None when the message is not one (a new request)."""
    said = " ".join(re.sub(r"[.!,;:?\"]", " ", text.lower().replace("\u2019", "'")).split())
    if said in STOP_WORDS:
        return Answer(stop=True)
    taken = _TAKE.match(said)
    if taken:
        rest = _strip(taken.group("rest"))
        if rest in ANSWERS and ANSWERS[rest] is not None:
            return Answer(choice=ANSWERS[rest], stop=True, take=True)
        if rest in ("that", "that one", "it", "this", "this one", "your guess", "the estimate"):
            return Answer(stop=True)
        return None
    said = _strip(said)
    if said in ANSWERS:
        return Answer(choice=ANSWERS[said])
    return None


#: Phrases saying the person does not know how much they want, or wants to choose between options.
_UNSURE = re.compile(
    r"\b(?:not sure|unsure|don't know|dont know|do not know|no idea)\s+how\s+(?:much|strong|far|intense)\b"
    r"|\b(?:show|give|offer)\s+me\s+(?:some\s+|a few\s+|two\s+)?"
    r"(?:options|choices|alternatives|candidates)\b"
    r"|\bhelp\s+me\s+(?:choose|pick|decide)\b|\blet\s+me\s+(?:choose|pick)\b|\b(?:some|a few)\s+options\b"
)


def wants_options(text: str) -> bool:
    """Whether ``text`` asks to be shown options rather than saying how much ("not sure how much")."""
    return bool(_UNSURE.search(text.lower().replace("\u2019", "'")))


@dataclass(frozen=True)
class PreferenceConfig:
    """Settings of the paired-comparison estimate."""

    low: float = 0.0  # smallest strength considered, per attribute
    high: float = 1.5  # largest strength considered
    grid: tuple[int, ...] = (151, 41, 17)  # grid points per axis for 1, 2 and 3 attributes
    noise_constant: float = 12.0  # k of the logistic answer model (per squared strength unit)
    candidates: int = 48  # candidate pairs scored for information gain per question
    max_questions: int = 6  # questions before the estimate is applied


class PairedPreference:
    """Posterior over the preferred strengths of ``dims`` attributes (1-3), from paired answers.

    ``rng``: a seeded generator for the candidate pairs (reproducible questions).
    """

    def __init__(
        self, dims: int = 1, config: PreferenceConfig | None = None, *, rng: np.random.Generator | None = None
    ) -> None:
        assert 1 <= dims <= 3, f"PairedPreference handles 1 to 3 attributes, got {dims}"
        self.config = config or PreferenceConfig()
        self.dims = dims
        self.rng = rng or np.random.default_rng(0)
        axis = np.linspace(self.config.low, self.config.high, self.config.grid[dims - 1])
        mesh = np.meshgrid(*([axis] * dims), indexing="ij")
        self.points = np.stack([m.ravel() for m in mesh], axis=1)  # (G, D) grid of preferred points
        self.log_posterior = np.zeros(len(self.points))  # uniform prior
        self.answers: list[tuple[np.ndarray, np.ndarray, int]] = []

    # ------------------------------------------------------------------ reading
    @property
    def posterior(self) -> np.ndarray:
        """(G,) probabilities of each grid point."""
        weights = np.exp(self.log_posterior - self.log_posterior.max())
        return weights / weights.sum()

    def estimate(self) -> np.ndarray:
        """(D,) posterior mean of the preferred strengths."""
        return self.posterior @ self.points

    @property
    def done(self) -> bool:
        return len(self.answers) >= self.config.max_questions

    # ------------------------------------------------------------------ the model
    def _p_first(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(G,) probability that a person at each grid point prefers ``a`` (D,) over ``b`` (D,)."""
        gap = ((self.points - b) ** 2).sum(axis=1) - ((self.points - a) ** 2).sum(axis=1)
        return 1.0 / (1.0 + np.exp(-self.config.noise_constant * gap))

    def next_pair(self) -> tuple[np.ndarray, np.ndarray]:
        """The candidate pair (A, B), each (D,), with the largest expected information gain."""
        posterior = self.posterior
        draws = self.points[self.rng.choice(len(self.points), size=2 * self.config.candidates, p=posterior)]
        draws = draws + self.rng.normal(0, 0.02, draws.shape)
        draws = np.clip(draws, self.config.low, self.config.high)
        best, best_gain = None, -1.0
        for a, b in zip(draws[0::2], draws[1::2], strict=True):
            if np.allclose(a, b, atol=1e-3):
                continue
            likely = self._p_first(a, b)
            gain = _entropy(posterior @ likely) - posterior @ _entropy(likely)
            if gain > best_gain:
                best, best_gain = (a, b), gain
        if best is None:  # the posterior has collapsed: any two nearby points
            centre = self.estimate()
            best = (
                np.clip(centre - 0.05, self.config.low, None),
                np.clip(centre + 0.05, None, self.config.high),
            )
        return best

    def answer(self, a: np.ndarray, b: np.ndarray, choice: int | None) -> None:
        """Update the posterior with "A is closer" (0), "B is closer" (1) or no information (None)."""
        if choice is None:
            return
        likely = self._p_first(np.asarray(a, float), np.asarray(b, float))
        self.log_posterior += np.log(np.clip(likely if choice == 0 else 1.0 - likely, 1e-12, None))
        self.answers.append((np.asarray(a, float), np.asarray(b, float), choice))


def _entropy(p: np.ndarray | float) -> np.ndarray:
    """Binary entropy (nats) of probabilities ``p``."""
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return -(p * np.log(p) + (1 - p) * np.log(1 - p))


def simulate(
    dims: int = 1,
    people: int = 200,
    *,
    seed: int = 0,
    noise_constant: float | None = None,
    config: PreferenceConfig | None = None,
) -> np.ndarray:
    """PrefGen's protocol: people with hidden preferred points answer with logistic noise.

    Returns (people, max_questions + 1) distances |estimate - hidden| after 0, 1, ... answers. The
    simulated person's noise constant defaults to the model's own.
    """
    config = config or PreferenceConfig()
    k = config.noise_constant if noise_constant is None else noise_constant
    rng = np.random.default_rng(seed)
    out = np.zeros((people, config.max_questions + 1))
    for person in range(people):
        hidden = rng.uniform(config.low + 0.1, config.high - 0.1, dims)  # (D,)
        model = PairedPreference(dims, config, rng=np.random.default_rng(rng.integers(1 << 31)))
        out[person, 0] = np.linalg.norm(model.estimate() - hidden)
        for step in itertools.count(1):
            if model.done:
                break
            a, b = model.next_pair()
            gap = ((hidden - b) ** 2).sum() - ((hidden - a) ** 2).sum()
            choice = 0 if rng.random() < 1.0 / (1.0 + np.exp(-k * gap)) else 1
            model.answer(a, b, choice)
            out[person, step] = np.linalg.norm(model.estimate() - hidden)
    return out
