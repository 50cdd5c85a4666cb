"""``python -m eval``: run evaluation suites and write ``metrics.json`` and ``report.html``.

    python -m eval run smoke                                   # the built-in sample photo
    python -m eval run london --images ../shared/data/london --limit 10
    python -m eval run parsing [--llm]
    python -m eval run eval/suites/smoke.yaml my_suite.yaml --out results/today
    python -m eval check my_suite.yaml                         # validate suite files only
    python -m eval rescore eval_out                            # recompute the figures from the saved photos

Exit status: 0 when every expectation held, 1 when any failed (or a photo could not be used),
2 for a usage problem (a suite file that does not follow the schema, a missing --images folder).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from editor.errors import FacechatError
from eval.suite_schema import load_suite

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval", description="facechat evaluation suites.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run suites and write metrics.json and report.html")
    run.add_argument("suites", nargs="+", help="suite files, or shipped suite names (smoke, london, parsing)")
    run.add_argument("--images", type=Path, help="folder of photos for suites that take one (e.g. london)")
    run.add_argument("--limit", type=int, help="at most this many photos per folder suite")
    run.add_argument("--llm", action="store_true", help="parse with the LLM configured by FACECHAT_LLM_*")
    run.add_argument("--out", type=Path, default=Path("eval_out"), help="output folder (default ./eval_out)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    check = commands.add_parser("check", help="validate suite files against the schema")
    check.add_argument("suites", nargs="+")
    rescore = commands.add_parser(
        "rescore", help="re-measure a run's saved photos and compare with metrics.json"
    )
    rescore.add_argument("out", type=Path, help="the --out folder of a run")
    rescore.add_argument("--limit", type=int, help="re-measure only the first N turns")
    rescore.add_argument("--tolerance", type=float, default=1e-4, help="largest difference accepted")
    return parser


def _rescore(args) -> int:
    from eval.rescore import rescore

    try:
        result = rescore(args.out, limit=args.limit)
    except FacechatError as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_USAGE
    for name, difference in sorted(result.differences.items()):
        sys.stdout.write(f"{name}: largest difference {difference:.3g}\n")
    ok = result.worst() <= args.tolerance
    sys.stdout.write(
        f"{'RECOMPUTED' if ok else 'MISMATCH'}: {result.turns} turns re-measured from their saved photos; "
        f"largest difference {result.worst():.3g} (tolerance {args.tolerance:g}).\n"
    )
    return EXIT_OK if ok else EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "rescore":
        return _rescore(args)
    try:
        suites = [load_suite(name) for name in args.suites]
    except FacechatError as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_USAGE
    if args.command == "check":
        for suite in suites:
            turns = sum(len(d.turns) for d in suite.dialogues)
            sys.stdout.write(
                f"{suite.path}: suite '{suite.name}' is valid ({len(suite.dialogues)} dialogues, "
                f"{turns} turns, {len(suite.sweeps)} sweeps, {len(suite.parsing)} parsing files)\n"
            )
        return EXIT_OK
    from eval.report import write_report
    from eval.runner import Runner, write_metrics

    try:
        runner = Runner(
            args.out, images=args.images, use_llm=args.llm, limit=args.limit, progress=not args.no_progress
        )
        result = runner.run(suites)
    except FacechatError as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_USAGE
    metrics = write_metrics(result, args.out / "metrics.json")
    report = write_report(result, args.out / "report.html")
    counts = result.counts()
    verdict = "PASSED" if result.passed else "FAILED"
    sys.stdout.write(
        f"{verdict}: {counts['checks_passed']} of {counts['checks']} checks passed, "
        f"{counts['checks_failed']} failed, {counts['checks_not_measurable']} not measurable; "
        f"{counts['turns_passed']} of {counts['turns']} turns "
        f"met every expectation ({result.seconds:.0f} s).\n"
        f"report: {report}\nmetrics: {metrics}\n"
    )
    for problem in result.problems:
        sys.stdout.write(f"problem: {problem}\n")
    return EXIT_OK if result.passed else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
