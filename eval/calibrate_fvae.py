"""Calibrate the Flow VAE's strength scale so that strength 1.0 is the typical expression.

Usage::

    python -m eval.calibrate_fvae --data ../shared/data/london [--people 12] [--write-package]

Algorithm 1 walks a source's latent along each label's mean direction (`editor.fvae.labels`). A mean of
latent changes is shorter than a typical one, and the decoder answers it with less motion than a real
expression has: at strength 1.0 the shipped checkpoint's smile moved the face about a third as far as the
geometry backend's (eval/bench_fvae). This script chooses, per attribute, a multiplier of its direction
(`Labels.gains`, stored in the checkpoint's labels.json) on London CALIBRATION people only (never the
``test_ids`` held out in editor/data/happy_calibration.json, on which eval/bench_fvae reports):

- happy: the gain whose edit is closest to the person's own real smile (median 478-landmark error after
  rigid alignment, inter-iris units, as in eval.bench_expressions);
- the other emotions (no real photos of them here): the gain whose targeted motion (mean motion of the
  40 landmarks that moved most) matches the geometry backend's at strength 1.0 on the same people, whose
  intensities were calibrated with an emotion classifier (eval.calibrate_emotions): one strength scale
  for both backends;

never where the median identity (SFace) falls below the floor (happy: the real smiles' own median
similarity to their neutral twins; others 0.85, as eval.calibrate_emotions).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
from tqdm import tqdm

from editor.appearance import AppearanceBackend
from editor.backends.fvae import FVAEBackend
from editor.backends.geometry import GeometryBackend
from editor.backends.registry import BackendRegistry
from editor.editor import Editor
from editor.fvae.edit import shipped_checkpoint
from editor.fvae.labels import LABELS_FILE
from editor.requests import EditRequest
from eval.bench_expressions import compare_with_smile, load_person, measure_edit
from eval.calibrate_emotions import MIN_IDENTITY, calibration_people
from eval.metrics.emotion import EMOTION_CLASSES

logger = logging.getLogger(__name__)

GRID = (1.0, 1.5, 2.0, 2.5, 3.0)


def sweep(
    data: Path, people: list[str], emotions: Sequence[str], grid: Sequence[float], checkpoint: Path
) -> dict:
    """Per emotion: the geometry edit's and the Flow VAE edit's figures at each gain, per person."""
    geometry = GeometryBackend()
    fvae = FVAEBackend(checkpoint, geometry=geometry)
    fvae.editor.labels.gains = {}  # sweep from the uncalibrated directions
    registries = {
        "fvae": BackendRegistry([fvae, geometry, AppearanceBackend()]),
        "geometry": BackendRegistry([geometry, AppearanceBackend()]),
    }
    editor = Editor(registry=registries["geometry"])
    rows: dict = {e: {"geometry": [], **{g: [] for g in grid}} for e in emotions}
    real_identity = []
    for person_id in tqdm(people, desc="calibration people", unit="person"):
        person = load_person(editor, "london", data / "neutral" / f"{person_id}.jpg")
        if person.smile_face is not None:
            real_identity.append(editor.scorer.similarity(*(editor.scorer.embed(i, f) for i, f in (
                (person.image, person.face), (person.smile, person.smile_face)))))  # fmt: skip
        for emotion in emotions:
            for key in ["geometry", *grid]:
                editor.registry = registries["geometry" if key == "geometry" else "fvae"]
                if key != "geometry":
                    fvae.editor.labels.gains = {emotion: float(key)}
                row, edited, _ = measure_edit(editor, person, EditRequest(attribute=emotion, strength=1.0))
                figures = {"motion": row.motion, "identity": row.identity}
                if emotion == "happy" and person.smile is not None:
                    figures["error"] = compare_with_smile(person, row, edited, None).get("error_edited")
                rows[emotion][key].append(figures)
    return {"rows": rows, "real_identity": real_identity}


def _median(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return float(statistics.median(values)) if values else None


def choose(emotion: str, table: dict, real_identity: list[float]) -> dict:
    """The gain of ``emotion`` (module docstring) with the figures it was chosen on."""
    floor = float(statistics.median(real_identity)) if emotion == "happy" and real_identity else MIN_IDENTITY
    gains = sorted(k for k in table if k != "geometry")
    summary = {g: {k: _median(table[g], k) for k in ("motion", "identity", "error")} for g in gains}
    reference = {k: _median(table["geometry"], k) for k in ("motion", "identity", "error")}
    allowed = [g for g in gains if (summary[g]["identity"] or 0.0) >= floor] or gains[:1]
    if emotion == "happy" and all(summary[g]["error"] is not None for g in allowed):
        chosen = min(allowed, key=lambda g: summary[g]["error"])
        how = "closest to the real smiles (median landmark error)"
    else:
        chosen = min(allowed, key=lambda g: abs(summary[g]["motion"] - reference["motion"]))
        how = "targeted motion closest to the geometry backend's at strength 1.0"
    return {
        "gain": chosen,
        "how": how,
        "identity_floor": floor,
        "geometry": reference,
        "sweep": {str(g): s for g, s in summary.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval.calibrate_fvae", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data", type=Path, required=True, help="the London set (neutral/, smiling/)")
    parser.add_argument("--people", type=int, default=12, help="calibration people to use")
    parser.add_argument("--emotions", nargs="+", default=list(EMOTION_CLASSES), choices=list(EMOTION_CLASSES))
    parser.add_argument("--grid", type=float, nargs="+", default=list(GRID), help="gains to sweep")
    parser.add_argument("--checkpoint", type=Path, default=None, help="Flow VAE folder (default: shipped)")
    parser.add_argument("--out", type=Path, default=Path("runs/calibrate_fvae.json"))
    parser.add_argument(
        "--write-package", action="store_true", help="write the gains into the checkpoint's labels.json"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(1)
    checkpoint = args.checkpoint or shipped_checkpoint()
    people = calibration_people(args.data, args.people)
    result = sweep(args.data, people, args.emotions, sorted(args.grid), checkpoint)
    chosen = {e: choose(e, result["rows"][e], result["real_identity"]) for e in args.emotions}
    report = {
        "description": "Flow VAE strength gains, calibrated on London calibration people (module docstring "
        "of eval/calibrate_fvae.py).",
        "command": "python -m eval.calibrate_fvae " + " ".join(sys.argv[1:] if argv is None else argv),
        "people": people,
        "gains": {e: c["gain"] for e, c in chosen.items()},
        "emotions": chosen,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    if args.write_package:
        path = Path(checkpoint) / LABELS_FILE
        labels = json.loads(path.read_text())
        labels["gains"] = {**labels.get("gains", {}), **report["gains"]}
        labels["gains_calibration"] = {"command": report["command"], "people": people}
        path.write_text(json.dumps(labels) + "\n")
    for emotion, info in chosen.items():
        cells = "; ".join(
            f"x{g}: motion {s['motion']:.3f} id {s['identity']:.3f}"
            + (f" err {s['error']:.4f}" if s.get("error") is not None else "")
            for g, s in info["sweep"].items()
        )
        geometry = info["geometry"]
        sys.stdout.write(
            f"{emotion}: gain {info['gain']} ({info['how']}); geometry motion {geometry['motion']:.3f} id "
            f"{geometry['identity']:.3f}"
            + (f" err {geometry['error']:.4f}" if geometry.get("error") else "")
            + f" | {cells}\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
