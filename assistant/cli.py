"""The `facechat` command line: one entry point, one sub-command module per job.

Every sub-command module exposes ``register(subparsers)``; the handler it installs (``func``) takes the
parsed arguments and returns the exit status. Errors a user can fix (`FacechatError`) are printed as one
line on stderr with a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from editor.errors import FacechatError

logger = logging.getLogger(__name__)

#: Modules that each add sub-commands (``register(subparsers)``), in the order `--help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "assistant.cli_analyze",
    "assistant.cli_identity",
    "assistant.cli_edit",
    "assistant.cli_parse",
    "assistant.cli_train",
    "assistant.cli_interpolate",
    "assistant.cli_video",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(prog="facechat", description="Chat-driven face editing, offline.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit status (0 success, 1 user error, 2 usage, 3 internal)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except FacechatError as error:
        sys.stderr.write(f"facechat: error: {error}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("facechat: interrupted\n")
        return 130
    except Exception as error:  # noqa: BLE001 - last line of defence: one line, never a traceback
        if args.verbose:
            logger.exception("internal error")
        sys.stderr.write(
            f"facechat: internal error: {type(error).__name__}: {error} (run with -v for details)\n"
        )
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
