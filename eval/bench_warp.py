"""Time the landmark warp (editor.warp.warp_face) on a full-resolution photo, stage by stage.

    python -m eval.bench_warp                       # ../shared/data/london/neutral/001.jpg (1350x1350)
    python -m eval.bench_warp --photo me.jpg --expression jawOpen=0.6 --repeat 9 --json out.json

Landmarks come from editor.face (timed separately, once); the target from the shipped blendshape
basis (editor.geometry.motion) for the ARKit weights given. Without ../shared/data the built-in sample
photo is upscaled to 1350x1350 so the figure is still at the target resolution. Reports the median
(and min/max) of --repeat runs after one warm-up run, per stage: safety (target clean-up), field (the
coarse spline + mask), upsample (full-resolution flow), refine (a 3 px field around eyes and mouth
that open or close), remap (cv2.remap), mouth (mouth interior and closed-lid synthesis),
folds (diagnostics) and total.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from editor.images import load_image, sample_image

DEFAULT_PHOTO = Path(__file__).resolve().parents[2] / "shared" / "data" / "london" / "neutral" / "001.jpg"
HAPPY = "mouthSmileLeft=0.6,mouthSmileRight=0.6,mouthLowerDownLeft=0.8,mouthLowerDownRight=0.8,cheekSquintLeft=0.5,cheekSquintRight=0.5"  # noqa: E501  the prototype's refitted smile (EXPRESSION-NOTES.md)


def parse_weights(text: str) -> dict[str, float]:
    """'name=0.5,other=1' -> {'name': 0.5, 'other': 1.0}."""
    weights = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"Expected NAME=VALUE in --expression, got {item!r}.")
        weights[name.strip()] = float(value)
    return weights


def load_photo(path: Path | None) -> tuple[np.ndarray, str]:
    if path is not None:
        return load_image(path), str(path)
    if DEFAULT_PHOTO.is_file():
        return load_image(DEFAULT_PHOTO), str(DEFAULT_PHOTO)
    sample = cv2.resize(sample_image(), (1350, 1350), interpolation=cv2.INTER_CUBIC)
    return sample, "built-in sample photo upscaled to 1350x1350"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", type=Path, default=None, help="photo to warp (default: London 001)")
    parser.add_argument("--expression", default=HAPPY, help="ARKit weights NAME=VALUE,... (default: happy)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs after one warm-up (default 5)")
    parser.add_argument("--grid-step", type=int, default=None, help="override WarpConfig.grid_step")
    parser.add_argument("--no-mouth", action="store_true", help="time without mouth-interior synthesis")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from editor.face import FaceAnalyzer
    from editor.geometry.motion import target_landmarks
    from editor.warp import WarpConfig, warp_face

    image, photo = load_photo(args.photo)
    with FaceAnalyzer() as analyzer:
        analyzer.analyze_one(image)  # warm-up: model loading is not part of the figure
        start = time.perf_counter()
        face = analyzer.analyze_one(image)
        analyse_ms = 1000.0 * (time.perf_counter() - start)
    weights = parse_weights(args.expression)
    target = target_landmarks(face.landmarks, weights)
    overrides = {}
    if args.grid_step:
        overrides["grid_step"] = args.grid_step
    if args.no_mouth:
        overrides["mouth"] = None
    config = WarpConfig(**overrides)

    warp_face(image, face.landmarks, target, config)  # warm-up
    runs = [warp_face(image, face.landmarks, target, config) for _ in range(args.repeat)]
    stages = list(runs[0].timings)
    figures = {
        stage: {
            "median_ms": round(statistics.median(r.timings[stage] for r in runs), 2),
            "min_ms": round(min(r.timings[stage] for r in runs), 2),
            "max_ms": round(max(r.timings[stage] for r in runs), 2),
        }
        for stage in stages
    }
    last = runs[-1]
    report = {
        "photo": photo,
        "size": list(image.shape[:2]),
        "expression": weights,
        "config": {"grid_step": config.grid_step or "auto", "mouth": config.mouth is not None},
        "repeat": args.repeat,
        "stages": figures,
        "analyse_ms_once": round(analyse_ms, 1),
        "fold_fraction": last.fold_fraction,
        "raw_fold_fraction": last.raw_fold_fraction,
        "mouth_painted": bool(last.mouth_alpha is not None and last.mouth_alpha.max() > 0),
        "cpu_count": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
    }
    width = max(len(s) for s in stages)
    lines = [f"{photo} {image.shape[1]}x{image.shape[0]}, median of {args.repeat} (min-max), ms:"]
    lines += [
        f"  {stage:<{width}}  {f['median_ms']:8.1f}  ({f['min_ms']:.1f}-{f['max_ms']:.1f})"
        for stage, f in figures.items()
    ]
    lines.append(
        f"  folds: {last.fold_fraction:.4f} of the face (under the mouth too: {last.raw_fold_fraction:.4f})"
    )
    sys.stdout.write("\n".join(lines) + "\n")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
