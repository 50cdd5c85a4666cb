"""prompts/latent.yaml: every template renders, with the value and the strength's word."""

from __future__ import annotations

import pytest

from editor import vocabulary as vocab
from editor.errors import ConfigError
from editor.latent.masks import REGIONS
from editor.latent.prompts import INPAINT, INSTRUCT, TEMPLATE_KINDS, parse_book, prompt_book
from editor.requests import EditRequest


def test_every_entry_renders_both_kinds_and_directions():
    book = prompt_book()
    for name, entry in book.entries.items():
        assert entry["region"] in REGIONS, name
        value = "red" if vocab.takes_value(name) else None
        strengths = (0.7, -0.7) if "opposite" in entry else (0.7,)
        for strength in strengths:
            for kind in TEMPLATE_KINDS:
                prompt = book.render(EditRequest(attribute=name, strength=strength, value=value), kind)
                assert prompt.text and "{" not in prompt.text and "  " not in prompt.text, (name, kind)
                assert prompt.region == entry["region"] and prompt.negative


def test_every_appearance_attribute_has_a_prompt():
    book = prompt_book()
    assert {a.name for a in vocab.ATTRIBUTES if a.family == vocab.APPEARANCE} <= set(book.entries)


def test_value_and_strength_words_fill_the_templates():
    book = prompt_book()
    strong = book.render(EditRequest(attribute="lipstick", strength=1.0, value="red"), INPAINT)
    assert "strong red lipstick" in strong.text
    plain = book.render(EditRequest(attribute="glasses", strength=0.7), INSTRUCT)
    assert plain.text == "give the person a pair of eyeglasses"
    younger = book.render(EditRequest(attribute="age", strength=-0.3), INSTRUCT)
    assert younger.text == "make the person look subtle younger"
    assert book.render(EditRequest(attribute="beard", strength=-0.7), INSTRUCT).text == "shave off the beard"


def test_a_negative_strength_without_an_opposite_template_is_refused():
    with pytest.raises(KeyError, match="no prompt"):
        prompt_book().render(EditRequest(attribute="hair_color", strength=-0.5), INPAINT)


WORDS = dict.fromkeys(["subtle", "moderate", "default", "strong", "extreme"], "")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({}, "must hold"),
        ({"amount_words": {}, "attributes": {}}, "amount_words lacks"),
        ({"amount_words": WORDS, "attributes": {"sparkles": {"region": "face", "positive": {}}}},
         "not an attribute"),
        ({"amount_words": WORDS,
          "attributes": {"age": {"region": "face", "positive": {"inpaint": "{colour}", "instruct": "x"}}}},
         "unknown placeholder"),
        ({"amount_words": WORDS, "attributes": {"glasses": {"region": "eyes", "positive": {"inpaint": "x"}}}},
         "instruct"),
    ],
)  # fmt: skip
def test_a_malformed_file_says_what_is_wrong(data, words):
    with pytest.raises(ConfigError, match=words):
        parse_book(data)
