"""A/B preference benchmark: ``python -m eval.bench_preference [--people N] [--json OUT]``.

PrefGen's protocol: simulated people with a hidden preferred strength point answer "A or B?" with
logistic noise; the figure is the median distance of the estimate to the hidden point after 0, 1, ...,
6 answers, for one, two and three attributes at once (strength units).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from assistant.preference import simulate


def main(argv: list[str] | None = None) -> int:
    """Run the simulation and print the medians; returns 0."""
    parser = argparse.ArgumentParser(prog="python -m eval.bench_preference", description=__doc__)
    parser.add_argument("--people", type=int, default=200, help="simulated people per dimension")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    figures = {}
    for dims in (1, 2, 3):
        medians = np.median(simulate(dims, args.people, seed=args.seed), axis=0)
        figures[f"{dims}d"] = [round(float(m), 4) for m in medians]
        sys.stdout.write(
            f"{dims} attribute(s), {args.people} people: median distance after 0..{len(medians) - 1} "
            f"answers: {' '.join(f'{m:.3f}' for m in medians)}\n"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
