"""Benchmark the geometry backend on real photos: does each expression appear, is the person kept, how fast.

Usage::

    python -m eval.bench_geometry --data ../shared/data/london [--people 81] [--strengths 0.3 0.7 1.0]
        [--out runs/bench_geometry]

For every expression and action-unit attribute, on each neutral photo, at each strength, the photo is
edited by `GeometryBackend` at full resolution and re-measured by FaceLandmarker:

- ``rise``: mean change of the blendshapes the request targets, in the requested direction (blendshapes
  FaceLandmarker cannot see — EXPRESSION-NOTES.md — are left out; "n/a" when only those are targeted);
  ``rose``: share of faces where it rose by at least 0.05;
- ``motion``: how far the targeted landmarks really moved (FaceLandmarker on the output, after rigid
  alignment), in inter-iris units, and as a ratio of the motion the basis asked for — an
  instrument-independent check that the warp did what was asked;
- ``identity``: SFace similarity to the original, and the share at or above the calibrated threshold;
- for ``happy``, the landmark error to the person's real smile (aligned on rigid points, inter-iris
  units) before and after the edit.

Timing: median warm time of one full-resolution edit (no preview frames) per photo. A montage PNG of a
few people x attributes is written to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from editor.backends.geometry import GeometryBackend
from editor.editor import APPEARED_MARGIN, BLIND_BLENDSHAPES
from editor.face import FaceAnalyzer
from editor.geometry.calibrate_happy import align_to, inter_iris, smile_error
from editor.geometry.motion import target_landmarks
from editor.geometry.prototypes import PROTOTYPES
from editor.identity import IdentityScorer
from editor.images import load_image, save_image
from editor.requests import EditRequest

logger = logging.getLogger(__name__)

MONTAGE_ATTRIBUTES = ("happy", "sad", "angry", "surprised", "fearful", "disgusted", "contempt", "brow_raise")


def measure(
    backend: GeometryBackend,
    analyzer: FaceAnalyzer,
    scorer: IdentityScorer,
    image,
    face,
    original_embedding,
    request,
) -> dict:
    """Edit one photo with one request and measure the result."""
    started = time.perf_counter()
    edit = backend.edit(image, face, [request], steps=0)
    elapsed = time.perf_counter() - started
    faces = analyzer.analyze(edit.image)
    if not faces:
        return {"lost_face": True, "ms": 1000 * elapsed}
    after = faces[0]
    targets = backend.targets(request, face)
    measurable = [n for n in targets if n not in BLIND_BLENDSHAPES]
    rise = (
        float(np.mean([(after.blendshapes[n] - face.blendshapes[n]) * targets[n] for n in measurable]))
        if measurable
        else None
    )
    # Landmark motion: the 20 landmarks the basis moves most, measured on the output after rigid alignment.
    predicted = target_landmarks(face.landmarks, backend.weights(face, [request]), backend.basis)
    asked = np.linalg.norm(predicted[:, :2] - face.landmarks[:, :2], axis=1)
    top = np.argsort(asked)[-20:]
    measured = np.linalg.norm(
        align_to(after.landmarks, face.landmarks)[top, :2] - face.landmarks[top, :2], axis=1
    )
    unit = inter_iris(face.landmarks)
    similarity = scorer.similarity(original_embedding, scorer.embed(edit.image, after))
    return {
        "rise": rise,
        "motion": float(measured.mean() / unit),
        "motion_ratio": float(measured.mean() / max(asked[top].mean(), 1e-6)),
        "identity": similarity,
        "same_person": similarity >= scorer.threshold,
        "ms": 1000 * elapsed,
        "after_landmarks": after.landmarks,
        "image": edit.image,
    }


def summarise(rows: list[dict]) -> dict:
    rises = [r["rise"] for r in rows if r.get("rise") is not None]
    return {
        "faces": len(rows),
        "lost_face": sum(bool(r.get("lost_face")) for r in rows),
        "rise": float(np.mean(rises)) if rises else None,
        "rose": float(np.mean([x >= APPEARED_MARGIN for x in rises])) if rises else None,
        "motion": float(np.mean([r["motion"] for r in rows if "motion" in r])),
        "motion_ratio": float(np.median([r["motion_ratio"] for r in rows if "motion_ratio" in r])),
        "identity": float(np.mean([r["identity"] for r in rows if "identity" in r])),
        "identity_min": float(np.min([r["identity"] for r in rows if "identity" in r])),
        "same_person": float(np.mean([r["same_person"] for r in rows if "same_person" in r])),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval.bench_geometry", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--data", type=Path, required=True, help="folder with neutral/ID.jpg (and smiling/ID.jpg)"
    )
    parser.add_argument("--people", type=int, default=81, help="how many people (sorted by ID)")
    parser.add_argument("--strengths", type=float, nargs="+", default=[0.3, 0.7, 1.0])
    parser.add_argument("--attributes", nargs="+", default=list(PROTOTYPES))
    parser.add_argument("--out", type=Path, default=Path("runs/bench_geometry"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    analyzer, scorer, backend = FaceAnalyzer(), IdentityScorer(), GeometryBackend()
    people = sorted(p.stem for p in (args.data / "neutral").glob("*.jpg"))[: args.people]
    results: dict[tuple[str, float], list[dict]] = {}
    happy_errors: list[tuple[float, float]] = []
    times: list[float] = []
    montage_rows: list[np.ndarray] = []
    for index, person in enumerate(tqdm(people, desc="people", unit="person")):
        image = load_image(args.data / "neutral" / f"{person}.jpg")
        face = analyzer.analyze_one(image)
        embedding = scorer.embed(image, face)
        smiling_path = args.data / "smiling" / f"{person}.jpg"
        real_smile = (
            analyzer.analyze_one(load_image(smiling_path)).landmarks if smiling_path.exists() else None
        )
        tiles = [image]
        for attribute in args.attributes:
            for strength in args.strengths:
                row = measure(
                    backend,
                    analyzer,
                    scorer,
                    image,
                    face,
                    embedding,
                    EditRequest(attribute=attribute, strength=strength),
                )
                times.append(row["ms"])
                if (
                    attribute == "happy"
                    and strength == 1.0
                    and real_smile is not None
                    and "after_landmarks" in row
                ):
                    aligned_real = align_to(real_smile, face.landmarks)
                    edited = align_to(row["after_landmarks"], face.landmarks)
                    happy_errors.append(
                        (
                            smile_error(face.landmarks, aligned_real, face.landmarks),
                            smile_error(edited, aligned_real, face.landmarks),
                        )
                    )
                if index < 4 and attribute in MONTAGE_ATTRIBUTES and strength == 1.0 and "image" in row:
                    tiles.append(row["image"])
                results.setdefault((attribute, strength), []).append(
                    {k: v for k, v in row.items() if k not in ("image", "after_landmarks")}
                )
        if index < 4:
            montage_rows.append(_row(tiles, face))

    summary = {f"{a}@{s}": summarise(rows) for (a, s), rows in results.items()}
    report = {
        "people": len(people),
        "scorer": scorer.name,
        "threshold": scorer.threshold,
        "edit_ms_median": statistics.median(times),
        "happy_smile_error": {
            "neutral_photo": float(np.mean([e[0] for e in happy_errors])) if happy_errors else None,
            "edited_photo": float(np.mean([e[1] for e in happy_errors])) if happy_errors else None,
        },
        "attributes": summary,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_geometry.json").write_text(json.dumps(report, indent=2))
    if montage_rows:
        save_image(np.concatenate(montage_rows, axis=0), args.out / "montage.jpg")
    sys.stdout.write(_table(report) + "\n")
    return 0


def _row(tiles: list[np.ndarray], face) -> np.ndarray:
    """The face region of each tile side by side, 256 px high."""
    x, y, w, h = face.box
    cx, cy, side = x + w / 2, y + h / 2, 1.5 * max(w, h)
    x0, y0 = int(max(cx - side / 2, 0)), int(max(cy - side / 2, 0))
    crops = [
        cv2.resize(t[y0 : y0 + int(side), x0 : x0 + int(side)], (256, 256), interpolation=cv2.INTER_AREA)
        for t in tiles
    ]
    return np.concatenate(crops, axis=1)


def _table(report: dict) -> str:
    lines = [
        f"geometry backend on {report['people']} people; identity by {report['scorer']} "
        f"(threshold {report['threshold']:.3f}); median edit time {report['edit_ms_median']:.0f} ms",
        "| attribute@strength | targeted rise | rose on | landmark motion (iris units) | motion/asked | "
        "identity mean | identity min | same person |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, s in report["attributes"].items():
        rise = "n/a" if s["rise"] is None else f"{s['rise']:+.3f}"
        rose = "n/a" if s["rose"] is None else f"{s['rose']:.0%}"
        lines.append(
            f"| {key} | {rise} | {rose} | {s['motion']:.3f} | {s['motion_ratio']:.2f} | "
            f"{s['identity']:.3f} | {s['identity_min']:.3f} | {s['same_person']:.0%} |"
        )
    happy = report["happy_smile_error"]
    if happy["neutral_photo"] is not None:
        lines.append(
            f"happy@1.0 landmark error to the real smile (inter-iris units): neutral photo "
            f"{happy['neutral_photo']:.4f} -> edited {happy['edited_photo']:.4f}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
