"""Benchmark face analysis: cold start and per-photo time at full resolution.

Usage::

    python -m eval.bench_analysis [--images DIR] [--runs 5]

Cold start: a fresh Python process imports facechat and loads the face analyzer and identity scorer
(median of ``--runs`` processes). Per photo: `FaceAnalyzer.analyze` plus the identity embedding on each
photo in ``DIR`` (default: the built-in sample upscaled to 1350x1350), warm, median over all photos of
the median of ``--runs`` repetitions.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2

COLD_START = """
import time
started = time.perf_counter()
from editor.face import FaceAnalyzer
from editor.identity import IdentityScorer
analyzer = FaceAnalyzer()
scorer = IdentityScorer()
print(time.perf_counter() - started)
analyzer.close()
"""


def cold_start(runs: int) -> list[float]:
    """Seconds from a fresh interpreter to both models loaded, one per run."""
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", COLD_START], capture_output=True, text=True, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return times


def per_photo(images: list, runs: int) -> tuple[list[float], list[float]]:
    """Median seconds per photo for analysis and for analysis + identity embedding."""
    from editor.face import FaceAnalyzer
    from editor.identity import IdentityScorer

    analyzer, scorer = FaceAnalyzer(), IdentityScorer()
    analysis, with_identity = [], []
    for image in images:
        a, b = [], []
        for _ in range(runs):
            started = time.perf_counter()
            face = analyzer.analyze_one(image)
            middle = time.perf_counter()
            scorer.embed(image, face)
            a.append(middle - started)
            b.append(time.perf_counter() - started)
        analysis.append(statistics.median(a))
        with_identity.append(statistics.median(b))
    analyzer.close()
    return analysis, with_identity


def main(argv: list[str] | None = None) -> int:
    from editor.images import load_image, sample_image

    parser = argparse.ArgumentParser(
        prog="python -m eval.bench_analysis", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--images", type=Path, default=None, help="folder of photos (default: sample at 1350 px)"
    )
    parser.add_argument("--limit", type=int, default=10, help="photos to time from --images")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    if args.images is None:
        images = [cv2.resize(sample_image(), (1350, 1350), interpolation=cv2.INTER_CUBIC)]
        label = "built-in sample at 1350x1350"
    else:
        paths = sorted(p for p in args.images.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        images = [load_image(p) for p in paths[: args.limit]]
        label = f"{len(images)} photos from {args.images} ({images[0].shape[1]}x{images[0].shape[0]})"

    cold = cold_start(args.runs)
    analysis, with_identity = per_photo(images, args.runs)
    lines = [
        f"cold start (import + FaceAnalyzer + IdentityScorer), median of {args.runs} processes: "
        f"{statistics.median(cold):.2f} s (min {min(cold):.2f}, max {max(cold):.2f})",
        f"per photo, {label}, warm, median of {args.runs} runs each:",
        f"  analysis (YuNet + FaceLandmarker): {1000 * statistics.median(analysis):.0f} ms",
        f"  analysis + identity embedding:     {1000 * statistics.median(with_identity):.0f} ms",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
