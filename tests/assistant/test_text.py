"""Normalisation and typo correction of the offline parser."""

from __future__ import annotations

from assistant.parsing.text import TypoCorrector, normalize


def test_normalize_contractions_spellings_numbers():
    assert normalize("Don't SMILE!") == "do not smile!"
    assert normalize("She's got  brows") == "she is got eyebrows"
    assert normalize("hair colour 50%") == "hair color 50 percent"
    assert normalize("make-up, fifty percent") == "makeup, 50 percent"
    assert normalize("“quotes” and ’apostrophes’") == "\"quotes\" and 'apostrophes'"


def test_typo_corrector_fixes_near_misses_and_spares_english():
    corrector = TypoCorrector(["surprised", "happy", "mad", "slightly", "slight"], english=["made", "said"],
                              groups={"slightly": "subtle", "slight": "subtle"})  # fmt: skip
    assert corrector.correct("suprised") == "surprised"
    assert corrector.correct("hapy") == "happy"
    assert corrector.correct("happyyyy") == "happy"
    assert corrector.correct("made") == "made"  # an English word is never "corrected"
    assert corrector.correct("asdfgh") == "asdfgh"
    assert corrector.correct("slighty") in {"slightly", "slight"}  # a tie between words that mean the same


def test_typo_corrector_leaves_ambiguous_and_short_words():
    corrector = TypoCorrector(["cat", "bat", "mats", "hats"])
    assert corrector.correct("cst") == "cst"  # shorter than four letters
    assert corrector.correct("xats") == "xats"  # as close to "mats" as to "hats"
