"""Parsing benchmark: ``python -m eval.parsing_benchmark [--llm] [--failures] [--json OUT]``.

Runs every single message of ``eval/parsing/singles.yaml`` through the parser and every dialogue of
``eval/parsing/dialogues.yaml`` through a `Conversation`, and prints slot accuracy (attribute, strength
band, sign, value, command), whole-turn accuracy and the warm per-turn latency of the parser. The
"all turns" figure covers singles and dialogues; the held-out files (messages written after the
parser, see their headers) are reported on their own line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import yaml

from assistant.conversation import Conversation
from editor.requests import ParseResult
from eval.metrics.parsing import Summary, TurnScore, score_requests, summarize

DATA = Path(__file__).resolve().parent / "parsing"
#: Messages written after the parser (each run once before later fixes; see their headers).
HELDOUT = ("heldout.yaml", "heldout2.yaml", "heldout3.yaml", "heldout4.yaml")
HELDOUT_DIALOGUES = ("heldout_dialogues.yaml", "heldout_dialogues2.yaml")


def load(name: str) -> list[dict]:
    """One benchmark file from eval/parsing/."""
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


def run_singles(
    parse: Callable[[str], ParseResult], name: str = "singles.yaml", limit: int | None = None
) -> tuple[list[TurnScore], list[float], list[str]]:
    """Score every single message of ``name`` (the first ``limit``); returns scores, per-message
    seconds, and failure lines."""
    scores, seconds, failures = [], [], []
    for item in load(name)[:limit]:
        expect = item["expect"]
        start = time.perf_counter()
        result = parse(item["text"])
        seconds.append(time.perf_counter() - start)
        score = score_requests(
            result.requests,
            expect.get("requests") or [],
            predicted_command=result.command,
            expected_command=expect.get("command"),
            predicted_instead=result.instead,
            expected_instead=expect.get("instead"),
        )
        scores.append(score)
        if not score.whole:
            got = [(r.attribute, round(r.strength, 2), r.value) for r in result.requests]
            failures.append(
                f"{name} {item['text']!r}: {'; '.join(score.problems)} (got {got}, {result.command})"
            )
    return scores, seconds, failures


def run_dialogues(
    parse: Callable[[str], ParseResult], name: str = "dialogues.yaml", limit: int | None = None
) -> tuple[list[TurnScore], list[str]]:
    """Score the conversation state after every turn of every dialogue in ``name`` (whole dialogues,
    until ``limit`` turns are scored)."""
    scores, failures = [], []
    for dialogue in load(name):
        if limit is not None and len(scores) >= limit:
            break
        conversation = Conversation()
        for turn in dialogue["turns"]:
            conversation.apply(parse(turn["text"]), turn["text"])
            score = score_requests(conversation.edits, turn["state"], check_command=False)
            scores.append(score)
            if not score.whole:
                got = [(r.attribute, round(r.strength, 2), r.value) for r in conversation.edits]
                failures.append(
                    f"{name} {dialogue['name']!r} turn {turn['text']!r}: "
                    f"{'; '.join(score.problems)} (state {got})"
                )
    return scores, failures


def _without_fallback(
    parse: Callable[[str], ParseResult], calls: list[str | None]
) -> Callable[[str], ParseResult]:
    """The LLM parser scored on its own: a turn it fell back on (timeout, HTTP error, invalid output)
    becomes an empty result, so the offline parser's answers never count for the model. ``calls``
    gets one entry per call: the fallback note, or None when the model's answer was used."""
    from assistant.parsing.llm import FALLBACK_NOTE

    def scored(text: str) -> ParseResult:
        result = parse(text)
        notes = [n for n in result.notes if n.startswith(FALLBACK_NOTE)]
        calls.append(notes[0] if notes else None)
        if notes:
            return ParseResult(reply=result.reply, notes=tuple(notes), parser="llm")
        return result

    return scored


def _quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def _format(title: str, summary: Summary) -> str:
    slots = ", ".join(
        f"{slot} {summary.slot_accuracy[slot]:.1%} ({c}/{t})"
        for slot, (c, t) in summary.slot_counts.items()
        if t
    )
    return f"{title}: whole-turn {summary.whole_turn_accuracy:.1%} of {summary.turns} turns; slots: {slots}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures; returns 0."""
    parser = argparse.ArgumentParser(prog="python -m eval.parsing_benchmark", description=__doc__)
    parser.add_argument(
        "--llm", action="store_true", help="use the LLM endpoint from FACECHAT_LLM_* variables"
    )
    parser.add_argument("--failures", action="store_true", help="list every turn that was wrong")
    parser.add_argument(
        "--limit", type=int, default=None, metavar="N",
        help="score at most N turns per file (the first ones; whole dialogues), e.g. for a slow model",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.llm:
        from assistant.parsing.llm import LLMParser

        llm = LLMParser.from_env()
        if not isinstance(llm, LLMParser):
            sys.stderr.write(
                "No LLM endpoint configured: set FACECHAT_LLM_BASE_URL (and FACECHAT_LLM_API_KEY).\n"
            )
            return 2
        parse = _without_fallback(llm.parse, calls := [])
        name = "llm"
    else:
        from assistant.parsing.offline import default_parser

        start = time.perf_counter()
        offline = default_parser()
        cold = time.perf_counter() - start
        parse = offline.parse
        name = "offline"
        sys.stdout.write(f"offline parser loaded in {cold * 1000:.0f} ms\n")
    limit = args.limit
    single_scores, seconds, single_failures = run_singles(parse, limit=limit)
    heldout_scores, heldout_failures, per_file = [], [], []
    for held in HELDOUT:
        scores, _, failures = run_singles(parse, held, limit)
        heldout_scores += scores
        heldout_failures += failures
        per_file.append(_format(f"  {held}", summarize(scores)))
    held_dialogue_scores, held_dialogue_failures = [], []
    for held in HELDOUT_DIALOGUES:
        scores, failures = run_dialogues(parse, held, limit)
        held_dialogue_scores += scores
        held_dialogue_failures += failures
        per_file.append(_format(f"  {held}", summarize(scores)))
    dialogue_scores, dialogue_failures = run_dialogues(parse, limit=limit)
    singles, dialogues = summarize(single_scores), summarize(dialogue_scores)
    overall = summarize(single_scores + dialogue_scores)
    if name == "offline":  # warm latency: a second pass over the single and held-out messages
        warm = []
        for item in [m for file in ("singles.yaml", *HELDOUT) for m in load(file)]:
            start = time.perf_counter()
            parse(item["text"])
            warm.append(time.perf_counter() - start)
    else:  # a second pass of a remote model would double a long run: its first pass, less the first call
        warm = seconds[1:]
    lines = [
        f"parser: {name}",
        _format("single messages", singles),
        _format("dialogue turns", dialogues),
        _format("held-out messages", summarize(heldout_scores)),
        _format("held-out dialogue turns", summarize(held_dialogue_scores)),
        "held-out, per batch:",
        *per_file,
        _format("all turns", overall),
        f"warm latency per message: median {statistics.median(warm) * 1000:.2f} ms, "
        f"p95 {_quantile(warm, 0.95) * 1000:.2f} ms, p99 {_quantile(warm, 0.99) * 1000:.2f} ms, "
        f"max {max(warm) * 1000:.2f} ms",
    ]
    if name == "llm":
        fallbacks = [note for note in calls if note]
        reasons = Counter(note.split(": ", 1)[-1].split(" (")[0] for note in fallbacks)
        lines.append(
            f"model answers that could not be used (counted as wrong, not parsed offline): {len(fallbacks)} "
            f"of {len(calls)} calls"
            + (f" ({', '.join(f'{r}: {n}' for r, n in reasons.most_common())})" if fallbacks else "")
        )
    sys.stdout.write("\n".join(lines) + "\n")
    if args.failures:
        sys.stdout.write(
            "\n".join(
                [
                    "",
                    "failures:",
                    *single_failures,
                    *dialogue_failures,
                    *heldout_failures,
                    *held_dialogue_failures,
                ]
            )
            + "\n"
        )
    if args.json:
        figures = {
            "parser": name,
            "singles": singles.__dict__,
            "dialogues": dialogues.__dict__,
            "heldout": summarize(heldout_scores).__dict__,
            "heldout_dialogues": summarize(held_dialogue_scores).__dict__,
            "all": overall.__dict__,
            "warm_latency_ms": {
                "median": statistics.median(warm) * 1000,
                "p99": _quantile(warm, 0.99) * 1000,
                "max": max(warm) * 1000,
            },
        }
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
