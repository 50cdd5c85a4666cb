"""The one vocabulary: required names, families, bands, aliases that do not collide."""

from __future__ import annotations

import pytest

from editor import vocabulary as vocab

REQUIRED = {
    "happy", "sad", "angry", "surprised", "fearful", "disgusted", "contempt", "neutral",
    "brow_raise", "brow_lower", "eyes_wide", "squint", "eyes_closed", "wink_left", "wink_right",
    "mouth_open", "pout", "lip_press", "nose_wrinkle",
    "glasses", "age", "hair_color", "lipstick", "eye_color", "makeup", "tan", "beard",
}  # fmt: skip


def test_required_attributes_present_and_unique():
    assert set(vocab.ATTRIBUTE_NAMES) >= REQUIRED
    assert len(vocab.ATTRIBUTE_NAMES) == len(set(vocab.ATTRIBUTE_NAMES))


@pytest.mark.parametrize(
    ("name", "family"), [("happy", "expression"), ("brow_raise", "expression"), ("glasses", "appearance")]
)
def test_families_and_default_steps(name, family):
    assert vocab.family(name) == family
    assert vocab.default_steps(name) == vocab.DEFAULT_STEPS[family]


def test_only_colour_attributes_take_values():
    assert {a.name for a in vocab.ATTRIBUTES if a.takes_value} == {"hair_color", "lipstick", "eye_color"}


def test_strength_convention_table():
    assert vocab.intensity_strength("slightly") == pytest.approx(0.3)
    assert vocab.intensity_strength("a bit") == pytest.approx(0.5)
    assert abs(vocab.DEFAULT_STRENGTH - 0.7) < 1e-9
    assert vocab.intensity_strength("very") == pytest.approx(1.0)
    assert vocab.intensity_strength("extremely") == pytest.approx(1.4)
    assert vocab.intensity_strength("as much as possible") == pytest.approx(1.4)


def test_bands_tile_the_range_and_classify():
    bands = vocab.STRENGTH_BANDS
    assert bands[0].low == 0 and bands[-1].high == vocab.MAX_STRENGTH
    for lower, upper in zip(bands, bands[1:], strict=False):
        assert lower.high == upper.low
    for band in bands:
        assert vocab.band_of(band.value) == band.name
        assert vocab.band_of(-band.value) == band.name
    assert vocab.band_of(0) == "none"


def test_every_intensity_word_names_a_band():
    names = {b.name for b in vocab.STRENGTH_BANDS}
    assert set(vocab.INTENSITY_WORDS.values()) <= names


def test_single_word_aliases_name_one_attribute():
    owners: dict[str, set[str]] = {}
    for item in vocab.ATTRIBUTES:
        for phrase in item.aliases + item.opposites:
            owners.setdefault(phrase, set()).add(item.name)
    clashes = {p: o for p, o in owners.items() if len(o) > 1}
    assert not clashes


def test_unknown_attribute_error_lists_the_names():
    with pytest.raises(KeyError, match="happy"):
        vocab.attribute("hapy")


def test_describe():
    assert vocab.describe("disgusted", 0.3) == "slightly disgusted"
    assert vocab.describe("age", -0.7) == "younger"
    assert vocab.describe("hair_color", 0.7, "red") == "red hair colour"
    assert (
        vocab.describe("age", 1.0) == "much older"
        and vocab.describe("glasses", 0.7, "round") == "round glasses"
    )
    assert vocab.describe("glasses", 0.7, "sunglasses") == "sunglasses"


def test_rescale_factors_strengthen_and_weaken():
    assert all(f > 1 for f in vocab.RESCALE_FACTORS["more"].values())
    assert all(0 < f < 1 for f in vocab.RESCALE_FACTORS["less"].values())
