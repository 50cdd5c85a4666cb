"""The identity gate's back-off logic, isolated from rendering (renders are stand-ins here)."""

from __future__ import annotations

from editor.identity import IdentityResult
from editor.identity_gate import gate


def _verdict(similarity: float, threshold: float = 0.4) -> IdentityResult:
    return IdentityResult(
        similarity=similarity, scorer="test", threshold=threshold, same_person=similarity >= threshold,
        calibrated=True,
    )  # fmt: skip


def test_passing_edit_is_kept_at_full_strength():
    calls = []
    outcome = gate(lambda s: calls.append(s) or s, lambda s: _verdict(0.9))
    assert outcome.scale == 1.0 and outcome.tries == 1 and calls == [1.0]
    assert not outcome.backed_off and outcome.reason == ""


def test_failing_edit_is_bisected_to_the_largest_passing_scale():
    # Identity falls linearly with the scale: similarity = 1 - scale; passes while scale <= 0.6.
    outcome = gate(lambda s: s, lambda s: _verdict(1.0 - s), tries=4)
    assert outcome.backed_off
    assert 0.5 <= outcome.scale <= 0.6
    assert outcome.edit == outcome.scale
    assert outcome.identity.same_person
    assert "fell to 0.00" in outcome.reason and f"applied {outcome.scale:.0%}" in outcome.reason


def test_nothing_passes_leaves_the_photo_unchanged():
    outcome = gate(lambda s: s, lambda s: _verdict(0.1), tries=3)
    assert outcome.edit is None and outcome.scale == 0.0 and outcome.tries == 4
    assert "left unchanged" in outcome.reason


def test_a_lost_face_counts_as_a_failure():
    outcome = gate(lambda s: s, lambda s: None if s > 0.3 else _verdict(0.8), tries=3)
    assert outcome.scale == 0.25
    assert "could no longer be found" in outcome.reason
