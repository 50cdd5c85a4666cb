"""`facechat parse "TEXT" [--json] [--llm | --offline]`: show what the parser understands.

The parser is the LLM one when an endpoint is configured (FACECHAT_LLM_BASE_URL or FACECHAT_LLM_API_KEY),
falling back to the offline parser on any failure, else the offline parser.
"""

from __future__ import annotations

import argparse
import json
import os
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
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument(
        "--llm",
        action="store_true",
        help="use the LLM endpoint from FACECHAT_LLM_* variables; notes the fallback when none is set",
    )
    choice.add_argument("--offline", action="store_true", help="use the offline parser even if an LLM is set")
    parser.set_defaults(func=run)


def llm_configured() -> bool:
    """Whether FACECHAT_LLM_BASE_URL or FACECHAT_LLM_API_KEY is set (then the LLM parser is the default)."""
    return bool(os.environ.get("FACECHAT_LLM_BASE_URL") or os.environ.get("FACECHAT_LLM_API_KEY"))


def run(args: argparse.Namespace) -> int:
    """Parse ``args.text`` and print the result; returns the exit status (0)."""
    from assistant.parsing.offline import default_parser

    parser = default_parser()
    if not args.offline and (args.llm or llm_configured()):
        from assistant.parsing.llm import LLMParser

        parser = LLMParser.from_env()
    result = parser.parse(args.text)
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
