"""The identity gate shared by every backend: keep the person recognisable, or back the edit off.

After an edit, the edited photo's face is compared with the original's. When the similarity falls below
the scorer's calibrated "same person" threshold, the edit is re-rendered at a smaller scale, found by
bisection over a few tries, and the strength actually applied is reported with the reason. Failing the
check is a normal result, not an exception.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from editor.identity import IdentityResult

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Renders of the edit tried after a full-strength failure.
DEFAULT_TRIES = 4


@dataclass(frozen=True)
class GateOutcome(Generic[T]):
    """What the gate let through.

    Attributes:
        edit: the accepted rendering (None when even the smallest tried scale failed: keep the original).
        scale: the fraction of the requested edit applied (1.0 = all of it, 0.0 = none).
        identity: the identity verdict of the accepted rendering (of the last try when none passed).
        tries: renders made, the first included.
        reason: why the edit was backed off, or "" when it was not.
    """

    edit: T | None
    scale: float
    identity: IdentityResult | None
    tries: int
    reason: str = ""

    @property
    def backed_off(self) -> bool:
        return self.scale < 1.0


def gate(
    render: Callable[[float], T],
    judge: Callable[[T], IdentityResult | None],
    *,
    tries: int = DEFAULT_TRIES,
) -> GateOutcome[T]:
    """Render at full strength; if identity fails, bisect the scale in (0, 1) for the largest that passes.

    Args:
        render: scale -> rendering (scale 1.0 is the edit as requested).
        judge: rendering -> identity verdict against the original, or None when no face could be found
            on the rendering (counted as a failure).
        tries: renders allowed after the first.

    Returns:
        The largest passing rendering found and its scale.
    """
    edit = render(1.0)
    verdict = judge(edit)
    if verdict is not None and verdict.same_person:
        return GateOutcome(edit=edit, scale=1.0, identity=verdict, tries=1)

    first = _describe_failure(verdict)
    low, high = 0.0, 1.0
    best: tuple[T, float, IdentityResult] | None = None
    last_verdict = verdict
    for _ in range(tries):
        middle = (low + high) / 2
        candidate = render(middle)
        candidate_verdict = judge(candidate)
        last_verdict = candidate_verdict or last_verdict
        if candidate_verdict is not None and candidate_verdict.same_person:
            best, low = (candidate, middle, candidate_verdict), middle
        else:
            high = middle
    if best is None:
        reason = f"{first}; even {high:.0%} of the edit did not pass, so the photo was left unchanged"
        logger.info("identity gate: %s", reason)
        return GateOutcome(edit=None, scale=0.0, identity=last_verdict, tries=tries + 1, reason=reason)
    edit, scale, verdict = best
    reason = f"{first}; applied {scale:.0%} of it instead (identity {verdict.similarity:.2f})"
    logger.info("identity gate: %s", reason)
    return GateOutcome(edit=edit, scale=scale, identity=verdict, tries=tries + 1, reason=reason)


def _describe_failure(verdict: IdentityResult | None) -> str:
    if verdict is None:
        return "at full strength the face could no longer be found"
    return (
        f"at full strength the identity score fell to {verdict.similarity:.2f} "
        f"({verdict.scorer}, below the same-person threshold {verdict.threshold:.2f})"
    )
