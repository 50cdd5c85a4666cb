"""Benchmark expression transfer on held-out London people: is a copied smile the person's own smile?

Usage::

    python -m eval.bench_transfer --london ../shared/data/london [--limit N] [--out runs/bench_transfer]

For every held-out person (``test_ids`` of ``editor/data/happy_calibration.json``; none of them was used
to build the neutral-face prior or any recipe), the neutral photo is edited through the product path,
``Editor().render`` (identity gate included), four ways:

- ``none``: no edit (the neutral photo itself);
- ``recipe``: the happy recipe, ``EditRequest("happy", 0.7)`` (what "make her smile" asks for) and at 1.0;
- ``transfer``: the expression of ANOTHER held-out person's real smile (the next person in ID order),
  measured by `editor.transfer.reference_request` ("copy this expression");
- ``self``: the person's own real smile as the reference: not a use case, a ceiling on what measuring
  and re-creating an expression can reach.

Each edited photo is analysed afresh (whole photo, FaceLandmarker) and compared with the person's own
real smile: mean 2D distance of the 478 landmarks after a 3D similarity on rigid points (forehead, nose,
eye corners), in inter-iris units (`editor.geometry.calibrate_happy.smile_error`, the measure of
`eval.bench_expressions`), over all points and over the 40 lip points; SFace identity to the original.
Medians over people; writes ``bench_transfer.json`` and a montage (neutral, reference, transfer, recipe,
real smile) to ``--out`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from editor.editor import Editor
from editor.geometry import prototypes
from editor.geometry.calibrate_happy import align_to, lip_points, smile_error
from editor.images import load_image, save_image
from editor.requests import EditRequest
from editor.transfer import reference_request
from eval.bench_expressions import crop_box, crop_resize, median

logger = logging.getLogger(__name__)

CONDITIONS = ("none", "recipe_0.7", "recipe_1.0", "transfer", "self")
TILE = 256


def _errors(edited: np.ndarray, neutral: np.ndarray, real: np.ndarray) -> tuple[float, float]:
    """(all points, lip points) landmark error of ``edited`` vs the aligned real smile, inter-iris units."""
    aligned = align_to(edited, neutral)
    return smile_error(aligned, real, neutral), smile_error(aligned, real, neutral, lip_points())


def measure_person(editor: Editor, london: Path, person: str, other: str) -> tuple[dict, list[np.ndarray]]:
    """One held-out person's figures per condition, and the montage tiles."""
    image = load_image(london / "neutral" / f"{person}.jpg")
    face = editor.analyze(image)
    neutral = face.landmarks.astype(np.float64)
    smile = load_image(london / "smiling" / f"{person}.jpg")
    real = align_to(editor.analyzer.analyze_one(smile).landmarks.astype(np.float64), neutral)
    requests = {
        "recipe_0.7": EditRequest(attribute="happy", strength=0.7),
        "recipe_1.0": EditRequest(attribute="happy", strength=1.0),
        "transfer": reference_request(london / "smiling" / f"{other}.jpg", analyzer=editor.analyzer),
        "self": reference_request(smile, analyzer=editor.analyzer),
    }
    row: dict = {"person": person, "reference": other}
    row["none"] = dict(zip(("error", "error_lips"), _errors(neutral, neutral, real), strict=True))
    box = crop_box(face.box, image.shape, 1.4)
    tiles = {"neutral": crop_resize(image, box, TILE), "real smile": crop_resize(smile, box, TILE)}
    for name, request in requests.items():
        outcome = editor.render(image, [request], steps=0)
        after = editor.nearest_face(outcome.image, face) if outcome.applied else None
        if after is None:
            row[name] = {"error": None, "error_lips": None, "identity": None, "scale": 0.0}
            continue
        error, lips = _errors(after.landmarks.astype(np.float64), neutral, real)
        row[name] = {
            "error": error, "error_lips": lips, "scale": outcome.scale,
            "identity": outcome.identity.similarity if outcome.identity else None,
        }  # fmt: skip
        tiles[name] = crop_resize(outcome.image, box, TILE)
    reference = load_image(london / "smiling" / f"{other}.jpg")
    other_face = editor.analyzer.analyze_one(reference)
    tiles["reference"] = crop_resize(reference, crop_box(other_face.box, reference.shape, 1.4), TILE)
    order = ("neutral", "reference", "transfer", "recipe_0.7", "self", "real smile")
    return row, [_label(tiles[k], k) for k in order if k in tiles]


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    tile = tile.copy()
    cv2.putText(tile, text, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 2, cv2.LINE_AA)
    return tile


def summarise(rows: list[dict]) -> dict:
    """Median error / lip error / identity per condition, and how often each beats no edit."""
    summary = {}
    for name in CONDITIONS:
        measured = [r[name] for r in rows if r.get(name) and r[name]["error"] is not None]
        summary[name] = {
            "people": len(measured),
            "error": median(m["error"] for m in measured),
            "error_lips": median(m["error_lips"] for m in measured),
            "identity": median(m.get("identity") for m in measured),
            "closer_than_none": float(np.mean([r[name]["error"] < r["none"]["error"] for r in rows
                                               if r.get(name) and r[name]["error"] is not None])),
        }  # fmt: skip
    return summary


def markdown(summary: dict) -> str:
    lines = [
        "| edit | landmark error (median) | lips only | closer than no edit | identity (SFace, median) |",
        "|---|---|---|---|---|",
    ]
    labels = {
        "none": "no edit (the neutral photo)",
        "recipe_0.7": 'recipe, "make her smile" (happy 0.7)',
        "recipe_1.0": "recipe, happy 1.0",
        "transfer": "transfer from another person's real smile",
        "self": "transfer from the person's own real smile (ceiling)",
    }
    for name in CONDITIONS:
        s = summary[name]
        identity = "-" if s["identity"] is None else f"{s['identity']:.3f}"
        closer = "-" if name == "none" else f"{s['closer_than_none']:.0%}"
        lines.append(f"| {labels[name]} | {s['error']:.4f} | {s['error_lips']:.4f} | {closer} | {identity} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--london", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_transfer"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    people = [
        p
        for p in sorted(prototypes.happy_calibration()["test_ids"])
        if (args.london / "neutral" / f"{p}.jpg").exists() and (args.london / "smiling" / f"{p}.jpg").exists()
    ][: args.limit]
    editor = Editor()
    rows, montage = [], []
    for n, person in enumerate(tqdm(people, desc="people")):
        row, tiles = measure_person(editor, args.london, person, people[(n + 1) % len(people)])
        rows.append(row)
        if n < 6:
            montage.append(np.concatenate(tiles, axis=1))
    summary = summarise(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_transfer.json").write_text(json.dumps({"summary": summary, "rows": rows}, indent=2))
    if montage:
        width = max(m.shape[1] for m in montage)
        padded = [np.pad(m, ((0, 0), (0, width - m.shape[1]), (0, 0))) for m in montage]
        save_image(np.concatenate(padded, axis=0), args.out / "montage.jpg")
    sys.stdout.write(f"{len(rows)} held-out London people\n\n{markdown(summary)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
