"""Benchmark of the Flow VAE against the geometry backend on held-out people; decides the routing.

    python -m eval.bench_fvae --london ../shared/data/london [--canada ../shared/data/canada]
        [--checkpoint editor/data/fvae] [--pixel-vae DIR] [--limit N] [--edit-people N] [--strengths 1.0]
        [--emotions happy sad ...] [--interpolate-people 3] [--out runs/bench_fvae]
        [--routing editor/data/fvae/routing.json]

People: only the held-out people of the project (`editor.fvae.splits.held_out_people`: the London
``test_ids`` of editor/data/happy_calibration.json, never trained or calibrated on) and every Canada
person for the emotion edits (the Flow VAE trained on Canada photos' synthetic pairs; pass no --canada
for held-out people only, the default in the routing command).

(a) The paper's Table 1: reconstruct the real smiling crop from the neutral crop with the smiling crop's
    own latent, Z = mu(smiling | neutral): PSNR and LPIPS at the model's crop size, on the crops the Flow
    VAE trains on (`editor.fvae.real_pairs.register_pair`: the smiling photo registered onto the neutral
    one on rigid landmarks), for the FVAE, the FVAE with its confidence (out = M * warped + (1 - M) *
    source), the pixel VAE of the same architecture (--pixel-vae), the average flow (mean reconstruction
    flow of the TRAINING people's real smiles) and no change.
(b) Edits through the product path (`editor.Editor.render`, identity gate included), measured exactly as
    `eval.bench_expressions` measures them (its helpers): for each backend (FVAE first in the registry,
    or geometry alone), each emotion and strength: fer's hit rate, targeted landmark motion (the 40
    landmarks that moved most, inter-iris units) and SFace identity; for happy on London, the edit
    against the person's real smile (landmark error after rigid alignment, LPIPS on the face crop with
    the real smile aligned onto the neutral photo).
(c) The routing decision (`decide`), written to --routing: per emotion, the Flow VAE becomes the default
    only where it beats geometry at EVERY strength measured (the registry routes by attribute):
    happy: a lower median landmark error AND a lower-or-equal median LPIPS to the real smile than
    geometry, both also lower than no edit's; the other emotions: a higher classifier hit rate; for all:
    at least half geometry's targeted motion (the edit is visible) and the median identity at least the
    calibrated threshold. Each attribute's verdict carries its reason.
(d) Algorithm 2: `FlowEditor.interpolate` from each of --interpolate-people held-out people's neutral
    photo to their smile (K = 7, 512 px): the midpoint frame's landmark error to the halfway landmarks
    (rigid-aligned, inter-iris units) and the end frames' PSNR / LPIPS to A's crop and to B registered
    into A's frame on rigid landmarks (the frames' own framing).
(e) Time of one Flow VAE edit at full resolution (1350 x 1350, warm, completion included, no previews),
    median of 5, and the model's load time.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from editor.appearance import AppearanceBackend
from editor.backends.fvae import FVAEBackend
from editor.backends.geometry import GeometryBackend
from editor.backends.registry import BackendRegistry
from editor.editor import Editor
from editor.errors import NoFaceError
from editor.flow import flow_from_normalized, warp_image
from editor.fvae.data import to_image, to_tensor
from editor.fvae.edit import FlowEditor, shipped_checkpoint
from editor.fvae.model import FlowVAE
from editor.fvae.real_pairs import register_pair
from editor.fvae.splits import HELD_OUT_FOLDER, held_out_people
from editor.geometry.calibrate_happy import align_to, inter_iris, smile_error
from editor.images import load_image
from editor.requests import EditRequest
from eval.bench_expressions import (
    EditRow,
    compare_with_smile,
    load_person,
    measure_edit,
    summarise,
    summarise_smile_comparison,
)
from eval.metrics.emotion import EMOTION_CLASSES
from eval.metrics.image_quality import psnr
from eval.metrics.lpips import lpips_distance

logger = logging.getLogger(__name__)

#: Frames of the Algorithm 2 check, and their side.
INTERPOLATION_STEPS, INTERPOLATION_SIDE = 7, 512
#: A routed emotion other than happy must move the face at least this share of geometry's motion.
MIN_MOTION_SHARE = 0.5


def held_out_london(london: Path, limit: int | None = None) -> list[str]:
    """Ids of the held-out London people with both photos, sorted."""
    held = sorted(f.split("/", 1)[1] for f in held_out_people() if f.startswith(f"{HELD_OUT_FOLDER}/"))
    ids = [
        i
        for i in held
        if (london / "neutral" / f"{i}.jpg").is_file() and (london / "smiling" / f"{i}.jpg").is_file()
    ]
    return ids[:limit]


# ---------------------------------------------------------------------- (a) Table 1


@torch.no_grad()
def table1(editor: FlowEditor, neutral: np.ndarray, smiling: np.ndarray, pixel: FlowVAE | None) -> dict:
    """One person's Table 1: crops (S, S, 3) uint8 -> method -> (psnr, lpips)."""
    source, target = to_tensor(neutral)[None], to_tensor(smiling)[None]  # (1, 3, S, S)
    model = editor.model
    z = model.encode(target, source)[0]  # (1, C, h, w)
    features = model.source_features(source)
    flow = model.decode_flow(source, z, features)  # (1, 2, S, S)
    warped = model.warp(source, flow)
    confidence = model.confidence(source, z, features)  # (1, 1, S, S)
    outputs = {
        "fvae": to_image(warped[0]),
        "fvae_confidence": to_image((confidence * warped + (1 - confidence) * source)[0]),
        "no_change": neutral,
    }
    if "happy" in editor.labels.average_flows:
        outputs["average_flow"] = warp_image(
            neutral, flow_from_normalized(editor.labels.average_flows["happy"])
        )
    if pixel is not None:
        outputs["pixel_vae"] = to_image(pixel(source, target, sample=False).prediction[0])
    return {k: (psnr(v, smiling), lpips_distance(v, smiling)) for k, v in outputs.items()}


# ---------------------------------------------------------------------- (c) routing


def decide(
    edits: Mapping[str, Mapping[str, dict]], smiles: Mapping[str, Mapping[str, dict]], threshold: float
) -> dict:
    """The routing verdict per emotion (see the module docstring, (c)).

    Args:
        edits: backend -> "emotion@strength" -> `summarise` figures (the "all" group).
        smiles: backend -> "strength" -> `summarise_smile_comparison` figures (happy vs the real smile).
        threshold: the identity scorer's calibrated same-person threshold.
    Returns:
        {"routed": [emotions], "verdicts": {emotion: {"fvae": bool, "reason": str, "strengths": {...}}}}.
    """
    verdicts: dict[str, dict] = {}
    emotions = sorted({key.split("@")[0] for key in edits.get("fvae", {})})
    for emotion in emotions:
        per_strength: dict[str, dict] = {}
        for key in sorted(k for k in edits["fvae"] if k.split("@")[0] == emotion):
            strength = key.split("@")[1]
            ours, theirs = edits["fvae"][key], edits["geometry"].get(key)
            if theirs is None:
                continue
            identity = ours.get("identity_median")
            keeps = identity is not None and identity >= threshold
            motion = (ours.get("motion_median"), theirs.get("motion_median"))
            moves = None not in motion and motion[0] >= MIN_MOTION_SHARE * motion[1]
            if emotion == "happy":
                mine, other = smiles["fvae"].get(strength, {}), smiles["geometry"].get(strength, {})
                error = (mine.get("landmark_error_edited_median"), other.get("landmark_error_edited_median"))
                lpips = (mine.get("lpips_edited_median"), other.get("lpips_edited_median"))
                unedited = (mine.get("landmark_error_unedited_median"), mine.get("lpips_unedited_median"))
                wins = (
                    None not in error + lpips + unedited
                    and error[0] < error[1]
                    and lpips[0] <= lpips[1]
                    and error[0] < unedited[0]
                    and lpips[0] < unedited[1]
                    and moves
                )
                figures = {"landmark_error": error, "lpips": lpips, "no_edit": unedited, "motion": motion}
            else:
                read = (ours.get("read_as_target"), theirs.get("read_as_target"))
                wins = None not in read and read[0] > read[1] and moves
                figures = {"read_as_target": read, "motion": motion}
            per_strength[strength] = {
                "fvae_wins": bool(wins and keeps),
                "identity_median": identity,
                **{name: list(pair) for name, pair in figures.items()},
            }
        routed = bool(per_strength) and all(v["fvae_wins"] for v in per_strength.values())
        verdicts[emotion] = {
            "fvae": routed,
            "strengths": per_strength,
            "reason": _reason(emotion, per_strength, threshold),
        }
    return {"routed": sorted(e for e, v in verdicts.items() if v["fvae"]), "verdicts": verdicts}


def _reason(emotion: str, per_strength: Mapping[str, dict], threshold: float) -> str:
    if not per_strength:
        return "not measured for both backends"
    parts = []
    for strength, v in per_strength.items():
        if v["identity_median"] is None or v["identity_median"] < threshold:
            parts.append(
                f"at {strength} the FVAE's median identity {v['identity_median']} is below {threshold:.3f}"
            )
        elif not v["fvae_wins"]:
            measured = ", ".join(
                f"{name} FVAE {_fmt(pair[0])} vs geometry {_fmt(pair[1])}"
                for name, pair in v.items()
                if isinstance(pair, list)
            )
            parts.append(f"at {strength} geometry is as good or better ({measured})")
        else:
            parts.append(f"at {strength} the FVAE is better")
    metric = (
        "landmark error and LPIPS to the real smile"
        if emotion == "happy"
        else "classifier hit rate and motion"
    )
    return f"{metric}: " + "; ".join(parts)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


# ---------------------------------------------------------------------- (d) Algorithm 2


def interpolation_check(editor: FlowEditor, analyzer, london: Path, ids: Sequence[str]) -> dict:
    """Midpoint landmark error to the halfway landmarks and the end frames' PSNR / LPIPS, per person."""
    rows = []
    for face_id in ids:
        photos = [load_image(london / kind / f"{face_id}.jpg") for kind in ("neutral", "smiling")]
        faces = [analyzer.analyze_one(photo) for photo in photos]
        frames = editor.interpolate(
            photos[0], faces[0], photos[1], faces[1], steps=INTERPOLATION_STEPS, side=INTERPOLATION_SIDE
        )
        pair = register_pair(photos[0], faces[0], photos[1], faces[1], INTERPOLATION_SIDE)  # A's frame
        ends = (pair.neutral, pair.smiling)
        # 2D landmarks in the frames' own framing (B already registered onto A on rigid landmarks); the
        # frame's measured landmarks get z = 0 too, so the rigid alignment is a 2D one on both sides.
        marks = [
            np.column_stack([p, np.zeros(len(p))]) for p in (pair.neutral_landmarks, pair.smiling_landmarks)
        ]
        middle_index = INTERPOLATION_STEPS // 2  # frame i is at t = i / K of the way
        halfway = marks[0] + (middle_index / INTERPOLATION_STEPS) * (marks[1] - marks[0])
        try:
            middle = analyzer.analyze_one(frames[middle_index]).landmarks.astype(np.float64)
            middle[:, 2] = 0.0
            mid_error = smile_error(align_to(middle, marks[0]), halfway, marks[0])
        except NoFaceError:
            mid_error = None
        rows.append(
            {
                "person": face_id,
                "midpoint_landmark_error": mid_error,
                "endpoint_landmark_error_a_to_b": smile_error(marks[0], marks[1], marks[0]),
                "first_psnr": psnr(frames[0], ends[0]),
                "first_lpips": lpips_distance(frames[0], ends[0]),
                "last_psnr": psnr(frames[-1], ends[1]),
                "last_lpips": lpips_distance(frames[-1], ends[1]),
                "inter_iris_px": inter_iris(marks[0]),
            }
        )
    keys = [k for k in rows[0] if k != "person"] if rows else []
    return {
        "people": [r["person"] for r in rows],
        "rows": rows,
        **{f"{k}_mean": _mean([r[k] for r in rows]) for k in keys},
    }


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None and np.isfinite(v)]
    return round(float(np.mean(kept)), 4) if kept else None


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_fvae", description=__doc__.split("\n\n")[0])
    parser.add_argument("--london", type=Path, required=True, help="the London folder (neutral/, smiling/)")
    parser.add_argument("--canada", type=Path, default=None, help="Canada photos for the emotion edits too")
    parser.add_argument("--checkpoint", type=Path, default=None, help="Flow VAE folder (default: shipped)")
    parser.add_argument("--pixel-vae", type=Path, default=None, help="pixel-VAE baseline folder (optional)")
    parser.add_argument("--limit", type=int, default=None, help="at most N held-out people (per set)")
    parser.add_argument("--edit-people", type=int, default=None, help="at most N of them for (b) and (c)")
    parser.add_argument("--strengths", type=float, nargs="+", default=[1.0])
    parser.add_argument("--emotions", nargs="+", default=list(EMOTION_CLASSES), choices=list(EMOTION_CLASSES))
    parser.add_argument("--interpolate-people", type=int, default=3, help="people for (d) (0 skips it)")
    parser.add_argument("--skip-edits", action="store_true", help="only (a), (d) and (e)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_fvae"))
    parser.add_argument("--routing", type=Path, default=None, help="write the routing decision here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)

    checkpoint = args.checkpoint or shipped_checkpoint()
    geometry = GeometryBackend()
    started = time.perf_counter()
    fvae = FVAEBackend(checkpoint, geometry=geometry)
    load_ms = 1000 * (time.perf_counter() - started)
    flow_editor = fvae.editor
    pixel = FlowVAE.from_pretrained(args.pixel_vae) if args.pixel_vae else None
    editor = Editor(registry=BackendRegistry([geometry, AppearanceBackend()]))
    registries = {
        "fvae": BackendRegistry([fvae, geometry, AppearanceBackend()]),
        "geometry": editor.registry,
    }
    ids = held_out_london(args.london, args.limit)
    logger.info("%d held-out London people: %s", len(ids), ", ".join(ids))

    # (a) Table 1
    table: dict[str, list[tuple[float, float]]] = {}
    for face_id in tqdm(ids, desc="table 1"):
        photos = [load_image(args.london / kind / f"{face_id}.jpg") for kind in ("neutral", "smiling")]
        faces = [editor.analyzer.analyze_one(photo) for photo in photos]
        pair = register_pair(photos[0], faces[0], photos[1], faces[1], flow_editor.size)
        for method, values in table1(flow_editor, pair.neutral, pair.smiling, pixel).items():
            table.setdefault(method, []).append(values)
    results: dict = {
        "checkpoint": str(checkpoint),
        "held_out_london": ids,
        "scorer": editor.scorer.name,
        "threshold": editor.scorer.threshold,
        "a_table1_psnr_lpips": {
            m: {"psnr": _mean([v[0] for v in values]), "lpips": _mean([v[1] for v in values])}
            for m, values in table.items()
        },
    }

    # (b) edits, both backends, bench_expressions' protocol
    if not args.skip_edits:
        paths = [("london", args.london / "neutral" / f"{i}.jpg") for i in ids[: args.edit_people]]
        if args.canada is not None:
            paths += [
                ("canada", p) for p in sorted(args.canada.glob("*.jpg"))[: args.edit_people or args.limit]
            ]
        edits: dict[str, dict[str, list[EditRow]]] = {name: {} for name in registries}
        smiles: dict[str, dict[str, list[dict]]] = {name: {} for name in registries}
        for dataset, path in tqdm(paths, desc="edits"):
            try:
                person = load_person(editor, dataset, path)
            except NoFaceError as error:
                logger.warning("%s/%s left out: %s", dataset, path.stem, error)
                continue
            for name, registry in registries.items():
                editor.registry = registry
                for emotion in args.emotions:
                    for strength in args.strengths:
                        row, edited, _ = measure_edit(
                            editor, person, EditRequest(attribute=emotion, strength=strength)
                        )
                        if emotion == "happy" and person.smile is not None:
                            smiles[name].setdefault(f"{strength:g}", []).append(
                                compare_with_smile(
                                    person, row, edited, None if dataset != "london" else _lpips()
                                )
                            )
                        row.after_landmarks = row.after_blendshapes = None
                        edits[name].setdefault(f"{emotion}@{strength:g}", []).append(row)
        editor.registry = registries["geometry"]
        edit_figures = {
            name: {key: summarise(rows, EMOTION_CLASSES[key.split("@")[0]]) for key, rows in table_.items()}
            for name, table_ in edits.items()
        }
        smile_figures = {
            name: {s: summarise_smile_comparison(rows) for s, rows in table_.items()}
            for name, table_ in smiles.items()
        }
        results["b_edit_people"] = [f"{d}/{p.stem}" for d, p in paths]
        results["b_edits"] = edit_figures
        results["b_happy_vs_real_smile"] = smile_figures
        results["c_routing"] = decide(edit_figures, smile_figures, editor.scorer.threshold)

    # (d) Algorithm 2
    if args.interpolate_people:
        results["d_interpolation"] = interpolation_check(
            flow_editor, editor.analyzer, args.london, ids[: args.interpolate_people]
        )

    # (e) time
    if ids:
        photo = load_image(args.london / "neutral" / f"{ids[0]}.jpg")
        face = editor.analyzer.analyze_one(photo)
        happy = [EditRequest(attribute="happy", strength=1.0)]
        times = []
        for _ in range(6):
            edit = fvae.edit(photo, face, happy, steps=0)
            times.append(edit.diagnostics["ms"])
        results["e_time"] = {
            "edit_ms_median_of_5_warm": round(statistics.median(times[1:]), 1),
            "completion_ms_last": round(edit.diagnostics["completion_ms"], 1),
            "photo_side": int(max(photo.shape[:2])),
            "model_load_ms": round(load_ms, 1),
            "threads": torch.get_num_threads(),
        }
    results["command"] = " ".join(["python -m eval.bench_fvae", *(sys.argv[1:] if argv is None else argv)])
    text = json.dumps(results, indent=2, default=float)
    (args.out / "bench_fvae.json").write_text(text + "\n")
    sys.stdout.write(text + "\n")
    if args.routing is not None and "c_routing" in results:
        write_routing(args.routing, results, checkpoint)
    return 0


def write_routing(path: Path, results: dict, checkpoint: Path) -> None:
    """The routing file the registry reads: routed emotions, and every verdict with its reason."""
    payload = {
        "description": (
            "Attributes the Flow VAE edits by default (editor.backends.registry.default_registry reads "
            "this); decided by eval.bench_fvae on held-out people (see its docstring, (c))."
        ),
        "command": results["command"],
        "checkpoint": str(checkpoint),
        "held_out_london": results["held_out_london"],
        "edit_people": results.get("b_edit_people"),
        "scorer": results["scorer"],
        "threshold": results["threshold"],
        **results["c_routing"],
    }
    path.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    logger.info("Routing written to %s: %s", path, payload["routed"] or "nothing routed to the Flow VAE")


_LPIPS = None


def _lpips():
    """The shared LPIPS model (loaded once)."""
    global _LPIPS
    if _LPIPS is None:
        from eval.metrics.lpips import shared_model

        _LPIPS = shared_model()
    return _LPIPS


if __name__ == "__main__":
    raise SystemExit(main())
