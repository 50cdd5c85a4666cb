"""`facechat parse "TEXT" [--json]`: show what the offline (or configured LLM) parser understands."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``parse`` sub-command."""
    parser = subparsers.add_parser(
        "parse",
        help="parse one request into edit records and commands (no image needed)",
        description="Parse one chat message into EditRequest records and a command, and print the reply.",
    )
    parser.add_argument("text", help='the message, e.g. "make her look slightly disgusted"')
    parser.add_argument("--json", action="store_true", help="print JSON: requests, command, reply")
    parser.add_argument(
        "--llm",
        action="store_true",
        help="use the LLM endpoint from FACECHAT_LLM_* variables (falls back to the offline parser)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Parse ``args.text`` and print the result; returns the exit status (0)."""
    if args.llm:
        from assistant.parsing.llm import LLMParser

        result = LLMParser.from_env().parse(args.text)
    else:
        from assistant.parsing.offline import default_parser

        result = default_parser().parse(args.text)
    if args.json:
        sys.stdout.write(json.dumps(result.to_json_dict(), indent=2) + "\n")
        return 0
    for request in result.requests:
        value = f" value={request.value}" if request.value else ""
        sys.stdout.write(
            f"{request.attribute}: strength {request.strength:+.2f}, steps {request.steps}{value}\n"
        )
    if result.command is not None:
        factor = f" x{result.command.factor:.2f}" if result.command.factor else ""
        sys.stdout.write(f"command: {result.command.name}{factor}\n")
    sys.stdout.write(result.reply + "\n")
    for note in result.notes:
        sys.stdout.write(f"note: {note}\n")
    return 0
