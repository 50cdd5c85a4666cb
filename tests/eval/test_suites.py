"""Suite files: the shipped suites validate, and schema mistakes are reported with their file and line."""

from __future__ import annotations

import pytest

from eval.__main__ import EXIT_USAGE, main
from eval.suite_schema import SUITES_DIR, SuiteError, load_suite, parse_suite

GOOD = """\
name: tiny
images: sample
defaults: {identity: calibrated}
dialogues:
  - name: brows
    turns:
      - say: raise her eyebrows
        expect:
          requests: [{attribute: brow_raise, strength: 0.7}]
          blendshapes: {up: [browInnerUp], margin: 0.05}
      - say: undo
        expect: {command: {name: undo}, state: []}
"""


@pytest.mark.parametrize("name", sorted(p.stem for p in SUITES_DIR.glob("*.yaml")))
def test_shipped_suites_validate(name):
    suite = load_suite(name)
    assert suite.name == name
    assert suite.dialogues or suite.parsing


def test_smoke_covers_every_attribute_family():
    from editor import vocabulary as vocab

    suite = load_suite("smoke")
    asked = {
        e.attribute
        for d in suite.dialogues
        for t in d.turns
        for e in (t.expect.requests or t.expect.state or ())
    }
    assert {vocab.family(a) for a in asked} == set(vocab.FAMILIES)
    # every attribute of the vocabulary is asked for once, but the reference photo's expression (a suite
    # turn cannot attach a reference photo; tests/assistant/test_reference.py covers it)
    assert {a.name for a in vocab.ATTRIBUTES} - {vocab.REFERENCE} <= asked
    commands = {
        t.expect.command.name
        for d in suite.dialogues
        for t in d.turns
        if t.expect.command not in (None, "none")
    }
    assert {"more", "less", "undo"} <= commands


def test_turn_lines_and_defaults_are_kept():
    suite = parse_suite(GOOD, "tiny.yaml")
    dialogue = suite.dialogues[0]
    assert [t.line for t in dialogue.turns] == [7, 11]
    merged = suite.expectations(dialogue, dialogue.turns[0])
    assert merged.identity == "calibrated" and merged.blendshapes.up == ("browInnerUp",)


@pytest.mark.parametrize(
    ("replace", "by", "line", "words"),
    [
        ("brow_raise, strength", "brow_rise, strength", 9, "unknown attribute 'brow_rise'"),
        ("up: [browInnerUp]", "up: [noseSneerLeft]", 10, "cannot confirm ['noseSneerLeft']"),
        ("up: [browInnerUp]", "up: [browInnerUpp]", 10, "unknown blendshape"),
        ("{name: undo}", "{name: undoo}", 12, "command.name"),
        ("margin: 0.05", "margin: -1", 10, "greater than 0"),
        ("        expect:\n          requests", "        expct:\n          requests", 8, "expct"),
    ],
)
def test_schema_errors_point_at_the_line_and_turn(replace, by, line, words):
    text = GOOD.replace(replace, by)
    assert text != GOOD
    with pytest.raises(SuiteError) as caught:
        parse_suite(text, "tiny.yaml")
    message = str(caught.value)
    assert f"tiny.yaml:{line}:" in message, message
    assert words in message
    assert "dialogue 'brows', turn" in message


def test_yaml_syntax_errors_name_the_line():
    with pytest.raises(SuiteError, match=r"bad\.yaml:3: not valid YAML"):
        parse_suite("name: x\nimages: sample\ndialogues: a: b\n", "bad.yaml")


def test_cli_reports_schema_errors_with_exit_2(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text(GOOD.replace("strength: 0.7", "strength: 7"))
    assert main(["check", str(path)]) == EXIT_USAGE
    assert f"{path}:9:" in capsys.readouterr().err
    assert main(["check", "no-such-suite"]) == EXIT_USAGE
